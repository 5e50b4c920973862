## name: up_map_value_plus_const_reg
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +4
mov %r1, 8
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_map_value_plus_bounded
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +5
ldxb %r1, [%r0+0]
and %r1, 7
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_map_value_minus_bounded
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +6
ldxb %r1, [%r0+0]
and %r1, 7
add %r0, 8
sub %r0, %r1
ldxb %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_map_value_plus_mixed_sign
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +4
ldxdw %r1, [%r0+0]
add %r0, %r1
mov %r0, 0
exit
mov %r0, 0
exit

## name: up_map_value_plus_u32
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +4
ldxw %r1, [%r0+0]
add %r0, %r1
mov %r0, 0
exit
mov %r0, 0
exit

## name: up_map_value_plus_too_far
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +4
ldxb %r1, [%r0+0]
and %r1, 31
add %r0, %r1
mov %r0, 0
exit

## name: up_map_value_imm_past_end
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +2
add %r0, 16
mov %r0, 0
exit

## name: up_map_value_imm_to_end_ok
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +3
add %r0, 15
ldxb %r0, [%r0+0]
exit
exit

## name: up_map_value_imm_negative
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +2
add %r0, -1
mov %r0, 0
exit

## name: up_scalar_plus_map_value
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +5
ldxb %r1, [%r0+0]
and %r1, 7
add %r1, %r0
ldxb %r0, [%r1+0]
exit
mov %r0, 0
exit

## name: up_stack_plus_const_reg
mov %r2, -8
mov %r1, %r10
add %r1, %r2
stdw [%r1+0], 1
ldxdw %r0, [%r10-8]
exit

## name: up_stack_plus_variable
ldxw %r2, [%r1+0]
and %r2, 7
mov %r1, %r10
add %r1, -16
add %r1, %r2
mov %r0, 0
exit

## name: up_stack_imm_above_frame
mov %r1, %r10
add %r1, 8
mov %r0, 0
exit

## name: up_stack_imm_below_frame
mov %r1, %r10
add %r1, -520
mov %r0, 0
exit

## name: up_stack_reg_beyond_bounds
mov %r1, %r10
add %r1, -512
mov %r2, 8
sub %r1, %r2
mov %r0, 0
exit

## name: up_ctx_plus_reg
mov %r2, 4
add %r1, %r2
mov %r0, 0
exit

## name: up_ctx_plus_imm_deref
add %r1, 4
ldxw %r0, [%r1+0]
exit

## name: up_map_ptr_plus_imm
## maps: array:4:16:1
lddw %r1, 0, map_fd
add %r1, 8
mov %r0, 0
exit

## name: up_ringbuf_mem_plus_reg
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, +5
mov %r1, 4
mov %r6, %r0
add %r6, %r1
mov %r1, %r0
mov %r2, 0
call 133
mov %r0, 0
exit

## name: up_paths_imm_vs_reg
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +8
ldxw %r1, [%r0+0]
mov %r2, 2
jeq %r1, 0, +1
mov %r2, 4
mov %r3, %r0
add %r3, %r2
mov %r0, 0
exit
mov %r0, 0
exit

## name: up_paths_same_limit_ok
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +8
ldxw %r1, [%r0+0]
mov %r2, 4
jeq %r1, 0, +1
mov %r2, 4
mov %r3, %r0
add %r3, %r2
ldxb %r0, [%r3+0]
exit
mov %r0, 0
exit

## name: up_paths_two_maps
## maps: array:4:16:1,array:4:8:1
stw [%r10-4], 0
ldxw %r6, [%r1+0]
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
jeq %r6, 0, +2
lddw %r1, 1, map_fd
call 1
jeq %r0, 0, +5
ldxb %r1, [%r0+0]
and %r1, 3
add %r0, %r1
ldxb %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_paths_sign_differs
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +10
ldxb %r1, [%r0+0]
and %r1, 3
ldxw %r2, [%r0+4]
add %r0, 8
jeq %r2, 0, +2
neg %r1
add %r1, -1
add %r0, %r1
ldxb %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_paths_ptr_vs_scalar
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +8
ldxw %r1, [%r0+0]
mov %r2, 1
mov %r3, %r0
jeq %r1, 0, +1
mov %r3, 5
add %r3, %r2
mov %r0, 0
exit
exit

## name: up_paths_scalar_then_ptr
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +8
ldxw %r1, [%r0+0]
mov %r2, 1
mov %r3, 5
jeq %r1, 0, +1
mov %r3, %r0
add %r3, %r2
mov %r0, 0
exit
mov %r0, 0
exit
