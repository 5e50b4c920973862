// SPDX-License-Identifier: GPL-2.0
/* A weak kfunc the kernel does not have: its address reads as 0, so the call is dead code. */
#include "bpf_defs.h"

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

extern void bpf_pybpf_no_such_kfunc(void) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

int have_missing = -1;
int have_real = -1;

SEC("syscall")
int probe_kfuncs(void *ctx)
{
	struct task_struct *t;

	have_missing = bpf_pybpf_no_such_kfunc != 0;
	if (bpf_pybpf_no_such_kfunc)
		bpf_pybpf_no_such_kfunc();
	t = bpf_task_from_pid(1);
	have_real = t != 0;
	if (t)
		bpf_task_release(t);
	return 0;
}

char _license[] SEC("license") = "GPL";
