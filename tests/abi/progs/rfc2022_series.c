// SPDX-License-Identifier: GPL-2.0
/* What the October 2022 series "Local kptrs, BPF linked lists" did differently from Linux 6.18, one program
 * per behaviour.  The plain annotations are Linux 6.18's (the kernel target checks them); the __*_abi
 * ones are the series', from its verifier hunks ([PATCH bpf-next v2 22/25] bpf: Introduce single
 * ownership BPF linked list API, 13 Oct 2022): an added node turns PTR_UNTRUSTED but keeps its reference
 * until bpf_spin_unlock, so it may be read and written under the lock and is passed to no kfunc again;
 * bpf_list_del returns an owning reference. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"
#include "bpf_misc.h"

struct elem {
	struct bpf_list_node node;
	int data;
};

struct value {
	struct bpf_spin_lock lock;
	struct bpf_list_head head __contains(elem, node);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct value);
	__uint(max_entries, 1);
} lists SEC(".maps");

static __always_inline struct value *the_value(void)
{
	int key = 0;

	return bpf_map_lookup_elem(&lists, &key);
}

/* Take the element back and drop it; its data, or -1 when the list is empty. */
static __always_inline int del_one(struct value *v)
{
	struct bpf_list_node *n;
	struct elem *e;
	int data;

	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&v->lock);
	if (!n)
		return -1;
	e = container_of(n, struct elem, node);
	data = e->data;
	bpf_obj_drop(e);
	return data;
}

SEC("tc")
__description("an added node is read and written under the lock")
__success __retval(43)
int rw_after_add_locked(void *ctx)
{
	struct value *v = the_value();
	struct elem *e;

	if (!v)
		return 1;
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 2;
	e->data = 42;
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &e->node);
	e->data = e->data + 1;
	bpf_spin_unlock(&v->lock);
	return del_one(v);
}

SEC("tc")
__description("an added node is gone after the unlock")
__failure __msg("invalid mem access 'scalar'")
int read_after_add_unlocked(void *ctx)
{
	struct value *v = the_value();
	struct elem *e;

	if (!v)
		return 1;
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 2;
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &e->node);
	bpf_spin_unlock(&v->lock);
	return e->data;
}

SEC("tc")
__description("an added node added again under the same lock")
__failure __msg("arg#1 expected pointer to allocated object")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int add_twice_locked(void *ctx)
{
	struct value *v = the_value();
	struct elem *e;

	if (!v)
		return 1;
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 2;
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &e->node);
	bpf_list_push_back(&v->head, &e->node);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("what bpf_list_del returns is owned: dropped, it is fine")
__success __retval(7)
int del_is_owning(void *ctx)
{
	struct value *v = the_value();
	struct elem *e;

	if (!v)
		return 1;
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 2;
	e->data = 7;
	bpf_spin_lock(&v->lock);
	bpf_list_push_back(&v->head, &e->node);
	bpf_spin_unlock(&v->lock);
	return del_one(v);
}

SEC("tc")
__description("what bpf_list_del returns is owned: kept, it leaks")
__failure __msg("Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
__msg("BPF_EXIT instruction in main prog would lead to reference leak")
__msg_abi("rfc-2022", "Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
int del_leaks(void *ctx)
{
	struct value *v = the_value();
	struct bpf_list_node *n;

	if (!v)
		return 1;
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&v->lock);
	return n ? 3 : 0;
}

SEC("tc")
__description("bpf_list_del without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int del_unlocked(void *ctx)
{
	struct value *v = the_value();
	struct bpf_list_node *n;

	if (!v)
		return 1;
	n = bpf_list_pop_front(&v->head);
	if (n)
		bpf_obj_drop(container_of(n, struct elem, node));
	return 0;
}

SEC("tc")
__description("a map value added as a node without the lock: the series checks the node (arg#0) first")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int bad_node_unlocked(void *ctx)
{
	struct value *v = the_value();

	if (!v)
		return 1;
	bpf_list_push_front(&v->head, (void *)v);
	return 0;
}

SEC("tc")
__description("a 6.18-only kfunc")
__abi("linux-6.18")
__success __retval(0)
int front_is_6_18(void *ctx)
{
	struct value *v = the_value();
	struct bpf_list_node *n;

	if (!v)
		return 1;
	bpf_spin_lock(&v->lock);
	n = bpf_list_front(&v->head);
	bpf_spin_unlock(&v->lock);
	return n ? 2 : 0;
}

SEC("tc")
__description("a 6.18-only kfunc, unmarked: skipped all the same, the kfunc named")
__success __retval(0)
int back_is_6_18(void *ctx)
{
	struct value *v = the_value();
	struct bpf_list_node *n;

	if (!v)
		return 1;
	bpf_spin_lock(&v->lock);
	n = bpf_list_back(&v->head);
	bpf_spin_unlock(&v->lock);
	return n ? 2 : 0;
}

char _license[] SEC("license") = "GPL";
