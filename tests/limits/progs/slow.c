// SPDX-License-Identifier: GPL-2.0
/* Verification cost on purpose.  `slow` counts to a million: every turn is a new
 * state (r1 differs), so the verifier walks it until the kernel's 1M processed-insn
 * limit ("BPF program is too large. Processed 1000001 insn"), which takes pybpf's
 * verifier far longer than any --timeout of the tests.  `quick` is checked at once. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

SEC("socket")
__failure __msg("BPF program is too large. Processed 1000001 insn")
__naked void slow(void)
{
	asm volatile ("r0 = 0; r1 = 0;"
		      "l0_%=: r1 += 1;"
		      "if r1 < 1000000 goto l0_%=;"
		      "exit;" ::: __clobber_all);
}

SEC("socket")
__success __retval(5)
__naked void quick(void)
{
	asm volatile ("r0 = 5; exit;" ::: __clobber_all);
}

char LICENSE[] SEC("license") = "GPL";
