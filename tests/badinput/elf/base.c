// SPDX-License-Identifier: GPL-2.0
/* The good object every bad one of this corpus is made from (make_corpus.py):
 * a map (so .maps and .BTF matter), a relocation to it, a global, one program. */
#include "../../../examples/bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &key);

	if (n)
		*n += 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
