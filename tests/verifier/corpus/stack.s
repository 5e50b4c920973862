## name: stack_spill_fill
## level2
mov %r2, 5
stxdw [%r10-8], %r2
ldxdw %r0, [%r10-8]
exit

## name: stack_write_oob_low
stxdw [%r10-520], %r1
mov %r0, 0
exit

## name: stack_write_at_fp
stxdw [%r10+0], %r1
mov %r0, 0
exit

## name: stack_write_limit
mov %r2, 1
stxdw [%r10-512], %r2
ldxdw %r0, [%r10-512]
exit

## name: stack_misaligned
stxdw [%r10-4], %r1
mov %r0, 0
exit

## name: stack_misaligned_read
ldxw %r0, [%r10-6]
exit

## name: stack_read_uninit_root
ldxdw %r0, [%r10-8]
exit

## name: stack_read_oob
ldxdw %r0, [%r10-528]
exit

## name: stack_read_above_fp
ldxw %r0, [%r10+4]
exit

## name: stack_partial_write
## level2
stw [%r10-8], 7
ldxw %r0, [%r10-8]
exit

## name: stack_zero_imm
## level2
stdw [%r10-16], 0
ldxdw %r0, [%r10-16]
exit

## name: stack_stb_zero
## level2
stb [%r10-1], 0
ldxb %r0, [%r10-1]
exit

## name: stack_spill_ptr
## level2
stxdw [%r10-8], %r1
ldxdw %r2, [%r10-8]
ldxw %r0, [%r2+0]
exit

## name: stack_spill_ptr_partial_fill
stxdw [%r10-8], %r1
ldxw %r0, [%r10-8]
exit

## name: stack_spill_ptr_partial_spill
stxw [%r10-8], %r1
mov %r0, 0
exit

## name: stack_spill_scalar32
## level2
ldxw %r2, [%r1+0]
stxw [%r10-8], %r2
ldxw %r0, [%r10-8]
exit

## name: stack_overwrite_spill
stxdw [%r10-8], %r1
stw [%r10-8], 1
ldxdw %r0, [%r10-8]
exit

## name: stack_ptr_var_off
ldxw %r2, [%r1+0]
and %r2, 7
mov %r3, %r10
sub %r3, 16
add %r3, %r2
stb [%r3+0], 1
mov %r0, 0
exit

## name: stack_ptr_var_off_oob
ldxw %r2, [%r1+0]
and %r2, 15
mov %r3, %r10
sub %r3, 8
add %r3, %r2
stb [%r3+0], 1
mov %r0, 0
exit

## name: stack_via_r2
mov %r2, %r10
add %r2, -24
stdw [%r2+0], 3
ldxdw %r0, [%r2+0]
exit

## name: stack_via_r2_oob
mov %r2, %r10
add %r2, -8
stdw [%r2+8], 3
mov %r0, 0
exit

## name: stack_two_slots
## level2
mov %r2, 1
mov %r3, 2
stxdw [%r10-8], %r2
stxdw [%r10-16], %r3
ldxdw %r0, [%r10-8]
ldxdw %r4, [%r10-16]
add %r0, %r4
exit

## name: stack_fill_const_to_ptr_arith
mov %r2, 8
stxdw [%r10-8], %r2
ldxdw %r3, [%r10-8]
mov %r4, %r10
sub %r4, %r3
stdw [%r4+0], 1
mov %r0, 0
exit

## name: stack_atomic_add
stdw [%r10-8], 1
mov %r2, 2
lock add [%r10-8], %r2
ldxdw %r0, [%r10-8]
exit

## name: stack_atomic_fetch
stdw [%r10-8], 1
mov %r2, 2
lock fetch_add [%r10-8], %r2
mov %r0, %r2
exit

## name: stack_atomic_ctx
mov %r2, 1
lock add [%r1+0], %r2
mov %r0, 0
exit

## name: stack_41_spills_force_a_checkpoint
mov %r1, 0
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
jgt %r1, 5, +1
mov %r0, 0
mov %r0, 0
exit

## name: stack_40_spills_no_checkpoint
mov %r1, 0
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
stxdw [%r10-8], %r1
jgt %r1, 5, +1
mov %r0, 0
mov %r0, 0
exit
