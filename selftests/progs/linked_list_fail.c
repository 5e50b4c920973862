// SPDX-License-Identifier: GPL-2.0
/* BPF linked lists misused: one program per rule, each refused by Linux 6.18's
 * verifier; every __msg is the text the kernel gave when the program was loaded. */
#include "linked_list.h"
#include "bpf_misc.h"

/* A tree, for the rules lists and trees share (linked_list.c has no tree: the kernel
 * would look for struct rbe in its BTF, where nothing uses it). */
struct rbe {
	struct bpf_rb_node rb;
	long key;
};

struct tree_value {
	struct bpf_spin_lock lock;
	struct bpf_rb_root root __contains(rbe, rb);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct tree_value);
	__uint(max_entries, 1);
} tree_map SEC(".maps");

/* A per-CPU object may hold scalars only. */
struct scalars {
	int a;
	long b;
};

#define LOOKUP_OR_RET(v)					\
	({							\
		int __key = 0;					\
		v = bpf_map_lookup_elem(&array_map, &__key);	\
		if (!v)						\
			return 0;				\
	})

#define TREE_OR_RET(t)						\
	({							\
		int __key = 0;					\
		t = bpf_map_lookup_elem(&tree_map, &__key);	\
		if (!t)						\
			return 0;				\
	})

#define NEW_OR_RET(p)						\
	({							\
		p = bpf_obj_new(typeof(*p));			\
		if (!p)						\
			return 0;				\
	})

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct rbe, rb)->key < container_of(b, struct rbe, rb)->key;
}

SEC("tc")
__description("map list: bpf_list_push_front without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int map_missing_lock_push_front(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_list_push_front(&v->head, &f->node);
	return 0;
}

SEC("tc")
__description("map list: bpf_list_push_back without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int map_missing_lock_push_back(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_list_push_back(&v->head, &f->node);
	return 0;
}

SEC("tc")
__description("map list: bpf_list_pop_front without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int map_missing_lock_pop_front(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	n = bpf_list_pop_front(&v->head);
	if (n)
		bpf_obj_drop(container_of(n, struct foo, node));
	return 0;
}

SEC("tc")
__description("map list: bpf_list_pop_back without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int map_missing_lock_pop_back(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	n = bpf_list_pop_back(&v->head);
	if (n)
		bpf_obj_drop(container_of(n, struct foo, node));
	return 0;
}

SEC("tc")
__description("map list: bpf_list_front without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__abi("linux-6.18")
int map_missing_lock_front(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	n = bpf_list_front(&v->head);
	return n ? 1 : 0;
}

SEC("tc")
__description("map list: bpf_list_back without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__abi("linux-6.18")
int map_missing_lock_back(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	n = bpf_list_back(&v->head);
	return n ? 1 : 0;
}

SEC("tc")
__description("global list: bpf_list_push_front without the lock")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=16 must be held for manipulating bpf_list_head")
int global_missing_lock_push_front(void *ctx)
{
	struct foo *f;

		NEW_OR_RET(f);
	bpf_list_push_front(&ghead, &f->node2);
	return 0;
}

SEC("tc")
__description("global list: bpf_list_push_back without the lock")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=16 must be held for manipulating bpf_list_head")
int global_missing_lock_push_back(void *ctx)
{
	struct foo *f;

		NEW_OR_RET(f);
	bpf_list_push_back(&ghead, &f->node2);
	return 0;
}

SEC("tc")
__description("global list: bpf_list_pop_front without the lock")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=16 must be held for manipulating bpf_list_head")
int global_missing_lock_pop_front(void *ctx)
{
	struct bpf_list_node *n;

		n = bpf_list_pop_front(&ghead);
	if (n)
		bpf_obj_drop(container_of(n, struct foo, node2));
	return 0;
}

SEC("tc")
__description("global list: bpf_list_pop_back without the lock")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=16 must be held for manipulating bpf_list_head")
int global_missing_lock_pop_back(void *ctx)
{
	struct bpf_list_node *n;

		n = bpf_list_pop_back(&ghead);
	if (n)
		bpf_obj_drop(container_of(n, struct foo, node2));
	return 0;
}

SEC("tc")
__description("global list: bpf_list_front without the lock")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__abi("linux-6.18")
int global_missing_lock_front(void *ctx)
{
	struct bpf_list_node *n;

		n = bpf_list_front(&ghead);
	return n ? 1 : 0;
}

SEC("tc")
__description("global list: bpf_list_back without the lock")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__abi("linux-6.18")
int global_missing_lock_back(void *ctx)
{
	struct bpf_list_node *n;

		n = bpf_list_back(&ghead);
	return n ? 1 : 0;
}

SEC("tc")
__description("obj list: bpf_list_push_front without the lock")
__failure __msg("bpf_spin_lock at off=40 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=40 must be held for manipulating bpf_list_head")
int obj_missing_lock_push_front(void *ctx)
{
	struct foo *f;
	struct bar *b;

	NEW_OR_RET(f);
	b = bpf_obj_new(typeof(*b));
	if (!b) {
		bpf_obj_drop(f);
		return 0;
	}
	bpf_list_push_front(&f->head, &b->node);
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("obj list: bpf_list_push_back without the lock")
__failure __msg("bpf_spin_lock at off=40 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=40 must be held for manipulating bpf_list_head")
int obj_missing_lock_push_back(void *ctx)
{
	struct foo *f;
	struct bar *b;

	NEW_OR_RET(f);
	b = bpf_obj_new(typeof(*b));
	if (!b) {
		bpf_obj_drop(f);
		return 0;
	}
	bpf_list_push_back(&f->head, &b->node);
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("obj list: bpf_list_pop_front without the lock")
__failure __msg("bpf_spin_lock at off=40 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=40 must be held for manipulating bpf_list_head")
int obj_missing_lock_pop_front(void *ctx)
{
	struct foo *f;
	struct bpf_list_node *n;

	NEW_OR_RET(f);
	n = bpf_list_pop_front(&f->head);
	bpf_obj_drop(f);
	return n ? 1 : 0;
}

SEC("tc")
__description("obj list: bpf_list_pop_back without the lock")
__failure __msg("bpf_spin_lock at off=40 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=40 must be held for manipulating bpf_list_head")
int obj_missing_lock_pop_back(void *ctx)
{
	struct foo *f;
	struct bpf_list_node *n;

	NEW_OR_RET(f);
	n = bpf_list_pop_back(&f->head);
	bpf_obj_drop(f);
	return n ? 1 : 0;
}

SEC("tc")
__description("obj list: bpf_list_front without the lock")
__failure __msg("bpf_spin_lock at off=40 must be held for bpf_list_head")
__abi("linux-6.18")
int obj_missing_lock_front(void *ctx)
{
	struct foo *f;
	struct bpf_list_node *n;

	NEW_OR_RET(f);
	n = bpf_list_front(&f->head);
	bpf_obj_drop(f);
	return n ? 1 : 0;
}

SEC("tc")
__description("obj list: bpf_list_back without the lock")
__failure __msg("bpf_spin_lock at off=40 must be held for bpf_list_head")
__abi("linux-6.18")
int obj_missing_lock_back(void *ctx)
{
	struct foo *f;
	struct bpf_list_node *n;

	NEW_OR_RET(f);
	n = bpf_list_back(&f->head);
	bpf_obj_drop(f);
	return n ? 1 : 0;
}

SEC("tc")
__description("map value list under the global lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int map_list_global_lock(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&glock);
	bpf_list_push_front(&v->head, &f->node);
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc")
__description("global list under a map value's lock")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=16 must be held for manipulating bpf_list_head")
int global_list_map_lock(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&ghead, &f->node2);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("global list under a lock of another private section")
__failure __msg("bpf_spin_lock at off=16 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=16 must be held for manipulating bpf_list_head")
int global_list_other_global_lock(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	bpf_spin_lock(&glock2);
	bpf_list_push_front(&ghead, &f->node2);
	bpf_spin_unlock(&glock2);
	return 0;
}

SEC("tc")
__description("map value list under an object's lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head")
int map_list_object_lock(void *ctx)
{
	struct map_value *v;
	struct foo *f;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&f->lock);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&f->lock);
	bpf_obj_drop(f);
	if (n)
		bpf_obj_drop(container_of(n, struct foo, node));
	return 0;
}

SEC("tc")
__description("an object's list under a map value's lock")
__failure __msg("bpf_spin_lock at off=40 must be held for bpf_list_head")
__msg_abi("rfc-2022", "bpf_spin_lock at off=40 must be held for manipulating bpf_list_head")
int object_list_map_lock(void *ctx)
{
	struct map_value *v;
	struct foo *f;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front(&f->head);
	bpf_spin_unlock(&v->lock);
	bpf_obj_drop(f);
	if (n)
		bpf_obj_drop(container_of(n, struct bar, node));
	return 0;
}

SEC("tc")
__description("bpf_obj_new of a type that is not a struct")
__failure __msg("bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct")
__msg_abi("rfc-2022", "bpf_kptr_new type ID argument must be of a struct")
int obj_new_not_struct(void *ctx)
{
	int *p = bpf_obj_new(int);

	if (p)
		bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__description("an allocated object never dropped")
__failure __msg("BPF_EXIT instruction in main prog would lead to reference leak")
__msg_abi("rfc-2022", "Unreleased reference id=")
int obj_new_leak(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	return 0;
}

SEC("tc")
__description("an allocated object used before its NULL check")
__failure __msg("invalid mem access 'ptr_or_null_'")
int obj_new_unchecked(void *ctx)
{
	struct foo *f;

	f = bpf_obj_new(typeof(*f));
	f->data = 1;
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("dropping an object twice")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int obj_drop_twice(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	bpf_obj_drop(f);
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("reading an object after dropping it")
__failure __msg("invalid mem access 'scalar'")
int obj_use_after_drop(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	bpf_obj_drop(f);
	return f->data;
}

SEC("tc")
__description("dropping a map value")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int obj_drop_map_value(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_obj_drop(v);
	return 0;
}

SEC("tc")
__description("dropping a stack pointer")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int obj_drop_stack(void *ctx)
{
	struct foo s = {};

	bpf_obj_drop(&s);
	return 0;
}

SEC("tc")
__description("dropping the context")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int obj_drop_ctx(void *ctx)
{
	bpf_obj_drop(ctx);
	return 0;
}

SEC("tc")
__description("dropping a pointer into the middle of an object")
__failure __msg("must have zero offset when passed to release func or trusted arg to kfunc")
__msg_abi("rfc-2022", "must have zero offset when passed to release func")
int obj_drop_inner_pointer(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	bpf_obj_drop(&f->data);
	return 0;
}

SEC("tc")
__description("a load past the end of an object")
__failure __msg("access beyond struct foo at off 72 size 4")
int obj_read_out_of_bounds(void *ctx)
{
	int r;
	struct foo *f;

	NEW_OR_RET(f);
	r = *(int *)((void *)f + sizeof(*f));
	bpf_obj_drop(f);
	return r;
}

SEC("tc")
__description("writing to an object's bpf_list_node")
__failure __msg("direct access to bpf_list_node is disallowed")
int obj_write_list_node(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	*(__u64 *)&f->node = 0;
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("reading an object's bpf_list_node")
__failure __msg("direct access to bpf_list_node is disallowed")
int obj_read_list_node(void *ctx)
{
	__u64 x;
	struct foo *f;

	NEW_OR_RET(f);
	x = *(__u64 *)&f->node;
	bpf_obj_drop(f);
	return x;
}

SEC("tc")
__description("writing to an object's bpf_list_head")
__failure __msg("direct access to bpf_list_head is disallowed")
int obj_write_list_head(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	*(__u64 *)&f->head = 0;
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("writing to an object's bpf_spin_lock")
__failure __msg("direct access to bpf_spin_lock is disallowed")
int obj_write_spin_lock(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	*(__u32 *)&f->lock = 0;
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("writing to a map value's bpf_list_head")
__failure __msg("bpf_list_head cannot be accessed directly by load/store")
int map_write_list_head(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	*(__u64 *)&v->head = 0;
	return 0;
}

SEC("tc")
__description("reading a map value's bpf_list_head")
__failure __msg("bpf_list_head cannot be accessed directly by load/store")
int map_read_list_head(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	return *(__u64 *)&v->head;
}

SEC("tc")
__description("writing to a map value's bpf_spin_lock")
__failure __msg("bpf_spin_lock cannot be accessed directly by load/store")
int map_write_spin_lock(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	*(__u32 *)&v->lock = 0;
	return 0;
}

SEC("tc")
__description("writing to a global bpf_list_head")
__failure __msg("bpf_list_head cannot be accessed directly by load/store")
int global_write_list_head(void *ctx)
{
	*(__u64 *)&ghead = 0;
	return 0;
}

SEC("tc")
__description("returning an allocated pointer")
__failure __msg("BPF_EXIT instruction in main prog would lead to reference leak")
__msg_abi("rfc-2022", "Unreleased reference id=")
int obj_return(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	return (long)f;
}

SEC("tc")
__description("bpf_percpu_obj_new of a type with special fields")
__failure __msg("bpf_percpu_obj_new type ID argument must not contain special fields")
__abi("linux-6.18")
int percpu_obj_new_special(void *ctx)
{
	struct foo *f;

	f = bpf_percpu_obj_new(struct foo);
	if (f)
		bpf_percpu_obj_drop(f);
	return 0;
}

SEC("tc")
__description("bpf_obj_drop of a per-CPU object")
__failure __msg("arg#0 expected for bpf_percpu_obj_drop_impl()")
__abi("linux-6.18")
int percpu_obj_drop_plain(void *ctx)
{
	struct scalars *s = bpf_percpu_obj_new(struct scalars);

	if (s)
		bpf_obj_drop(s);
	return 0;
}

SEC("tc")
__description("bpf_percpu_obj_drop of a plain object")
__failure __msg("arg#0 expected for bpf_obj_drop_impl()")
__abi("linux-6.18")
int obj_drop_percpu(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	bpf_percpu_obj_drop(f);
	return 0;
}

SEC("tc")
__description("bpf_refcount_acquire on a type without bpf_refcount")
__failure __msg("arg#0 doesn't point to a type with bpf_refcount field")
__abi("linux-6.18")
int refcount_acquire_not_refcounted(void *ctx)
{
	struct foo *g;
	struct foo *f;

	NEW_OR_RET(f);
	g = bpf_refcount_acquire(f);
	bpf_obj_drop(f);
	if (g)
		bpf_obj_drop(g);
	return 0;
}

SEC("tc")
__description("pushing a struct bar onto a list of struct foo")
__failure __msg("operation on bpf_list_head expects arg#1 bpf_list_node at offset=0 in struct foo, but arg is at offset=0 in struct bar")
__msg_abi("rfc-2022", "bpf_list_head value type does not match arg#0")
int push_wrong_type(void *ctx)
{
	struct map_value *v;
	struct bar *b;

	LOOKUP_OR_RET(v);
	b = bpf_obj_new(typeof(*b));
	if (!b)
		return 0;
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &b->node);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("pushing by node2 onto a list that links foo by node")
__failure __msg("arg#1 offset=48, but expected bpf_list_node at offset=0 in struct foo")
__msg_abi("rfc-2022", "arg#0 offset must be for bpf_list_node at off=0")
int push_wrong_node(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &f->node2);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("pushing by node onto the global list that links foo by node2")
__failure __msg("arg#1 offset=0, but expected bpf_list_node at offset=48 in struct foo")
__msg_abi("rfc-2022", "arg#0 offset must be for bpf_list_node at off=48")
int push_global_wrong_node(void *ctx)
{
	struct foo *f;

	NEW_OR_RET(f);
	bpf_spin_lock(&glock);
	bpf_list_push_back(&ghead, &f->node);
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc")
__description("pushing a map value as a node")
__failure __msg("arg#1 expected pointer to allocated object")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int push_map_value_node(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, (void *)v);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("pushing a node on the stack")
__failure __msg("arg#1 expected pointer to allocated object")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int push_stack_node(void *ctx)
{
	struct foo s = {};
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &s.node);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("pushing NULL")
__failure __msg("arg#1 expected pointer to allocated object")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int push_null_node(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, NULL);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("pushing an object before its NULL check")
__failure __msg("arg#1 expected pointer to allocated object")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int push_unchecked_node(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	f = bpf_obj_new(typeof(*f));
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &f->node);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("pushing an object that is already in the list")
__failure __msg("arg#1 expected pointer to allocated object")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int push_twice(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &f->node);
	bpf_spin_unlock(&v->lock);
	bpf_spin_lock(&v->lock);
	bpf_list_push_back(&v->head, &f->node);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("reading a pushed object after the unlock")
__failure __msg("invalid mem access 'scalar'")
int use_after_push_unlock(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &f->node);
	bpf_spin_unlock(&v->lock);
	return f->data;
}

SEC("tc")
__description("dropping an object the list owns")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int drop_after_push(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &f->node);
	bpf_spin_unlock(&v->lock);
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("a list head on the stack")
__failure __msg("arg#0 expected pointer to map value or allocated object")
__msg_abi("rfc-2022", "arg#0 expected pointer to map value or local kptr")
int head_is_stack(void *ctx)
{
	struct bpf_list_head h = {};
	struct bpf_list_node *n;

	n = bpf_list_pop_front(&h);
	return n ? 1 : 0;
}

SEC("tc")
__description("the context as a list head")
__failure __msg("arg#0 expected pointer to map value or allocated object")
__msg_abi("rfc-2022", "arg#0 expected pointer to map value or local kptr")
int head_is_ctx(void *ctx)
{
	struct bpf_list_node *n;

	n = bpf_list_pop_front(ctx);
	return n ? 1 : 0;
}

SEC("tc")
__description("a map value's lock passed as the list head")
__failure __msg("bpf_list_head not found at offset=4")
int head_wrong_offset(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front((void *)&v->data);
	bpf_spin_unlock(&v->lock);
	if (n)
		bpf_obj_drop(container_of(n, struct foo, node));
	return 0;
}

SEC("tc")
__description("an object's node passed as a list head")
__failure __msg("bpf_list_head not found at offset=0")
int head_is_node(void *ctx)
{
	struct map_value *v;
	struct foo *f;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front((void *)&f->node);
	bpf_spin_unlock(&v->lock);
	bpf_obj_drop(f);
	return n ? 1 : 0;
}

SEC("tc")
__description("using a popped node before its NULL check")
__failure __msg("invalid mem access 'ptr_or_null_'")
int pop_unchecked(void *ctx)
{
	struct map_value *v;
	struct foo *f;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&v->lock);
	f = container_of(n, struct foo, node);
	f->data = 1;
	bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("a popped node never dropped")
__failure __msg("BPF_EXIT instruction in main prog would lead to reference leak")
__msg_abi("rfc-2022", "Unreleased reference id=")
int pop_leak(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&v->lock);
	return n ? 1 : 0;
}

SEC("tc")
__description("dropping a popped node without container_of")
__failure __msg("must have zero offset when passed to release func or trusted arg to kfunc")
__msg_abi("rfc-2022", "must have zero offset when passed to release func")
int pop_drop_node_pointer(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&v->lock);
	if (n)
		bpf_obj_drop((void *)n + 8);
	return 0;
}

SEC("tc")
__description("reading before the start of the popped object")
__failure __msg("is ptr_foo invalid negative access: off=-8")
int pop_read_before_node(void *ctx)
{
	int r;
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	n = bpf_list_pop_front(&v->head);
	bpf_spin_unlock(&v->lock);
	if (!n)
		return 0;
	r = *(int *)((void *)n - 8);
	bpf_obj_drop(container_of(n, struct foo, node));
	return r;
}

SEC("tc")
__description("reading what bpf_list_front returned after the unlock")
__failure __msg("invalid mem access 'scalar'")
__abi("linux-6.18")
int front_after_unlock(void *ctx)
{
	struct map_value *v;
	struct bpf_list_node *n;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	n = bpf_list_front(&v->head);
	bpf_spin_unlock(&v->lock);
	if (!n)
		return 0;
	return container_of(n, struct foo, node)->data;
}

SEC("tc")
__description("exit inside the locked region")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region")
__msg_abi("rfc-2022", "bpf_spin_unlock is missing")
int exit_with_lock(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	return 0;
}

SEC("tc")
__description("a helper call while holding the lock")
__failure __msg("function calls are not allowed while holding a lock")
int helper_under_lock(void *ctx)
{
	int key = 0;
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	bpf_map_lookup_elem(&array_map, &key);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("bpf_obj_new while holding the lock")
__failure __msg("function calls are not allowed while holding a lock")
int obj_new_under_lock(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	f = bpf_obj_new(typeof(*f));
	bpf_spin_unlock(&v->lock);
	if (f)
		bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("bpf_obj_drop while holding the lock")
__failure __msg("function calls are not allowed while holding a lock")
int obj_drop_under_lock(void *ctx)
{
	struct map_value *v;
	struct foo *f;

	LOOKUP_OR_RET(v);
	NEW_OR_RET(f);
	bpf_spin_lock(&v->lock);
	bpf_obj_drop(f);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("taking two locks")
__failure __msg("function calls are not allowed while holding a lock")
int lock_twice(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	bpf_spin_lock(&glock);
	bpf_spin_unlock(&glock);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("unlocking a lock not held")
__failure __msg("bpf_spin_unlock without taking a lock")
int unlock_unlocked(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
__description("unlocking a different lock")
__failure __msg("bpf_spin_unlock of different lock")
int unlock_other(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc")
__description("locking an object before its NULL check")
__failure __msg("pointer arithmetic on ptr_or_null_ prohibited, null-check it first")
int lock_object_unchecked(void *ctx)
{
	struct foo *f;

	f = bpf_obj_new(typeof(*f));
	bpf_spin_lock(&f->lock);
	bpf_spin_unlock(&f->lock);
	if (f)
		bpf_obj_drop(f);
	return 0;
}

SEC("tc")
__description("bpf_spin_lock on a field that is not the lock")
__failure __msg("off 4 doesn't point to 'struct bpf_spin_lock' that is at 0")
int lock_wrong_offset(void *ctx)
{
	struct map_value *v;

	LOOKUP_OR_RET(v);
	bpf_spin_lock((void *)&v->data);
	bpf_spin_unlock((void *)&v->data);
	return 0;
}

SEC("tc")
__description("bpf_spin_lock in an object that has none")
__failure __msg("local 'kptr' has no valid bpf_spin_lock")
int lock_object_without_lock(void *ctx)
{
	struct bar *b;

	NEW_OR_RET(b);
	bpf_spin_lock((void *)&b->data);
	bpf_spin_unlock((void *)&b->data);
	bpf_obj_drop(b);
	return 0;
}

SEC("tc")
__description("bpf_rbtree_add without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_rb_root")
__abi("linux-6.18")
int tree_missing_lock_add(void *ctx)
{
	struct tree_value *t;
	struct rbe *e;

	TREE_OR_RET(t);
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 0;
	bpf_rbtree_add(&t->root, &e->rb, less);
	return 0;
}

SEC("tc")
__description("bpf_rbtree_first without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_rb_root")
__abi("linux-6.18")
int tree_missing_lock_first(void *ctx)
{
	struct tree_value *t;
	struct bpf_rb_node *rn;

	TREE_OR_RET(t);
	rn = bpf_rbtree_first(&t->root);
	return rn ? 1 : 0;
}

SEC("tc")
__description("bpf_rbtree_remove without the lock")
__failure __msg("bpf_spin_lock at off=0 must be held for bpf_rb_root")
__abi("linux-6.18")
int tree_missing_lock_remove(void *ctx)
{
	struct tree_value *t;
	struct rbe *e;
	struct bpf_rb_node *rn;

	TREE_OR_RET(t);
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 0;
	rn = bpf_rbtree_remove(&t->root, &e->rb);
	bpf_obj_drop(e);
	if (rn)
		bpf_obj_drop(container_of(rn, struct rbe, rb));
	return 0;
}

SEC("tc")
__description("adding an object that is not the tree's type")
__failure __msg("bpf_rb_node not found at offset=0")
__abi("linux-6.18")
int tree_add_list_object(void *ctx)
{
	struct foo *f;
	struct tree_value *t;

	TREE_OR_RET(t);
	NEW_OR_RET(f);
	bpf_spin_lock(&t->lock);
	bpf_rbtree_add(&t->root, (void *)&f->node, less);
	bpf_spin_unlock(&t->lock);
	return 0;
}

SEC("tc")
__description("dropping what bpf_rbtree_first returned")
__failure __msg("must be referenced or trusted")
__abi("linux-6.18")
int tree_first_is_not_owned(void *ctx)
{
	struct tree_value *t;
	struct bpf_rb_node *rn;

	TREE_OR_RET(t);
	bpf_spin_lock(&t->lock);
	rn = bpf_rbtree_first(&t->root);
	bpf_spin_unlock(&t->lock);
	if (rn)
		bpf_obj_drop(container_of(rn, struct rbe, rb));
	return 0;
}

SEC("tc")
__description("using what bpf_rbtree_remove returned before its NULL check")
__failure __msg("invalid mem access 'ptr_or_null_'")
__abi("linux-6.18")
int tree_remove_unchecked(void *ctx)
{
	struct tree_value *t;
	struct rbe *e;
	struct bpf_rb_node *rn;

	TREE_OR_RET(t);
	bpf_spin_lock(&t->lock);
	rn = bpf_rbtree_first(&t->root);
	if (!rn) {
		bpf_spin_unlock(&t->lock);
		return 0;
	}
	rn = bpf_rbtree_remove(&t->root, rn);
	bpf_spin_unlock(&t->lock);
	e = container_of(rn, struct rbe, rb);
	e->key = 1;
	bpf_obj_drop(e);
	return 0;
}

SEC("tc")
__description("a list head passed as a tree root")
__failure __msg("bpf_rb_root not found at offset=8")
__abi("linux-6.18")
int tree_list_head_as_root(void *ctx)
{
	struct map_value *v;
	struct tree_value *t;
	struct bpf_rb_node *rn;

	TREE_OR_RET(t);
	LOOKUP_OR_RET(v);
	bpf_spin_lock(&v->lock);
	rn = bpf_rbtree_first((void *)&v->head);
	bpf_spin_unlock(&v->lock);
	return rn ? 1 : 0;
}

SEC("tc")
__description("bpf_obj_new with a type id that is not a constant")
__failure __msg("must be a known constant")
int obj_new_variable_type(void *ctx)
{
	struct foo *f;

#ifdef PYBPF_ABI_RFC_2022
	f = bpf_kptr_new_impl(bpf_get_prandom_u32(), 0, NULL);
#else
	f = bpf_obj_new_impl(bpf_get_prandom_u32(), NULL);
#endif
	if (f)
		bpf_obj_drop(f);
	return 0;
}

char _license[] SEC("license") = "GPL";
