/* BPF-to-BPF calls: static and global subprograms in .text, shared by entry points in other sections. */
#include <linux/bpf.h>
#include "bpf_helpers.h"

int counter = 1;

static __noinline int leaf(int x)
{
	return x * 3 + counter;
}

static __noinline int mid(int x)
{
	return leaf(x) + leaf(x + 1);
}

__noinline int global_sub(int x)
{
	counter += x;
	return mid(x) ^ 7;
}

static __noinline int only_b(int x)
{
	return x - 1;
}

SEC("xdp")
int entry_a(struct xdp_md *ctx)
{
	return global_sub(counter) & 3;
}

SEC("tc")
int entry_b(struct __sk_buff *skb)
{
	return only_b(leaf(counter)) + global_sub(2);
}

SEC("tc")
int entry_c(struct __sk_buff *skb)
{
	return counter;
}

char LICENSE[] SEC("license") = "GPL";
