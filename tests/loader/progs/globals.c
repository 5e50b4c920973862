// SPDX-License-Identifier: GPL-2.0
/* Global data of every kind: initial values must be in the maps before any program runs. */
#include "bpf_defs.h"

__u64 counter = 0x1122334455667788ULL;       /* .data */
int table[4] = {10, 20, 30, 40};             /* .data */
__u32 zeroed;                                /* .bss */
const volatile __u32 limit = 1500;           /* .rodata, frozen after load */
const char greeting[] = "hello";             /* .rodata */
int custom SEC(".data.custom") = 7;          /* a map of its own */

SEC("xdp")
int read_globals(struct xdp_md *ctx)
{
	counter++;
	zeroed += table[2] + custom;
	return limit == 1500 && greeting[0] == 'h' ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
