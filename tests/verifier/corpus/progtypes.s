## name: pt_rawtp_read_dw_0
## prog_type: raw_tracepoint
ldxdw %r0, [%r1+0]
mov %r0, 0
exit

## name: pt_rawtp_read_dw_88
## prog_type: raw_tracepoint
ldxdw %r0, [%r1+88]
mov %r0, 0
exit

## name: pt_rawtp_read_dw_96
## prog_type: raw_tracepoint
ldxdw %r0, [%r1+96]
mov %r0, 0
exit

## name: pt_rawtp_read_w_4
## prog_type: raw_tracepoint
ldxw %r0, [%r1+4]
mov %r0, 0
exit

## name: pt_rawtp_read_w_8
## prog_type: raw_tracepoint
ldxw %r0, [%r1+8]
mov %r0, 0
exit

## name: pt_rawtp_read_h_90
## prog_type: raw_tracepoint
ldxh %r0, [%r1+90]
mov %r0, 0
exit

## name: pt_rawtp_read_b_95
## prog_type: raw_tracepoint
ldxb %r0, [%r1+95]
mov %r0, 0
exit

## name: pt_rawtp_read_dw_m8
## prog_type: raw_tracepoint
ldxdw %r0, [%r1-8]
mov %r0, 0
exit

## name: pt_rawtp_write
## prog_type: raw_tracepoint
stdw [%r1+0], 1
mov %r0, 0
exit

## name: pt_rawtp_stx
## prog_type: raw_tracepoint
mov %r2, 1
stxdw [%r1+8], %r2
mov %r0, 0
exit

## name: pt_rawtp_ret_any
## prog_type: raw_tracepoint
mov %r0, 7
exit

## name: pt_rawtp_unaligned
## prog_type: raw_tracepoint
ldxdw %r0, [%r1+4]
exit

## name: pt_rawtp_arg_math
## prog_type: raw_tracepoint
ldxdw %r2, [%r1+0]
ldxdw %r3, [%r1+8]
add %r2, %r3
mov %r0, %r2
exit

## name: pt_rawtp_ctx_modified
## prog_type: raw_tracepoint
add %r1, 8
ldxdw %r0, [%r1+0]
exit

## name: pt_tp_read_dw_0
## prog_type: tracepoint
ldxdw %r0, [%r1+0]
mov %r0, 0
exit

## name: pt_tp_read_w_4
## prog_type: tracepoint
ldxw %r0, [%r1+4]
mov %r0, 0
exit

## name: pt_tp_read_dw_8
## prog_type: tracepoint
ldxdw %r0, [%r1+8]
mov %r0, 0
exit

## name: pt_tp_read_w_16
## prog_type: tracepoint
ldxw %r0, [%r1+16]
mov %r0, 0
exit

## name: pt_tp_read_dw_2040
## prog_type: tracepoint
ldxdw %r0, [%r1+2040]
mov %r0, 0
exit

## name: pt_tp_read_dw_8184
## prog_type: tracepoint
ldxdw %r0, [%r1+8184]
mov %r0, 0
exit

## name: pt_tp_read_dw_8192
## prog_type: tracepoint
ldxdw %r0, [%r1+8192]
mov %r0, 0
exit

## name: pt_tp_write
## prog_type: tracepoint
stw [%r1+8], 1
mov %r0, 0
exit

## name: pt_tp_ret_any
## prog_type: tracepoint
mov %r0, 3
exit

## name: pt_tp_unaligned
## prog_type: tracepoint
ldxw %r0, [%r1+10]
exit

## name: pt_perf_read_dw_0
## prog_type: perf_event
ldxdw %r0, [%r1+0]
mov %r0, 0
exit

## name: pt_perf_read_w_0
## prog_type: perf_event
ldxw %r0, [%r1+0]
mov %r0, 0
exit

## name: pt_perf_read_dw_160
## prog_type: perf_event
ldxdw %r0, [%r1+160]
mov %r0, 0
exit

## name: pt_perf_read_dw_168
## prog_type: perf_event
ldxdw %r0, [%r1+168]
mov %r0, 0
exit

## name: pt_perf_read_w_168
## prog_type: perf_event
ldxw %r0, [%r1+168]
mov %r0, 0
exit

## name: pt_perf_read_w_172
## prog_type: perf_event
ldxw %r0, [%r1+172]
mov %r0, 0
exit

## name: pt_perf_read_dw_176
## prog_type: perf_event
ldxdw %r0, [%r1+176]
mov %r0, 0
exit

## name: pt_perf_read_b_176
## prog_type: perf_event
ldxb %r0, [%r1+176]
mov %r0, 0
exit

## name: pt_perf_read_dw_184
## prog_type: perf_event
ldxdw %r0, [%r1+184]
mov %r0, 0
exit

## name: pt_perf_write
## prog_type: perf_event
stdw [%r1+168], 1
mov %r0, 0
exit

## name: pt_perf_ret_any
## prog_type: perf_event
mov %r0, 9
exit

## name: pt_kprobe_read_w
## prog_type: kprobe
ldxw %r0, [%r1+4]
mov %r0, 0
exit

## name: pt_kprobe_read_end
## prog_type: kprobe
ldxdw %r0, [%r1+160]
mov %r0, 0
exit

## name: pt_kprobe_read_past
## prog_type: kprobe
ldxdw %r0, [%r1+168]
mov %r0, 0
exit

## name: pt_kprobe_write
## prog_type: kprobe
stdw [%r1+0], 0
mov %r0, 0
exit

## name: pt_kprobe_ret_any
## prog_type: kprobe
mov %r0, 12
exit

## name: pt_syscall_read
## prog_type: syscall
## prog_flags: sleepable
ldxdw %r0, [%r1+0]
mov %r0, 0
exit

## name: pt_syscall_write
## prog_type: syscall
## prog_flags: sleepable
stdw [%r1+16], 5
mov %r0, 0
exit

## name: pt_syscall_stx
## prog_type: syscall
## prog_flags: sleepable
mov %r2, 3
stxw [%r1+100], %r2
ldxw %r0, [%r1+100]
exit

## name: pt_syscall_far
## prog_type: syscall
## prog_flags: sleepable
ldxdw %r0, [%r1+32000]
mov %r0, 0
exit

## name: pt_syscall_unaligned
## prog_type: syscall
## prog_flags: sleepable
ldxdw %r0, [%r1+3]
mov %r0, 0
exit

## name: pt_syscall_ret_any
## prog_type: syscall
## prog_flags: sleepable
mov %r0, 77
exit

## name: pt_syscall_neg_off
## prog_type: syscall
## prog_flags: sleepable
ldxdw %r0, [%r1-8]
mov %r0, 0
exit

## name: pt_rawtp_probe_read
## prog_type: raw_tracepoint
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit

## name: pt_sockfilter_probe_read
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit

## name: pt_tp_get_func_ip
## prog_type: tracepoint
call 173
mov %r0, 0
exit

## name: pt_syscall_attach_cookie
## prog_type: syscall
## prog_flags: sleepable
call 174
mov %r0, 0
exit

## name: pt_kprobe_attach_cookie
## prog_type: kprobe
call 174
mov %r0, 0
exit

## name: pt_xdp_coarse_ns
## prog_type: xdp
call 160
mov %r0, 0
exit

## name: pt_kprobe_coarse_ns
## prog_type: kprobe
call 160
mov %r0, 0
exit

## name: pt_tc_redirect
## prog_type: sched_cls
mov %r1, 1
mov %r2, 0
call 23
exit

## name: pt_sockfilter_redirect
mov %r1, 1
mov %r2, 0
call 23
exit

## name: pt_perf_get_stack
## prog_type: perf_event
mov %r2, %r10
add %r2, -64
mov %r3, 64
mov %r4, 0
call 67
mov %r0, 0
exit
