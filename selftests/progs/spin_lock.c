// SPDX-License-Identifier: GPL-2.0
/* bpf_spin_lock in map values and global data: taking, releasing, what may not happen in between.
 * (map_fields.c: the special fields no load or store may touch.)  Each __msg is what Linux 6.18 prints.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"
#include "bpf_experimental.h" /* __msg_abi: the 2022 series' words where they differ */

struct locked {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} other_locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct locked);
} hash_locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

/* global data holding a lock: a private section, never mmap()ed (libbpf could not) */
private(A) struct bpf_spin_lock glock;
private(A) __u64 gcount;
private(B) struct bpf_spin_lock glock_b;
/* in .bss and a .data.* section too: BPF_MAP_CREATE and the verifier take them (only mmap() would not) */
struct bpf_spin_lock bss_lock;
__u64 bss_count;
struct bpf_spin_lock data_lock SEC(".data.locks") = {};

static struct locked *lookup(void *map, __u32 key)
{
	return bpf_map_lookup_elem(map, &key);
}

SEC("tc")
__description("lock and unlock in an array value")
__success __retval(TC_ACT_OK)
int array_lock_unlock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_SHOT;
	bpf_spin_lock(&v->lock);
	v->count++;
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("lock and unlock in a hash value")
__success __retval(TC_ACT_OK)
int hash_lock_unlock(struct __sk_buff *skb)
{
	struct locked *v = lookup(&hash_locks, 1);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	v->count += 2;
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("lock and unlock a global in a private section")
__success __retval(1)
int global_lock_unlock(struct __sk_buff *skb)
{
	bpf_spin_lock(&glock);
	gcount = 1;
	bpf_spin_unlock(&glock);
	return 1;
}

SEC("tc")
__description("lock and unlock a global in .bss")
__success __retval(2)
int bss_lock_unlock(struct __sk_buff *skb)
{
	bpf_spin_lock(&bss_lock);
	bss_count = 2;
	bpf_spin_unlock(&bss_lock);
	return 2;
}

SEC("tc")
__description("lock a global of a .data section, unlock the .bss one")
__failure __msg("bpf_spin_unlock of different lock")
int data_lock_bss_unlock(struct __sk_buff *skb)
{
	bpf_spin_lock(&data_lock);
	bpf_spin_unlock(&bss_lock);
	return 0;
}

SEC("tc")
__description("the lock held on one path only, joined again")
__success __retval(TC_ACT_OK)
int lock_on_one_path(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_SHOT;
	if (skb->len > 10) {
		bpf_spin_lock(&v->lock);
		v->count = skb->len;
		bpf_spin_unlock(&v->lock);
	}
	return TC_ACT_OK;
}

SEC("tc")
__description("exit while holding a map value's lock")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region")
__msg_abi("rfc-2022", "bpf_spin_unlock is missing")
int exit_locked(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("exit while holding a global lock")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region")
__msg_abi("rfc-2022", "bpf_spin_unlock is missing")
int exit_locked_global(struct __sk_buff *skb)
{
	bpf_spin_lock(&glock);
	if (skb->len > 10)
		return 0;
	bpf_spin_unlock(&glock);
	return 1;
}

SEC("tc")
__description("unlock without taking the lock")
__failure __msg("bpf_spin_unlock without taking a lock")
int unlock_unlocked(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("take a second lock while holding one")
__failure __msg("function calls are not allowed while holding a lock")
int lock_twice(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	bpf_spin_lock(&glock);
	bpf_spin_unlock(&glock);
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("call a helper while holding a lock")
__failure __msg("function calls are not allowed while holding a lock")
int helper_while_locked(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	v->count = bpf_get_prandom_u32();
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("tail call while holding a lock")
__failure __msg("function calls are not allowed while holding a lock")
int tail_call_while_locked(struct __sk_buff *skb)
{
	bpf_spin_lock(&glock);
	bpf_tail_call(skb, &jmp_table, 0);
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc")
__description("unlock through a second lookup of the same element")
__failure __msg("bpf_spin_unlock of different lock")
int unlock_other_lookup(struct __sk_buff *skb)
{
	struct locked *a = lookup(&locks, 0);
	struct locked *b = lookup(&locks, 0);

	if (!a || !b)
		return TC_ACT_OK;
	bpf_spin_lock(&a->lock);
	bpf_spin_unlock(&b->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("unlock a lock of another map")
__failure __msg("bpf_spin_unlock of different lock")
int unlock_other_map(struct __sk_buff *skb)
{
	struct locked *a = lookup(&locks, 0);
	struct locked *b = lookup(&other_locks, 0);

	if (!a || !b)
		return TC_ACT_OK;
	bpf_spin_lock(&a->lock);
	bpf_spin_unlock(&b->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("unlock another global section's lock")
__failure __msg("bpf_spin_unlock of different lock")
int unlock_other_global(struct __sk_buff *skb)
{
	bpf_spin_lock(&glock);
	bpf_spin_unlock(&glock_b);
	return 0;
}

SEC("tc")
__description("lock at an offset that is not the lock's")
__failure __msg("off 8 doesn't point to 'struct bpf_spin_lock' that is at 0")
__naked void lock_wrong_offset(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[locks] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"r1 = r0;"
	"r1 += 8;"
	"call %[bpf_spin_lock];"
"l0_%=:	r0 = 0;"
	"exit;"
	:: __imm_addr(locks), __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock)
	: __clobber_all);
}

SEC("tc")
__description("lock in a map whose value has none")
__failure __msg("map 'plain' has no valid bpf_spin_lock")
__naked void lock_without_field(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[plain] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"r1 = r0;"
	"call %[bpf_spin_lock];"
"l0_%=:	r0 = 0;"
	"exit;"
	:: __imm_addr(plain), __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock)
	: __clobber_all);
}

SEC("tc")
__description("lock through a variable offset")
__failure __msg("R1 doesn't have constant offset. bpf_spin_lock has to be at the constant offset")
__naked void lock_variable_offset(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[locks] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"r6 = r0;"
	"call %[bpf_get_prandom_u32];"
	"r0 &= 8;"
	"r1 = r6;"
	"r1 += r0;"
	"call %[bpf_spin_lock];"
"l0_%=:	r0 = 0;"
	"exit;"
	:: __imm_addr(locks), __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm(bpf_get_prandom_u32)
	: __clobber_all);
}

SEC("tc")
__description("lock a value that may be NULL")
__failure __msg("R1 type=map_value_or_null expected=map_value, ptr_")
__naked void lock_maybe_null(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[hash_locks] ll;"
	"call %[bpf_map_lookup_elem];"
	"r1 = r0;"
	"call %[bpf_spin_lock];"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(hash_locks), __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock)
	: __clobber_all);
}

SEC("tc")
__description("lock on the stack")
__failure __msg("R1 type=fp expected=map_value, ptr_")
__naked void lock_on_stack(void)
{
	asm volatile (
	"r1 = r10;"
	"r1 += -8;"
	"call %[bpf_spin_lock];"
	"r0 = 0;"
	"exit;"
	:: __imm(bpf_spin_lock)
	: __clobber_all);
}

SEC("tc")
__description("BPF_LD_ABS while holding a lock")
__failure __msg("BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region")
__naked void ld_abs_while_locked(void)
{
	asm volatile (
	"r6 = r1;"
	"r1 = %[glock] ll;"
	"call %[bpf_spin_lock];"
	"r0 = *(u8 *)skb[0];"
	"r1 = %[glock] ll;"
	"call %[bpf_spin_unlock];"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(glock), __imm(bpf_spin_lock), __imm(bpf_spin_unlock)
	: __clobber_all);
}

static __noinline int bump(struct locked *v)
{
	if (v)
		v->count++;
	return 0;
}

SEC("tc")
__description("a static function called while holding the lock")
__success __retval(TC_ACT_OK)
__failure_abi("rfc-2022") __msg_abi("rfc-2022", "function calls are not allowed while holding a lock")
int static_call_while_locked(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_SHOT;
	bpf_spin_lock(&v->lock);
	bump(v);
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("tc")
__description("the lock taken through one copy, released through another")
__success __retval(TC_ACT_OK)
__naked void unlock_through_copy(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[locks] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"r6 = r0;"
	"r7 = r0;"
	"r1 = r6;"
	"call %[bpf_spin_lock];"
	"r1 = r7;"
	"call %[bpf_spin_unlock];"
"l0_%=:	r0 = 0;"
	"exit;"
	:: __imm_addr(locks), __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm(bpf_spin_unlock)
	: __clobber_all);
}

static __noinline int take(struct locked *v)
{
	if (v)
		bpf_spin_lock(&v->lock);
	return 0;
}

SEC("tc")
__description("a static function returns with the lock held")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region")
__msg_abi("rfc-2022", "bpf_spin_unlock is missing")
int static_call_leaves_locked(struct __sk_buff *skb)
{
	struct locked *v = lookup(&locks, 0);

	if (!v)
		return TC_ACT_SHOT;
	take(v);
	return TC_ACT_OK;
}

SEC("tc")
__description("a static function takes the lock, the caller releases it")
__success __retval(TC_ACT_OK)
__failure_abi("rfc-2022") __msg_abi("rfc-2022", "bpf_spin_unlock is missing")
__naked void static_call_takes_lock(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[locks] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"r6 = r0;"
	"r1 = r0;"
	"call take_lock;"
	"r1 = r6;"
	"call %[bpf_spin_unlock];"
"l0_%=:	r0 = 0;"
	"exit;"
	:: __imm_addr(locks), __imm(bpf_map_lookup_elem), __imm(bpf_spin_unlock)
	: __clobber_all);
}

static __naked __noinline __attribute__((used)) void take_lock(void)
{
	asm volatile (
	"call %[bpf_spin_lock];"
	"r0 = 0;"
	"exit;"
	:: __imm(bpf_spin_lock)
	: __clobber_all);
}

SEC("tc")
__description("lock the variable next to a global lock")
__failure __msg("off 8 doesn't point to 'struct bpf_spin_lock' that is at 0")
__naked void global_lock_wrong_offset(void)
{
	asm volatile (
	"r1 = %[gcount] ll;"
	"call %[bpf_spin_lock];"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(gcount), __imm(bpf_spin_lock)
	: __clobber_all);
}

SEC("tc")
__description("a lookup of a constant array key keeps the value's lock identity")
__success __retval(TC_ACT_OK) __log_level(2)
__msg("R0=map_value(id=1,map=locks,ks=4,vs=16)")
__msg("call bpf_spin_lock#93") __msg("; refs=1") /* 6.18 counts the held lock among the references */
/* the series' base printed register states in another format, and no lock among refs=: only its verdict */
__msg_abi("rfc-2022", "call bpf_spin_lock#93")
__naked void const_key_lookup_id(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[locks] ll;"
	"call %[bpf_map_lookup_elem];"
	"r6 = r0;"
	"r1 = r0;"
	"call %[bpf_spin_lock];"
	"r1 = r6;"
	"call %[bpf_spin_unlock];"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(locks), __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm(bpf_spin_unlock)
	: __clobber_all);
}

SEC("tc")
__description("a NULL-checked value keeps its id while its type holds a lock")
__success __retval(TC_ACT_OK) __log_level(2)
__msg("R6=map_value(id=1,map=hash_locks,ks=4,vs=16)")
__msg_abi("rfc-2022", "call bpf_spin_lock#93") /* as above: the series' verdict, not its state lines */
int null_checked_id(struct __sk_buff *skb)
{
	struct locked *v = lookup(&hash_locks, 0);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
