## name: call_ktime
## level2
call 5
exit

## name: call_clobbers_r1
call 5
mov %r0, %r1
exit

## name: call_keeps_r6
mov %r6, 3
call 7
mov %r0, %r6
exit

## name: call_invalid_id
call 300
exit

## name: call_prandom
call 7
and %r0, 1
exit

## name: call_smp_id
call 8
exit

## name: call_trace_printk
stdw [%r10-8], 0x41
mov %r1, %r10
add %r1, -8
mov %r2, 8
call 6
mov %r0, 0
exit

## name: call_trace_printk_size_ptr
mov %r1, %r10
add %r1, -8
mov %r2, %r10
call 6
mov %r0, 0
exit

## name: call_trace_printk_zero
mov %r1, %r10
add %r1, -8
mov %r2, 0
call 6
mov %r0, 0
exit

## name: call_trace_printk_oob
mov %r1, %r10
add %r1, -8
mov %r2, 16
call 6
mov %r0, 0
exit

## name: call_trace_printk_unbounded
mov %r1, %r10
add %r1, -8
ldxw %r2, [%r1+0]
call 6
mov %r0, 0
exit

## name: call_trace_printk_bounded_size
ldxw %r2, [%r1+0]
and %r2, 7
add %r2, 1
mov %r1, %r10
add %r1, -8
call 6
mov %r0, 0
exit

## name: call_trace_printk_neg_size
ldxw %r2, [%r1+0]
lsh %r2, 32
arsh %r2, 32
mov %r1, %r10
add %r1, -8
call 6
mov %r0, 0
exit

## name: call_trace_printk_scalar_fmt
mov %r1, 0
mov %r2, 8
call 6
mov %r0, 0
exit

## name: call_probe_read_kernel
mov %r1, %r10
add %r1, -16
mov %r2, 16
mov %r3, 0
call 113
ldxdw %r0, [%r10-16]
exit

## name: call_probe_read_kernel_zero
mov %r1, %r10
add %r1, -16
mov %r2, 0
mov %r3, 0
call 113
mov %r0, 0
exit

## name: call_probe_read_kernel_oob
mov %r1, %r10
add %r1, -8
mov %r2, 16
mov %r3, 0
call 113
mov %r0, 0
exit

## name: call_pid_tgid
call 14
exit

## name: call_skb_load_bytes
## level2
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
call 26
ldxdw %r0, [%r10-8]
exit

## name: call_skb_load_bytes_xdp
## prog_type: xdp
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
call 26
mov %r0, 2
exit

## name: call_skb_load_bytes_bad_ctx
mov %r1, %r10
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
call 26
mov %r0, 0
exit

## name: call_ringbuf_reserve_submit
## maps: ringbuf:0:0:4096
## level2
lddw %r1, 0, map_fd
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, +5
stdw [%r0+0], 1
mov %r1, %r0
mov %r2, 0
call 132
mov %r0, 0
exit

## name: call_ringbuf_leak
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, +1
stdw [%r0+0], 1
mov %r0, 0
exit

## name: call_ringbuf_oob
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, +5
stdw [%r0+16], 1
mov %r1, %r0
mov %r2, 0
call 132
mov %r0, 0
exit

## name: call_ringbuf_no_null_check
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 16
mov %r3, 0
call 131
stdw [%r0+0], 1
mov %r0, 0
exit

## name: call_ringbuf_discard
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, +4
mov %r1, %r0
mov %r2, 0
call 133
mov %r0, 0
exit

## name: call_ringbuf_submit_twice
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, +7
mov %r6, %r0
mov %r1, %r0
mov %r2, 0
call 132
mov %r1, %r6
mov %r2, 0
call 132
mov %r0, 0
exit

## name: call_ringbuf_submit_stack
## maps: ringbuf:0:0:4096
mov %r1, %r10
add %r1, -8
mov %r2, 0
call 132
mov %r0, 0
exit

## name: call_ringbuf_output
## maps: ringbuf:0:0:4096
stdw [%r10-8], 7
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -8
mov %r3, 8
mov %r4, 0
call 130
mov %r0, 0
exit

## name: call_ringbuf_lookup
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -8
call 1
mov %r0, 0
exit

## name: call_ringbuf_output_hash
## maps: hash:4:8:16
stdw [%r10-8], 7
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -8
mov %r3, 8
mov %r4, 0
call 130
mov %r0, 0
exit
