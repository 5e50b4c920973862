/* Every attribute of a BTF-defined map, map-in-map and a program array. */
#include <linux/bpf.h>
#include "bpf_helpers.h"

struct key { __u32 a; __u16 b; };
struct value { __u64 x[3]; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, struct key);
	__type(value, struct value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(numa_node, 0);
} typed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__uint(key_size, 4);
	__uint(value_size, 24);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 5000);	/* libbpf rounds this up to a power-of-2 number of pages */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 16);
	__uint(value_size, 8);
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

int tail_a(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail_a },
};

SEC("tc")
int tail_a(struct __sk_buff *skb)
{
	return 1;
}

SEC("tc")
int use_maps(struct __sk_buff *skb)
{
	struct key k = {};
	__u32 i = 0;
	struct value *v = bpf_map_lookup_elem(&typed, &k);
	void *in = bpf_map_lookup_elem(&outer, &i);

	if (v)
		v->x[0]++;
	if (in)
		bpf_map_lookup_elem(in, &i);
	bpf_map_lookup_elem(&sized, &i);
	bpf_ringbuf_output(&ring, &i, sizeof(i), 0);
	bpf_map_push_elem(&bloom, &k, 0);
	bpf_tail_call(skb, &jumps, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
