// SPDX-License-Identifier: GPL-2.0
/* A typed per-CPU kernel variable: the ld_imm64 carries its vmlinux BTF id.  The verifier still needs
 * its address from kallsyms, which a kernel without CONFIG_KALLSYMS_ALL does not list (ENOENT). */
#include "bpf_defs.h"

extern const int bpf_prog_active __ksym;

static void *(*bpf_this_cpu_ptr)(const void *percpu_ptr) = (void *)154;

int prog_active = -1;

SEC("syscall")
int read_typed(void *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	prog_active = *active;
	return 0;
}

char _license[] SEC("license") = "GPL";
