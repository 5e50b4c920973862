// SPDX-License-Identifier: GPL-2.0
/* Special fields of map values and global data (bpf_spin_lock, bpf_timer, bpf_list_head): no load, store
 * or helper may touch them, and some program types may not use maps holding them.
 * Each __msg is what Linux 6.18 prints for the program.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"
#include "bpf_experimental.h"

struct locked {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 count;
};

struct timed {
	__u64 count;
	struct bpf_timer timer;
};

struct elem {
	struct bpf_list_node node;
	int data;
};

struct listed {
	struct bpf_spin_lock lock;
	struct bpf_list_head head __contains(elem, node);
};

struct tnode {
	struct bpf_rb_node node;
	long key;
};

struct treed {
	struct bpf_spin_lock lock;
	struct bpf_rb_root root __contains(tnode, node);
};

struct counted {
	struct bpf_refcount ref;
	__u32 pad;
	__u64 data;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct treed);
} trees SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tnode);
} tnodes SEC(".maps");	/* struct tnode in the BTF, for __contains */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counted);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct timed);
} timers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct listed);
} lists SEC(".maps");

/* gives struct elem a place in the BTF, where the list head's __contains looks it up */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} elems SEC(".maps");

/* BPF_MAP_CREATE refuses a lock in a per-CPU array (EOPNOTSUPP): the loader creates it again without BTF */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} percpu_locks SEC(".maps");

private(A) struct bpf_spin_lock glock;

static struct locked *lookup(void *map, __u32 key)
{
	return bpf_map_lookup_elem(map, &key);
}

SEC("tc")
__description("lock in a per-CPU array, which had to be created without BTF")
__failure __msg("map 'percpu_locks' has to have BTF in order to use bpf_spin_lock")
int percpu_lock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&percpu_locks, 0);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("read the lock directly")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int read_lock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	return *(volatile __u32 *)&v->lock;
}

SEC("tc")
__description("write the lock directly")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int write_lock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	*(volatile __u32 *)&v->lock = 0;
	return TC_ACT_OK;
}

SEC("tc")
__description("an 8-byte read that covers the lock")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int read_over_lock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	return *(volatile __u64 *)v;
}

SEC("tc")
__description("the field next to the lock is free to use")
__success __retval(0)
int read_next_to_lock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	return v->pad;
}

SEC("tc")
__description("an atomic add on the lock")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int atomic_on_lock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	__sync_fetch_and_add((__u32 *)&v->lock, 1);
	return TC_ACT_OK;
}

SEC("tc")
__description("a helper reading a value that holds a lock")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int helper_reads_lock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);
	__u32 key = 1;

	if (!v)
		return TC_ACT_OK;
	bpf_map_update_elem(&locks, &key, v, BPF_ANY);
	return TC_ACT_OK;
}

SEC("tc")
__description("read a global lock directly")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int read_global_lock(struct __sk_buff *skb)
{
	return *(volatile __u32 *)&glock;
}

SEC("tc")
__description("read a timer directly")
__failure __msg("bpf_timer cannot be accessed directly by load/store")
int read_timer(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct timed *t = bpf_map_lookup_elem(&timers, &key);

	if (!t)
		return TC_ACT_OK;
	return *(volatile __u64 *)&t->timer;
}

SEC("tc")
__description("write a list head directly")
__failure __msg("bpf_list_head cannot be accessed directly by load/store")
int write_list_head(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct listed *l = bpf_map_lookup_elem(&lists, &key);

	if (!l)
		return TC_ACT_OK;
	*(volatile __u64 *)&l->head = 0;
	return TC_ACT_OK;
}

SEC("socket")
__description("a socket filter may not use a map holding a lock")
__failure __msg("socket filter progs cannot use bpf_spin_lock yet")
int socket_filter_lock(void *ctx)
{
	struct locked *v = lookup(&locks, 0);

	return v ? 1 : 0;
}

SEC("kprobe/do_nanosleep")
__description("a tracing program may not use a map holding a lock")
__failure __msg("tracing progs cannot use bpf_spin_lock yet")
int kprobe_lock(void *ctx)
{
	struct locked *v = lookup(&locks, 0);

	return v ? 1 : 0;
}

SEC("kprobe/do_nanosleep")
__description("a tracing program may not use a map holding a timer")
__failure __msg("tracing progs cannot use bpf_timer yet")
int kprobe_timer_map(void *ctx)
{
	__u32 key = 0;
	struct timed *t = bpf_map_lookup_elem(&timers, &key);

	return t ? t->count : 0;
}

SEC("kprobe/do_nanosleep")
__description("a tracing program may not use a map holding a list head")
__failure __msg("tracing progs cannot use bpf_{list_head,rb_root} yet")
int kprobe_list_map(void *ctx)
{
	__u32 key = 0;
	struct listed *l = bpf_map_lookup_elem(&lists, &key);

	return l ? 1 : 0;
}

SEC("tc")
__description("read an rb root directly")
__failure __msg("bpf_rb_root cannot be accessed directly by load/store")
int read_rb_root(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct treed *t = bpf_map_lookup_elem(&trees, &key);

	if (!t)
		return TC_ACT_OK;
	return *(volatile __u64 *)&t->root;
}

SEC("tc")
__description("write a refcount directly")
__failure __msg("bpf_refcount cannot be accessed directly by load/store")
int write_refcount(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counted *c = bpf_map_lookup_elem(&counters, &key);

	if (!c)
		return TC_ACT_OK;
	*(volatile __u32 *)&c->ref = 1;
	return TC_ACT_OK;
}

SEC("tc")
__description("the data next to a refcount is free to use")
__success __retval(3)
int write_next_to_refcount(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counted *c = bpf_map_lookup_elem(&counters, &key);

	if (!c)
		return 0;
	c->pad = 1;
	c->data = 2;
	return c->pad + c->data;
}

SEC("kprobe/do_nanosleep")
__description("a tracing program may not use a map holding an rb root")
__failure __msg("tracing progs cannot use bpf_{list_head,rb_root} yet")
int kprobe_tree_map(void *ctx)
{
	__u32 key = 0;
	struct treed *t = bpf_map_lookup_elem(&trees, &key);

	return t ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
