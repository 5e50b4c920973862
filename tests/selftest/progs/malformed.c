// SPDX-License-Identifier: GPL-2.0
/* One malformed annotation per program; each must be refused with its program and tag named. */
#include "test_tags.h"

SEC("socket") __success __retval(12abc)
int bad_retval(void *ctx) { return 0; }

SEC("socket") __failure __msg("x{{[a}}")
int bad_regex(void *ctx) { return 0; }

SEC("socket") __failure __msg("x{{[0-9]+")
int open_regex(void *ctx) { return 0; }

SEC("socket") __success __jited("	retq") __arch_x86_64
int jited_before_arch(void *ctx) { return 0; }

SEC("socket") __success __flag(BPF_F_NO_SUCH_FLAG)
int bad_flag(void *ctx) { return 0; }

SEC("socket") __success __raw_tag("test_expect_mesage=oops")
int unknown_tag(void *ctx) { return 0; }

SEC("socket") __success __arch("PDP11")
int bad_arch(void *ctx) { return 0; }

SEC("socket") __success __log_level(two)
int bad_log_level(void *ctx) { return 0; }

SEC("socket") __success __raw_tag("test_expect_success=yes")
int flag_with_value(void *ctx) { return 0; }

SEC("socket") __success __caps_unpriv(CAP_SYS_ADMIN)
int caps_by_name(void *ctx) { return 0; }

char _license[] SEC("license") = "GPL";
