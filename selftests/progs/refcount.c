// SPDX-License-Identifier: GPL-2.0
/* Refcounted local kptrs: bpf_refcount_acquire gives a second owning reference, so one object
 * can be in a tree and a list at once, and each reference is released on its own.  Every
 * verdict, __msg and __retval is what Linux 6.18 gave for the program. */
/* The October 2022 series (ABI rfc-2022) had no bpf_refcount: every program here carries __abi("linux-6.18"). */
#include <stdbool.h>
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"
#include "bpf_misc.h"

/* Two graph nodes in one type need the bpf_refcount. */
struct rnode {
	long key;
	struct bpf_rb_node r;
	struct bpf_list_node l;
	struct bpf_refcount ref;
};

/* No bpf_refcount: one owner only. */
struct single {
	long key;
	struct bpf_rb_node r;
};

private(R) struct bpf_spin_lock lock;
private(R) struct bpf_rb_root root __contains(rnode, r);
private(R) struct bpf_list_head head __contains(rnode, l);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 1);
} counters SEC(".maps");

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct rnode, r)->key < container_of(b, struct rnode, r)->key;
}

#define NEW_OR_RET(p, ret)					\
	({							\
		p = bpf_obj_new(typeof(*p));			\
		if (!p)						\
			return ret;				\
	})

/* Take the tree's first node out; its key, or -1. */
static __always_inline long tree_take(void)
{
	struct bpf_rb_node *rb;
	struct rnode *n;
	long key;

	bpf_spin_lock(&lock);
	rb = bpf_rbtree_first(&root);
	if (!rb) {
		bpf_spin_unlock(&lock);
		return -1;
	}
	rb = bpf_rbtree_remove(&root, rb);
	bpf_spin_unlock(&lock);
	if (!rb)
		return -1;
	n = container_of(rb, struct rnode, r);
	key = n->key;
	bpf_obj_drop(n);
	return key;
}

/* Pop the list's front node; its key, or -1. */
static __always_inline long list_take(void)
{
	struct bpf_list_node *l;
	struct rnode *n;
	long key;

	bpf_spin_lock(&lock);
	l = bpf_list_pop_front(&head);
	bpf_spin_unlock(&lock);
	if (!l)
		return -1;
	n = container_of(l, struct rnode, l);
	key = n->key;
	bpf_obj_drop(n);
	return key;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_refcount_acquire: two references, each dropped")
__success __retval(5)
int acquire_drop_both(void *ctx)
{
	struct rnode *n, *m;
	long ret;

	NEW_OR_RET(n, -1);
	n->key = 5;
	m = bpf_refcount_acquire(n);
	if (!m) {
		bpf_obj_drop(n);
		return -2;
	}
	bpf_obj_drop(n);
	ret = m->key;
	bpf_obj_drop(m);
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("one object in a tree and a list; taken out of both")
__success __retval(707)
int tree_and_list(void *ctx)
{
	struct rnode *n, *m;
	long t, l;

	NEW_OR_RET(n, -1);
	n->key = 7;
	m = bpf_refcount_acquire(n);
	if (!m) {
		bpf_obj_drop(n);
		return -2;
	}
	bpf_spin_lock(&lock);
	bpf_rbtree_add(&root, &n->r, less);
	bpf_list_push_back(&head, &m->l);
	bpf_spin_unlock(&lock);
	t = tree_take();
	l = list_take();
	return t * 100 + l;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_refcount_acquire of the non-owning reference left by bpf_rbtree_add")
__success __retval(9)
int acquire_non_owning(void *ctx)
{
	struct rnode *n, *m;
	long ret = -3;

	NEW_OR_RET(n, -1);
	n->key = 9;
	bpf_spin_lock(&lock);
	bpf_rbtree_add(&root, &n->r, less);
	m = bpf_refcount_acquire(n);
	bpf_spin_unlock(&lock);
	if (m) {
		ret = m->key;
		bpf_obj_drop(m);
	}
	tree_take();
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("adding a node already in the tree fails with -EINVAL and drops that reference")
__success __retval(-22)
int add_twice_einval(void *ctx)
{
	struct rnode *n, *m;
	long ret;

	NEW_OR_RET(n, -1);
	n->key = 1;
	m = bpf_refcount_acquire(n);
	if (!m) {
		bpf_obj_drop(n);
		return -2;
	}
	bpf_spin_lock(&lock);
	bpf_rbtree_add(&root, &n->r, less);
	ret = bpf_rbtree_add(&root, &m->r, less);
	bpf_spin_unlock(&lock);
	tree_take();
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("pushing a node already in the list fails with -EINVAL")
__success __retval(-22)
int push_twice_einval(void *ctx)
{
	struct rnode *n, *m;
	long ret;

	NEW_OR_RET(n, -1);
	n->key = 2;
	m = bpf_refcount_acquire(n);
	if (!m) {
		bpf_obj_drop(n);
		return -2;
	}
	bpf_spin_lock(&lock);
	bpf_list_push_front(&head, &n->l);
	ret = bpf_list_push_front(&head, &m->l);
	bpf_spin_unlock(&lock);
	list_take();
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("removed from the tree, the object still lives in the list")
__success __retval(3)
int survives_in_list(void *ctx)
{
	struct rnode *n, *m;
	long ret;

	NEW_OR_RET(n, -1);
	n->key = 3;
	m = bpf_refcount_acquire(n);
	if (!m) {
		bpf_obj_drop(n);
		return -2;
	}
	bpf_spin_lock(&lock);
	bpf_list_push_back(&head, &m->l);
	bpf_rbtree_add(&root, &n->r, less);
	bpf_spin_unlock(&lock);
	if (tree_take() != 3)
		return -4;
	ret = list_take();
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("the tree's node, found again by bpf_rbtree_first, is the object the list holds")
__success __retval(11)
int same_object(void *ctx)
{
	struct bpf_list_node *l;
	struct bpf_rb_node *rb;
	struct rnode *n, *m;
	long ret = -3;

	NEW_OR_RET(n, -1);
	n->key = 4;
	m = bpf_refcount_acquire(n);
	if (!m) {
		bpf_obj_drop(n);
		return -2;
	}
	bpf_spin_lock(&lock);
	bpf_rbtree_add(&root, &n->r, less);
	bpf_list_push_back(&head, &m->l);
	/* write through the tree, read through the list */
	rb = bpf_rbtree_first(&root);
	if (rb)
		container_of(rb, struct rnode, r)->key = 11;
	l = bpf_list_front(&head);
	if (l)
		ret = container_of(l, struct rnode, l)->key;
	bpf_spin_unlock(&lock);
	tree_take();
	list_take();
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_refcount_acquire of a type without bpf_refcount")
__failure __msg("arg#0 doesn't point to a type with bpf_refcount field")
int acquire_no_refcount(void *ctx)
{
	struct single *s, *t;

	NEW_OR_RET(s, 0);
	t = bpf_refcount_acquire(s);
	if (t)
		bpf_obj_drop(t);
	bpf_obj_drop(s);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("the acquired reference never dropped")
__failure __msg("Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
int acquired_leak(void *ctx)
{
	struct rnode *n, *m;

	NEW_OR_RET(n, 0);
	m = bpf_refcount_acquire(n);
	bpf_obj_drop(n);
	if (m)
		m->key = 1;
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("using what bpf_refcount_acquire of a non-owning reference gave before its NULL check")
__failure __msg("invalid mem access 'ptr_or_null_'")
int acquired_null_check(void *ctx)
{
	struct rnode *n, *m;

	NEW_OR_RET(n, 0);
	bpf_spin_lock(&lock);
	bpf_rbtree_add(&root, &n->r, less);
	m = bpf_refcount_acquire(n);
	bpf_spin_unlock(&lock);
	m->key = 1;
	if (m)
		bpf_obj_drop(m);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_refcount_acquire of an owning reference cannot fail: no NULL check needed")
__success __retval(6)
int acquire_owning_not_null(void *ctx)
{
	struct rnode *n, *m;
	long ret;

	NEW_OR_RET(n, -1);
	m = bpf_refcount_acquire(n);
	m->key = 6;
	ret = n->key;
	bpf_obj_drop(m);
	bpf_obj_drop(n);
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_refcount_acquire before the NULL check of bpf_obj_new")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
int acquire_maybe_null(void *ctx)
{
	struct rnode *n, *m;

	n = bpf_obj_new(typeof(*n));
	m = bpf_refcount_acquire(n);
	if (m)
		bpf_obj_drop(m);
	if (n)
		bpf_obj_drop(n);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("writing the bpf_refcount field")
__failure __msg("direct access to bpf_refcount is disallowed")
int write_refcount(void *ctx)
{
	struct rnode *n;

	NEW_OR_RET(n, 0);
	*(int *)&n->ref = 2;
	bpf_obj_drop(n);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_refcount_acquire of a map value")
__failure __msg("arg#0 is neither owning or non-owning ref")
int acquire_map_value(void *ctx)
{
	struct rnode *m;
	long *v;
	int key = 0;

	v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return 0;
	m = bpf_refcount_acquire((struct rnode *)v);
	if (m)
		bpf_obj_drop(m);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_refcount_acquire of a dropped object")
__failure __msg("arg#0 is neither owning or non-owning ref")
int acquire_after_drop(void *ctx)
{
	struct rnode *n, *m;

	NEW_OR_RET(n, 0);
	bpf_obj_drop(n);
	m = bpf_refcount_acquire(n);
	if (m)
		bpf_obj_drop(m);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("dropping a refcounted node the tree owns (a non-owning reference)")
__failure __msg("must be referenced or trusted")
int drop_non_owning(void *ctx)
{
	struct rnode *n;

	NEW_OR_RET(n, 0);
	bpf_spin_lock(&lock);
	bpf_rbtree_add(&root, &n->r, less);
	bpf_spin_unlock(&lock);
	bpf_obj_drop(n);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("reading a refcounted node through its non-owning reference after the unlock")
__failure __msg("invalid mem access 'scalar'")
int read_after_unlock(void *ctx)
{
	struct rnode *n;

	NEW_OR_RET(n, 0);
	bpf_spin_lock(&lock);
	bpf_rbtree_add(&root, &n->r, less);
	bpf_spin_unlock(&lock);
	return n->key;
}

SEC("tc")
__abi("linux-6.18")
__description("dropping the acquired reference twice")
__failure __msg("must be referenced or trusted")
int acquired_double_drop(void *ctx)
{
	struct rnode *n, *m;

	NEW_OR_RET(n, 0);
	m = bpf_refcount_acquire(n);
	bpf_obj_drop(n);
	if (!m)
		return 0;
	bpf_obj_drop(m);
	bpf_obj_drop(m);
	return 0;
}

char _license[] SEC("license") = "GPL";
