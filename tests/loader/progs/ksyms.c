// SPDX-License-Identifier: GPL-2.0
/* A typeless kernel symbol: the ld_imm64 becomes its /proc/kallsyms address. */
#include "bpf_defs.h"

extern const void bpf_fentry_test1 __ksym;  /* a text symbol: in kallsyms on every kernel */

__u64 text_addr = 0;

SEC("syscall")
int read_ksym(void *ctx)
{
	text_addr = (__u64)&bpf_fentry_test1;
	return 0;
}

char _license[] SEC("license") = "GPL";
