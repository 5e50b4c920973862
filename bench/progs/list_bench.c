// SPDX-License-Identifier: GPL-2.0
/* The BPF linked-list workload of bench/lists.py: each run pushes N new objects to the back of
 * an array value's list and pops them all from the front, summing their data (N (N - 1) / 2). */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"

#ifndef N
#define N 128
#endif

struct elem {
	struct bpf_list_node node;
	int data;
};

struct list_value {
	struct bpf_spin_lock lock;
	struct bpf_list_head head __contains(elem, node);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct list_value);
	__uint(max_entries, 1);
} lists SEC(".maps");

SEC("tc")
int push_pop(void *ctx)
{
	struct bpf_list_node *n;
	struct list_value *v;
	struct elem *e;
	int key = 0, i, sum = 0;

	v = bpf_map_lookup_elem(&lists, &key);
	if (!v)
		return -1;
	for (i = 0; i < N; i++) {
		e = bpf_obj_new(typeof(*e));
		if (!e)
			return -2;
		e->data = i;
		bpf_spin_lock(&v->lock);
		bpf_list_push_back(&v->head, &e->node);
		bpf_spin_unlock(&v->lock);
	}
	for (i = 0; i < N; i++) {
		bpf_spin_lock(&v->lock);
		n = bpf_list_pop_front(&v->head);
		bpf_spin_unlock(&v->lock);
		if (!n)
			return -3;
		e = container_of(n, struct elem, node);
		sum += e->data;
		bpf_obj_drop(e);
	}
	return sum;
}

char _license[] SEC("license") = "GPL";
