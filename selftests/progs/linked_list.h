/* SPDX-License-Identifier: GPL-2.0 */
/* The types and maps linked_list.c and linked_list_fail.c share. */
#ifndef __PYBPF_LINKED_LIST_H
#define __PYBPF_LINKED_LIST_H

#include <stdbool.h>
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"

/* An element: it links into a list through node, and owns a list of its own. */
struct bar {
	struct bpf_list_node node;
	int data;
};

struct foo {
	struct bpf_list_node node;
	struct bpf_list_head head __contains(bar, node);
	struct bpf_spin_lock lock;
	int data;
	struct bpf_list_node node2;
};

struct map_value {
	struct bpf_spin_lock lock;
	int data;
	struct bpf_list_head head __contains(foo, node);
};

struct array_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct map_value);
	__uint(max_entries, 1);
};

struct array_map array_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, struct map_value);
	__uint(max_entries, 4);
} hash_map SEC(".maps");

/* Global lists need their lock in the same private section. */
private(A) struct bpf_spin_lock glock;
private(A) struct bpf_list_head ghead __contains(foo, node2);
private(B) struct bpf_spin_lock glock2;

#endif /* __PYBPF_LINKED_LIST_H */
