// SPDX-License-Identifier: GPL-2.0
/* CO-RE: read fields of the current task through BTF, wherever this kernel
 * keeps them, and look a task up by pid with the bpf_task_from_pid kfunc.
 * A "syscall" program runs in the task that calls BPF_PROG_TEST_RUN, so the
 * values are the caller's own.  Only the fields used are declared: CO-RE
 * (preserve_access_index) finds their offsets in the running kernel's BTF. */
#include "bpf_defs.h"

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

int pid = 0;          /* .bss, filled by the program */
int tgid = 0;
char comm[16] = {};
int found_tgid = -1;  /* .data: the tgid bpf_task_from_pid(tgid) finds, -1 until run */
const volatile int magic = 42;  /* .rodata */

SEC("syscall")
int task_info(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *again;

	pid = task->pid;
	tgid = task->tgid;
	bpf_probe_read_kernel(comm, sizeof(comm), task->comm);
	again = bpf_task_from_pid(tgid);
	if (again) {
		found_tgid = again->tgid;
		bpf_task_release(again);
	}
	return magic;
}

char _license[] SEC("license") = "GPL";
