// SPDX-License-Identifier: GPL-2.0
/* Programs whose annotations tests/selftest/test_selftest_annotations.py reads back. */
#include "test_tags.h"

SEC("socket") __success __retval(0) __log_level(2) __msg("processed")
int plain_success(void *ctx) { return 0; }

/* The same message twice: the plain encoding keeps one. */
SEC("socket") __failure __msg("R0 !read_ok") __msg("between") __msg("R0 !read_ok")
int repeated_msgs(void *ctx) { return 0; }

SEC("socket") __description("priv and unpriv") __success __failure_unpriv
__msg_unpriv("leaks addr") __retval(1) __caps_unpriv(CAP_NET_ADMIN | CAP_BPF)
int both_modes(void *ctx) { return 1; }

SEC("socket") __success_unpriv __msg("only unpriv inherits this") __retval_unpriv(POINTER_VALUE)
int unpriv_only(void *ctx) { return 0; }

SEC("socket") __success
__xlated("0: r0 = 0") __xlated("...") __xlated("2: exit")
__arch_x86_64 __jited("	endbr64") __jited("...") __jited("	retq")
__arch_arm64 __jited("	paciasp")
__flag(BPF_F_STRICT_ALIGNMENT) __flag(!BPF_F_TEST_RND_HI32) __flag(0x40)
int disasm(void *ctx) { return 0; }

SEC("socket") __failure __msg("R{{[0-9]}} type={{scalar|ctx}}") __not_msg("invalid") __msg("{{^}}exit")
__load_if_JITed() __btf_path("btf__core_reloc.bpf.o")
int regexes(void *ctx) { return 0; }

SEC("socket") __auxiliary
int helper_prog(void *ctx) { return 0; }

SEC("tc") __success __linear_size(14) __retval(_INT_MIN) __stderr("at {{.*}}") __stdout("hello")
int skb_prog(void *ctx) { return 0; }

SEC("socket")
int no_annotations(void *ctx) { return 0; }

char _license[] SEC("license") = "GPL";
