// SPDX-License-Identifier: GPL-2.0
/* What a BPF_PROG_TEST_RUN of an skb program sees in its struct __sk_buff, and writes back. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "bpf_helpers.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

struct seen {
	__u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto;
	__u32 priority, ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid;
	__u32 napi_id, wire_len, gso_segs, gso_size;
	__u64 tstamp, hwtstamp;
	__u64 data_len, meta_len; /* 64-bit: a 32-bit pointer difference is another matter */
	__u32 first_word;
};

struct seen tc_seen = {};
__u32 filter_len = 0;

SEC("tc")
int tc_fields(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	void *meta = (void *)(long)skb->data_meta;
	struct seen *s = &tc_seen;
	int i;

	s->len = skb->len;
	s->pkt_type = skb->pkt_type;
	s->mark = skb->mark;
	s->queue_mapping = skb->queue_mapping;
	s->protocol = skb->protocol;
	s->vlan_present = skb->vlan_present;
	s->vlan_tci = skb->vlan_tci;
	s->vlan_proto = skb->vlan_proto;
	s->priority = skb->priority;
	s->ingress_ifindex = skb->ingress_ifindex;
	s->ifindex = skb->ifindex;
	s->tc_index = skb->tc_index;
	for (i = 0; i < 5; i++)
		s->cb[i] = skb->cb[i];
	s->hash = skb->hash;
	s->tc_classid = skb->tc_classid;
	s->data_len = data_end - data;
	s->meta_len = data - meta;
	s->napi_id = skb->napi_id;
	s->wire_len = skb->wire_len;
	s->gso_segs = skb->gso_segs;
	s->gso_size = skb->gso_size;
	s->tstamp = skb->tstamp;
	s->hwtstamp = skb->hwtstamp;
	if (data + 4 <= data_end)
		s->first_word = *(__u32 *)data;

	skb->mark = 0x1234;
	skb->priority = 7;
	skb->tc_index = 3;
	skb->cb[0] += 1;
	skb->cb[4] = 0xabcd;
	skb->tc_classid = 0x10002;
	if (data + 1 <= data_end)
		*(__u8 *)data = 0xee;
	return TC_ACT_SHOT;
}

SEC("socket")
int filter_len_and_ip(struct __sk_buff *skb)
{
	filter_len = skb->len;
	/* the first byte after the Ethernet header: the IPv4 version and header length */
	return load_byte(skb, 0) + (skb->protocol << 8);
}

char _license[] SEC("license") = "GPL";
