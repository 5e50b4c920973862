// SPDX-License-Identifier: GPL-2.0
/* Basic verdicts of the verifier: each __msg is what Linux 6.18 prints for the program. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

struct locked {
	struct bpf_spin_lock lock;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

SEC("socket")
__description("return a constant")
__success __retval(42)
int return_constant(void *ctx)
{
	return 42;
}

SEC("socket")
__description("exit without setting r0")
__failure __msg("R0 !read_ok") __not_msg("invalid func")
__naked void r0_not_initialized(void)
{
	asm volatile ("exit;" ::: __clobber_all);
}

SEC("socket")
__description("read above the frame pointer")
__failure __msg("invalid read from stack R10 off=8 size=8")
__naked void stack_read_above_frame(void)
{
	asm volatile ("r0 = *(u64 *)(r10 + 8); exit;" ::: __clobber_all);
}

SEC("socket")
__description("dereference a scalar")
__failure __msg("R1 invalid mem access 'scalar'")
__naked void scalar_dereference(void)
{
	asm volatile ("r1 = 0; r0 = *(u64 *)(r1 + 0); exit;" ::: __clobber_all);
}

SEC("socket")
__description("read past the end of a map value")
__failure __msg("invalid access to map value, value_size=8 off=8 size=8")
__msg("R0 min value is outside of the allowed memory range")
__naked void map_value_out_of_bounds(void)
{
	asm volatile (
	"r1 = 0;"
	"*(u32 *)(r10 - 4) = r1;"
	"r2 = r10;"
	"r2 += -4;"
	"r1 = %[values] ll;"
	"call %[bpf_map_lookup_elem];"
	"if r0 == 0 goto l0_%=;"
	"r0 = *(u64 *)(r0 + 8);"
"l0_%=:	exit;"
	:: __imm_addr(values), __imm(bpf_map_lookup_elem)
	: __clobber_all);
}

SEC("xdp")
__description("packet read without a bounds check")
__failure __msg("invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)")
__msg("R2 offset is outside of the packet")
__naked void packet_read_without_check(void)
{
	asm volatile (
	"r2 = *(u32 *)(r1 + %[xdp_md_data]);"
	"r0 = *(u8 *)(r2 + 0);"
	"exit;"
	:: __imm_const(xdp_md_data, offsetof(struct xdp_md, data))
	: __clobber_all);
}

SEC("xdp")
__description("packet read after a bounds check")
__success __retval(2) /* XDP_PASS */
int packet_read_with_check(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;

	if (data + 14 > end)
		return XDP_ABORTED;
	return data[12] == 0 && data[13] == 0 ? XDP_PASS : XDP_DROP;
}

SEC("tc")
__description("exit with a spin lock held")
__failure __msg("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region")
__msg_abi("rfc-2022", "bpf_spin_unlock is missing")
int spin_lock_not_released(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	v->count++;
	return TC_ACT_OK;
}

SEC("tc")
__description("spin lock taken and released")
__success __retval(TC_ACT_OK)
int spin_lock_released(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);

	if (!v)
		return TC_ACT_SHOT;
	bpf_spin_lock(&v->lock);
	v->count++;
	bpf_spin_unlock(&v->lock);
	return TC_ACT_OK;
}

SEC("socket")
__description("a jump to itself")
__failure __msg("infinite loop detected at insn 0")
__naked void infinite_loop(void)
{
	asm volatile ("l0_%=: goto l0_%=;" ::: __clobber_all);
}

SEC("socket")
__description("code after the last exit")
__failure __msg("unreachable insn 2")
__naked void unreachable_insn(void)
{
	asm volatile ("r0 = 0; exit; r0 = 1; exit;" ::: __clobber_all);
}

SEC("socket")
__description("write to the frame pointer")
__failure __msg("frame pointer is read only")
__naked void frame_pointer_write(void)
{
	asm volatile ("r10 = 0; r0 = 0; exit;" ::: __clobber_all);
}

SEC("socket")
__description("call a helper that does not exist")
__failure __msg("invalid func unknown#10000")
__naked void unknown_helper(void)
{
	asm volatile ("call 10000; r0 = 0; exit;" ::: __clobber_all);
}

SEC("socket")
__description("jump past the end")
__failure __msg("jump out of range from insn 1 to 7")
__naked void jump_out_of_range(void)
{
	asm volatile ("r0 = 0; if r0 == 0 goto +5; exit;" ::: __clobber_all);
}

SEC("socket")
__description("division by a zero register")
__success __retval(0)
__naked void division_by_zero(void)
{
	asm volatile ("r0 = 7; r1 = 0; r0 /= r1; exit;" ::: __clobber_all);
}

SEC("socket")
__description("log level 2 shows every instruction")
__success __log_level(2) __retval(1)
__msg("0: (b7) r0 = 1") __msg("R0=1") __msg("1: (95) exit")
__naked void log_level_two(void)
{
	asm volatile ("r0 = 1; exit;" ::: __clobber_all);
}

SEC("socket")
__description("the program as the kernel keeps it")
__success __xlated("0: r0 = 1") __xlated("1: exit")
__naked void xlated_constant(void)
{
	asm volatile ("r0 = 1; exit;" ::: __clobber_all);
}

SEC("socket")
__description("the machine code of a constant return")
__success __retval(3)
__arch_x86_64 __jited("\tmovl\t$0x3, %eax")
__naked void jited_constant(void)
{
	asm volatile ("r0 = 3; exit;" ::: __clobber_all);
}

char LICENSE[] SEC("license") = "GPL";
