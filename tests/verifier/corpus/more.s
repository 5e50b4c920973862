## name: more_alu32_wrap
ldxw %r0, [%r1+0]
add32 %r0, -1
rsh32 %r0, 28
exit

## name: more_mask_then_stack_index
ldxw %r2, [%r1+0]
and32 %r2, 0x18
mov %r3, %r10
add %r3, -32
add %r3, %r2
ldxdw %r0, [%r3+0]
exit

## name: more_mask_then_stack_index_oob
ldxw %r2, [%r1+0]
and32 %r2, 0x38
mov %r3, %r10
add %r3, -32
add %r3, %r2
ldxdw %r0, [%r3+0]
exit

## name: more_jmp32_refine_map_index
## maps: array:4:32:1
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
ldxw %r1, [%r0+0]
jgt32 %r1, 24, +3
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: more_signed_index_check
## maps: array:4:32:1
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
ldxw %r1, [%r0+0]
movsx3264 %r1, %r1
jsgt %r1, 24, +4
jslt %r1, 0, +3
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: more_signed_index_no_lower
## maps: array:4:32:1
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
ldxw %r1, [%r0+0]
movsx3264 %r1, %r1
jsgt %r1, 24, +3
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: more_spill_fill_bounds
ldxw %r2, [%r1+0]
and %r2, 7
stxdw [%r10-8], %r2
ldxdw %r3, [%r10-8]
mov %r4, %r10
add %r4, -16
add %r4, %r3
stb [%r4+0], 0
mov %r0, 0
exit

## name: more_fill_byte_of_spill
mov %r2, 0x1234
stxdw [%r10-8], %r2
ldxb %r0, [%r10-8]
exit

## name: more_sub_stack_arg_write
call local sub
ldxdw %r0, [%r10-8]
exit
sub:
mov %r0, 0
exit

## name: more_sub_ptr_arg
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local sub
ldxdw %r0, [%r10-8]
exit
sub:
stdw [%r1+0], 5
mov %r0, 0
exit

## name: more_sub_ptr_arg_oob
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local sub
mov %r0, 0
exit
sub:
stdw [%r1+8], 5
mov %r0, 0
exit

## name: more_sub_branches
ldxw %r6, [%r1+0]
mov %r1, %r6
call local sub
exit
sub:
mov %r0, 0
jgt %r1, 5, +1
mov %r0, 1
exit

## name: more_pkt_var_add_check
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 0xff
mov %r4, %r2
add %r4, %r5
mov %r6, %r4
add %r6, 2
jgt %r6, %r3, +1
ldxh %r0, [%r4+0]
mov %r0, 2
exit

## name: more_pkt_negative_off
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, +1
ldxb %r0, [%r2-1]
mov %r0, 2
exit

## name: more_ringbuf_release_null_branch
## maps: ringbuf:0:0:4096
lddw %r1, 0, map_fd
mov %r2, 8
mov %r3, 0
call 131
jne %r0, 0, +2
mov %r0, 0
exit
mov %r1, %r0
mov %r2, 0
call 133
mov %r0, 0
exit

## name: more_ringbuf_var_size
## maps: ringbuf:0:0:4096
ldxw %r2, [%r1+0]
and %r2, 15
lddw %r1, 0, map_fd
mov %r3, 0
call 131
mov %r0, 0
exit

## name: more_xor_ptr_scalar
mov %r0, 1
xor %r0, %r10
exit

## name: more_scalar_add_ptr_32
mov %r0, 1
add32 %r0, %r10
exit

## name: more_ldx_from_r10_var
ldxw %r2, [%r1+0]
and %r2, 8
mov %r3, %r10
add %r3, -16
add %r3, %r2
ldxdw %r0, [%r3+0]
exit

## name: more_const_cmp_pruned_stack
ldxw %r2, [%r1+0]
stdw [%r10-8], 1
jeq %r2, 1, +1
stdw [%r10-8], 2
ldxdw %r3, [%r10-8]
mov %r4, %r10
add %r4, -16
sub %r4, %r3
stb [%r4+0], 0
mov %r0, 0
exit

## name: more_const_cmp_pruned_stack_bad
ldxw %r2, [%r1+0]
stdw [%r10-8], 1
jeq %r2, 1, +1
stdw [%r10-8], 500
ldxdw %r3, [%r10-8]
mov %r4, %r10
add %r4, -16
sub %r4, %r3
stb [%r4+0], 0
mov %r0, 0
exit
