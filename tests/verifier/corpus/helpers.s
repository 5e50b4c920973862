## name: hp_queue_push
## maps: queue:0:8:4
stdw [%r10-8], 7
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
mov %r3, 0
call 87
mov %r0, 0
exit

## name: hp_queue_pop_uninit
## maps: queue:0:8:4
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 88
ldxdw %r0, [%r10-8]
mov %r0, 0
exit

## name: hp_stack_peek
## maps: stack:0:16:4
mov %r2, %r10
add %r2, -16
lddw %r1, 0, map_fd
call 89
mov %r0, 0
exit

## name: hp_peek_small_buf
## maps: stack:0:16:4
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 89
mov %r0, 0
exit

## name: hp_pop_on_array
## maps: array:4:8:4
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 88
mov %r0, 0
exit

## name: hp_lookup_on_queue
## maps: queue:0:8:4
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 1
mov %r0, 0
exit

## name: hp_csum_diff_null
## prog_type: sched_cls
mov %r1, 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
stdw [%r10-8], 0
mov %r4, 8
mov %r5, 0
call 28
mov %r0, 0
exit

## name: hp_csum_diff_null_size
## prog_type: sched_cls
mov %r1, 0
mov %r2, 4
mov %r3, %r10
add %r3, -8
stdw [%r10-8], 0
mov %r4, 8
mov %r5, 0
call 28
mov %r0, 0
exit

## name: hp_csum_diff_uninit
## prog_type: xdp
mov %r1, 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 28
mov %r0, 0
exit

## name: hp_skb_store_bytes
## prog_type: sched_cls
stdw [%r10-8], 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 9
mov %r0, 0
exit

## name: hp_skb_store_bytes_sockfilter
stdw [%r10-8], 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 9
mov %r0, 0
exit

## name: hp_l3_csum
## prog_type: sched_act
mov %r2, 0
mov %r3, 0
mov %r4, 0
mov %r5, 2
call 10
mov %r0, 0
exit

## name: hp_l4_csum_not_ctx
## prog_type: sched_cls
mov %r1, 0
mov %r2, 0
mov %r3, 0
mov %r4, 0
mov %r5, 2
call 11
mov %r0, 0
exit

## name: hp_redirect_map_xdp
## prog_type: xdp
## maps: devmap:4:4:4
lddw %r1, 0, map_fd
mov %r2, 0
mov %r3, 0
call 51
exit

## name: hp_redirect_map_array
## prog_type: xdp
## maps: array:4:4:4
lddw %r1, 0, map_fd
mov %r2, 0
mov %r3, 0
call 51
exit

## name: hp_xdp_adjust_head
## prog_type: xdp
mov %r2, -14
call 44
mov %r0, 2
exit

## name: hp_xdp_adjust_tail_tc
## prog_type: sched_cls
mov %r2, -14
call 65
mov %r0, 2
exit

## name: hp_xdp_adjust_meta
## prog_type: xdp
mov %r6, %r1
mov %r2, -8
call 54
ldxw %r0, [%r6+0]
mov %r0, 2
exit

## name: hp_perf_event_output
## prog_type: kprobe
## maps: perf_event_array:4:4:4
stdw [%r10-8], 0
lddw %r2, 0, map_fd
lddw %r3, 0xffffffff
mov %r4, %r10
add %r4, -8
mov %r5, 8
call 25
mov %r0, 0
exit

## name: hp_perf_event_output_bad_map
## prog_type: kprobe
## maps: array:4:4:4
stdw [%r10-8], 0
lddw %r2, 0, map_fd
mov %r3, 0
mov %r4, %r10
add %r4, -8
mov %r5, 8
call 25
mov %r0, 0
exit

## name: hp_get_stackid
## prog_type: kprobe
## maps: stack_trace:4:800:4
lddw %r2, 0, map_fd
mov %r3, 0
call 27
mov %r0, 0
exit

## name: hp_probe_read_kernel_str
## prog_type: kprobe
mov %r1, %r10
add %r1, -16
mov %r2, 16
mov %r3, 0
call 115
ldxdw %r0, [%r10-16]
mov %r0, 0
exit

## name: hp_probe_read_user_str_big
## prog_type: kprobe
mov %r1, %r10
add %r1, -16
mov %r2, 24
mov %r3, 0
call 114
mov %r0, 0
exit

## name: hp_get_current_comm
## prog_type: tracepoint
mov %r1, %r10
add %r1, -16
mov %r2, 16
call 16
ldxdw %r0, [%r10-8]
mov %r0, 0
exit

## name: hp_get_current_comm_zero
## prog_type: tracepoint
mov %r1, %r10
add %r1, -16
mov %r2, 0
call 16
mov %r0, 0
exit

## name: hp_simple_ids
## prog_type: raw_tracepoint
call 5
call 7
call 8
call 14
call 15
call 42
call 80
call 118
call 125
mov %r0, 0
exit

## name: hp_send_signal
## prog_type: kprobe
mov %r1, 9
call 109
mov %r0, 0
exit

## name: hp_send_signal_ptr
## prog_type: kprobe
mov %r1, %r10
call 117
mov %r0, 0
exit

## name: hp_ringbuf_query
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 0
call 134
mov %r0, 0
exit

## name: hp_ringbuf_query_array
## maps: array:4:4:4
lddw %r1, 0, map_fd
mov %r2, 0
call 134
mov %r0, 0
exit

## name: hp_strncmp_stack
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, %r10
add %r3, -8
call 182
mov %r0, 0
exit

## name: hp_strncmp_map_not_rdonly
## maps: array:4:16:1
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
lddw %r3, 0, map_value
call 182
mov %r0, 0
exit

## name: hp_snprintf_stack_fmt
## prog_type: kprobe
mov %r1, 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
stdw [%r10-8], 0
mov %r4, 0
mov %r5, 0
call 165
mov %r0, 0
exit

## name: hp_timer_init_no_btf
## maps: array:4:16:1
lddw %r1, 0, map_value
lddw %r2, 0, map_fd
mov %r3, 1
call 169
mov %r0, 0
exit

## name: hp_timer_cancel_stack
mov %r1, %r10
add %r1, -16
call 172
mov %r0, 0
exit

## name: hp_loop_no_btf
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
exit

## name: hp_loop_scalar_cb
mov %r1, 4
mov %r2, 0
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit

## name: hp_for_each_scalar_cb
## maps: array:4:8:4
lddw %r1, 0, map_fd
mov %r2, 8
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit

## name: hp_get_socket_cookie_xdp
## prog_type: xdp
call 46
mov %r0, 0
exit

## name: hp_skb_load_bytes_relative
## prog_type: cgroup_skb
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 68
ldxdw %r0, [%r10-8]
mov %r0, 0
exit

## name: hp_helper_leak_anything
## prog_type: xdp
mov %r1, %r10
mov %r2, 0
call 23
exit
