// SPDX-License-Identifier: GPL-2.0
/* Count packets per EtherType in a hash map, and all packets and bytes in global
 * variables.  `pybpf load --target pybpf xdp_count.bpf.o` runs it on pybpf's
 * interpreter; `--target kernel` hands it to the running kernel. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);   /* the EtherType as it sits in the packet (network order) */
	__type(value, __u64); /* packets seen with it */
} counts SEC(".maps");

__u64 packets = 0;                   /* .bss: every packet */
__u64 bytes = 0;                     /* .bss: their total length */
const volatile __u32 min_len = 14;   /* .rodata: shorter frames are counted under key 0 */

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 one = 1, *seen;

	if (data + min_len <= data_end && data + 14 <= data_end)
		key = *(__u16 *)(data + 12);
	seen = bpf_map_lookup_elem(&counts, &key);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	__sync_fetch_and_add(&packets, 1);
	__sync_fetch_and_add(&bytes, data_end - data);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
