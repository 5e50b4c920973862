## name: diff_stack_var_off_misaligned
## prog_type: sched_cls
call 7
mov %r6, %r0
and %r6, 1
mov %r2, %r10
add %r2, %r6
stw [%r2-512], 1
exit

## name: diff_stack_var_off_aligned
## prog_type: sched_cls
call 7
mov %r6, %r0
and %r6, 4
mov %r2, %r10
add %r2, %r6
stw [%r2-512], 1
mov %r0, 0
exit

## name: diff_fork_and_minus_one
## prog_type: xdp
call 7
mov %r6, %r0
arsh32 %r6, 0x1f
and %r6, 1
mov %r2, %r10
add %r2, %r6
add %r2, -512
ldxw %r0, [%r2]
exit

## name: diff_fork_and32_minus_one
## prog_type: xdp
call 7
mov %r6, %r0
arsh32 %r6, 0x1f
and32 %r6, 1
mov %r2, %r10
add %r2, %r6
add %r2, -512
ldxw %r0, [%r2]
exit

## name: diff_fork_or_minus_one
## prog_type: xdp
call 7
mov %r6, %r0
arsh32 %r6, 0x1f
or %r6, 1
mov %r2, %r10
add %r2, %r6
add %r2, -512
ldxw %r0, [%r2]
exit

## name: diff_pkt_jmp32_learns_nothing
## prog_type: xdp
ldxw %r2, [%r1]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jge32 %r4, %r3, +1
ldxh %r0, [%r2+10]
mov %r0, 0
exit

## name: diff_pkt_jmp64_learns_range
## prog_type: xdp
ldxw %r2, [%r1]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, +1
ldxh %r0, [%r2+10]
mov %r0, 0
exit

## name: diff_private_stack_kprobe
## prog_type: kprobe
stdw [%r10-512], 0
call local +2
mov %r0, 1
exit
stdw [%r10-8], 0
mov %r0, 0
exit

## name: diff_private_stack_tracepoint
## prog_type: tracepoint
stdw [%r10-512], 0
call local +2
mov %r0, 1
exit
stdw [%r10-8], 0
mov %r0, 0
exit

## name: diff_private_stack_perf_event
## prog_type: perf_event
stdw [%r10-512], 0
call local +2
mov %r0, 1
exit
stdw [%r10-8], 0
mov %r0, 0
exit

## name: diff_private_stack_raw_tracepoint
## prog_type: raw_tracepoint
stdw [%r10-512], 0
call local +2
mov %r0, 1
exit
stdw [%r10-8], 0
mov %r0, 0
exit

## name: diff_private_stack_sched_cls
## prog_type: sched_cls
stdw [%r10-512], 0
call local +2
mov %r0, 1
exit
stdw [%r10-8], 0
mov %r0, 0
exit

## name: diff_private_stack_xdp
## prog_type: xdp
stdw [%r10-512], 0
call local +2
mov %r0, 1
exit
stdw [%r10-8], 0
mov %r0, 0
exit

## name: diff_private_stack_small_caller
## prog_type: kprobe
stdw [%r10-40], 0
call local +2
mov %r0, 1
exit
stdw [%r10-480], 0
call local +2
mov %r0, 0
exit
stdw [%r10-40], 0
mov %r0, 0
exit

## name: diff_cg_skb_data
## prog_type: cgroup_skb
ldxw %r2, [%r1+76]
mov %r0, 1
exit

## name: diff_cg_skb_data_end
## prog_type: cgroup_skb
ldxw %r2, [%r1+80]
mov %r0, 1
exit

## name: diff_cg_skb_data_narrow
## prog_type: cgroup_skb
ldxb %r2, [%r1+76]
mov %r0, 1
exit

## name: diff_cg_skb_family
## prog_type: cgroup_skb
ldxw %r2, [%r1+88]
mov %r0, 1
exit

## name: diff_cg_skb_family_narrow
## prog_type: cgroup_skb
ldxh %r2, [%r1+88]
mov %r0, 1
exit

## name: diff_cg_skb_remote_ip4
## prog_type: cgroup_skb
ldxw %r2, [%r1+92]
mov %r0, 1
exit

## name: diff_cg_skb_remote_ip4_narrow
## prog_type: cgroup_skb
ldxh %r2, [%r1+92]
mov %r0, 1
exit

## name: diff_cg_skb_local_ip6_narrow
## prog_type: cgroup_skb
ldxb %r2, [%r1+116]
mov %r0, 1
exit

## name: diff_cg_skb_remote_port_narrow
## prog_type: cgroup_skb
ldxb %r2, [%r1+132]
mov %r0, 1
exit

## name: diff_cg_skb_tstamp
## prog_type: cgroup_skb
ldxdw %r2, [%r1+152]
mov %r0, 1
exit

## name: diff_cg_skb_tstamp_write
## prog_type: cgroup_skb
stdw [%r1+152], 0
mov %r0, 1
exit

## name: diff_cg_skb_tstamp_w
## prog_type: cgroup_skb
ldxw %r2, [%r1+152]
mov %r0, 1
exit

## name: diff_cg_skb_hwtstamp
## prog_type: cgroup_skb
ldxdw %r2, [%r1+184]
mov %r0, 1
exit

## name: diff_cg_skb_tc_classid
## prog_type: cgroup_skb
ldxw %r2, [%r1+72]
mov %r0, 1
exit

## name: diff_cg_skb_wire_len
## prog_type: cgroup_skb
ldxw %r2, [%r1+160]
mov %r0, 1
exit

## name: diff_cg_skb_mark_write
## prog_type: cgroup_skb
stw [%r1+8], 0
mov %r0, 1
exit

## name: diff_cg_skb_priority_write
## prog_type: cgroup_skb
stw [%r1+32], 0
mov %r0, 1
exit

## name: diff_cg_skb_tc_index_write
## prog_type: cgroup_skb
stw [%r1+44], 0
mov %r0, 1
exit

