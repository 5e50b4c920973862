// SPDX-License-Identifier: GPL-2.0
/* An open-coded iterator's constructor and destructor as kfunc arguments: the iterator on the
 * stack (uninitialised for bpf_iter_task_new, initialised for bpf_iter_task_destroy, a
 * reference held in between), a __nullable task, KF_TRUSTED_ARGS and KF_RCU_PROTECTED.
 * Every verdict, __msg and __retval is what Linux 6.18 gave for the program. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

#define BPF_TASK_ITER_ALL_PROCS 0
#define BPF_TASK_ITER_PROC_THREADS 2

struct bpf_iter_task {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

/* Only the name matters to the extern's type check: no vmlinux.h here. */
struct task_struct {
	int __unused_by_the_program;
};

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task__nullable,
			     unsigned int flags) __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym;

/* __nullable: NULL is a task; the kernel (and pybpf's runtime) refuse PROC_THREADS without one */
SEC("socket")
__success __retval(-22)
int nullable_task_null(void *ctx)
{
	struct bpf_iter_task it;
	int ret = bpf_iter_task_new(&it, 0, BPF_TASK_ITER_PROC_THREADS);

	bpf_iter_task_destroy(&it);
	return ret;
}

SEC("socket")
__success __retval(0)
int nullable_all_procs(void *ctx)
{
	struct bpf_iter_task it;
	int ret = bpf_iter_task_new(&it, 0, BPF_TASK_ITER_ALL_PROCS);

	bpf_iter_task_destroy(&it);
	return ret;
}

SEC("socket")
__success __retval(-22)
int two_iterators(void *ctx)
{
	struct bpf_iter_task a, b;
	int ret = bpf_iter_task_new(&a, 0, BPF_TASK_ITER_ALL_PROCS);

	ret += bpf_iter_task_new(&b, 0, 7);
	bpf_iter_task_destroy(&a);
	bpf_iter_task_destroy(&b);
	return ret;
}

/* not NULL, it must be a task: a stack buffer is plain memory, which must hold scalars */
SEC("socket")
__failure __msg("arg#1 pointer type STRUCT task_struct must point to scalar, or struct with scalar")
int nullable_not_a_task(void *ctx)
{
	struct bpf_iter_task it;
	long x[4] = {};
	int ret = bpf_iter_task_new(&it, (struct task_struct *)x, BPF_TASK_ITER_PROC_THREADS);

	bpf_iter_task_destroy(&it);
	return ret;
}

/* KF_TRUSTED_ARGS: the iterator itself may not be NULL */
SEC("socket")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
int iterator_null(void *ctx)
{
	return bpf_iter_task_new(0, 0, BPF_TASK_ITER_ALL_PROCS);
}

SEC("socket")
__failure __msg("Unreleased reference id=1 alloc_insn=4")
int iterator_never_destroyed(void *ctx)
{
	struct bpf_iter_task it;

	return bpf_iter_task_new(&it, 0, BPF_TASK_ITER_ALL_PROCS);
}

SEC("socket")
__failure __msg("expected an initialized iter_task as arg #0")
int destroy_without_new(void *ctx)
{
	struct bpf_iter_task it;

	bpf_iter_task_destroy(&it);
	return 0;
}

SEC("socket")
__failure __msg("expected uninitialized iter_task as arg #0")
int new_over_a_live_iterator(void *ctx)
{
	struct bpf_iter_task it;

	bpf_iter_task_new(&it, 0, BPF_TASK_ITER_ALL_PROCS);
	bpf_iter_task_new(&it, 0, BPF_TASK_ITER_ALL_PROCS);
	bpf_iter_task_destroy(&it);
	return 0;
}

SEC("socket")
__failure __msg("cannot pass in iter at an offset=-16")
__msg("expected uninitialized iter_task as arg #0")
__naked void iterator_too_high(void)
{
	asm volatile ("					\
	r1 = r10; r1 += -16; r2 = 0; r3 = 0;		\
	call %[bpf_iter_task_new];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_iter_task_new)
	: __clobber_all);
}

SEC("socket")
__failure __msg("invalid read from stack off -24+0 size 8")
__naked void iterator_bytes_unreadable(void)
{
	asm volatile ("					\
	r1 = r10; r1 += -24; r2 = 0; r3 = 0;		\
	call %[bpf_iter_task_new];			\
	r0 = *(u64 *)(r10 - 24);			\
	r1 = r10; r1 += -24;				\
	call %[bpf_iter_task_destroy];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_iter_task_new), __imm(bpf_iter_task_destroy)
	: __clobber_all);
}

SEC("socket")
__failure __msg("expected an initialized iter_task as arg #0")
__naked void iterator_clobbered_by_a_store(void)
{
	asm volatile ("					\
	r1 = r10; r1 += -24; r2 = 0; r3 = 0;		\
	call %[bpf_iter_task_new];			\
	r0 = 0;						\
	*(u64 *)(r10 - 24) = r0;			\
	r1 = r10; r1 += -24;				\
	call %[bpf_iter_task_destroy];			\
	r0 = 0;						\
	exit;						\
"	:
	: __imm(bpf_iter_task_new), __imm(bpf_iter_task_destroy)
	: __clobber_all);
}

/* KF_RCU_PROTECTED: a sleepable program must hold the RCU read lock */
SEC("syscall")
__failure __msg("kernel func bpf_iter_task_new requires RCU critical section protection")
int rcu_protected_in_sleepable(void *ctx)
{
	struct bpf_iter_task it;
	int ret = bpf_iter_task_new(&it, 0, BPF_TASK_ITER_ALL_PROCS);

	bpf_iter_task_destroy(&it);
	return ret;
}

char _license[] SEC("license") = "GPL";
