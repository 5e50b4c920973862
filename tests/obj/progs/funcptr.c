/* A callback's address as an ld_imm64 (BPF_PSEUDO_FUNC). */
#include <linux/bpf.h>
#include "bpf_helpers.h"

static int step(__u32 idx, void *ctx)
{
	*(__u64 *)ctx += idx;
	return 0;
}

SEC("syscall")
int loop(void *ctx)
{
	__u64 sum = 0;

	bpf_loop(10, step, &sum, 0);
	return sum;
}

char LICENSE[] SEC("license") = "GPL";
