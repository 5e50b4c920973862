// SPDX-License-Identifier: GPL-2.0
/* A program the verifier accepts that runs for a very long time: bpf_loop's
 * callback is verified once, then runs 2^23 times (the most bpf_loop allows).
 * Only the instruction budget stops `pybpf run` on it quickly. */
#include "../../../examples/bpf_defs.h"

static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181;

volatile __u64 turns;

static int turn(__u32 index, void *data)
{
	turns++;
	return 0;
}

SEC("xdp")
int spin(struct xdp_md *ctx)
{
	bpf_loop(1 << 23, turn, 0, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
