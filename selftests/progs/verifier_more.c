// SPDX-License-Identifier: GPL-2.0
/* More verdicts of the verifier, through C (and some BPF assembly): bounded loops, bpf_loop
 * callbacks, the common map types, packet access in XDP and tc, stack spills, global
 * functions checked against their BTF signature, tail calls and helper misuse.  Each
 * verdict, __msg and __retval is what Linux 6.18 gave for the program; the set feeds the
 * verifier's differential corpus. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

/* ------------------------------------------------------------------ loops */

SEC("tc")
__description("bounded loop: the sum of 0..99")
__success __retval(4950)
int loop_sum(struct __sk_buff *skb)
{
	int i, sum = 0;

	for (i = 0; i < 100; i++) {
		barrier_var(i);
		sum += i;
	}
	return sum;
}

SEC("xdp")
__description("bounded loop over the packet's bytes, each checked against data_end")
__success __retval(64)
int loop_capped(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	int i, n = 0;

	for (i = 0; i < 256; i++) {
		if (data + i + 1 > end)
			break;
		n += data[i] + 1;
	}
	return n;
}

SEC("socket")
__description("a loop that never ends")
__failure __msg("infinite loop detected at insn 1")
__naked void loop_forever(void)
{
	asm volatile (
	"r0 = 0;"
"l0_%=:	r0 += 0;"
	"goto l0_%=;"
	::: __clobber_all);
}

SEC("socket")
__description("a jump past the end of the program")
__failure __msg("jump out of range from insn 1 to 4")
__naked void jump_out_of_range(void)
{
	asm volatile (
	"r0 = 0;"
	"goto +2;"
	"exit;"
	::: __clobber_all);
}

struct loop_ctx {
	long sum;
	int stop_at;
};

static long add_index(__u32 i, struct loop_ctx *c)
{
	c->sum += i;
	return 0;
}

static long stop_early(__u32 i, struct loop_ctx *c)
{
	return i + 1 >= c->stop_at ? 1 : 0;
}

SEC("tc")
__description("bpf_loop: a callback adds its index ten times")
__success __retval(45)
int bpf_loop_sum(struct __sk_buff *skb)
{
	struct loop_ctx c = { .sum = 0 };

	bpf_loop(10, add_index, &c, 0);
	return c.sum;
}

SEC("tc")
__description("bpf_loop: a callback returning 1 stops it, and the count of calls is returned")
__success __retval(4)
/* The kernel tests all 64 bits of a callback's result, while clang sets this one with 32-bit
 * moves: under BPF_F_TEST_RND_HI32 (which test_loader sets) the verifier fills the upper half
 * with random bits and the loop stops after one call. */
__flag(!BPF_F_TEST_RND_HI32)
int bpf_loop_stop(struct __sk_buff *skb)
{
	struct loop_ctx c = { .stop_at = 4 };

	return bpf_loop(100, stop_early, &c, 0);
}

static long returns_two(__u32 i, void *c)
{
	return 2;
}

SEC("tc")
__description("bpf_loop: more than BPF_MAX_LOOPS iterations is -E2BIG")
__success __retval(-7)
int bpf_loop_too_many(struct __sk_buff *skb)
{
	struct loop_ctx c = {};

	return bpf_loop(1 << 24, add_index, &c, 0);
}

SEC("tc")
__description("bpf_loop: non-zero flags are -EINVAL")
__success __retval(-22)
int bpf_loop_flags(struct __sk_buff *skb)
{
	struct loop_ctx c = {};

	return bpf_loop(1, add_index, &c, 1);
}

SEC("tc")
__description("bpf_loop: a callback returning 2")
__failure __msg("At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]")
int bpf_loop_bad_return(struct __sk_buff *skb)
{
	bpf_loop(1, returns_two, NULL, 0);
	return 0;
}

/* ------------------------------------------------------------------ maps */

SEC("tc")
__description("array map: update then lookup")
__success __retval(17)
int array_update_lookup(struct __sk_buff *skb)
{
	__u32 key = 2;
	__u64 val = 17, *v;

	if (bpf_map_update_elem(&arr, &key, &val, BPF_ANY))
		return -1;
	v = bpf_map_lookup_elem(&arr, &key);
	return v ? *v : -2;
}

SEC("tc")
__description("hash map: update, lookup, delete, and the lookup after it is NULL")
__success __retval(31)
int hash_lifecycle(struct __sk_buff *skb)
{
	__u32 key = 5;
	__u64 val = 3, *v;
	int ret;

	if (bpf_map_update_elem(&hash, &key, &val, BPF_NOEXIST))
		return -1;
	v = bpf_map_lookup_elem(&hash, &key);
	if (!v)
		return -2;
	ret = *v * 10;
	if (bpf_map_delete_elem(&hash, &key))
		return -3;
	v = bpf_map_lookup_elem(&hash, &key);
	return ret + (v ? 0 : 1);
}

SEC("tc")
__description("per-CPU array: the lookup is this CPU's slot")
__success __retval(2)
int percpu_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&pcpu, &key);
	if (!v)
		return -1;
	*v = 1;
	*v += 1;
	return *v;
}

SEC("tc")
__description("LRU hash: update then lookup")
__success __retval(9)
int lru_update_lookup(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 val = 9, *v;

	if (bpf_map_update_elem(&lru, &key, &val, BPF_ANY))
		return -1;
	v = bpf_map_lookup_elem(&lru, &key);
	return v ? *v : -2;
}

SEC("tc")
__description("array map: a key past max_entries finds nothing")
__success __retval(1)
int array_key_out_of_range(struct __sk_buff *skb)
{
	__u32 key = 4;

	return bpf_map_lookup_elem(&arr, &key) ? 0 : 1;
}

SEC("tc")
__description("hash map: BPF_NOEXIST on a present key is -EEXIST")
__success __retval(-17)
int hash_noexist_twice(struct __sk_buff *skb)
{
	__u32 key = 6;
	__u64 val = 1;
	long ret;

	bpf_map_update_elem(&hash, &key, &val, BPF_ANY);
	ret = bpf_map_update_elem(&hash, &key, &val, BPF_NOEXIST);
	bpf_map_delete_elem(&hash, &key);
	return ret;
}

SEC("tc")
__description("ringbuf: reserve, write, submit")
__success __retval(0)
int ringbuf_submit(struct __sk_buff *skb)
{
	__u64 *slot;

	slot = bpf_ringbuf_reserve(&rb, sizeof(*slot), 0);
	if (!slot)
		return 1;
	*slot = 0xabcd;
	bpf_ringbuf_submit(slot, 0);
	return 0;
}

SEC("tc")
__description("ringbuf: a reservation never submitted nor discarded")
__failure __msg("Unreleased reference id={{[0-9]+}} alloc_insn={{[0-9]+}}")
int ringbuf_leak(struct __sk_buff *skb)
{
	__u64 *slot;

	slot = bpf_ringbuf_reserve(&rb, sizeof(*slot), 0);
	if (!slot)
		return 1;
	*slot = 1;
	return 0;
}

SEC("tc")
__description("ringbuf: a reservation of a size not known to the verifier")
__failure __msg("R2 is not a known constant'")
int ringbuf_variable_size(struct __sk_buff *skb)
{
	void *slot;

	slot = bpf_ringbuf_reserve(&rb, skb->len, 0);
	if (!slot)
		return 1;
	bpf_ringbuf_discard(slot, 0);
	return 0;
}

SEC("tc")
__description("ringbuf: writing past the reserved size")
__failure __msg("invalid access to memory, mem_size=8 off=8 size=8")
int ringbuf_overflow(struct __sk_buff *skb)
{
	__u64 *slot;

	slot = bpf_ringbuf_reserve(&rb, sizeof(*slot), 0);
	if (!slot)
		return 1;
	slot[1] = 1;
	bpf_ringbuf_submit(slot, 0);
	return 0;
}

SEC("tc")
__description("hash map: dereferencing the lookup without a NULL check")
__failure __msg("R0 invalid mem access 'map_value_or_null'")
__naked void hash_no_null_check(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[hash] ll;"
	"call %[bpf_map_lookup_elem];"
	"r0 = *(u64 *)(r0 + 0);"
	"exit;"
	:: __imm_addr(hash), __imm(bpf_map_lookup_elem)
	: __clobber_all);
}

SEC("tc")
__description("array map: an index without an upper bound")
__failure __msg("R1 unbounded memory access, make sure to bounds check any such access")
__naked void array_unbounded_index(void)
{
	asm volatile (
	"r6 = *(u32 *)(r1 + %[len]);"
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[arr] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"r1 = r0;"
	"r1 += r6;"
	"r0 = *(u8 *)(r1 + 0);"
"l0_%=:	r0 = 0;"
	"exit;"
	:: __imm_addr(arr), __imm(bpf_map_lookup_elem),
	   __imm_const(len, offsetof(struct __sk_buff, len))
	: __clobber_all);
}

/* ------------------------------------------------------------------ packets */

SEC("xdp")
__description("XDP: reading the EtherType after a data_end check")
__success __retval(2) /* XDP_PASS */
int xdp_ethertype(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;

	if (data + 14 > end)
		return XDP_DROP;
	return (data[12] | data[13]) == 0 ? XDP_PASS : XDP_TX;
}

SEC("xdp")
__description("XDP: a read one byte past the checked range")
__failure __msg("invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14)")
__naked void xdp_read_past_check(void)
{
	asm volatile (
	"r2 = *(u32 *)(r1 + %[data]);"
	"r3 = *(u32 *)(r1 + %[data_end]);"
	"r4 = r2;"
	"r4 += 14;"
	"if r4 > r3 goto l0_%=;"
	"r0 = *(u8 *)(r2 + 14);"
"l0_%=:	r0 = 2;"
	"exit;"
	:: __imm_const(data, offsetof(struct xdp_md, data)),
	   __imm_const(data_end, offsetof(struct xdp_md, data_end))
	: __clobber_all);
}

SEC("tc")
__description("tc: writing the packet through skb->data after a data_end check")
__success __retval(0xab)
int tc_write_packet(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data;
	unsigned char *end = (void *)(long)skb->data_end;

	if (data + 4 > end)
		return TC_ACT_SHOT;
	data[3] = 0xab;
	return data[3];
}

SEC("socket")
__description("a socket filter reading skb->data")
__failure __msg("invalid bpf_context access off=76 size=4")
__naked void socket_reads_data(void)
{
	asm volatile (
	"r0 = *(u32 *)(r1 + %[data]);"
	"r0 = 0;"
	"exit;"
	:: __imm_const(data, offsetof(struct __sk_buff, data))
	: __clobber_all);
}

SEC("tc")
__description("tc: writing skb->len")
__failure __msg("invalid bpf_context access off=0 size=4")
__naked void tc_writes_len(void)
{
	asm volatile (
	"r2 = 1;"
	"*(u32 *)(r1 + %[len]) = r2;"
	"r0 = 0;"
	"exit;"
	:: __imm_const(len, offsetof(struct __sk_buff, len))
	: __clobber_all);
}

/* ------------------------------------------------------------------ stack */

SEC("tc")
__description("a map value pointer spilled to the stack and filled back keeps its type")
__success __retval(5)
__naked void spill_fill_map_value(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[arr] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"*(u64 *)(r10 - 16) = r0;"
	"r0 = 0;"
	"r6 = *(u64 *)(r10 - 16);"
	"r1 = 5;"
	"*(u64 *)(r6 + 0) = r1;"
	"r0 = *(u64 *)(r6 + 0);"
	"exit;"
"l0_%=:	r0 = 1;"
	"exit;"
	:: __imm_addr(arr), __imm(bpf_map_lookup_elem)
	: __clobber_all);
}

SEC("tc")
__description("a spilled pointer partly overwritten is no longer a pointer")
__failure __msg("R6 invalid mem access 'scalar'")
__naked void spill_partly_overwritten(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[arr] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"*(u64 *)(r10 - 16) = r0;"
	"r1 = 0;"
	"*(u32 *)(r10 - 16) = r1;"
	"r6 = *(u64 *)(r10 - 16);"
	"r0 = *(u64 *)(r6 + 0);"
"l0_%=:	r0 = 0;"
	"exit;"
	:: __imm_addr(arr), __imm(bpf_map_lookup_elem)
	: __clobber_all);
}

SEC("socket")
__description("a misaligned 8-byte stack store")
__failure __msg("misaligned stack access off 0+0+-7 size 8")
__naked void stack_misaligned(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u64 *)(r10 - 7) = r1;"
	"r0 = 0;"
	"exit;"
	::: __clobber_all);
}

SEC("socket")
__description("writing the frame pointer")
__failure __msg("frame pointer is read only")
__naked void write_r10(void)
{
	asm volatile (
	"r10 = 0;"
	"r0 = 0;"
	"exit;"
	::: __clobber_all);
}

SEC("socket")
__description("division by zero gives 0 at run time")
__success __retval(0)
__naked void div_by_zero(void)
{
	asm volatile (
	"r0 = 5;"
	"r1 = 0;"
	"r0 /= r1;"
	"exit;"
	::: __clobber_all);
}

/* ------------------------------------------------------------------ global functions */

__noinline int global_scale(int a, int b)
{
	return a * 10 + b;
}

/* 64 when the packet holds at least 64 bytes */
__noinline int global_len(struct xdp_md *ctx)
{
	unsigned char *data, *end;

	if (!ctx)
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	return data + 64 <= end ? 64 : 0;
}

__noinline int global_deref(int *p)
{
	return *p;
}

SEC("xdp")
__description("global functions verified against their BTF signatures")
__success __retval(106)
int call_globals(struct xdp_md *ctx)
{
	return global_scale(4, 2) + global_len(ctx);
}

SEC("tc")
__description("a global function dereferencing its pointer argument without a NULL check")
__failure __msg("invalid mem access 'mem_or_null'")
int call_global_deref(struct __sk_buff *skb)
{
	int x = 3;

	return global_deref(&x);
}

SEC("xdp")
__description("a global function expecting the context given a stack pointer")
__failure __msg("arg#0 expects pointer to ctx")
__msg("Caller passes invalid args into func#1 ('global_len')")
int call_global_wrong_arg(struct xdp_md *ctx)
{
	long x = 0;

	return global_len((struct xdp_md *)&x);
}

/* ------------------------------------------------------------------ tail calls */

SEC("tc")
__auxiliary
int tail_target(struct __sk_buff *skb)
{
	return 42;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [0] = (void *)&tail_target },
};

SEC("tc")
__description("a tail call to the program in slot 0")
__success __retval(42)
int tail_call_taken(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, 0);
	return 1;
}

SEC("tc")
__description("a tail call to an empty slot falls through")
__success __retval(7)
int tail_call_empty(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, 1);
	return 7;
}

SEC("tc")
__description("bpf_tail_call with an array map instead of a program array")
__failure __msg("expected prog array map for tail call")
int tail_call_wrong_map(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &arr, 0);
	return 0;
}

/* ------------------------------------------------------------------ helper misuse */

SEC("tc")
__description("bpf_map_lookup_elem with a NULL key")
__failure __msg("R2 type=scalar expected=fp")
__naked void lookup_null_key(void)
{
	asm volatile (
	"r1 = %[arr] ll;"
	"r2 = 0;"
	"call %[bpf_map_lookup_elem];"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(arr), __imm(bpf_map_lookup_elem)
	: __clobber_all);
}

SEC("tc")
__description("an XDP-only helper called from tc")
__failure __msg("program of this type cannot use helper bpf_xdp_adjust_head#44")
__naked void xdp_helper_in_tc(void)
{
	asm volatile (
	"r2 = 0;"
	"call %[bpf_xdp_adjust_head];"
	"r0 = 0;"
	"exit;"
	:: __imm(bpf_xdp_adjust_head)
	: __clobber_all);
}

SEC("tc")
__description("bpf_map_update_elem with a value smaller than the map's")
__failure __msg("invalid read from stack R3 off=-4 size=8")
__naked void update_short_value(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u64 *)(r10 - 8) = r1;"
	"r2 = r10;"
	"r2 += -8;"
	"r3 = r10;"
	"r3 += -4;"
	"r1 = %[arr] ll;"
	"r4 = 0;"
	"call %[bpf_map_update_elem];"
	"r0 = 0;"
	"exit;"
	:: __imm_addr(arr), __imm(bpf_map_update_elem)
	: __clobber_all);
}

SEC("tc")
__description("a helper given more than the stack holds")
__failure __msg("invalid write to stack R1 off=-8 size=16")
int helper_stack_overrun(struct __sk_buff *skb)
{
	char buf[8] = {};

	asm volatile (
	"r1 = %[buf];"
	"r2 = 16;"
	"call %[bpf_get_current_comm];"
	:: [buf] "r"(buf), __imm(bpf_get_current_comm)
	: __clobber_common);
	return buf[0];
}

/* A static function called from main and from a global one: the global one is verified after main
 * with its own checkpoints (free_states), so main's do not count in its max_states_per_insn. */
static __noinline int three_way(int x)
{
	if (x > 3)
		return 1;
	if (x > 1)
		return 2;
	return 0;
}

__noinline int global_three_ways(int x)
{
	return three_way(x) + three_way(x + 1) + three_way(x + 2);
}

SEC("socket")
__description("global function verified on its own states")
__success
int main_and_global_share_a_static(void *ctx)
{
	int x = bpf_get_prandom_u32() & 7;

	return three_way(x) + three_way(x + 3) + global_three_ways(x);
}

char _license[] SEC("license") = "GPL";
