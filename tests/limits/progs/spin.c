// SPDX-License-Identifier: GPL-2.0
/* A program that never returns: the runtime loads it unverified, so only the
 * interpreter's instruction budget stops `pybpf run` on it. */
#include "../../../examples/bpf_defs.h"

volatile __u64 turns;

SEC("xdp")
int spin(struct xdp_md *ctx)
{
	for (;;)
		turns++;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
