// SPDX-License-Identifier: GPL-2.0
/* kptrs the verifier refuses: plain stores into a referenced kptr, leaks, wrong types and
 * offsets, accesses that are not whole 8-byte loads, and pointers used after they were given
 * away.  Needs a clang that keeps btf_type_tag (>= 15).  Every __msg is what Linux 6.18 prints
 * for the program.
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

struct other {
	long v;
	long w;
};

struct slots {
	struct obj __kptr *ref;
	struct obj __kptr_untrusted *unref;
	long seq;
};

struct plain {
	struct obj *p;
	long seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct slots);
	__uint(max_entries, 2);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct plain);
	__uint(max_entries, 1);
} plain_arr SEC(".maps");

private(KPTR) struct slots glob;

#define SLOT_OR_RET(s, key)					\
	({							\
		int __key = key;				\
		s = bpf_map_lookup_elem(&arr, &__key);		\
		if (!s)						\
			return 0;				\
	})

#define NEW_OR_RET(p)						\
	({							\
		p = bpf_obj_new(typeof(*p));			\
		if (!p)						\
			return 0;				\
	})

SEC("tc")
__abi("linux-6.18")
__description("a plain store of an owned object into a __kptr")
__failure __msg("store to referenced kptr disallowed")
int store_into_ref(void *ctx)
{
	struct slots *s;
	struct obj *p;

	SLOT_OR_RET(s, 0);
	NEW_OR_RET(p);
	s->ref = p;
	bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a plain store of NULL into a __kptr")
__failure __msg("store to referenced kptr disallowed")
int store_null_into_ref(void *ctx)
{
	struct slots *s;

	SLOT_OR_RET(s, 0);
	s->ref = NULL;
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("an object neither stored nor dropped leaks")
__failure __msg("Unreleased reference id=2")
__msg("BPF_EXIT instruction in main prog would lead to reference leak")
int leak_new(void *ctx)
{
	struct obj *p;

	NEW_OR_RET(p);
	p->v = 1;
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("what bpf_kptr_xchg swapped out must be dropped or stored")
__failure __msg("Unreleased reference id=2")
__msg("BPF_EXIT instruction in main prog would lead to reference leak")
int leak_swapped_out(void *ctx)
{
	struct slots *s;
	struct obj *p;

	SLOT_OR_RET(s, 0);
	p = bpf_kptr_xchg(&s->ref, NULL);
	if (p)
		return p->v;
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("the object given to bpf_kptr_xchg is the map's: the program may not touch it after")
__failure __msg("invalid mem access 'scalar'")
int use_after_xchg_in(void *ctx)
{
	struct slots *s;
	struct obj *p, *old;

	SLOT_OR_RET(s, 0);
	NEW_OR_RET(p);
	old = bpf_kptr_xchg(&s->ref, p);
	if (old)
		bpf_obj_drop(old);
	p->v = 2;
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("an object given to bpf_kptr_xchg may not be dropped as well")
__failure __msg("R1 must be referenced or trusted")
int drop_after_xchg_in(void *ctx)
{
	struct slots *s;
	struct obj *p, *old;

	SLOT_OR_RET(s, 0);
	NEW_OR_RET(p);
	old = bpf_kptr_xchg(&s->ref, p);
	if (old)
		bpf_obj_drop(old);
	bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("what bpf_kptr_xchg returns may be NULL")
__failure __msg("invalid mem access 'ptr_or_null_'")
int xchg_result_unchecked(void *ctx)
{
	struct slots *s;
	struct obj *p;
	long v;

	SLOT_OR_RET(s, 0);
	p = bpf_kptr_xchg(&s->ref, NULL);
	v = p->v;
	bpf_obj_drop(p);
	return v;
}

SEC("tc")
__abi("linux-6.18")
__description("an object of another type into a __kptr")
__failure __msg("invalid kptr access, R2 type=ptr_other expected=ptr_obj")
int wrong_type_into_ref(void *ctx)
{
	struct slots *s;
	struct other *o;
	struct obj *old;

	SLOT_OR_RET(s, 0);
	NEW_OR_RET(o);
	old = bpf_kptr_xchg(&s->ref, o);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("an object of another type stored into a __kptr_untrusted")
__failure __msg("invalid kptr access, R0 type=ptr_other expected=ptr_obj or untrusted_ptr_obj")
int wrong_type_into_unref(void *ctx)
{
	struct slots *s;
	struct other *o;

	SLOT_OR_RET(s, 0);
	NEW_OR_RET(o);
	s->unref = (void *)o;
	bpf_obj_drop(o);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_kptr_xchg on a field that is no kptr")
__failure __msg("off=16 doesn't point to kptr")
int xchg_not_a_kptr(void *ctx)
{
	struct slots *s;
	struct obj *old;

	SLOT_OR_RET(s, 0);
	old = bpf_kptr_xchg(&s->seq, NULL);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_kptr_xchg on a __kptr_untrusted")
__failure __msg("off=8 kptr isn't referenced kptr")
int xchg_unref(void *ctx)
{
	struct slots *s;
	struct obj *old;

	SLOT_OR_RET(s, 0);
	old = bpf_kptr_xchg(&s->unref, NULL);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_kptr_xchg on a map value without kptrs")
__failure __msg("R1 has no valid kptr")
int xchg_no_kptr_map(void *ctx)
{
	struct plain *v;
	struct obj *old;
	int key = 0;

	v = bpf_map_lookup_elem(&plain_arr, &key);
	if (!v)
		return 0;
	old = bpf_kptr_xchg(&v->p, NULL);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a BPF_ST of a non-zero immediate into a __kptr_untrusted")
__failure __msg("BPF_ST imm must be 0 when storing to kptr at off=8")
__naked void st_imm_into_unref(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr] ll;					\
	call %[bpf_map_lookup_elem];			\
	if r0 == 0 goto l0_%=;				\
	*(u64 *)(r0 + 8) = 1;				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_map_lookup_elem),
	  __imm_addr(arr)
	: __clobber_all);
}

SEC("tc")
__abi("linux-6.18")
__description("a 4-byte load of a kptr")
__failure __msg("kptr access size must be BPF_DW")
__naked void narrow_load(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr] ll;					\
	call %[bpf_map_lookup_elem];			\
	if r0 == 0 goto l0_%=;				\
	r0 = *(u32 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_map_lookup_elem),
	  __imm_addr(arr)
	: __clobber_all);
}

SEC("tc")
__abi("linux-6.18")
__description("a load of a kptr at a misaligned offset")
__failure __msg("kptr access misaligned expected=8 off=12")
__naked void misaligned_load(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr] ll;					\
	call %[bpf_map_lookup_elem];			\
	if r0 == 0 goto l0_%=;				\
	r0 = *(u64 *)(r0 + 12);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_map_lookup_elem),
	  __imm_addr(arr)
	: __clobber_all);
}

SEC("tc")
__abi("linux-6.18")
__description("a load of a kptr at a variable offset")
__failure __msg("kptr access cannot have variable offset")
__naked void variable_offset_load(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr] ll;					\
	call %[bpf_map_lookup_elem];			\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r0 + 16);				\
	r1 &= 8;					\
	r0 += r1;					\
	r0 = *(u64 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_map_lookup_elem),
	  __imm_addr(arr)
	: __clobber_all);
}

SEC("tc")
__abi("linux-6.18")
__description("an atomic add on a __kptr_untrusted")
__failure __msg("kptr in map can only be accessed using BPF_MEM instruction mode")
__naked void atomic_on_kptr(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr] ll;					\
	call %[bpf_map_lookup_elem];			\
	if r0 == 0 goto l0_%=;				\
	r1 = 1;						\
	lock *(u64 *)(r0 + 8) += r1;			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_map_lookup_elem),
	  __imm_addr(arr)
	: __clobber_all);
}

SEC("tc")
__abi("linux-6.18")
__description("a __kptr load may be NULL")
__failure __msg("invalid mem access 'rcu_ptr_or_null_'")
int load_ref_unchecked(void *ctx)
{
	struct slots *s;

	SLOT_OR_RET(s, 0);
	return s->ref->v;
}

SEC("tc")
__abi("linux-6.18")
__description("a __kptr load is not a reference the program may drop")
__failure __msg("R1 must be referenced or trusted")
int drop_loaded_ref(void *ctx)
{
	struct slots *s;
	struct obj *p;

	SLOT_OR_RET(s, 0);
	p = s->ref;
	if (p)
		bpf_obj_drop(p);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a __kptr_untrusted load is no reference bpf_kptr_xchg may store")
__failure __msg("R2 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")
int xchg_in_unref_load(void *ctx)
{
	struct slots *s;
	struct obj *u, *old;

	SLOT_OR_RET(s, 0);
	u = s->unref;
	if (!u)
		return 0;
	old = bpf_kptr_xchg(&s->ref, u);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("bpf_kptr_xchg's destination on the stack")
__failure __msg("R1 type=fp expected=map_value, ptr_")
int xchg_dest_on_stack(void *ctx)
{
	struct obj *slot = NULL, *old;

	old = bpf_kptr_xchg(&slot, NULL);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a __kptr_untrusted load is untrusted: no write through it")
__failure __msg("only read is supported")
int write_through_unref(void *ctx)
{
	struct slots *s;
	struct obj *u;

	SLOT_OR_RET(s, 0);
	u = s->unref;
	if (u)
		u->v = 1;
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a __kptr_untrusted load is untrusted: bpf_obj_drop refuses it")
__failure __msg("R1 must be referenced or trusted")
int drop_unref(void *ctx)
{
	struct slots *s;
	struct obj *u;

	SLOT_OR_RET(s, 0);
	u = s->unref;
	if (u)
		bpf_obj_drop(u);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a pointer into an object (not its start) into a __kptr")
__failure __msg("invalid kptr access, R2 type=ptr_obj expected=ptr_obj")
int xchg_inner_pointer(void *ctx)
{
	struct slots *s;
	struct obj *p, *old;

	SLOT_OR_RET(s, 0);
	NEW_OR_RET(p);
	old = bpf_kptr_xchg(&s->ref, (void *)&p->w);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("tc")
__abi("linux-6.18")
__description("a scalar into a __kptr_untrusted")
__failure __msg("invalid kptr access, R1 type=scalar expected=ptr_obj or untrusted_ptr_obj")
int scalar_into_unref(void *ctx)
{
	struct slots *s;

	SLOT_OR_RET(s, 0);
	s->unref = (void *)(long)bpf_get_prandom_u32();
	return 0;
}

char _license[] SEC("license") = "GPL";
