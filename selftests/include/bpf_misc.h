/* SPDX-License-Identifier: GPL-2.0 */
/* pybpf's selftest annotations, the kernel selftests' vocabulary (__success, __msg(...), __retval(...)...).
 *
 * Each annotation is a BTF decl tag on the program's function, in the newest
 * encoding the kernel's test_loader reads: "comment:<N>:<key>[=<text>]", where
 * N is __COUNTER__, so the runner can put the tags back in source order (clang
 * keeps no order of its own).  `pybpf selftest` (pybpf.harness.selftest) reads
 * them; so would the kernel's test_progs.
 *
 *	SEC("socket")
 *	__description("reading r0 before writing it")
 *	__failure __msg("R0 !read_ok")
 *	__naked void r0_unset(void) { asm volatile ("exit;" ::: __clobber_all); }
 */
#ifndef __PYBPF_BPF_MISC_H
#define __PYBPF_BPF_MISC_H

#define __pybpf_str(x) #x
#define __pybpf_xstr(x) __pybpf_str(x)
#define __pybpf_tag(key) __attribute__((btf_decl_tag("comment:" __pybpf_xstr(__COUNTER__) ":" key)))
#define __pybpf_text(key, text) __pybpf_tag(key "=" text)

/* The verdict, per run (the _unpriv variants: the run without capabilities). */
#define __success		__pybpf_tag("test_expect_success")
#define __failure		__pybpf_tag("test_expect_failure")
#define __success_unpriv	__pybpf_tag("test_expect_success_unpriv")
#define __failure_unpriv	__pybpf_tag("test_expect_failure_unpriv")

/* Loaded with every test of the object, never a test itself (e.g. a tail call target). */
#define __auxiliary		__pybpf_tag("test_auxiliary")
#define __auxiliary_unpriv	__pybpf_tag("test_auxiliary_unpriv")

/* Expected (or, __not_msg, unexpected) text in the verifier log; {{...}} spans are POSIX EREs. */
#define __msg(text)		__pybpf_text("test_expect_msg", text)
#define __not_msg(text)		__pybpf_text("test_expect_not_msg", text)
#define __msg_unpriv(text)	__pybpf_text("test_expect_msg_unpriv", text)
#define __not_msg_unpriv(text)	__pybpf_text("test_expect_not_msg_unpriv", text)

/* Lines of the program as the kernel rewrote it, consecutive unless "..." stands between two. */
#define __xlated(text)		__pybpf_text("test_expect_xlated", text)
#define __xlated_unpriv(text)	__pybpf_text("test_expect_xlated_unpriv", text)
#define __jited(text)		__pybpf_text("test_jited", text)
#define __jited_unpriv(text)	__pybpf_text("test_jited_unpriv", text)

/* Lines the program writes to its BPF streams (Linux 6.17+) during the test run. */
#define __stderr(text)		__pybpf_text("test_expect_stderr", text)
#define __stdout(text)		__pybpf_text("test_expect_stdout", text)
#define __stderr_unpriv(text)	__pybpf_text("test_expect_stderr_unpriv", text)
#define __stdout_unpriv(text)	__pybpf_text("test_expect_stdout_unpriv", text)

/* CO-RE relocations against this BTF file instead of the running kernel's. */
#define __btf_path(path)	__pybpf_text("test_btf_path", path)

/* The return value of one test run on 64 zero bytes (POINTER_VALUE: any). */
#define __retval(val)		__pybpf_text("test_retval", __pybpf_xstr(val))
#define __retval_unpriv(val)	__pybpf_text("test_retval_unpriv", __pybpf_xstr(val))

#define __description(text)	__pybpf_text("test_description", text)
#define __log_level(level)	__pybpf_text("test_log_level", #level)
/* A BPF_F_* load flag to set, or with a leading '!' to clear: __flag(BPF_F_ANY_ALIGNMENT). */
#define __flag(flag)		__pybpf_text("test_prog_flags", #flag)
#define __caps_unpriv(caps)	__pybpf_text("test_caps_unpriv", __pybpf_xstr(caps))
#define __load_if_JITed()	__pybpf_text("load_mode", "jited")
#define __load_if_no_JITed()	__pybpf_text("load_mode", "no_jited")
#define __log_always		__pybpf_tag("test_log_always")

/* Per-profile test annotations for the kfunc profiles of bpf_experimental.h:
 *   __abi("linux-6.18")              the program is for that profile only; under another one the
 *                                    runner reports it skipped ("program needs ABI linux-6.18")
 *   __msg_abi("rfc-2022", "text")    under that profile, replaces the program's __msg lines
 *   __success_abi / __failure_abi    under that profile, the verdict (the series' kernel's)
 */
#define __abi(name) __pybpf_tag("test_abi=" name)
#define __msg_abi(abi, text) __pybpf_tag("test_abi_expect=" abi ":test_expect_msg=" text)
#define __success_abi(abi) __pybpf_tag("test_abi_expect=" abi ":test_expect_success")
#define __failure_abi(abi) __pybpf_tag("test_abi_expect=" abi ":test_expect_failure")

/* The architectures a test runs on (none given: all); a __jited after one counts only there. */
#define __arch(arch)		__pybpf_text("test_arch", arch)
#define __arch_x86_64		__arch("X86_64")
#define __arch_arm64		__arch("ARM64")
#define __arch_riscv64		__arch("RISCV64")
#define __arch_s390x		__arch("s390x")

#define POINTER_VALUE		0xbadcafe
#define TEST_DATA_LEN		64
/* __retval(_INT_MIN) is read by name: leave _INT_MIN undefined. */

/* Capability numbers for __caps_unpriv (linux/capability.h). */
#define CAP_NET_ADMIN		12
#define CAP_SYS_ADMIN		21
#define CAP_PERFMON		38
#define CAP_BPF			39

/* Programs written in BPF assembly: no prologue, every register may be clobbered. */
#define __naked			__attribute__((naked))
#define __clobber_all		"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory"
#define __clobber_common	"r0", "r1", "r2", "r3", "r4", "r5", "memory"
#define __imm(name)		[name] "i"(name)
#define __imm_const(name, expr)	[name] "i"(expr)
#define __imm_addr(name)	[name] "i"(&name)

#endif
