## name: up_leak_ret_fp
mov %r0, %r10
exit

## name: up_leak_ret_ctx
mov %r0, %r1
exit

## name: up_leak_ret_map_ptr
## maps: array:4:16:1
lddw %r0, 0, map_fd
exit

## name: up_leak_ret_map_value
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +0
exit

## name: up_leak_fp_into_map
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +2
stxdw [%r0+0], %r10
mov %r0, 0
exit

## name: up_leak_ctx_into_map
## maps: array:4:16:1
mov %r6, %r1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +1
stxdw [%r0+8], %r6
mov %r0, 0
exit

## name: up_leak_value_into_itself
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +1
stxdw [%r0+0], %r0
mov %r0, 0
exit

## name: up_leak_fp_word_into_map
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +1
stxw [%r0+0], %r10
mov %r0, 0
exit

## name: up_leak_fp_into_ctx
stxw [%r1+48], %r10
mov %r0, 0
exit

## name: up_scalar_into_ctx_cb
mov %r2, 7
stxw [%r1+48], %r2
mov %r0, 0
exit

## name: up_leak_into_helper_flags
## maps: array:4:16:1
stw [%r10-4], 0
stdw [%r10-24], 0
stdw [%r10-16], 0
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -24
lddw %r1, 0, map_fd
mov %r4, %r10
call 2
mov %r0, 0
exit

## name: up_spill_ptr_ok
stxdw [%r10-8], %r1
ldxdw %r1, [%r10-8]
ldxw %r0, [%r1+0]
exit

## name: up_spill_ptr_partial_overwrite
stxdw [%r10-8], %r1
stb [%r10-8], 0
mov %r0, 0
exit

## name: up_spill_ptr_partial_read
stxdw [%r10-8], %r10
ldxw %r0, [%r10-8]
exit

## name: up_spill_ptr_partial_read_high
stxdw [%r10-8], %r1
ldxw %r0, [%r10-4]
mov %r0, 0
exit

## name: up_cmp_ptr_imm
mov %r0, 0
jeq %r1, 5, +0
exit

## name: up_cmp_ptr_reg
mov %r0, 0
jgt %r10, %r1, +0
exit

## name: up_cmp_scalar_ptr
mov %r0, 0
mov %r2, 1
jgt %r2, %r10, +0
exit

## name: up_cmp_null_check_ok
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jne %r0, 0, +1
exit
ldxw %r0, [%r0+0]
exit

## name: up_cmp_ptr_jmp32
mov %r0, 0
jeq32 %r1, 0, +0
exit

## name: up_ptr_sub_ptr
mov %r0, %r10
sub %r0, %r10
exit

## name: up_ptr_add_ptr
mov %r0, %r10
add %r0, %r1
mov %r0, 0
exit

## name: up_ptr_mov32
mov32 %r0, %r10
exit

## name: up_ptr_neg
neg %r1
mov %r0, 0
exit

## name: up_ptr_bswap
be16 %r1
mov %r0, 0
exit

## name: up_ptr_and
and %r1, 0xff
mov %r0, 0
exit

## name: up_ptr_mul
mul %r1, 2
mov %r0, 0
exit

## name: up_ptr_xadd_stack
stxdw [%r10-8], %r1
mov %r2, 1
lock add [%r10-8], %r2
mov %r0, 0
exit
