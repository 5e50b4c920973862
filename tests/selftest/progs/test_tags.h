/* SPDX-License-Identifier: GPL-2.0 */
/* Test annotations as BTF decl tags, in each encoding the kernel's selftests have used.
 * Build with -DTAG_ENCODING=1 (comment:KEY=TEXT), 2 (comment:KEY=<n>=TEXT for the tags that carry
 * text) or 3 (comment:<n>:KEY=TEXT for every tag).
 */
#ifndef TEST_TAGS_H
#define TEST_TAGS_H

#define SEC(name) __attribute__((section(name), used))
#define STR_(x) #x
#define XSTR_(x) STR_(x)

#if TAG_ENCODING == 1
#define TAG_(key) __attribute__((btf_decl_tag("comment:" key)))
#define TEXT_(key, text) TAG_(key "=" text)
#elif TAG_ENCODING == 2
#define TAG_(key) __attribute__((btf_decl_tag("comment:" key)))
#define TEXT_(key, text) TAG_(key "=" XSTR_(__COUNTER__) "=" text)
#else
#define TAG_(key) __attribute__((btf_decl_tag("comment:" XSTR_(__COUNTER__) ":" key)))
#define TEXT_(key, text) TAG_(key "=" text)
#endif
#define VALUE_(key, text) TAG_(key "=" text)

#define __success		TAG_("test_expect_success")
#define __failure		TAG_("test_expect_failure")
#define __success_unpriv	TAG_("test_expect_success_unpriv")
#define __failure_unpriv	TAG_("test_expect_failure_unpriv")
#define __auxiliary		TAG_("test_auxiliary")
#define __auxiliary_unpriv	TAG_("test_auxiliary_unpriv")
#define __msg(text)		TEXT_("test_expect_msg", text)
#define __not_msg(text)		TEXT_("test_expect_not_msg", text)
#define __msg_unpriv(text)	TEXT_("test_expect_msg_unpriv", text)
#define __xlated(text)		TEXT_("test_expect_xlated", text)
#define __xlated_unpriv(text)	TEXT_("test_expect_xlated_unpriv", text)
#define __jited(text)		TEXT_("test_jited", text)
#define __jited_unpriv(text)	TEXT_("test_jited_unpriv", text)
#define __stderr(text)		TEXT_("test_expect_stderr", text)
#define __stdout(text)		TEXT_("test_expect_stdout", text)
#define __description(text)	VALUE_("test_description", text)
#define __log_level(n)		VALUE_("test_log_level", #n)
#define __flag(f)		VALUE_("test_prog_flags", #f)
#if TAG_ENCODING == 1	/* the oldest headers stringized the argument unexpanded */
#define __retval(v)		VALUE_("test_retval", #v)
#define __retval_unpriv(v)	VALUE_("test_retval_unpriv", #v)
#else
#define __retval(v)		VALUE_("test_retval", XSTR_(v))
#define __retval_unpriv(v)	VALUE_("test_retval_unpriv", XSTR_(v))
#endif
#define __arch(a)		VALUE_("test_arch", a)
#define __arch_x86_64		__arch("X86_64")
#define __arch_arm64		__arch("ARM64")
#define __arch_riscv64		__arch("RISCV64")
#define __arch_s390x		__arch("s390x")
#define __caps_unpriv(c)	VALUE_("test_caps_unpriv", XSTR_(c))
#define __load_if_JITed()	VALUE_("load_mode", "jited")
#define __btf_path(p)		VALUE_("test_btf_path", p)
#define __linear_size(n)	VALUE_("test_linear_size", XSTR_(n))
#define __raw_tag(key)		TAG_(key)

#define CAP_NET_ADMIN	12
#define CAP_BPF		39
#define POINTER_VALUE	0xbadcafe

#endif
