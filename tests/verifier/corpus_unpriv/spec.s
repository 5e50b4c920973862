## name: up_spec_fallthrough_deref
mov %r0, 0
jeq %r0, 0, +2
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_spec_target_deref
mov %r0, 0
jne %r0, 0, +2
mov %r0, 1
exit
ldxdw %r0, [%r0+0]
exit

## name: up_spec_leak_on_exit
mov %r0, 0
jeq %r0, 0, +2
mov %r0, %r10
exit
mov %r0, 0
exit

## name: up_spec_src_reg_branch
mov %r2, 5
mov %r3, 7
jlt %r2, %r3, +2
ldxdw %r0, [%r2+0]
exit
mov %r0, 0
exit

## name: up_spec_nested
## level2
mov %r0, 0
jeq %r0, 0, +5
mov %r1, 0
jeq %r1, 0, +2
ldxdw %r0, [%r1+0]
exit
mov %r0, 0
mov %r0, 0
exit

## name: up_spec_pointer_cmp
## level2
mov %r0, 0
jeq %r0, 0, +3
jeq %r1, 0, +1
mov %r0, 1
exit
exit

## name: up_spec_uninit_stack
mov %r0, 0
jne %r0, 0, +1
exit
ldxdw %r0, [%r10-8]
exit

## name: up_spec_helper_not_allowed
mov %r0, 0
jne %r0, 0, +1
exit
call 14
mov %r0, 0
exit

## name: up_spec_then_real_error
## level2
ldxw %r2, [%r1+0]
jeq %r2, 0, +4
mov %r0, 0
jeq %r0, 0, +1
ldxdw %r0, [%r0+0]
exit
mov %r0, %r10
exit

## name: up_spec_two_paths_one_bad_insn
## level2
mov %r0, 0
mov %r1, 0
jne %r0, 0, +2
jne %r1, 0, +1
exit
ldxdw %r0, [%r0+0]
exit

## name: up_spec_sanitize_push
## level2
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +7
ldxb %r1, [%r0+0]
and %r1, 7
add %r0, %r1
ldxb %r2, [%r0+0]
add %r2, 1
mov %r0, %r2
exit
mov %r0, 0
exit

## name: up_spec_sanitize_negative_off
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +6
ldxb %r1, [%r0+0]
and %r1, 3
add %r1, 4
add %r0, %r1
ldxb %r0, [%r0-4]
exit
mov %r0, 0
exit

## name: up_spec_sanitize_sub
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +6
ldxb %r1, [%r0+0]
and %r1, 3
add %r0, 8
sub %r0, %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_spec_ptr_spill_stops
## level2
mov %r0, 0
jeq %r0, 0, +3
stxdw [%r10-8], %r1
ldxdw %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_spec_scalar_spill_over_invalid
mov %r0, 0
jeq %r0, 0, +4
mov %r2, 1
stxdw [%r10-8], %r2
ldxdw %r0, [%r0+0]
exit
exit

## name: up_spec_scalar_store_over_zero
stdw [%r10-8], 0
mov %r0, 0
jeq %r0, 0, +4
mov %r2, 1
stxdw [%r10-8], %r2
ldxdw %r0, [%r0+0]
exit
exit

## name: up_spec_many_branches
## level2
mov %r0, 0
mov %r1, 1
jeq %r1, 1, +1
mov %r0, 1
jne %r1, 1, +1
add %r0, 2
jgt %r1, 0, +1
add %r0, 4
jlt %r1, 2, +1
add %r0, 8
jsgt %r1, 5, +1
add %r0, 16
jset %r1, 1, +1
add %r0, 32
jge %r1, 1, +1
add %r0, 64
jle %r1, 0, +1
add %r0, 128
exit

## name: up_spec_jmp32
mov %r0, 0
mov %r1, 3
jeq32 %r1, 3, +2
ldxdw %r0, [%r1+0]
exit
mov %r0, 0
exit

## name: up_spec_pruned_by_nonspec
## level2
ldxw %r1, [%r1+0]
jgt %r1, 10, +3
mov %r2, 0
jeq %r2, 0, +1
mov %r2, 1
mov %r0, 0
exit

## name: up_spec_null_known
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +4
jne %r0, 0, +1
ldxdw %r0, [%r0+0]
mov %r0, 0
exit
mov %r0, 0
exit

## name: up_spec_bounds_check_bypass
## maps: array:4:16:1
ldxw %r6, [%r1+0]
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +8
and %r6, 15
jgt %r6, 15, +3
add %r0, %r6
ldxb %r0, [%r0+0]
exit
add %r0, %r6
ldxb %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_spec_cgskb_retval
## prog_type: cgroup_skb
mov %r0, 1
jeq %r0, 1, +1
exit
exit

## name: up_spec_main_path_rejected
mov %r0, 0
jeq %r0, 0, +2
mov %r0, 0
exit
mov %r0, %r1
exit

## name: up_spec_deep_chain
mov %r0, 0
mov %r1, 0
mov %r2, 0
jeq %r0, 0, +1
ldxdw %r3, [%r0+0]
jeq %r1, 0, +1
ldxdw %r3, [%r1+0]
jeq %r2, 0, +1
ldxdw %r3, [%r2+0]
mov %r0, 0
exit

## name: up_spec_safe_both_ways
mov %r0, 0
ldxw %r1, [%r1+0]
jeq %r0, 0, +2
mov %r0, 2
ja +1
mov %r0, 3
and %r0, %r1
exit

## name: up_spec_ptr_arith_on_spec_path
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +7
mov %r1, 4
jne %r1, 4, +2
ldxb %r0, [%r0+0]
exit
add %r0, %r1
ldxb %r0, [%r0+0]
exit
mov %r0, 0
exit

## name: up_spec_nospec_then_real_path
## level2
ldxw %r2, [%r1+0]
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r5, 8
mov %r0, %r10
add %r0, -16
jeq %r2, 0, +1
jeq %r5, 8, +2
add %r0, %r5
ldxdw %r3, [%r0+0]
mov %r0, 0
exit

## name: up_spec_gadget_bounds_then_index
## level2
## maps: array:4:16:1
ldxw %r6, [%r1+0]
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +10
jge %r6, 16, +9
add %r0, %r6
ldxb %r7, [%r0+0]
and %r7, 1
mov %r8, %r7
lsh %r8, 2
jeq %r7, 0, +1
add %r8, 1
mov %r0, %r8
exit
mov %r0, 0
exit

## name: up_spec_two_lookups
## maps: array:4:16:1,hash:4:8:4
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +16
mov %r6, %r0
mov %r2, %r10
add %r2, -4
lddw %r1, 1, map_fd
call 1
jeq %r0, 0, +7
ldxb %r1, [%r0+0]
and %r1, 7
mov %r2, 0
jne %r2, 0, +2
add %r6, %r1
ldxb %r0, [%r6+0]
exit
mov %r0, 1
exit
mov %r0, 0
exit

## name: up_spec_spill_ptr_then_fill
## level2
mov %r0, 0
stxdw [%r10-8], %r1
jeq %r0, 0, +3
stxdw [%r10-8], %r0
ldxdw %r1, [%r10-8]
ldxw %r0, [%r1+0]
mov %r0, 0
exit

## name: up_spec_rejected_speculative_leak_into_map
## maps: array:4:16:1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, +5
mov %r3, 0
jeq %r3, 0, +2
stxdw [%r0+0], %r10
exit
stdw [%r0+0], 1
mov %r0, 0
exit
