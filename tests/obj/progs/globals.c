/* Global data sections: .data, .rodata, .bss, custom data sections and private .bss.NAME sections. */
#include <linux/bpf.h>
#include "bpf_helpers.h"

int data_a = 0x11111111;
__u64 data_b = 0x2222222222222222ULL;
const volatile __u32 ro_a = 0x33333333;
const volatile __u64 ro_b = 0x4444;
__u32 bss_a;
__u64 bss_b;
static __u32 static_bss;
int custom_data SEC(".data.custom") = 0x55;
const volatile int custom_ro SEC(".rodata.custom") = 0x66;
private(locked) struct bpf_spin_lock lock;
private(locked) __u64 guarded;
__u32 hidden_only SEC(".data.hidden") __hidden = 9;

SEC("tc")
int touch(struct __sk_buff *skb)
{
	static_bss += skb->len;
	bss_a = data_a + ro_a;
	bss_b = data_b + ro_b + static_bss;
	custom_data += custom_ro + hidden_only;
	bpf_spin_lock(&lock);
	guarded++;
	bpf_spin_unlock(&lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
