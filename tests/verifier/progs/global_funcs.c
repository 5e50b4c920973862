// SPDX-License-Identifier: GPL-2.0
/* Global functions: verified once on their own, arguments typed by the BTF prototype;
 * call sites checked against the prototype.  The verdicts are Linux 6.18's
 * (tests/verifier/test_globalfunc.py holds them). */
#include <linux/bpf.h>
#include "bpf_helpers.h"

struct locked {
	struct bpf_spin_lock lock;
	int v;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

struct pair {
	long a, b;
};

__noinline int scale(int x, int k)
{
	return x * k;
}

__noinline int first_checked(struct pair *p)
{
	return p ? p->a : 0;
}

__noinline int first_unchecked(struct pair *p)
{
	return p->a;
}

__noinline int pkt_len(struct xdp_md *ctx)
{
	return ctx ? ctx->data_end - ctx->data : 0;
}

__noinline int leak_ctx(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

SEC("xdp")
int scalar_args(struct xdp_md *ctx)
{
	return scale(3, 2) + pkt_len(ctx) > 0 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int mem_arg_checked(struct xdp_md *ctx)
{
	struct pair p = { ctx->ingress_ifindex, ctx->rx_queue_index };

	return first_checked(&p);
}

SEC("xdp")
int mem_arg_null(struct xdp_md *ctx)
{
	return first_checked((void *)0);
}

SEC("xdp")
int mem_arg_unchecked(struct xdp_md *ctx)
{
	struct pair p = { ctx->ingress_ifindex, ctx->rx_queue_index };

	return first_unchecked(&p);
}

SEC("xdp")
int mem_arg_rodata(struct xdp_md *ctx)
{
	struct pair p = { 1, 2 };

	return first_checked(&p);
}

SEC("xdp")
int mem_arg_too_small(struct xdp_md *ctx)
{
	long x = 1;

	return first_checked((struct pair *)&x);
}

SEC("xdp")
int ctx_arg_wrong(struct xdp_md *ctx)
{
	long x = 0;

	return leak_ctx((struct xdp_md *)&x);
}

SEC("xdp")
int result_is_unknown(struct xdp_md *ctx)
{
	char buf[8] = {};
	int i = scale(1, 1);

	return buf[i];
}

SEC("tc")
int call_while_locked(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct locked *l = bpf_map_lookup_elem(&locks, &key);
	int r;

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	r = scale(l->v, 2);
	bpf_spin_unlock(&l->lock);
	return r;
}

char _license[] SEC("license") = "GPL";
