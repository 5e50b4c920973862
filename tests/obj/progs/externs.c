/* __ksym and __kconfig externs. */
#include <linux/bpf.h>
#include "bpf_helpers.h"

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;
extern int CONFIG_PYBPF_DOES_NOT_EXIST __kconfig __weak;

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern void bpf_kfunc_pybpf_missing(void) __ksym __weak;
extern const int bpf_prog_active __ksym;	/* typed: a per-CPU variable */
extern const void bpf_prog_put __ksym;	/* typeless: a kernel function's address */

__u64 out[8];

SEC("syscall")
int use_externs(void *ctx)
{
	out[0] = LINUX_KERNEL_VERSION;
	out[1] = CONFIG_HZ;
	out[2] = CONFIG_BPF_SYSCALL;
	out[3] = CONFIG_BPF_JIT;
	out[4] = CONFIG_DEFAULT_HOSTNAME[0];
	out[5] = CONFIG_PYBPF_DOES_NOT_EXIST;
	out[6] = (__u64)&bpf_prog_put;
	out[7] = (__u64)&bpf_prog_active;
	bpf_rcu_read_lock();
	if (bpf_kfunc_pybpf_missing)
		bpf_kfunc_pybpf_missing();
	bpf_rcu_read_unlock();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
