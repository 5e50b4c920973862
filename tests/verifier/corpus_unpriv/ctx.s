## name: up_ctx_len_ok
ldxw %r0, [%r1+0]
exit

## name: up_ctx_data_sockfilter
ldxw %r0, [%r1+76]
exit

## name: up_ctx_mark_write
mov %r2, 1
stxw [%r1+8], %r2
mov %r0, 0
exit

## name: up_ctx_cb_write_ok
stw [%r1+52], 3
ldxw %r0, [%r1+52]
exit

## name: up_cgskb_data
## prog_type: cgroup_skb
ldxw %r2, [%r1+76]
mov %r0, 1
exit

## name: up_cgskb_data_end
## prog_type: cgroup_skb
ldxw %r2, [%r1+80]
mov %r0, 1
exit

## name: up_cgskb_tstamp_write
## prog_type: cgroup_skb
stdw [%r1+152], 0
mov %r0, 1
exit

## name: up_cgskb_family_ok
## prog_type: cgroup_skb
ldxw %r2, [%r1+88]
ldxdw %r3, [%r1+152]
mov %r0, 1
exit

## name: up_cgskb_ret_range
## prog_type: cgroup_skb
mov %r0, 2
exit

## name: up_ctx_sk_ptr
ldxdw %r2, [%r1+168]
mov %r0, 0
exit

## name: up_ld_abs_ok
mov %r6, %r1
ldabsb 0
exit
