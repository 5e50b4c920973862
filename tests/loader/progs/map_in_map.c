// SPDX-License-Identifier: GPL-2.0
/* An array of hash maps, slot 0 filled at load time by `.values = { [0] = &inner0 }`. */
#include "bpf_defs.h"

struct inner_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner_map inner0 SEC(".maps");
struct inner_map inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner0 },
};

SEC("xdp")
int through_outer(struct xdp_md *ctx)
{
	__u32 slot = 0, key = 1, *value;
	void *inner = bpf_map_lookup_elem(&outer, &slot);

	if (!inner)
		return XDP_ABORTED;
	value = bpf_map_lookup_elem(inner, &key);
	return value ? *value : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
