// SPDX-License-Identifier: GPL-2.0
/* Kfunc arguments the parameter names of kernel BTF make special: a buffer and its size
 * (__sz, __szk), an optional buffer (__opt), a dynptr to initialise (__uninit) or an
 * initialised one, a constant string (__str), parameters the verifier fills in (__ign,
 * __prog), the program's context; the KF_SLEEPABLE, KF_TRUSTED_ARGS, KF_RCU, KF_ACQUIRE and
 * KF_RELEASE flags, and the per-program-type kfunc sets.  Every verdict, __msg and __retval is what Linux 6.18 gave
 * for the program. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

#define BPF_F_PAD_ZEROS 1

extern int bpf_copy_from_user_str(void *dst, __u32 dst__sz, const void *unsafe_ptr__ign, __u64 flags) __ksym;
extern int bpf_dynptr_from_skb(struct __sk_buff *s, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern int bpf_dynptr_from_xdp(struct xdp_md *x, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt,
			      __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt,
				   __u32 buffer__szk) __ksym;
extern int bpf_dynptr_clone(const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit) __ksym;
extern int bpf_stream_vprintk_impl(int stream_id, const char *fmt__str, const void *args, __u32 len__sz,
				   void *aux__prog) __ksym;
extern int bpf_strlen(const char *s__ign) __ksym;

/* CO-RE: the two members are found in the running kernel's task_struct by name */
struct task_struct {
	struct task_struct *real_parent;
	struct task_struct *parent;
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

char writable_fmt[8] = "hi\n";
const char unterminated[3] = {'a', 'b', 'c'};

/* __sz: the buffer holds dst__sz bytes.  pybpf's runtime maps no user memory and the kernel
 * faults on address 0 alike: -EFAULT, the buffer zeroed with BPF_F_PAD_ZEROS. */
SEC("syscall")
__success __retval(-14)
int sz_copy_from_user_str(void *ctx)
{
	char buf[16] = {1};
	int ret = bpf_copy_from_user_str(buf, sizeof(buf), 0, BPF_F_PAD_ZEROS);

	return ret + buf[0];
}

SEC("syscall")
__success __retval(0)
int sz_zero_size(void *ctx)
{
	char buf[16];

	return bpf_copy_from_user_str(buf, 0, 0, 0);
}

SEC("syscall")
__failure __msg("invalid variable-offset read from stack R2 var_off=(0x0; 0xff) off=-8 size=1")
int sz_buffer_is_written(void *ctx)
{
	char small[8] = {};
	__u64 buf[2] = { 3, 0 };

	/* the kfunc may write its buffer: the 3 stored before the call is not known after it */
	bpf_copy_from_user_str(buf, sizeof(buf), 0, 0);
	return small[buf[0] & 0xff];
}

SEC("syscall")
__failure __msg("invalid read from stack R1 off=-16 size=17")
__msg("arg#0 arg#1 memory, len pair leads to invalid memory access")
int sz_past_the_buffer(void *ctx)
{
	char buf[16];

	return bpf_copy_from_user_str(buf, 17, 0, 0);
}

SEC("syscall")
__failure __msg("R2 unbounded memory access, use 'var &= const' or 'if (var < const)'")
__msg("arg#0 arg#1 memory, len pair leads to invalid memory access")
int sz_unbounded(void *ctx)
{
	char buf[16];

	return bpf_copy_from_user_str(buf, bpf_get_prandom_u32(), 0, 0);
}

/* KF_SLEEPABLE: only a sleepable program (SEC("syscall") loads with BPF_F_SLEEPABLE) */
SEC("socket")
__failure __msg("program must be sleepable to call sleepable kfunc bpf_copy_from_user_str")
int sleepable_in_socket(void *ctx)
{
	char buf[16];

	return bpf_copy_from_user_str(buf, sizeof(buf), 0, 0);
}

SEC("tc")
__failure __msg("program must be sleepable to call sleepable kfunc bpf_copy_from_user_str")
int sleepable_in_tc(void *ctx)
{
	char buf[16];

	return bpf_copy_from_user_str(buf, sizeof(buf), 0, 0);
}

/* __uninit makes the dynptr, __szk sizes the slice, __opt's buffer may be given or NULL;
 * the test run's packet is 64 zero bytes */
SEC("tc")
__success __retval(5)
int szk_slice_with_buffer(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	char buf[4];
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, buf, sizeof(buf));
	if (!p)
		return 1;
	return p[3] + 5;
}

SEC("tc")
__success __retval(6)
int opt_null_buffer(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 60, 0, 4);
	if (!p)
		return 1;
	return p[3] + 6;
}

SEC("tc")
__success __retval(7)
int slice_past_the_packet(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	char buf[2];
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 63, buf, 2);
	if (!p)
		return 7;
	return p[0] + 2;
}

SEC("xdp")
__success __retval(2)
int uninit_from_xdp(struct xdp_md *xdp)
{
	struct bpf_dynptr ptr;
	char buf[2];
	unsigned char *p;

	bpf_dynptr_from_xdp(xdp, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 62, buf, 2);
	if (!p)
		return 7;
	return p[0] + 2;
}

SEC("tc")
__success __retval(4)
int uninit_clone(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr, copy;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	bpf_dynptr_clone(&ptr, &copy);
	p = bpf_dynptr_slice(&copy, 0, 0, 4);
	if (!p)
		return 9;
	return p[3] + 4;
}

SEC("tc")
__success __retval(0)
int uninit_twice(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, 0, 4);
	if (!p)
		return 1;
	return p[3];
}

/* the _rdwr slice writes the packet: only where the program type may write packets */
SEC("tc")
__success __retval(10)
int rdwr_slice_writes_the_packet(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice_rdwr(&ptr, 10, 0, 2);
	if (!p)
		return 1;
	p[0] = 9;
	p = bpf_dynptr_slice_rdwr(&ptr, 10, 0, 2);
	if (!p)
		return 2;
	return p[0] + 1;
}

SEC("socket")
__failure __msg("the prog does not allow writes to packet data")
int rdwr_slice_in_socket_filter(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice_rdwr(&ptr, 10, 0, 2);
	if (!p)
		return 1;
	return p[0];
}

SEC("tc")
__failure __msg("R4 must be a known constant")
int szk_not_constant(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;
	char buf[8];

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, buf, bpf_get_prandom_u32() & 7);
	if (!p)
		return 1;
	return p[0];
}

SEC("tc")
__failure __msg("invalid read from stack R3 off -24+8 size 9")
__msg("arg#2 arg#3 memory, len pair leads to invalid memory access")
__naked void opt_buffer_too_small(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	r1 = r10; r1 += -16; r2 = 0; r3 = r10; r3 += -24; r4 = 9;	\
	call %[bpf_dynptr_slice];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb), __imm(bpf_dynptr_slice)
	: __clobber_all);
}

SEC("tc")
__failure __msg("R1 min value is outside of the allowed memory range")
int szk_bounds_the_slice(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	bpf_dynptr_from_skb(skb, 0, &ptr);
	p = bpf_dynptr_slice(&ptr, 0, 0, 4);
	if (!p)
		return 1;
	return p[4];
}

SEC("tc")
__failure __msg("R3 cannot write into rdonly_mem")
__msg("arg#2 arg#3 memory, len pair leads to invalid memory access")
__naked void rdonly_slice_as_kfunc_buffer(void)
{
	/* a kfunc's buffer may be written: a read-only slice is no buffer */
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	r1 = r10; r1 += -16; r2 = 0; r3 = 0; r4 = 4;	\
	call %[bpf_dynptr_slice];			\
	if r0 == 0 goto l0_%=;				\
	r3 = r0; r1 = r10; r1 += -16; r2 = 0; r4 = 4;	\
	call %[bpf_dynptr_slice];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb), __imm(bpf_dynptr_slice)
	: __clobber_all);
}

SEC("tc")
__failure __msg("R0 cannot write into rdonly_mem")
__naked void slice_is_read_only(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	r1 = r10; r1 += -16; r2 = 0; r3 = 0; r4 = 4;	\
	call %[bpf_dynptr_slice];			\
	if r0 == 0 goto l0_%=;				\
	r1 = 1;						\
	*(u8 *)(r0 + 0) = r1;				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb), __imm(bpf_dynptr_slice)
	: __clobber_all);
}

SEC("tc")
__failure __msg("R0 invalid mem access 'rdonly_mem_or_null'")
__naked void slice_may_be_null(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	r1 = r10; r1 += -16; r2 = 0; r3 = 0; r4 = 4;	\
	call %[bpf_dynptr_slice];			\
	r0 = *(u8 *)(r0 + 3);				\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb), __imm(bpf_dynptr_slice)
	: __clobber_all);
}

SEC("tc")
__failure __msg("Expected an initialized dynptr as arg #0")
int dynptr_never_initialised(struct __sk_buff *skb)
{
	struct bpf_dynptr ptr;
	unsigned char *p;

	p = bpf_dynptr_slice(&ptr, 0, 0, 4);
	if (!p)
		return 1;
	return p[3];
}

SEC("tc")
__failure __msg("Expected an initialized dynptr as arg #0")
__naked void dynptr_clobbered_by_a_store(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	r1 = 0;						\
	*(u32 *)(r10 - 12) = r1;			\
	r1 = r10; r1 += -16; r2 = 0; r3 = 0; r4 = 4;	\
	call %[bpf_dynptr_slice];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb), __imm(bpf_dynptr_slice)
	: __clobber_all);
}

SEC("tc")
__failure __msg("Expected an initialized dynptr as arg #0")
__naked void clone_of_nothing(void)
{
	asm volatile ("					\
	r1 = r10; r1 += -16; r2 = r10; r2 += -32;	\
	call %[bpf_dynptr_clone];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_clone)
	: __clobber_all);
}

SEC("tc")
__failure __msg("cannot pass in dynptr at an offset=-20")
__msg("Dynptr has to be an uninitialized dynptr")
__naked void uninit_misaligned(void)
{
	asm volatile ("					\
	r1 = r1; r2 = 0; r3 = r10; r3 += -20;		\
	call %[bpf_dynptr_from_skb];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb)
	: __clobber_all);
}

SEC("tc")
__failure __msg("dynptr has to be at a constant offset")
__msg("Dynptr has to be an uninitialized dynptr")
__naked void uninit_variable_offset(void)
{
	asm volatile ("					\
	r6 = r1;					\
	call %[bpf_get_prandom_u32];			\
	r0 &= 8;					\
	r3 = r10; r3 += -32; r3 += r0;			\
	r1 = r6; r2 = 0;				\
	call %[bpf_dynptr_from_skb];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb), __imm(bpf_get_prandom_u32)
	: __clobber_all);
}

SEC("tc")
__failure __msg("arg#2 expected pointer to stack or const struct bpf_dynptr")
__naked void uninit_not_on_stack(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r6;			\
	call %[bpf_dynptr_from_skb];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb)
	: __clobber_all);
}

SEC("tc")
__failure __msg("invalid read from stack off -16+0 size 8")
__naked void dynptr_bytes_unreadable(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	r0 = *(u64 *)(r10 - 16);			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb)
	: __clobber_all);
}

SEC("tc")
__failure __msg("invalid read from stack R1 off -24+8 size 16")
__naked void helper_reads_a_dynptr(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = r6; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	r1 = r10; r1 += -24; r2 = 16; r3 = 0; r4 = 0; r5 = 0;	\
	call %[bpf_csum_diff];				\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb), __imm(bpf_csum_diff)
	: __clobber_all);
}

/* the context argument, and KF_TRUSTED_ARGS (bpf_dynptr_from_skb has it): no NULL */
SEC("tc")
__failure __msg("arg#0 expected pointer to ctx, but got fp")
__naked void ctx_arg_not_ctx(void)
{
	asm volatile ("					\
	r1 = r10; r1 += -32; r2 = 0; r3 = r10; r3 += -16;	\
	call %[bpf_dynptr_from_skb];			\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb)
	: __clobber_all);
}

SEC("tc")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
__naked void trusted_arg_null(void)
{
	asm volatile ("					\
	r1 = 0; r2 = 0; r3 = r10; r3 += -16;		\
	call %[bpf_dynptr_from_skb];			\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb)
	: __clobber_all);
}

/* kfunc sets: bpf_dynptr_from_xdp is for XDP programs only */
SEC("tc")
__failure __msg("calling kernel function bpf_dynptr_from_xdp is not allowed")
__naked void xdp_kfunc_in_tc(void)
{
	asm volatile ("					\
	r2 = 0; r3 = r10; r3 += -16;			\
	call %[bpf_dynptr_from_xdp];			\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_xdp)
	: __clobber_all);
}

SEC("xdp")
__failure __msg("calling kernel function bpf_dynptr_from_skb is not allowed")
__naked void skb_kfunc_in_xdp(void)
{
	asm volatile ("					\
	r2 = 0; r3 = r10; r3 += -16;			\
	call %[bpf_dynptr_from_skb];			\
	exit;						\
"	:
	: __imm(bpf_dynptr_from_skb)
	: __clobber_all);
}

/* __str: a NUL-terminated string in a frozen read-only map (.rodata); __prog is filled in.
 * No __retval: 6.18's test run of it returned -ENOMEM (the stream's buffer is not allocated in
 * that context), which pybpf's runtime, keeping no streams, does not imitate. */
SEC("socket")
__success
int str_in_rodata(void *ctx)
{
	__u64 args[1] = {7};

	return bpf_stream_vprintk_impl(1, "hi %d\n", args, sizeof(args), 0);
}

SEC("socket")
__failure __msg("arg#1 doesn't point to a const string")
int str_on_stack(void *ctx)
{
	char fmt[4] = "hi\n";
	__u64 args[1] = {7};

	return bpf_stream_vprintk_impl(1, fmt, args, sizeof(args), 0);
}

SEC("socket")
__failure __msg("R2 does not point to a readonly map'")
int str_in_writable_map(void *ctx)
{
	__u64 args[1] = {7};

	return bpf_stream_vprintk_impl(1, writable_fmt, args, sizeof(args), 0);
}

SEC("socket")
__failure __msg("string is not zero-terminated")
int str_not_terminated(void *ctx)
{
	__u64 args[1] = {7};

	return bpf_stream_vprintk_impl(1, unterminated, args, sizeof(args), 0);
}

/* KF_TRUSTED_ARGS on bpf_stream_vprintk_impl: its args buffer may not be NULL */
SEC("socket")
__failure __msg("Possibly NULL pointer passed to trusted arg2")
int trusted_buffer_null(void *ctx)
{
	return bpf_stream_vprintk_impl(1, "hi\n", 0, 0, 0);
}

/* __ign: the verifier checks nothing of the argument; the kfunc reads the string itself */
SEC("socket")
__success __retval(5)
int ign_any_pointer(void *ctx)
{
	return bpf_strlen("hello");
}

/* KF_RCU (bpf_task_acquire): a trusted or RCU-protected task, not one walked to through an
 * ordinary member; KF_ACQUIRE/KF_RELEASE: the reference must be released, and only an acquired
 * one.  tp_btf programs cannot be test-run: verdicts only. */
SEC("tp_btf/task_newtask")
__success
int rcu_trusted_task(__u64 *ctx)
{
	struct task_struct *t = bpf_task_acquire((struct task_struct *)ctx[0]);

	if (t)
		bpf_task_release(t);
	return 0;
}

SEC("tp_btf/task_newtask")
__success
int rcu_protected_member(__u64 *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[0];
	struct task_struct *t = bpf_task_acquire(task->real_parent);

	if (t)
		bpf_task_release(t);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 must be a rcu pointer")
int rcu_plain_member(__u64 *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[0];
	struct task_struct *t = bpf_task_acquire(task->parent);

	if (t)
		bpf_task_release(t);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("release kernel function bpf_task_release expects refcounted PTR_TO_BTF_ID")
int release_not_acquired(__u64 *ctx)
{
	bpf_task_release((struct task_struct *)ctx[0]);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("BPF_EXIT instruction in main prog would lead to reference leak")
int acquired_never_released(__u64 *ctx)
{
	return bpf_task_acquire((struct task_struct *)ctx[0]) != 0;
}

SEC("socket")
__failure __msg("calling kernel function bpf_task_acquire is not allowed")
__naked void task_kfunc_in_socket(void)
{
	asm volatile ("					\
	call %[bpf_task_acquire];			\
	exit;						\
"	:
	: __imm(bpf_task_acquire)
	: __clobber_all);
}

char _license[] SEC("license") = "GPL";
