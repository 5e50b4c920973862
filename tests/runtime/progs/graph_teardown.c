// SPDX-License-Identifier: GPL-2.0
/* Objects left behind in every place a map holds them, for the runtime's teardown to free:
 * an array value's list, a hash value's list, a global (.bss) list, and objects that
 * themselves own lists; an rbtree in global data, filled and read in order. */
#include "linked_list.h"
#include "bpf_misc.h"

struct node_data {
	struct bpf_rb_node rb;
	long key;
};

private(T) struct bpf_spin_lock tlock;
private(T) struct bpf_rb_root troot __contains(node_data, rb);

/* A foo owning `inner` bars, pushed to the back of head. */
static __always_inline int push_owner(struct bpf_spin_lock *lock, struct bpf_list_head *head, int data, int inner)
{
	struct foo *f;
	struct bar *b;
	int i;

	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 1;
	f->data = data;
	for (i = 0; i < inner; i++) {
		b = bpf_obj_new(typeof(*b));
		if (!b)
			break;
		b->data = i;
		bpf_spin_lock(&f->lock);
		bpf_list_push_back(&f->head, &b->node);
		bpf_spin_unlock(&f->lock);
	}
	bpf_spin_lock(lock);
	bpf_list_push_back(head, &f->node);
	bpf_spin_unlock(lock);
	return 0;
}

SEC("tc")
int leave_everywhere(void *ctx)
{
	struct map_value zero = {}, *v;
	struct foo *f;
	int key = 0, hkey = 5;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v || push_owner(&v->lock, &v->head, 1, 2) || push_owner(&v->lock, &v->head, 2, 0))
		return 1;
	if (bpf_map_update_elem(&hash_map, &hkey, &zero, BPF_ANY))
		return 2;
	v = bpf_map_lookup_elem(&hash_map, &hkey);
	if (!v || push_owner(&v->lock, &v->head, 3, 3))
		return 3;
	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 4;
	bpf_spin_lock(&glock);
	bpf_list_push_back(&ghead, &f->node2);
	bpf_spin_unlock(&glock);
	return 0;
}

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct node_data *x = container_of(a, struct node_data, rb);
	struct node_data *y = container_of(b, struct node_data, rb);

	return x->key < y->key;
}

/* Add keys in a scrambled order, take the first 8 out in order: the digits of the result. */
SEC("tc")
int rbtree_in_order(void *ctx)
{
	struct bpf_rb_node *rb;
	struct node_data *n;
	long result = 0;
	int i;

	for (i = 0; i < 16; i++) {
		n = bpf_obj_new(typeof(*n));
		if (!n)
			return -1;
		n->key = (i * 7) % 16;
		bpf_spin_lock(&tlock);
		bpf_rbtree_add(&troot, &n->rb, less);
		bpf_spin_unlock(&tlock);
	}
	for (i = 0; i < 8; i++) {
		bpf_spin_lock(&tlock);
		rb = bpf_rbtree_first(&troot);
		if (!rb) {
			bpf_spin_unlock(&tlock);
			return -2;
		}
		rb = bpf_rbtree_remove(&troot, rb);
		bpf_spin_unlock(&tlock);
		if (!rb)
			return -3;
		n = container_of(rb, struct node_data, rb);
		result = result * 2 + (n->key & 1) + n->key;
		bpf_obj_drop(n);
	}
	/* 8 nodes stay in the tree for the teardown */
	return result;
}

char _license[] SEC("license") = "GPL";
