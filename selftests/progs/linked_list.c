// SPDX-License-Identifier: GPL-2.0
/* BPF linked lists that work: objects from bpf_obj_new pushed and popped under
 * their bpf_spin_lock, in array and hash map values, in global data and in lists
 * inside allocated objects; each run's result is its __retval (PROG_TEST_RUN). */
#include "linked_list.h"
#include "bpf_misc.h"

/* Push a..b (data = i) onto head from the front or the back. */
static __always_inline int push_range(struct bpf_spin_lock *lock, struct bpf_list_head *head, int a, int b,
				      bool back)
{
	struct foo *f;
	int i;

	for (i = a; i < b; i++) {
		f = bpf_obj_new(typeof(*f));
		if (!f)
			return 1;
		f->data = i;
		bpf_spin_lock(lock);
		if (back)
			bpf_list_push_back(head, &f->node);
		else
			bpf_list_push_front(head, &f->node);
		bpf_spin_unlock(lock);
	}
	return 0;
}

/* Pop one element; its data, or -1 when the list is empty. */
static __always_inline int pop_one(struct bpf_spin_lock *lock, struct bpf_list_head *head, bool back)
{
	struct bpf_list_node *n;
	struct foo *f;
	int data;

	bpf_spin_lock(lock);
	n = back ? bpf_list_pop_back(head) : bpf_list_pop_front(head);
	bpf_spin_unlock(lock);
	if (!n)
		return -1;
	f = container_of(n, struct foo, node);
	data = f->data;
	bpf_obj_drop(f);
	return data;
}

SEC("tc")
__description("array value: push_front then pop_front gives the element back")
__success __retval(42)
int push_pop_array(void *ctx)
{
	struct map_value *v;
	int key = 0;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	if (push_range(&v->lock, &v->head, 42, 43, false))
		return 2;
	return pop_one(&v->lock, &v->head, false);
}

SEC("tc")
__description("array value: popping an empty list gives NULL")
__success __retval(-1)
int pop_empty(void *ctx)
{
	struct map_value *v;
	int key = 0;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	return pop_one(&v->lock, &v->head, true);
}

SEC("tc")
__description("array value: push_back keeps order, pop_front is FIFO")
__success __retval(123)
int fifo_order(void *ctx)
{
	struct map_value *v;
	int key = 0, a, b, c;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	if (push_range(&v->lock, &v->head, 1, 4, true))
		return 2;
	a = pop_one(&v->lock, &v->head, false);
	b = pop_one(&v->lock, &v->head, false);
	c = pop_one(&v->lock, &v->head, false);
	return a * 100 + b * 10 + c;
}

SEC("tc")
__description("array value: push_front then pop_front is LIFO")
__success __retval(321)
int lifo_order(void *ctx)
{
	struct map_value *v;
	int key = 0, a, b, c;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	if (push_range(&v->lock, &v->head, 1, 4, false))
		return 2;
	a = pop_one(&v->lock, &v->head, false);
	b = pop_one(&v->lock, &v->head, false);
	c = pop_one(&v->lock, &v->head, false);
	return a * 100 + b * 10 + c;
}

SEC("tc")
__description("array value: pop_back takes the last pushed to the back")
__success __retval(3)
int pop_back_last(void *ctx)
{
	struct map_value *v;
	int key = 0, last;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	if (push_range(&v->lock, &v->head, 1, 4, true))
		return 2;
	last = pop_one(&v->lock, &v->head, true);
	pop_one(&v->lock, &v->head, true);
	pop_one(&v->lock, &v->head, true);
	return last;
}

SEC("tc")
__description("array value: front and back peek without taking")
__abi("linux-6.18")
__success __retval(14)
int front_back_peek(void *ctx)
{
	struct bpf_list_node *n;
	struct map_value *v;
	int key = 0, front = 0, back = 0;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	if (push_range(&v->lock, &v->head, 1, 5, true))
		return 2;
	bpf_spin_lock(&v->lock);
	n = bpf_list_front(&v->head);
	if (n)
		front = container_of(n, struct foo, node)->data;
	n = bpf_list_back(&v->head);
	if (n)
		back = container_of(n, struct foo, node)->data;
	bpf_spin_unlock(&v->lock);
	pop_one(&v->lock, &v->head, false);
	pop_one(&v->lock, &v->head, false);
	pop_one(&v->lock, &v->head, false);
	pop_one(&v->lock, &v->head, false);
	return front * 10 + back;
}

SEC("tc")
__description("hash value: push and pop in an element added by the program")
__success __retval(7)
int push_pop_hash(void *ctx)
{
	struct map_value zero = {}, *v;
	int key = 1, ret;

	if (bpf_map_update_elem(&hash_map, &key, &zero, BPF_ANY))
		return 1;
	v = bpf_map_lookup_elem(&hash_map, &key);
	if (!v)
		return 2;
	if (push_range(&v->lock, &v->head, 7, 8, false))
		return 3;
	ret = pop_one(&v->lock, &v->head, false);
	bpf_map_delete_elem(&hash_map, &key);
	return ret;
}

SEC("tc")
__description("hash value: deleting an element frees what its list holds")
__success __retval(0)
int hash_delete_drains(void *ctx)
{
	struct map_value zero = {}, *v;
	int key = 2;

	if (bpf_map_update_elem(&hash_map, &key, &zero, BPF_ANY))
		return 1;
	v = bpf_map_lookup_elem(&hash_map, &key);
	if (!v)
		return 2;
	if (push_range(&v->lock, &v->head, 0, 8, true))
		return 3;
	/* the elements are freed with the value */
	if (bpf_map_delete_elem(&hash_map, &key))
		return 4;
	return bpf_map_lookup_elem(&hash_map, &key) ? 5 : 0;
}

SEC("tc")
__description("hash value: replacing an element frees the list the old one held")
__success __retval(-1)
int hash_update_frees_list(void *ctx)
{
	struct map_value zero = {}, *v;
	int key = 3, ret;

	if (bpf_map_update_elem(&hash_map, &key, &zero, BPF_ANY))
		return 1;
	v = bpf_map_lookup_elem(&hash_map, &key);
	if (!v)
		return 2;
	if (push_range(&v->lock, &v->head, 9, 10, false))
		return 3;
	zero.data = 5;
	if (bpf_map_update_elem(&hash_map, &key, &zero, BPF_EXIST))
		return 4;
	v = bpf_map_lookup_elem(&hash_map, &key);
	if (!v)
		return 5;
	ret = pop_one(&v->lock, &v->head, false);
	bpf_map_delete_elem(&hash_map, &key);
	return ret;
}

SEC("tc")
__description("global data: a private list and lock in .bss.A")
__success __retval(77)
int push_pop_global(void *ctx)
{
	struct bpf_list_node *n;
	struct foo *f;
	int ret;

	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 1;
	f->data = 77;
	bpf_spin_lock(&glock);
	bpf_list_push_back(&ghead, &f->node2);
	n = bpf_list_pop_front(&ghead);
	bpf_spin_unlock(&glock);
	if (!n)
		return 2;
	f = container_of(n, struct foo, node2);
	ret = f->data;
	bpf_obj_drop(f);
	return ret;
}

SEC("tc")
__description("allocated object: a list inside an object, under the object's lock")
__success __retval(55)
int list_in_object(void *ctx)
{
	struct bpf_list_node *n;
	struct foo *f;
	struct bar *b;
	int ret;

	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 1;
	b = bpf_obj_new(typeof(*b));
	if (!b) {
		bpf_obj_drop(f);
		return 2;
	}
	b->data = 55;
	bpf_spin_lock(&f->lock);
	bpf_list_push_front(&f->head, &b->node);
	n = bpf_list_pop_back(&f->head);
	bpf_spin_unlock(&f->lock);
	if (!n) {
		bpf_obj_drop(f);
		return 3;
	}
	b = container_of(n, struct bar, node);
	ret = b->data;
	bpf_obj_drop(b);
	bpf_obj_drop(f);
	return ret;
}

SEC("tc")
__description("allocated object: dropping an object frees the list it owns")
__success __retval(0)
int drop_object_with_list(void *ctx)
{
	struct foo *f;
	struct bar *b;
	int i;

	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 1;
	for (i = 0; i < 4; i++) {
		b = bpf_obj_new(typeof(*b));
		if (!b)
			break;
		bpf_spin_lock(&f->lock);
		bpf_list_push_back(&f->head, &b->node);
		bpf_spin_unlock(&f->lock);
	}
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("map value: an object that owns a list, in a map value's list")
__success __retval(66)
int nested_lists(void *ctx)
{
	struct bpf_list_node *n;
	struct map_value *v;
	struct foo *f;
	struct bar *b;
	int key = 0, ret;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 2;
	b = bpf_obj_new(typeof(*b));
	if (!b) {
		bpf_obj_drop(f);
		return 3;
	}
	b->data = 66;
	bpf_spin_lock(&f->lock);
	bpf_list_push_back(&f->head, &b->node);
	bpf_spin_unlock(&f->lock);
	bpf_spin_lock(&v->lock);
	bpf_list_push_back(&v->head, &f->node);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&v->lock);
	if (!n)
		return 4;
	f = container_of(n, struct foo, node);
	bpf_spin_lock(&f->lock);
	n = bpf_list_pop_front(&f->head);
	bpf_spin_unlock(&f->lock);
	ret = 0;
	if (n) {
		b = container_of(n, struct bar, node);
		ret = b->data;
		bpf_obj_drop(b);
	}
	bpf_obj_drop(f);
	return ret;
}

SEC("tc")
__description("many elements: push 64, pop them all and sum")
__success __retval(2016)
int many_elements(void *ctx)
{
	struct map_value *v;
	int key = 0, sum = 0, i, d;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return -1;
	if (push_range(&v->lock, &v->head, 0, 64, true))
		return -2;
	for (i = 0; i < 70; i++) {
		d = pop_one(&v->lock, &v->head, i & 1);
		if (d < 0)
			break;
		sum += d;
	}
	return sum;
}

SEC("tc")
__description("an element left in an array value's list stays there for the next run")
__success __retval(0)
int leave_in_array(void *ctx)
{
	struct map_value *v;
	int key = 0;

	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return 1;
	/* freed when the map is (bpf_obj_free_fields at map teardown) */
	return push_range(&v->lock, &v->head, 0, 2, true);
}

char _license[] SEC("license") = "GPL";
