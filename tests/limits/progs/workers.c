// SPDX-License-Identifier: GPL-2.0
/* Three good programs for the worker-crash test: a testing hook (see test_limits_workers.py)
 * kills the xdist worker that runs `boom`; `fine_a` and `fine_b` must still pass. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

SEC("socket")
__success __retval(1)
__naked void fine_a(void)
{
	asm volatile ("r0 = 1; exit;" ::: __clobber_all);
}

SEC("socket")
__success __retval(2)
__naked void boom(void)
{
	asm volatile ("r0 = 2; exit;" ::: __clobber_all);
}

SEC("socket")
__success __retval(3)
__naked void fine_b(void)
{
	asm volatile ("r0 = 3; exit;" ::: __clobber_all);
}

char LICENSE[] SEC("license") = "GPL";
