## name: jmp_const_taken
## level2
mov %r0, 1
jeq %r0, 1, +1
mov %r0, %r5
exit

## name: jmp_const_not_taken
mov %r0, 1
jeq %r0, 2, +1
mov %r0, 2
exit

## name: jmp_dead_uninit
mov %r0, 1
jne %r0, 1, +1
exit
mov %r0, %r7
exit

## name: jmp_both_paths
## level2
ldxw %r2, [%r1+0]
mov %r0, 0
jgt %r2, 10, +1
mov %r0, 1
exit

## name: jmp_refine_bounds
## level2
ldxw %r2, [%r1+0]
jgt %r2, 7, +3
mov %r0, %r10
add %r0, %r2
mov %r0, 0
exit

## name: jmp_refine_then_stack
ldxw %r2, [%r1+0]
jgt %r2, 7, +6
mov %r3, %r10
sub %r3, 8
sub %r3, %r2
stb [%r3+0], 1
mov %r0, 0
exit
mov %r0, 0
exit

## name: jmp_refine_then_stack_oob
ldxw %r2, [%r1+0]
jgt %r2, 9, +6
mov %r3, %r10
sub %r3, 8
add %r3, %r2
stb [%r3+0], 1
mov %r0, 0
exit
mov %r0, 0
exit

## name: jmp_signed
ldxw %r2, [%r1+0]
mov %r0, 0
jsgt %r2, -1, +1
mov %r0, 1
jslt %r2, 5, +1
mov %r0, 2
exit

## name: jmp_jset
ldxw %r2, [%r1+0]
mov %r0, 0
jset %r2, 1, +1
mov %r0, 1
exit

## name: jmp32
ldxw %r2, [%r1+0]
mov %r0, 0
jgt32 %r2, 3, +1
mov %r0, 1
jle32 %r2, 100, +1
mov %r0, 2
exit

## name: jmp_reg_reg
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r0, 0
jgt %r2, %r3, +1
mov %r0, 1
exit

## name: jmp_uninit_cmp
jeq %r3, 0, +1
mov %r0, 0
mov %r0, 1
exit

## name: jmp_ptr_cmp_ptr
mov %r0, 0
jeq %r1, %r10, +1
mov %r0, 1
exit

## name: jmp_ptr_nonnull
mov %r0, 0
jne %r1, 0, +1
mov %r0, %r8
exit

## name: jmp_ptr_nonnull_eq
mov %r0, 0
jeq %r10, 0, +1
exit
mov %r0, %r8
exit

## name: jmp_ja
## level2
mov %r0, 0
ja +1
mov %r0, %r9
exit

## name: jmp_diamond_prune
## level2
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r0, 0
jgt %r2, 10, +1
mov %r0, 1
jgt %r3, 10, +1
mov %r0, 2
jgt %r2, 20, +1
mov %r0, 3
jgt %r3, 20, +1
mov %r0, 4
exit

## name: jmp_many_branches
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r4, [%r1+8]
mov %r0, 0
jgt %r2, 1, +1
add %r0, 1
jgt %r3, 1, +1
add %r0, 1
jgt %r4, 1, +1
add %r0, 1
jgt %r2, 2, +1
add %r0, 1
jgt %r3, 2, +1
add %r0, 1
jgt %r4, 2, +1
add %r0, 1
jgt %r2, 3, +1
add %r0, 1
jgt %r3, 3, +1
add %r0, 1
jgt %r4, 3, +1
add %r0, 1
jgt %r2, 4, +1
add %r0, 1
jgt %r3, 4, +1
add %r0, 1
jgt %r4, 4, +1
add %r0, 1
exit

## name: jmp_precise_prune
ldxw %r2, [%r1+0]
mov %r6, 0
jgt %r2, 10, +1
mov %r6, 4
mov %r0, %r10
sub %r0, 8
sub %r0, %r6
stb [%r0+0], 1
mov %r0, 0
exit

## name: jmp_precise_prune_bad
ldxw %r2, [%r1+0]
mov %r6, 0
jgt %r2, 10, +1
mov %r6, 600
mov %r0, %r10
sub %r0, 8
sub %r0, %r6
stb [%r0+0], 1
mov %r0, 0
exit

## name: jmp_linked_regs
ldxw %r2, [%r1+0]
mov %r3, %r2
jgt %r2, 7, +4
mov %r0, %r10
add %r0, -8
add %r0, %r3
mov %r0, 0
exit

## name: jmp_out_of_range_exec
mov %r0, 0
ldxw %r2, [%r1+0]
jeq %r2, 0, +1
exit
exit
