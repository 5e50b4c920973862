// SPDX-License-Identifier: GPL-2.0
/* Programs verified against kernel BTF: attach_btf_id found from the section's target name. */
#include "bpf_defs.h"

__u64 calls = 0;

SEC("fentry/bpf_fentry_test1")
int on_entry(__u64 *ctx)
{
	calls++;
	return 0;
}

SEC("fexit/bpf_fentry_test1")
int on_exit(__u64 *ctx)
{
	calls++;
	return 0;
}

SEC("tp_btf/sched_switch")
int on_switch(__u64 *ctx)
{
	calls++;
	return 0;
}

SEC("lsm/file_open")
int on_open(__u64 *ctx)
{
	return 0;
}

SEC("iter/task")
int each_task(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
