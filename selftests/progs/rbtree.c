// SPDX-License-Identifier: GPL-2.0
/* BPF red-black trees: objects from bpf_obj_new added with a less() callback, found with
 * bpf_rbtree_first/root/left/right and taken out with bpf_rbtree_remove, all under the
 * bpf_spin_lock that shares the root's private section.  Successful programs return a
 * value computed from the tree's contents; every verdict, __msg and __retval is what
 * Linux 6.18 gave for the program. */
/* The October 2022 series (ABI rfc-2022) had no red-black trees: every program here carries __abi("linux-6.18"). */
#include <stdbool.h>
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"
#include "bpf_misc.h"

struct node {
	long key;
	struct bpf_rb_node rb;
	long val;
};

/* Links into a tree by its first member: not what a root of struct node takes. */
struct other {
	struct bpf_rb_node rb;
	long key;
};

struct tree_value {
	struct bpf_spin_lock lock;
	struct bpf_rb_root root __contains(node, rb);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct tree_value);
	__uint(max_entries, 1);
} trees SEC(".maps");

/* A global tree and its lock; the lock must live in the root's private section. */
private(T) struct bpf_spin_lock tlock;
private(T) struct bpf_rb_root troot __contains(node, rb);
/* A second global tree, for orderings other than ascending keys. */
private(D) struct bpf_spin_lock dlock;
private(D) struct bpf_rb_root droot __contains(node, rb);

#define node_of(p) container_of(p, struct node, rb)

/* The kernel calls less() through a u64-returning pointer and tests all 64 bits, while clang
 * sets a bool result with a 32-bit move: under BPF_F_TEST_RND_HI32 (which the test runner sets,
 * as test_loader does) the verifier fills the upper half with random bits and every comparison
 * says "less".  Programs that depend on the order clear that flag. */
#define __ordered __flag(!BPF_F_TEST_RND_HI32)

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return node_of(a)->key < node_of(b)->key;
}

static bool greater(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return node_of(a)->key > node_of(b)->key;
}

/* Add one node holding key, ordered by less (or greater); 0 when added. */
static __always_inline int add(struct bpf_spin_lock *lock, struct bpf_rb_root *root, long key, bool descending)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 1;
	n->key = key;
	n->val = key * 2;
	bpf_spin_lock(lock);
	if (descending)
		bpf_rbtree_add(root, &n->rb, greater);
	else
		bpf_rbtree_add(root, &n->rb, less);
	bpf_spin_unlock(lock);
	return 0;
}

/* Take the first node out; its key, or -1 when the tree is empty. */
static __always_inline long take_first(struct bpf_spin_lock *lock, struct bpf_rb_root *root)
{
	struct bpf_rb_node *rb;
	long key;

	bpf_spin_lock(lock);
	rb = bpf_rbtree_first(root);
	if (!rb) {
		bpf_spin_unlock(lock);
		return -1;
	}
	rb = bpf_rbtree_remove(root, rb);
	bpf_spin_unlock(lock);
	if (!rb)
		return -1;
	key = node_of(rb)->key;
	bpf_obj_drop(node_of(rb));
	return key;
}

/* Empty the tree, in order; the keys as decimal digits (a run leaves no node behind). */
static __always_inline long drain(struct bpf_spin_lock *lock, struct bpf_rb_root *root)
{
	long acc = 0, key;
	int i;

	for (i = 0; i < 8; i++) {
		key = take_first(lock, root);
		if (key < 0)
			break;
		acc = acc * 10 + key;
	}
	return acc;
}

SEC("tc")
__abi("linux-6.18")
__description("global tree: the first of five keys is their minimum")
__success __ordered __retval(1)
int first_is_min(void *ctx)
{
	struct bpf_rb_node *rb;
	long min = -1;

	if (add(&tlock, &troot, 5, false) || add(&tlock, &troot, 3, false) || add(&tlock, &troot, 8, false) ||
	    add(&tlock, &troot, 1, false) || add(&tlock, &troot, 4, false))
		return -2;
	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_first(&troot);
	if (rb)
		min = node_of(rb)->key;
	bpf_spin_unlock(&tlock);
	drain(&tlock, &troot);
	return min;
}

SEC("tc")
__abi("linux-6.18")
__description("global tree: removing first again and again gives the keys in order")
__success __ordered __retval(12345)
int drain_in_order(void *ctx)
{
	if (add(&tlock, &troot, 4, false) || add(&tlock, &troot, 2, false) || add(&tlock, &troot, 5, false) ||
	    add(&tlock, &troot, 1, false) || add(&tlock, &troot, 3, false))
		return -2;
	return drain(&tlock, &troot);
}

SEC("tc")
__abi("linux-6.18")
__description("global tree: equal keys are all kept")
__success __ordered __retval(1223)
int equal_keys(void *ctx)
{
	if (add(&tlock, &troot, 2, false) || add(&tlock, &troot, 3, false) || add(&tlock, &troot, 2, false) ||
	    add(&tlock, &troot, 1, false))
		return -2;
	return drain(&tlock, &troot);
}

SEC("tc")
__abi("linux-6.18")
__description("global tree: bpf_rbtree_first of an empty tree is NULL")
__success __retval(-1)
int first_of_empty(void *ctx)
{
	return take_first(&tlock, &troot);
}

SEC("tc")
__abi("linux-6.18")
__description("a greater() callback orders the tree the other way")
__success __ordered __retval(8531)
int descending_order(void *ctx)
{
	if (add(&dlock, &droot, 3, true) || add(&dlock, &droot, 8, true) || add(&dlock, &droot, 1, true) ||
	    add(&dlock, &droot, 5, true))
		return -2;
	return drain(&dlock, &droot);
}

SEC("tc")
__abi("linux-6.18")
__description("map value tree: add, first and remove under the value's lock")
__success __ordered __retval(279)
int map_value_tree(void *ctx)
{
	struct tree_value *t;
	int key = 0;

	t = bpf_map_lookup_elem(&trees, &key);
	if (!t)
		return -1;
	if (add(&t->lock, &t->root, 9, false) || add(&t->lock, &t->root, 2, false) ||
	    add(&t->lock, &t->root, 7, false))
		return -2;
	return drain(&t->lock, &t->root);
}

SEC("tc")
__abi("linux-6.18")
__description("a removed node is owned again: re-keyed and added back")
__success __ordered __retval(79)
int remove_rekey_readd(void *ctx)
{
	struct bpf_rb_node *rb;
	struct node *n;

	if (add(&tlock, &troot, 5, false) || add(&tlock, &troot, 7, false))
		return -2;
	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_first(&troot);
	if (!rb) {
		bpf_spin_unlock(&tlock);
		return -3;
	}
	rb = bpf_rbtree_remove(&troot, rb);
	bpf_spin_unlock(&tlock);
	if (!rb)
		return -4;
	n = node_of(rb);
	n->key = 9;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, less);
	bpf_spin_unlock(&tlock);
	return drain(&tlock, &troot);
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_rbtree_add returns 0 for a node not yet in a tree")
__success __retval(0)
int add_returns_zero(void *ctx)
{
	struct node *n;
	long ret;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return -1;
	n->key = 1;
	bpf_spin_lock(&tlock);
	ret = bpf_rbtree_add(&troot, &n->rb, less);
	bpf_spin_unlock(&tlock);
	drain(&tlock, &troot);
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("the added node is still readable and writable until the unlock")
__success __ordered __retval(42)
int non_owning_until_unlock(void *ctx)
{
	struct bpf_rb_node *rb;
	struct node *n;
	long ret = -1;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return -1;
	n->key = 6;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, less);
	n->val = n->key * 7;
	rb = bpf_rbtree_first(&troot);
	if (rb)
		ret = node_of(rb)->val;
	bpf_spin_unlock(&tlock);
	drain(&tlock, &troot);
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_rbtree_root, bpf_rbtree_left and bpf_rbtree_right walk a three-node tree")
__success __ordered __retval(426)
int walk_root_left_right(void *ctx)
{
	struct bpf_rb_node *root, *l, *r;
	long ret = 0;

	if (add(&tlock, &troot, 4, false) || add(&tlock, &troot, 2, false) || add(&tlock, &troot, 6, false))
		return -2;
	bpf_spin_lock(&tlock);
	root = bpf_rbtree_root(&troot);
	if (!root) {
		bpf_spin_unlock(&tlock);
		return -3;
	}
	ret = node_of(root)->key * 100;
	l = bpf_rbtree_left(&troot, root);
	if (l)
		ret += node_of(l)->key * 10;
	r = bpf_rbtree_right(&troot, root);
	if (r)
		ret += node_of(r)->key;
	bpf_spin_unlock(&tlock);
	drain(&tlock, &troot);
	return ret;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_rbtree_add without the lock")
__failure __msg("bpf_spin_lock at off={{[0-9]+}} must be held for bpf_rb_root")
int add_without_lock(void *ctx)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_rbtree_add(&troot, &n->rb, less);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_rbtree_first without the lock")
__failure __msg("bpf_spin_lock at off={{[0-9]+}} must be held for bpf_rb_root")
int first_without_lock(void *ctx)
{
	struct bpf_rb_node *rb;

	rb = bpf_rbtree_first(&troot);
	return rb ? 1 : 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_rbtree_remove without the lock")
__failure __msg("bpf_spin_lock at off={{[0-9]+}} must be held for bpf_rb_root")
int remove_without_lock(void *ctx)
{
	struct bpf_rb_node *rb;

	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_first(&troot);
	bpf_spin_unlock(&tlock);
	if (!rb)
		return 0;
	rb = bpf_rbtree_remove(&troot, rb);
	if (rb)
		bpf_obj_drop(node_of(rb));
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_rbtree_add under the lock of another tree")
__failure __msg("bpf_spin_lock at off={{[0-9]+}} must be held for bpf_rb_root")
int add_under_other_lock(void *ctx)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_spin_lock(&dlock);
	bpf_rbtree_add(&troot, &n->rb, less);
	bpf_spin_unlock(&dlock);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("adding a node of another type than the root holds")
__failure __msg("operation on bpf_rb_root expects arg#1 bpf_rb_node at offset=8 in struct node, but arg is at offset=0 in struct other")
int add_wrong_type(void *ctx)
{
	struct other *o;

	o = bpf_obj_new(typeof(*o));
	if (!o)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &o->rb, less);
	bpf_spin_unlock(&tlock);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("removing a node found under an earlier lock (its reference died with the unlock)")
__failure __msg("bpf_rbtree_remove can only take non-owning or refcounted bpf_rb_node pointer")
int remove_after_relock(void *ctx)
{
	struct bpf_rb_node *rb;

	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_first(&troot);
	bpf_spin_unlock(&tlock);
	if (!rb)
		return 0;
	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_remove(&troot, rb);
	bpf_spin_unlock(&tlock);
	if (rb)
		bpf_obj_drop(node_of(rb));
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("reading an added node after the unlock")
__failure __msg("invalid mem access 'scalar'")
int read_after_unlock(void *ctx)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, less);
	bpf_spin_unlock(&tlock);
	return n->key;
}

SEC("tc")
__abi("linux-6.18")
__description("adding the same node twice")
__failure __msg("arg#1 expected pointer to allocated object")
int add_twice(void *ctx)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, less);
	bpf_rbtree_add(&troot, &n->rb, less);
	bpf_spin_unlock(&tlock);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a removed node never dropped")
__failure __msg("Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
int removed_leak(void *ctx)
{
	struct bpf_rb_node *rb;

	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_first(&troot);
	if (rb)
		rb = bpf_rbtree_remove(&troot, rb);
	bpf_spin_unlock(&tlock);
	return rb ? 1 : 0;
}

SEC("tc")
__abi("linux-6.18")
__description("using what bpf_rbtree_remove returned before its NULL check")
__failure __msg("invalid mem access 'ptr_or_null_'")
int removed_null_check(void *ctx)
{
	struct bpf_rb_node *rb;
	struct node *n;
	long key;

	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_first(&troot);
	if (!rb) {
		bpf_spin_unlock(&tlock);
		return 0;
	}
	rb = bpf_rbtree_remove(&troot, rb);
	bpf_spin_unlock(&tlock);
	n = node_of(rb);
	key = n->key;
	bpf_obj_drop(n);
	return key;
}

SEC("tc")
__abi("linux-6.18")
__description("dropping a node bpf_rbtree_first returned (the tree owns it)")
__failure __msg("must be referenced or trusted")
int drop_first(void *ctx)
{
	struct bpf_rb_node *rb;

	bpf_spin_lock(&tlock);
	rb = bpf_rbtree_first(&troot);
	bpf_spin_unlock(&tlock);
	if (rb)
		bpf_obj_drop(node_of(rb));
	return 0;
}

static bool less_writes_node(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	*(long *)a = 0;
	return node_of(a)->key < node_of(b)->key;
}

SEC("tc")
__abi("linux-6.18")
__description("a less() callback that writes a bpf_rb_node")
__failure __msg("direct access to bpf_rb_node is disallowed")
int less_writes_rb_node(void *ctx)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, less_writes_node);
	bpf_spin_unlock(&tlock);
	return 0;
}

/* Marks the node being added (a) as compared. */
static bool less_writes_key(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	node_of(a)->val = 100 + node_of(a)->key;
	return node_of(a)->key < node_of(b)->key;
}

SEC("tc")
__abi("linux-6.18")
__description("a less() callback may write its nodes' data fields")
__success __retval(104)
int less_writes_data(void *ctx)
{
	struct node *n;
	long ret;

	if (add(&tlock, &troot, 3, false))
		return -2;
	n = bpf_obj_new(typeof(*n));
	if (!n)
		return -3;
	n->key = 4;
	n->val = 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, less_writes_key);
	ret = n->val;
	bpf_spin_unlock(&tlock);
	drain(&tlock, &troot);
	return ret;
}

static bool less_calls_remove(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	bpf_rbtree_remove(&troot, a);
	return node_of(a)->key < node_of(b)->key;
}

SEC("tc")
__abi("linux-6.18")
__description("a less() callback that calls bpf_rbtree_remove")
__failure __msg("bpf_rbtree_remove not allowed in rbtree cb")
int less_calls_kfunc(void *ctx)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, less_calls_remove);
	bpf_spin_unlock(&tlock);
	return 0;
}

/* Not a bool: the value reaches r0 as it is (passed below through a cast). */
static long less_returns_two(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return 2;
}

SEC("tc")
__abi("linux-6.18")
__description("a less() callback returning something other than 0 or 1")
__failure __msg("should have been in [0, 1]")
int less_bad_return(void *ctx)
{
	struct node *n;

	n = bpf_obj_new(typeof(*n));
	if (!n)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &n->rb, (void *)less_returns_two);
	bpf_spin_unlock(&tlock);
	return 0;
}

char _license[] SEC("license") = "GPL";
