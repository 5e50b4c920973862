## name: up_helper_prandom_ok
call 7
and %r0, 1
exit

## name: up_helper_ktime_ok
call 5
mov %r0, 0
exit

## name: up_helper_trace_printk
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
call 6
mov %r0, 0
exit

## name: up_helper_probe_read
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit

## name: up_helper_get_current_pid
call 14
mov %r0, 0
exit

## name: up_helper_skb_load_bytes
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
call 26
mov %r0, 0
exit

## name: up_helper_get_socket_cookie
call 46
mov %r0, 0
exit

## name: up_helper_perf_event_output
## maps: perf_event_array:4:4:1
stdw [%r10-8], 0
lddw %r2, 0, map_fd
mov %r3, 0
mov %r4, %r10
add %r4, -8
mov %r5, 8
call 25
mov %r0, 0
exit

## name: up_helper_tail_call_ok
## maps: prog_array:4:4:1
lddw %r2, 0, map_fd
mov %r3, 0
call 12
mov %r0, 0
exit

## name: up_helper_map_update_ok
## maps: hash:4:8:16
stw [%r10-4], 0
stdw [%r10-16], 0
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
lddw %r1, 0, map_fd
mov %r4, 0
call 2
mov %r0, 0
exit

## name: up_helper_uninit_key
## maps: hash:4:8:16
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
mov %r0, 0
exit

## name: up_helper_skb_store_bytes
stdw [%r10-8], 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 9
mov %r0, 0
exit

## name: up_helper_get_smp_processor_id
## prog_type: cgroup_skb
call 8
mov %r0, 1
exit

## name: up_helper_cgskb_uid_gid
## prog_type: cgroup_skb
call 15
mov %r0, 1
exit

## name: up_helper_cgskb_trace_printk
## prog_type: cgroup_skb
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
call 6
mov %r0, 1
exit
