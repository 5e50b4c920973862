// SPDX-License-Identifier: GPL-2.0
/* One good program and, after it, one program per malformed annotation: each must be
 * reported as an error naming this file and its line, and the others must still run.
 * __regex is written as its tag ("test_expect_regex"): pybpf's bpf_misc.h has {{...}} in __msg. */
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

#define __unknown_tag	__attribute__((btf_decl_tag("comment:" __pybpf_xstr(__COUNTER__) ":test_expect_mgs=typo")))

SEC("socket")
__success __retval(3)
__naked void good(void)
{
	asm volatile ("r0 = 3; exit;" ::: __clobber_all);
}

SEC("socket")
__success __unknown_tag
__naked void unknown_tag(void)
{
	asm volatile ("r0 = 0; exit;" ::: __clobber_all);
}

SEC("socket")
__failure __pybpf_text("test_expect_regex", "R0 (")
__naked void bad_regex(void)
{
	asm volatile ("exit;" ::: __clobber_all);
}

SEC("socket")
__failure __msg("{{R0 [}}")
__naked void bad_msg_regex(void)
{
	asm volatile ("exit;" ::: __clobber_all);
}

SEC("socket")
__success __jited("	retq")
__naked void jited_before_arch(void)
{
	asm volatile ("r0 = 0; exit;" ::: __clobber_all);
}

SEC("socket")
__success __retval(three)
__naked void retval_not_a_number(void)
{
	asm volatile ("r0 = 3; exit;" ::: __clobber_all);
}

SEC("socket")
__success __retval(99999999999999999999)
__naked void retval_too_big(void)
{
	asm volatile ("r0 = 3; exit;" ::: __clobber_all);
}

SEC("socket")
__success __log_level(x)
__naked void log_level_not_a_number(void)
{
	asm volatile ("r0 = 0; exit;" ::: __clobber_all);
}

SEC("socket")
__success __flag(BPF_F_NO_SUCH_FLAG)
__naked void unknown_flag(void)
{
	asm volatile ("r0 = 0; exit;" ::: __clobber_all);
}

char LICENSE[] SEC("license") = "GPL";
