// SPDX-License-Identifier: GPL-2.0
/* kptrs in map values and global data: program-allocated objects moved in and out with
 * bpf_kptr_xchg, __kptr loads (RCU pointers), __kptr_untrusted stores and loads, and what a
 * map frees when an element holding an object is overwritten or deleted.  Needs a clang that
 * keeps btf_type_tag (>= 15).  Every verdict and __retval is what Linux 6.18 gave.
 * Every program carries __abi("linux-6.18"): kptr fields that point to program-allocated types came
 * with Linux 6.4 ("bpf: Support __kptr to local kptrs"), after the October 2022 series (ABI rfc-2022). */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"
#include "bpf_misc.h"

struct obj {
	long v;
	long w;
};

struct counted {
	struct bpf_refcount ref;
	long v;
};

struct slots {
	struct obj __kptr *ref;			/* owns an object */
	struct obj __kptr_untrusted *unref;	/* a plain pointer, loads as untrusted */
	long seq;
	struct obj __kptr * volatile vref;	/* a volatile pointer is still a kptr */
	struct counted __kptr *cref;
};

/* A type that can be linked into a tree: its kptr loads as a non-owning reference too. */
struct kptr_node {
	long key;
	struct bpf_rb_node rb;
};

struct tree_slot {
	struct kptr_node __kptr *n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct tree_slot);
	__uint(max_entries, 1);
} nodes SEC(".maps");

/* An object that itself holds a kptr. */
struct holder {
	long tag;
	struct obj __kptr *inner;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct slots);
	__uint(max_entries, 2);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, struct slots);
	__uint(max_entries, 4);
} htab SEC(".maps");

private(KPTR) struct slots glob;

static struct slots *arr_slot(int key)
{
	return bpf_map_lookup_elem(&arr, &key);
}

/* A new object with v set; NULL when out of memory. */
static struct obj *new_obj(long v)
{
	struct obj *p = bpf_obj_new(typeof(*p));

	if (p)
		p->v = v;
	return p;
}

/* Puts p into *slot and drops what was there; 0, or -1 when something was. */
#define STASH(slot, p)						\
	({							\
		struct obj *__old = bpf_kptr_xchg(slot, p);	\
		int __ret = 0;					\
		if (__old) {					\
			bpf_obj_drop(__old);			\
			__ret = -1;				\
		}						\
		__ret;						\
	})

/* Takes the object out of *slot: its v, dropping it; -1 when the slot was empty. */
#define UNSTASH(slot)						\
	({							\
		struct obj *__p = bpf_kptr_xchg(slot, NULL);	\
		long __v = -1;					\
		if (__p) {					\
			__v = __p->v;				\
			bpf_obj_drop(__p);			\
		}						\
		__v;						\
	})

SEC("tc")
__abi("linux-6.18")
__description("array value: an object xchg'd in, then out and dropped")
__success __retval(7)
int array_in_out(void *ctx)
{
	struct slots *s = arr_slot(0);
	struct obj *p;

	if (!s)
		return -2;
	p = new_obj(7);
	if (!p)
		return -3;
	if (STASH(&s->ref, p))
		return -4;
	return UNSTASH(&s->ref);
}

SEC("tc")
__abi("linux-6.18")
__description("hash value: an object xchg'd into a new element, then out")
__success __retval(11)
int hash_in_out(void *ctx)
{
	struct slots zero = {}, *s;
	struct obj *p;
	int key = 1;

	if (bpf_map_update_elem(&htab, &key, &zero, BPF_ANY))
		return -2;
	s = bpf_map_lookup_elem(&htab, &key);
	if (!s)
		return -3;
	p = new_obj(11);
	if (!p)
		return -4;
	if (STASH(&s->ref, p))
		return -5;
	return UNSTASH(&s->ref);
}

SEC("tc")
__abi("linux-6.18")
__description("global data: an object xchg'd into a kptr in .bss, then out")
__success __retval(13)
int global_in_out(void *ctx)
{
	struct obj *p = new_obj(13);

	if (!p)
		return -2;
	if (STASH(&glob.ref, p))
		return -3;
	return UNSTASH(&glob.ref);
}

SEC("tc")
__abi("linux-6.18")
__description("a second xchg swaps the first object out; it is dropped")
__success __retval(21)
int swap_out_and_drop(void *ctx)
{
	struct slots *s = arr_slot(1);
	struct obj *a, *b;

	if (!s)
		return -2;
	a = new_obj(1);
	if (!a)
		return -3;
	STASH(&s->ref, a);
	b = new_obj(20);
	if (!b)
		return -4;
	if (!STASH(&s->ref, b))
		return -5;	/* a was there: STASH dropped it */
	return UNSTASH(&s->ref) + 1;
}

SEC("tc")
__abi("linux-6.18")
__description("an object left in a map at exit is no leak: the map owns it")
__success __retval(0)
int leave_in_map(void *ctx)
{
	struct obj *p = new_obj(5);

	if (!p)
		return -2;
	STASH(&glob.vref, p);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("objects left in an array, a hash and .bss: each map owns one")
__success __retval(0)
int leave_in_every_map(void *ctx)
{
	struct slots zero = {}, *s;
	struct obj *p;
	int key = 0;

	if (bpf_map_update_elem(&htab, &key, &zero, BPF_ANY))
		return -2;
	s = bpf_map_lookup_elem(&htab, &key);
	if (!s)
		return -3;
	p = new_obj(100);
	if (!p)
		return -4;
	STASH(&s->ref, p);
	s = arr_slot(0);
	if (!s)
		return -5;
	p = new_obj(101);
	if (!p)
		return -6;
	STASH(&s->ref, p);
	p = new_obj(102);
	if (!p)
		return -7;
	STASH(&glob.ref, p);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("xchg of NULL into an empty slot gives NULL back")
__success __retval(1)
int xchg_null_empty(void *ctx)
{
	struct slots zero = {}, *s;
	struct obj *p;
	int key = 2;

	if (bpf_map_update_elem(&htab, &key, &zero, BPF_ANY))
		return -2;
	s = bpf_map_lookup_elem(&htab, &key);
	if (!s)
		return -3;
	p = bpf_kptr_xchg(&s->ref, NULL);
	if (p) {
		bpf_obj_drop(p);
		return 0;
	}
	return 1;
}

SEC("tc")
__abi("linux-6.18")
__description("a __kptr load is an RCU pointer: readable and writable after a NULL check")
__success __log_level(2) __msg("=rcu_ptr_or_null_obj(id=") __retval(42)
int load_kptr_rcu(void *ctx)
{
	struct slots *s = arr_slot(0);
	struct obj *p, *q;
	long v = -1;

	if (!s)
		return -2;
	p = new_obj(40);
	if (!p)
		return -3;
	STASH(&s->ref, p);
	q = s->ref;
	if (q) {
		q->w = 2;
		v = q->v + q->w;
	}
	UNSTASH(&s->ref);
	return v;
}

SEC("tc")
__abi("linux-6.18")
__description("__kptr_untrusted load of a local type: an untrusted, nullable pointer")
__success __log_level(2) __msg("=untrusted_ptr_or_null_obj(id=") __retval(0)
int load_unref(void *ctx)
{
	struct slots *s = arr_slot(1);
	struct obj *u;

	if (!s)
		return -2;
	u = s->unref;
	return u ? u->v : 0;
}

SEC("tc")
__abi("linux-6.18")
__description("__kptr of a type with a bpf_rb_node: the load is an RCU, non-owning pointer")
__success __log_level(2) __msg("=rcu_ptr_or_null_kptr_node(id={{[0-9]+}},non_own_ref)") __retval(5)
int load_node_kptr(void *ctx)
{
	struct tree_slot *t;
	struct kptr_node *n, *old;
	int key = 0;
	long v = -1;

	t = bpf_map_lookup_elem(&nodes, &key);
	if (!t)
		return -2;
	n = bpf_obj_new(typeof(*n));
	if (!n)
		return -3;
	n->key = 5;
	old = bpf_kptr_xchg(&t->n, n);
	if (old)
		bpf_obj_drop(old);
	n = t->n;
	if (n)
		v = n->key;
	old = bpf_kptr_xchg(&t->n, NULL);
	if (old)
		bpf_obj_drop(old);
	return v;
}

SEC("tc")
__abi("linux-6.18")
__description("a volatile __kptr field: xchg and a load work as on any kptr")
__success __retval(9)
int volatile_kptr(void *ctx)
{
	struct slots *s = arr_slot(1);
	struct obj *p, *q;
	long v = 0;

	if (!s)
		return -2;
	p = new_obj(8);
	if (!p)
		return -3;
	STASH(&s->vref, p);
	q = s->vref;
	if (q)
		v = q->v;
	return UNSTASH(&s->vref) + v - 7;
}

SEC("tc")
__abi("linux-6.18")
__description("__kptr_untrusted: NULL stored with a plain store, then loaded and checked")
__success __retval(3)
int untrusted_store_null(void *ctx)
{
	struct slots *s = arr_slot(0);
	struct obj *u;

	if (!s)
		return -2;
	s->unref = NULL;
	u = s->unref;
	return u ? 0 : 3;
}

SEC("tc")
__abi("linux-6.18")
__description("a refcounted object: one reference in the map, one dropped by the program")
__success __retval(17)
int refcounted_kptr(void *ctx)
{
	struct slots *s = arr_slot(0);
	struct counted *c, *c2, *old;
	long v;

	if (!s)
		return -2;
	c = bpf_obj_new(typeof(*c));
	if (!c)
		return -3;
	c->v = 17;
	c2 = bpf_refcount_acquire(c);
	old = bpf_kptr_xchg(&s->cref, c);
	if (old)
		bpf_obj_drop(old);
	if (!c2)
		return -4;
	v = c2->v;
	bpf_obj_drop(c2);
	old = bpf_kptr_xchg(&s->cref, NULL);
	if (old)
		bpf_obj_drop(old);
	return v;
}

SEC("tc")
__abi("linux-6.18")
__description("deleting a hash element frees the object its kptr holds")
__success __retval(0)
int delete_frees(void *ctx)
{
	struct slots zero = {}, *s;
	struct obj *p;
	int key = 3;

	if (bpf_map_update_elem(&htab, &key, &zero, BPF_ANY))
		return -2;
	s = bpf_map_lookup_elem(&htab, &key);
	if (!s)
		return -3;
	p = new_obj(1);
	if (!p)
		return -4;
	STASH(&s->ref, p);
	return bpf_map_delete_elem(&htab, &key);
}

SEC("tc")
__abi("linux-6.18")
__description("updating an array element frees the object its kptr held: the slot reads empty")
__success __retval(-1)
int update_frees(void *ctx)
{
	struct slots zero = {}, *s = arr_slot(1);
	struct obj *p;
	int key = 1;

	if (!s)
		return -2;
	p = new_obj(1);
	if (!p)
		return -3;
	STASH(&s->ref, p);
	if (bpf_map_update_elem(&arr, &key, &zero, BPF_ANY))
		return -4;
	return UNSTASH(&s->ref);
}

SEC("tc")
__abi("linux-6.18")
__description("an object's own __kptr field: xchg into it, dropped with the holder")
__success __retval(30)
int kptr_in_object(void *ctx)
{
	struct holder *h = bpf_obj_new(typeof(*h));
	struct obj *p, *old;
	long tag;

	if (!h)
		return -2;
	p = new_obj(30);
	if (!p) {
		bpf_obj_drop(h);
		return -3;
	}
	old = bpf_kptr_xchg(&h->inner, p);
	if (old)
		bpf_obj_drop(old);
	h->tag = 30;
	p = bpf_kptr_xchg(&h->inner, NULL);
	if (p) {
		h->tag = p->v;
		bpf_obj_drop(p);
	}
	p = new_obj(1);
	if (p) {
		old = bpf_kptr_xchg(&h->inner, p);	/* dropped below, with h */
		if (old)
			bpf_obj_drop(old);
	}
	tag = h->tag;
	bpf_obj_drop(h);
	return tag;
}

char _license[] SEC("license") = "GPL";
