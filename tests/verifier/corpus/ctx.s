## name: ctx_len
## level2
ldxw %r0, [%r1+0]
exit

## name: ctx_bad_size
ldxdw %r0, [%r1+4]
exit

## name: ctx_dw_on_u32
ldxdw %r0, [%r1+0]
exit

## name: ctx_narrow_byte
ldxb %r0, [%r1+1]
exit

## name: ctx_narrow_half
ldxh %r0, [%r1+8]
exit

## name: ctx_misaligned_half
ldxh %r0, [%r1+9]
exit

## name: ctx_out_of_range
ldxw %r0, [%r1+200]
exit

## name: ctx_negative
ldxw %r0, [%r1-4]
exit

## name: ctx_mark_write_sockfilter
mov %r2, 1
stxw [%r1+8], %r2
mov %r0, 0
exit

## name: ctx_cb_write
mov %r2, 1
stxw [%r1+48], %r2
ldxw %r0, [%r1+48]
exit

## name: ctx_cb_write_st
stw [%r1+48], 1
mov %r0, 0
exit

## name: ctx_data_sockfilter
ldxw %r0, [%r1+76]
exit

## name: ctx_family_sockfilter
ldxw %r0, [%r1+88]
exit

## name: ctx_modified
add %r1, 8
ldxw %r0, [%r1+0]
exit

## name: ctx_hash
ldxw %r0, [%r1+68]
exit

## name: ctx_tc_mark_write
## prog_type: sched_cls
mov %r2, 1
stxw [%r1+8], %r2
mov %r0, 0
exit

## name: ctx_tc_len_write
## prog_type: sched_cls
mov %r2, 1
stxw [%r1+0], %r2
mov %r0, 0
exit

## name: ctx_tc_data
## prog_type: sched_cls
## level2
ldxw %r2, [%r1+76]
ldxw %r3, [%r1+80]
mov %r0, 0
exit

## name: ctx_tc_data_narrow
## prog_type: sched_cls
ldxh %r2, [%r1+76]
mov %r0, 0
exit

## name: ctx_tc_tstamp
## prog_type: sched_cls
ldxdw %r0, [%r1+152]
exit

## name: ctx_tc_priority_write
## prog_type: sched_cls
mov %r2, 3
stxw [%r1+32], %r2
ldxw %r0, [%r1+32]
exit

## name: ctx_xdp_data
## prog_type: xdp
## level2
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r0, 2
exit

## name: ctx_xdp_ifindex
## prog_type: xdp
ldxw %r0, [%r1+12]
exit

## name: ctx_xdp_narrow
## prog_type: xdp
ldxb %r0, [%r1+12]
exit

## name: ctx_xdp_write
## prog_type: xdp
mov %r2, 0
stxw [%r1+12], %r2
mov %r0, 2
exit

## name: ctx_xdp_egress
## prog_type: xdp
ldxw %r0, [%r1+20]
exit

## name: ctx_xdp_oob
## prog_type: xdp
ldxw %r0, [%r1+24]
exit

## name: ctx_kprobe_read
## prog_type: kprobe
ldxdw %r0, [%r1+112]
exit

## name: ctx_kprobe_write
## prog_type: kprobe
mov %r2, 0
stxdw [%r1+0], %r2
mov %r0, 0
exit

## name: ctx_kprobe_oob
## prog_type: kprobe
ldxdw %r0, [%r1+168]
exit

## name: ctx_cgroup_skb_len
## prog_type: cgroup_skb
ldxw %r0, [%r1+0]
and %r0, 1
exit

## name: ctx_ptr_store
stxdw [%r10-8], %r1
ldxdw %r1, [%r10-8]
ldxw %r0, [%r1+4]
exit
