// SPDX-License-Identifier: GPL-2.0
/* Local kptrs: objects of the program's own BTF types, allocated with bpf_obj_new and
 * freed with bpf_obj_drop, read and written through the pointer; what special fields and
 * map values allow.  Every verdict, __msg and __retval is what Linux 6.18 gave for the
 * program. */
#include <stdbool.h>
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"
#include "bpf_misc.h"

/* No special field: every byte is the program's. */
struct plain {
	long a;
	int b;
	char c[4];
};

/* longs: clang would merge two adjacent int stores into one 8-byte store, which the kernel
 * refuses as an access beyond member x. */
struct point {
	long x;
	long y;
};

/* Nested structs and an array of them, still plain data. */
struct shape {
	struct point origin;
	struct point corners[4];
	long area;
};

/* Special fields: the verifier guards their bytes.  (One type may hold two graph nodes only
 * with a bpf_refcount: the kernel refuses the BTF otherwise.) */
struct linked {
	long key;
	struct bpf_list_node node;
	int tail;
};

struct treed {
	long key;
	struct bpf_rb_node rb;
};

struct locked {
	int before;
	struct bpf_spin_lock lock;
	long count;
};

struct counted {
	struct bpf_refcount ref;
	long v;
};

/* A map value with a pointer field.  It has no __kptr: clang 14 emits no BTF type tags, so
 * that field could not be a kptr anyway, and bpf_kptr_xchg success paths cannot be built here. */
struct stash {
	struct plain *p;
	long seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct stash);
	__uint(max_entries, 1);
} stashes SEC(".maps");

#define NEW_OR_RET(p, ret)					\
	({							\
		p = bpf_obj_new(typeof(*p));			\
		if (!p)						\
			return ret;				\
	})

#define STASH_OR_RET(s, ret)					\
	({							\
		int __key = 0;					\
		s = bpf_map_lookup_elem(&stashes, &__key);	\
		if (!s)						\
			return ret;				\
	})

SEC("tc")
__description("bpf_obj_new of a plain struct: fields written and read back")
__success __retval(47)
int plain_write_read(void *ctx)
{
	struct plain *p;
	long sum;

	NEW_OR_RET(p, -1);
	p->a = 40;
	p->b = 5;
	p->c[0] = 1;
	p->c[3] = 1;
	sum = p->a + p->b + p->c[0] + p->c[3];
	bpf_obj_drop(p);
	return sum;
}

SEC("tc")
__description("bpf_obj_new of a struct with list and tree nodes: its data fields are free to use")
__success __retval(12)
int special_fields_data(void *ctx)
{
	struct linked *l;
	long ret;

	NEW_OR_RET(l, -1);
	l->key = 10;
	l->tail = 2;
	ret = l->key + l->tail;
	bpf_obj_drop(l);
	return ret;
}

SEC("tc")
__description("bpf_obj_new of a struct with a bpf_spin_lock: locking it is allowed")
__success __retval(3)
int own_lock(void *ctx)
{
	struct locked *l;
	long ret;

	NEW_OR_RET(l, -1);
	l->count = 2;
	bpf_spin_lock(&l->lock);
	l->count++;
	bpf_spin_unlock(&l->lock);
	ret = l->count;
	bpf_obj_drop(l);
	return ret;
}

SEC("tc")
__description("nested structs and an array of structs inside an object")
__success __retval(46)
int nested_and_array(void *ctx)
{
	struct shape *s;
	long sum = 0;
	int i;

	NEW_OR_RET(s, -1);
	s->origin.x = 1;
	s->origin.y = 2;
	for (i = 0; i < 4; i++) {
		s->corners[i].x = i;
		s->corners[i].y = 2 * i;
	}
	s->area = 25;
	sum = s->origin.x + s->origin.y + s->area;
	for (i = 0; i < 4; i++)
		sum += s->corners[i].x + s->corners[i].y;
	bpf_obj_drop(s);
	return sum;
}

SEC("tc")
__description("several objects alive at once, dropped in another order")
__success __retval(6)
int several_objects(void *ctx)
{
	struct plain *a, *b;
	struct point *c;
	long ret;

	NEW_OR_RET(a, -1);
	b = bpf_obj_new(typeof(*b));
	if (!b) {
		bpf_obj_drop(a);
		return -2;
	}
	c = bpf_obj_new(typeof(*c));
	if (!c) {
		bpf_obj_drop(b);
		bpf_obj_drop(a);
		return -3;
	}
	a->a = 1;
	b->a = 2;
	c->x = 3;
	ret = a->a + b->a + c->x;
	bpf_obj_drop(b);
	bpf_obj_drop(c);
	bpf_obj_drop(a);
	return ret;
}

SEC("tc")
__description("an object dropped on one branch and kept to the end on the other")
__success __retval(5)
int drop_on_both_paths(struct __sk_buff *skb)
{
	struct plain *p;

	NEW_OR_RET(p, -1);
	p->a = 5;
	if (skb->len > 1000) {
		bpf_obj_drop(p);
		return 0;
	}
	skb->cb[0] = p->a;
	bpf_obj_drop(p);
	return skb->cb[0];
}

/* A static subprogram may take the object and write it: the caller keeps the reference. */
static __noinline int fill(struct plain *p, int v)
{
	if (!p)
		return 0;
	p->a = v;
	p->b = v + 1;
	return 1;
}

SEC("tc")
__description("an object written by a static subprogram")
__success __retval(19)
int written_by_subprog(void *ctx)
{
	struct plain *p;
	long ret;

	NEW_OR_RET(p, -1);
	if (!fill(p, 9)) {
		bpf_obj_drop(p);
		return -2;
	}
	ret = p->a + p->b;
	bpf_obj_drop(p);
	return ret;
}

SEC("tc")
__description("bpf_obj_new of a struct with a bpf_refcount, dropped once")
__success __retval(8)
int refcounted_drop(void *ctx)
{
	struct counted *c;
	long ret;

	NEW_OR_RET(c, -1);
	c->v = 8;
	ret = c->v;
	bpf_obj_drop(c);
	return ret;
}

SEC("tc")
__description("bpf_percpu_obj_new of a plain struct, then bpf_percpu_obj_drop")
__success __retval(0)
__abi("linux-6.18")
int percpu_new_drop(void *ctx)
{
	struct plain *p;

	p = bpf_percpu_obj_new(struct plain);
	if (!p)
		return -1;
	bpf_percpu_obj_drop(p);
	return 0;
}

SEC("tc")
__description("reading before the start of an object")
__failure __msg("invalid negative access: off=-8")
int read_before_start(void *ctx)
{
	struct plain *p;
	long v;

	NEW_OR_RET(p, 0);
	v = *(volatile long *)((void *)p - 8);
	bpf_obj_drop(p);
	return v;
}

SEC("tc")
__description("an allocated object kept alive past a bpf_obj_drop of another one")
__failure __msg("Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
int leak_second(void *ctx)
{
	struct plain *a, *b;

	NEW_OR_RET(a, 0);
	b = bpf_obj_new(typeof(*b));
	bpf_obj_drop(a);
	if (b)
		b->a = 1;
	return 0;
}

SEC("tc")
__description("an allocated object never dropped")
__failure __msg("Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
__msg("BPF_EXIT instruction in main prog would lead to reference leak")
__msg_abi("rfc-2022", "Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
int leak(void *ctx)
{
	struct plain *p;

	NEW_OR_RET(p, 0);
	p->a = 1;
	return 0;
}

SEC("tc")
__description("an allocated object leaked on one branch only")
__failure __msg("Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
int leak_one_branch(struct __sk_buff *skb)
{
	struct plain *p;

	NEW_OR_RET(p, 0);
	if (skb->len > 1000)
		return 1;
	bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__description("writing an object before its NULL check")
__failure __msg("invalid mem access 'ptr_or_null_'")
int write_before_null_check(void *ctx)
{
	struct plain *p;

	p = bpf_obj_new(typeof(*p));
	p->a = 1;
	if (p)
		bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__description("dropping an object before its NULL check")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int drop_before_null_check(void *ctx)
{
	struct plain *p;

	p = bpf_obj_new(typeof(*p));
	bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__description("writing an object after dropping it")
__failure __msg("invalid mem access 'scalar'")
int write_after_drop(void *ctx)
{
	struct plain *p;

	NEW_OR_RET(p, 0);
	bpf_obj_drop(p);
	p->b = 1;
	return 0;
}

SEC("tc")
__description("dropping an object twice")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int double_drop(void *ctx)
{
	struct plain *p;

	NEW_OR_RET(p, 0);
	bpf_obj_drop(p);
	bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__description("dropping a map value")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int drop_map_value(void *ctx)
{
	struct stash *s;

	STASH_OR_RET(s, 0);
	bpf_obj_drop(s);
	return 0;
}

SEC("tc")
__description("dropping a pointer to a nested member")
__failure __msg("must have zero offset when passed to release func or trusted arg to kfunc")
__msg_abi("rfc-2022", "must have zero offset when passed to release func")
int drop_member(void *ctx)
{
	struct shape *s;

	NEW_OR_RET(s, 0);
	bpf_obj_drop(&s->corners[1]);
	return 0;
}

SEC("tc")
__description("reading past the end of an object")
__failure __msg("access beyond struct plain at off 16 size 8")
int read_past_end(void *ctx)
{
	struct plain *p;
	long v;

	NEW_OR_RET(p, 0);
	v = *(long *)((void *)p + 16);
	bpf_obj_drop(p);
	return v;
}

SEC("tc")
__description("writing an object's bpf_rb_node")
__failure __msg("direct access to bpf_rb_node is disallowed")
__abi("linux-6.18")
int write_rb_node(void *ctx)
{
	struct treed *l;

	NEW_OR_RET(l, 0);
	*(long *)&l->rb = 0;
	bpf_obj_drop(l);
	return 0;
}

SEC("tc")
__description("writing an object's bpf_list_node")
__failure __msg("direct access to bpf_list_node is disallowed")
int write_list_node(void *ctx)
{
	struct linked *l;

	NEW_OR_RET(l, 0);
	*((long *)&l->node + 1) = 0;
	bpf_obj_drop(l);
	return 0;
}

SEC("tc")
__description("writing an object's bpf_spin_lock")
__failure __msg("direct access to bpf_spin_lock is disallowed")
int write_spin_lock(void *ctx)
{
	struct locked *l;

	NEW_OR_RET(l, 0);
	*(int *)&l->lock = 0;
	bpf_obj_drop(l);
	return 0;
}

SEC("tc")
__description("reading an object's bpf_refcount")
__failure __msg("direct access to bpf_refcount is disallowed")
__abi("linux-6.18")
int read_refcount(void *ctx)
{
	struct counted *c;
	int v;

	NEW_OR_RET(c, 0);
	v = *(volatile int *)&c->ref;
	bpf_obj_drop(c);
	return v;
}

SEC("tc")
__description("writing an object at a variable offset")
__failure __msg("R1 is ptr_shape invalid variable offset: off=0, var_off=(0x0; 0x18)")
int write_variable_offset(struct __sk_buff *skb)
{
	struct shape *s;
	__u32 i = skb->len & 3;

	NEW_OR_RET(s, 0);
	*(long *)((void *)s + i * 8) = 1;
	bpf_obj_drop(s);
	return 0;
}

SEC("tc")
__description("bpf_kptr_xchg on a pointer field without the kptr tag")
__failure __msg("R1 has no valid kptr")
int xchg_untagged_field(void *ctx)
{
	struct plain *p, *old;
	struct stash *s;

	STASH_OR_RET(s, 0);
	NEW_OR_RET(p, 0);
	old = bpf_kptr_xchg(&s->p, p);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__description("dropping a pointer loaded from a map value (a scalar to the verifier)")
__failure __msg("must be referenced or trusted")
__msg_abi("rfc-2022", "arg#0 expected point to local kptr")
int drop_loaded_pointer(void *ctx)
{
	struct plain *p;
	struct stash *s;

	STASH_OR_RET(s, 0);
	p = s->p;
	if (p)
		bpf_obj_drop(p);
	return 0;
}

char _license[] SEC("license") = "GPL";
