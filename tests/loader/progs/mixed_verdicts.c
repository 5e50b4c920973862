// SPDX-License-Identifier: GPL-2.0
/* Three programs, the middle one refused by the verifier (a packet read without a bounds check). */
#include "bpf_defs.h"

SEC("xdp")
int accepted_first(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int refused_unchecked(struct xdp_md *ctx)
{
	return *(__u32 *)(long)ctx->data;
}

SEC("xdp")
int accepted_last(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("?xdp")
int not_autoloaded(struct xdp_md *ctx)
{
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
