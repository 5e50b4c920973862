## name: map_lookup_null_check
## maps: hash:4:8:16
## level2
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +1
ldxdw %r0, [%r0+0]
exit

## name: map_lookup_no_null_check
## maps: hash:4:8:16
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
ldxdw %r0, [%r0+0]
exit

## name: map_value_oob
## maps: hash:4:8:16
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +1
ldxdw %r0, [%r0+4]
exit

## name: map_value_oob_neg
## maps: array:4:16:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +1
ldxw %r0, [%r0-4]
exit

## name: map_value_write
## maps: array:4:16:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jne %r0, 0, +2
mov %r0, 0
exit
stdw [%r0+8], 42
mov %r0, 0
exit

## name: map_value_var_off_ok
## maps: array:4:64:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +5
call 7
and %r0, 0x38
mov %r1, %r0
mov %r0, 0
exit
mov %r0, 0
exit

## name: map_value_var_off
## maps: array:4:64:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +6
ldxw %r1, [%r0+0]
and %r1, 0x38
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: map_value_var_off_oob
## maps: array:4:64:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +6
ldxw %r1, [%r0+0]
and %r1, 0x7f
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: map_value_unbounded
## maps: array:4:64:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +5
ldxw %r1, [%r0+0]
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: map_value_negative_index
## maps: array:4:64:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +7
ldxw %r1, [%r0+0]
lsh %r1, 32
arsh %r1, 32
jsgt %r1, 8, +3
add %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: map_arith_on_null
## maps: hash:4:8:16
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
add %r0, 8
mov %r0, 0
exit

## name: map_key_uninit_root
## maps: hash:4:8:16
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 0
exit

## name: map_key_null
## maps: hash:4:8:16
lddw %r1, 0, map_fd
mov %r2, 0
call 1
mov %r0, 0
exit

## name: map_key_oob
## maps: hash:8:8:16
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 0
exit

## name: map_not_a_map
mov %r1, 0
mov %r2, %r10
add %r2, -8
call 1
mov %r0, 0
exit

## name: map_key_is_ctx
## maps: hash:4:8:16
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r1
call 1
mov %r0, 0
exit

## name: map_update_ok
## maps: hash:4:8:16
## level2
stw [%r10-4], 1
stdw [%r10-16], 2
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
exit

## name: map_update_value_scalar
## maps: hash:4:8:16
stw [%r10-4], 1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
mov %r3, 0
mov %r4, 0
call 2
exit

## name: map_update_value_oob
## maps: hash:4:16:16
stw [%r10-4], 1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 2
exit

## name: map_update_missing_r4
## maps: hash:4:8:16
stw [%r10-4], 1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
call 2
exit

## name: map_delete_ok
## maps: hash:4:8:16
stw [%r10-4], 1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 3
exit

## name: map_lookup_value_as_key
## maps: hash:4:8:16
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +4
mov %r2, %r0
lddw %r1, 0, map_fd
call 3
mov %r0, 0
exit

## name: map_r0_after_null_branch
## maps: hash:4:8:16
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jne %r0, 0, +1
ldxdw %r0, [%r0+0]
exit

## name: map_copy_null_check
## maps: hash:4:8:16
## level2
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
mov %r6, %r0
jeq %r0, 0, +1
ldxdw %r0, [%r6+0]
exit

## name: map_value_spill
## maps: hash:4:8:16
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
stxdw [%r10-16], %r0
jeq %r0, 0, +2
ldxdw %r1, [%r10-16]
ldxdw %r0, [%r1+0]
exit

## name: map_ldimm_value
## maps: array:4:16:1
lddw %r1, 0, map_value
ldxdw %r0, [%r1+8]
exit

## name: map_ldimm_value_oob
## maps: array:4:16:1
lddw %r1, 0, map_value
ldxdw %r0, [%r1+12]
exit

## name: map_ptr_deref
## maps: hash:4:8:16
lddw %r1, 0, map_fd
ldxdw %r0, [%r1+0]
exit

## name: map_lookup_prog_array
## maps: prog_array:4:4:4
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 0
exit

## name: map_tail_call
## maps: prog_array:4:4:4
lddw %r2, 0, map_fd
mov %r3, 0
call 12
mov %r0, 0
exit

## name: map_tail_call_wrong_map
## maps: hash:4:8:16
lddw %r2, 0, map_fd
mov %r3, 0
call 12
mov %r0, 0
exit

## name: map_tail_call_no_ctx
## maps: prog_array:4:4:4
lddw %r2, 0, map_fd
mov %r1, 0
mov %r3, 0
call 12
mov %r0, 0
exit

## name: map_const_key_spill32
## maps: array:4:8:4
mov %r1, 2
stxw [%r10-8], %r1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -8
call 1
ldxdw %r0, [%r0+0]
exit

## name: map_const_key_spill32_oob
## maps: array:4:8:4
mov %r1, 4
stxw [%r10-8], %r1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -8
call 1
ldxdw %r0, [%r0+0]
exit

## name: map_const_key_wide_spill
## maps: array:4:8:4
stdw [%r10-8], 1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -8
call 1
ldxdw %r0, [%r0+0]
exit

## name: map_const_key_upper_half
## maps: array:4:8:4
stdw [%r10-8], 1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
ldxdw %r0, [%r0+0]
exit

## name: map_const_key_upper_half_big
## maps: array:4:8:8
mov %r1, 5
lsh %r1, 32
stxdw [%r10-8], %r1
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
ldxdw %r0, [%r0+0]
exit

## name: map_const_key_computed_precise
## maps: array:4:8:4
call 7
mov %r6, 1
jgt %r0, 100, +1
mov %r6, 3
stxw [%r10-8], %r6
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -8
call 1
ldxdw %r0, [%r0+0]
exit

## name: map_const_key_percpu
## maps: percpu_array:4:8:4
stw [%r10-4], 3
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
ldxdw %r0, [%r0+0]
exit
