/* A pinned map (kept out of tests that load objects: loading would pin it). */
#include <linux/bpf.h>
#include "bpf_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_map SEC(".maps");

SEC("xdp")
int use_pinned(struct xdp_md *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&pinned_map, &k) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
