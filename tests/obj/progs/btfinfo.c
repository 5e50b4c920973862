/* A program and a static subprogram, no maps: loadable with only its func/line info. */
#include <linux/bpf.h>
#include "bpf_helpers.h"

static __noinline int twice(int x)
{
	return x * 2;
}

SEC("socket")
int sock(struct __sk_buff *skb)
{
	return twice(skb->len) + 1;
}

char LICENSE[] SEC("license") = "GPL";
