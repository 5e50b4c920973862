## name: cb_loop_simple
## func_info
## level2
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_loop_ctx_counter
## func_info
## level2
stdw [%r10-8], 0
mov %r1, 10
lddw %r2, 8, func
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r0, [%r10-8]
mov %r0, 0
exit
ldxdw %r3, [%r2+0]
add %r3, 1
stxdw [%r2+0], %r3
mov %r0, 0
exit

## name: cb_loop_ret_2
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 2
exit

## name: cb_loop_ret_unknown
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, %r1
exit

## name: cb_loop_ret_masked
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, %r1
and %r0, 1
exit

## name: cb_loop_ret_ptr
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, %r10
exit

## name: cb_loop_ret_uninit
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
exit

## name: cb_loop_index_unknown
## func_info
mov %r1, 8
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r2, %r10
add %r2, -64
add %r2, %r1
stdw [%r2+0], 0
mov %r0, 0
exit

## name: cb_loop_index_checked
## func_info
stdw [%r10-64], 0
stdw [%r10-56], 0
stdw [%r10-48], 0
stdw [%r10-40], 0
stdw [%r10-32], 0
stdw [%r10-24], 0
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r1, 8
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
jgt %r1, 7, +5
lsh %r1, 3
mov %r2, %r10
add %r2, -64
add %r2, %r1
ldxdw %r0, [%r2+0]
mov %r0, 0
exit

## name: cb_loop_cb_reads_r3
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, %r3
exit

## name: cb_loop_ctx_null_deref
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
ldxdw %r0, [%r2+0]
mov %r0, 0
exit

## name: cb_loop_ctx_not_stack
## func_info
mov %r3, %r1
mov %r1, 4
lddw %r2, 6, func
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_loop_unknown_count
## func_info
call 7
mov %r1, %r0
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_loop_count_1
## func_info
mov %r1, 1
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 1
exit

## name: cb_loop_count_0
## func_info
mov %r1, 0
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 1
exit

## name: cb_loop_ret_r0_unchanged
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
exit
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_loop_stack_in_cb
## func_info
mov %r1, 3
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
stdw [%r10-8], 1
ldxdw %r0, [%r10-8]
and %r0, 1
exit

## name: cb_loop_counter_bound
## func_info
stdw [%r10-8], 0
mov %r1, 5
lddw %r2, 8, func
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
ldxdw %r3, [%r2+0]
jgt %r3, 100, +2
add %r3, 1
stxdw [%r2+0], %r3
exit

## name: cb_loop_no_func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_loop_nested_subprog
## func_info
mov %r1, 2
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
call 1
exit
mov %r0, 0
exit

## name: cb_loop_precise_ctx
## func_info
stdw [%r10-8], 0
mov %r1, 3
lddw %r2, 11, func
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r1, [%r10-8]
mov %r2, %r10
add %r2, %r1
mov %r0, 0
exit
ldxdw %r3, [%r2+0]
add %r3, -8
stxdw [%r2+0], %r3
mov %r0, 0
exit

## name: cb_each_array
## func_info
## maps: array:4:8:4
## level2
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
ldxw %r0, [%r2+0]
ldxdw %r0, [%r3+0]
mov %r0, 0
exit

## name: cb_each_value_write
## func_info
## maps: hash:8:8:16
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
stdw [%r3+0], 1
mov %r0, 0
exit

## name: cb_each_value_oob
## func_info
## maps: array:4:8:4
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
ldxdw %r0, [%r3+8]
mov %r0, 0
exit

## name: cb_each_key_write
## func_info
## maps: array:4:8:4
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
stw [%r2+0], 1
mov %r0, 0
exit

## name: cb_each_ctx
## func_info
## maps: hash:8:8:16
stdw [%r10-8], 0
lddw %r1, 0, map_fd
lddw %r2, 8, func
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 164
mov %r0, 0
exit
ldxdw %r0, [%r3+0]
ldxdw %r1, [%r4+0]
add %r1, %r0
stxdw [%r4+0], %r1
mov %r0, 0
exit

## name: cb_each_ret_2
## func_info
## maps: array:4:8:4
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
mov %r0, 2
exit

## name: cb_each_queue
## func_info
## maps: queue:0:8:4
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_each_ringbuf
## func_info
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_each_r5_uninit
## func_info
## maps: array:4:8:4
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
mov %r0, %r5
exit

## name: cb_each_map_arg_lookup
## func_info
## maps: hash:8:8:16
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
call 1
mov %r0, 0
exit

## name: cb_each_ctx_scalar
## func_info
## maps: array:4:8:4
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 1
mov %r4, 0
call 164
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_func_ptr_deref
## func_info
lddw %r2, 3, func
ldxdw %r0, [%r2+0]
exit
mov %r0, 0
exit

## name: cb_func_ptr_return
## func_info
lddw %r0, 2, func
exit
mov %r0, 0
exit

## name: cb_func_ptr_arith
## func_info
lddw %r2, 4, func
add %r2, 8
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_func_ptr_to_map_helper
## func_info
## maps: array:4:8:4
lddw %r1, 0, map_fd
lddw %r2, 8, func
mov %r3, %r2
mov %r4, 0
call 164
mov %r0, 0
exit
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_loop_tc
## prog_type: sched_cls
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
exit

## name: cb_loop_xdp
## prog_type: xdp
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 2
exit
mov %r0, 0
exit

## name: cb_loop_branchy_cb
## func_info
stdw [%r10-8], 0
mov %r1, 16
lddw %r2, 7, func
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r6, %r2
mov %r7, %r1
call 7
jgt %r0, 100, +3
ldxdw %r1, [%r6+0]
add %r1, %r7
stxdw [%r6+0], %r1
and %r0, 1
exit

## name: cb_loop_in_cb
## func_info
mov %r1, 3
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r1, 2
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 1
exit

## name: cb_each_hash_lookup_in_cb
## func_info
## maps: hash:8:8:16
lddw %r1, 0, map_fd
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
mov %r6, %r3
ldxdw %r1, [%r6+0]
add %r1, 1
stxdw [%r6+0], %r1
jgt %r1, 10, +2
mov %r0, 0
exit
mov %r0, 1
exit

## name: cb_loop_ctx_map_value
## func_info
## maps: array:4:8:1
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +7
mov %r1, 8
lddw %r2, 6, func
mov %r3, %r0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
exit
