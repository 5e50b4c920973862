## name: linked_sub_delta_is_a_fp_offset
## level2
call 7
mov %r6, %r0
sub %r6, 0x35aa882d
jlt %r6, -1, +1
ja +1
exit
mov %r2, %r10
add %r2, %r6
exit

## name: linked_add_delta_of_a_known_zero
## level2
call 7
mov %r6, %r0
add %r6, 600000000
jne %r6, 0, +3
mov %r2, %r10
add %r2, %r6
mov %r0, 0
exit

## name: linked_add_bounds_a_stack_write
## level2
call 7
mov %r6, %r0
add %r6, 5
jlt %r0, 10, +1
exit
mov %r2, %r10
add %r2, -32
add %r2, %r6
mov %r0, 0
stxb [%r2+0], %r0
exit

## name: linked_alu32_delta_wraps_in_the_low_half
## level2
call 7
mov32 %r0, %r0
mov %r6, %r0
add32 %r6, 5
jgt %r6, 3, +3
mov %r2, %r10
add %r2, %r0
exit
mov %r0, 0
exit

## name: linked_second_add_drops_the_link
## level2
call 7
mov %r6, %r0
add %r6, 5
add %r6, 2
jlt %r0, 10, +1
exit
mov %r2, %r10
add %r2, -32
add %r2, %r6
mov %r0, 0
exit

## name: linked_copy_of_a_delta_starts_a_new_link
## level2
call 7
mov %r6, %r0
add %r6, 5
mov %r7, %r6
jlt %r0, 10, +1
exit
mov %r2, %r10
add %r2, -32
add %r2, %r7
mov %r0, 0
exit

## name: linked_mov32_of_a_u32_value
## level2
call 7
and %r0, 0xff
mov32 %r6, %r0
jlt %r0, 10, +1
exit
mov %r2, %r10
add %r2, -32
add %r2, %r6
mov %r0, 0
stxb [%r2+0], %r0
exit

## name: linked_movsx_keeps_a_value_without_sign
## level2
call 7
and %r0, 0x7f
movsx832 %r6, %r0
jlt %r0, 10, +1
exit
mov %r2, %r10
add %r2, -32
add %r2, %r6
mov %r0, 0
stxb [%r2+0], %r0
exit

## name: linked_movsx_of_a_value_with_sign_is_unlinked
## level2
call 7
and %r0, 0xff
movsx832 %r6, %r0
jlt %r0, 10, +1
exit
mov %r2, %r10
add %r2, -32
add %r2, %r6
mov %r0, 0
stxb [%r2+0], %r0
exit
