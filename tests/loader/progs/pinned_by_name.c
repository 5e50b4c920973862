// SPDX-License-Identifier: GPL-2.0
/* A map pinned by name: a second load of the object shares it. */
#include "bpf_defs.h"

enum { LIBBPF_PIN_BY_NAME = 1 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_hits SEC(".maps");

SEC("xdp")
int hit(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *hits = bpf_map_lookup_elem(&shared_hits, &key);

	if (hits)
		__sync_fetch_and_add(hits, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
