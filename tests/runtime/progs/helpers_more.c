// SPDX-License-Identifier: GPL-2.0
/* Helpers whose results a program can observe, run in BPF_PROG_TEST_RUN: each program stores what the helpers
 * return (and the bytes they write) in globals, so the runtime and the kernel can be compared field by field. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "bpf_helpers.h"

/* helpers the trimmed bpf_helper_defs.h does not declare, by their uapi ids */
static long (*const skb_load_bytes_relative)(const void *skb, __u32 offset, void *to, __u32 len,
					     __u32 start_header) = (void *)68;
static long (*const l3_csum_replace)(struct __sk_buff *skb, __u32 offset, __u64 from, __u64 to,
				     __u64 size) = (void *)10;
static long (*const get_numa_node_id)(void) = (void *)42;
static long (*const xdp_adjust_meta)(struct xdp_md *xdp_md, int delta) = (void *)54;
static __u64 (*const get_current_cgroup_id)(void) = (void *)80;
static long (*const send_signal)(__u32 sig) = (void *)109;

struct skb_seen {
	long load_ok, load_past, load_big_off, load_rel_mac, load_rel_net, load_rel_bad, store_ok, store_past;
	long store_bad_flags, l3_2, l3_4, l3_diff, l3_odd, l3_bad_size, l3_past, redirect_ok, redirect_bad;
	__u64 loaded, loaded_past, loaded_mac, loaded_net;
	__u32 csum_after;
};

struct misc_seen {
	long diff_words, diff_seed, diff_empty, diff_odd, diff_big, numa, printk_plain, printk_args, printk_nonul;
	long probe_bad;
	__u64 probed;
};

struct xdp_seen {
	long head_fwd, head_back_far, head_past_end, meta_back, meta_odd, meta_big, meta_fwd, head_back;
	long data_len, meta_len, redirect_ok, redirect_bad;
};

struct task_seen {
	__u64 uid_gid, cgroup;
	long comm_ret, numa, sig_bad;
	char comm[16], comm_short[4];
};

struct skb_seen skb_seen = {};
struct task_seen task_seen = {};
struct misc_seen misc_seen = {};
struct xdp_seen xdp_seen = {};

SEC("tc")
int tc_helpers(struct __sk_buff *skb)
{
	struct skb_seen *s = &skb_seen;
	__u64 buf = 0x1122334455667788ULL;
	__u32 word = 0xdeadbeef;

	s->load_ok = bpf_skb_load_bytes(skb, 2, &s->loaded, 8);
	s->loaded_past = buf;
	s->load_past = bpf_skb_load_bytes(skb, skb->len - 4, &s->loaded_past, 8);
	s->load_big_off = bpf_skb_load_bytes(skb, 0x80000000u, &buf, 8);
	s->load_rel_mac = skb_load_bytes_relative(skb, 6, &s->loaded_mac, 8, BPF_HDR_START_MAC);
	s->load_rel_net = skb_load_bytes_relative(skb, 2, &s->loaded_net, 8, BPF_HDR_START_NET);
	s->load_rel_bad = skb_load_bytes_relative(skb, 0, &buf, 8, 7);
	s->store_ok = bpf_skb_store_bytes(skb, 30, &word, 4, 0);
	s->store_past = bpf_skb_store_bytes(skb, skb->len - 2, &word, 4, 0);
	s->store_bad_flags = bpf_skb_store_bytes(skb, 30, &word, 4, 8);
	/* the IPv4 header checksum is at 14 + 10 */
	s->l3_2 = l3_csum_replace(skb, 24, 0x1234, 0xabcd, 2);
	s->l3_4 = l3_csum_replace(skb, 24, 0x01020304, 0x0a0b0c0d, 4);
	s->l3_diff = l3_csum_replace(skb, 24, 0, 0x12345, 0);
	s->l3_odd = l3_csum_replace(skb, 25, 0, 1, 2);
	s->l3_bad_size = l3_csum_replace(skb, 24, 0, 1, 3);
	s->l3_past = l3_csum_replace(skb, skb->len, 0, 1, 2);
	if ((void *)(long)skb->data + 26 <= (void *)(long)skb->data_end)
		s->csum_after = *(__u16 *)((void *)(long)skb->data + 24);
	s->redirect_bad = bpf_redirect(1, 4);
	s->redirect_ok = bpf_redirect(1, 0);
	return s->redirect_ok;
}

SEC("tc")
int tc_misc(struct __sk_buff *skb)
{
	static const char plain[] = "hello";
	static const char args[] = "v=%d u=%u x=%x";
	char nonul[4] = {'a', 'b', 'c', 'd'};
	struct misc_seen *s = &misc_seen;
	__u32 from[2] = {0x11112222, 0x33334444}, to[3] = {0x55556666, 0x77778888, 0x9999aaaa};

	s->diff_words = bpf_csum_diff(from, 8, to, 12, 0);
	s->diff_seed = bpf_csum_diff(0, 0, to, 12, 0xfffffff0);
	s->diff_empty = bpf_csum_diff(0, 0, 0, 0, 77);
	s->diff_odd = bpf_csum_diff(from, 6, to, 12, 0);
	s->numa = get_numa_node_id();
	s->printk_plain = bpf_trace_printk(plain, sizeof(plain));
	s->printk_args = bpf_trace_printk(args, sizeof(args), -5, 42, 0xbeef);
	s->printk_nonul = bpf_trace_printk(nonul, sizeof(nonul));
	s->probed = 0x0102030405060708ULL;
	s->probe_bad = bpf_probe_read_kernel(&s->probed, 8, (void *)16);
	return 0;
}

SEC("xdp")
int xdp_helpers(struct xdp_md *xdp)
{
	struct xdp_seen *s = &xdp_seen;

	s->head_back_far = bpf_xdp_adjust_head(xdp, -4096);
	s->head_past_end = bpf_xdp_adjust_head(xdp, 0x7fff);
	s->head_fwd = bpf_xdp_adjust_head(xdp, 40);
	s->meta_odd = xdp_adjust_meta(xdp, -6);
	s->meta_big = xdp_adjust_meta(xdp, -36);
	s->meta_back = xdp_adjust_meta(xdp, -8);
	s->meta_fwd = xdp_adjust_meta(xdp, 4);
	s->head_back = bpf_xdp_adjust_head(xdp, -4);
	s->data_len = (long)xdp->data_end - (long)xdp->data;
	s->meta_len = (long)xdp->data - (long)xdp->data_meta;
	s->redirect_bad = bpf_redirect(1, 1);
	s->redirect_ok = bpf_redirect(1, 0);
	return XDP_PASS;
}

/* a raw tracepoint's test run runs in the calling task: the test process, as the runtime's task is */
SEC("raw_tp/sys_enter")
int task_ids(void *ctx)
{
	struct task_seen *s = &task_seen;

	s->uid_gid = bpf_get_current_uid_gid();
	s->cgroup = get_current_cgroup_id();
	s->comm_ret = bpf_get_current_comm(s->comm, sizeof(s->comm));
	bpf_get_current_comm(s->comm_short, sizeof(s->comm_short));
	s->numa = get_numa_node_id();
	s->sig_bad = send_signal(65); /* no such signal: nothing is sent */
	return 0;
}

char _license[] SEC("license") = "GPL";
