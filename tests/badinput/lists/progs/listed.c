// SPDX-License-Identifier: GPL-2.0
/* Two programs for the broken-DENYLIST test: one the list's good line denies, one that runs. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

SEC("socket")
__success __retval(1)
__naked void kept(void)
{
	asm volatile ("r0 = 1; exit;" ::: __clobber_all);
}

SEC("socket")
__success __retval(2)
__naked void denied(void)
{
	asm volatile ("r0 = 2; exit;" ::: __clobber_all);
}

char LICENSE[] SEC("license") = "GPL";
