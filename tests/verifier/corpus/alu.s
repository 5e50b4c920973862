## name: alu_mov_exit
## level2
mov %r0, 0
exit

## name: alu_add_consts
## level2
mov %r0, 1
add %r0, 2
mul %r0, 3
sub %r0, 1
exit

## name: alu_uninit_src
mov %r0, %r3
exit

## name: alu_uninit_dst
add %r4, 1
mov %r0, 0
exit

## name: alu_write_r10
add32 %r10, 1
exit

## name: alu_mov_r10
mov %r10, 0
mov %r0, 0
exit

## name: alu_div_zero_imm
mov %r0, 5
div %r0, 0
exit

## name: alu_mod_zero_imm
mov %r0, 5
mod32 %r0, 0
exit

## name: alu_div_reg_zero_ok
mov %r0, 5
mov %r1, 0
div %r0, %r1
exit

## name: alu_shift_too_big
mov %r0, 1
lsh %r0, 64
exit

## name: alu_shift32_too_big
mov %r0, 1
lsh32 %r0, 32
exit

## name: alu_shift_ok
## level2
mov %r0, 1
lsh %r0, 63
rsh %r0, 60
arsh %r0, 1
exit

## name: alu_ctx_load_and_mask
## level2
ldxw %r0, [%r1+0]
and %r0, 0xff
add %r0, 10
exit

## name: alu_neg_end
ldxw %r0, [%r1+0]
neg %r0
be16 %r0
le32 %r0
exit

## name: alu_bswap
ldxw %r0, [%r1+0]
bswap32 %r0
exit

## name: alu_movsx
ldxw %r0, [%r1+0]
movsx832 %r0, %r0
movsx3264 %r0, %r0
exit

## name: alu_mov32_ptr
mov32 %r1, %r10
mov %r0, 0
exit

## name: alu_ptr_copy
mov %r0, %r10
exit

## name: alu_ptr_sub_ptr
mov %r0, %r10
sub %r0, %r1
exit

## name: alu_ptr_add_ptr
mov %r0, %r10
add %r0, %r1
exit

## name: alu_ptr_and
mov %r0, %r10
and %r0, 1
exit

## name: alu_ptr_or
mov %r0, %r10
or %r0, %r0
exit

## name: alu_ptr_mul
mov %r0, %r10
mul %r0, 2
exit

## name: alu_ptr_div
mov %r0, %r10
div %r0, 2
exit

## name: alu_ptr_32bit
mov %r0, %r10
add32 %r0, 2
exit

## name: alu_ptr_neg
mov %r0, %r10
neg %r0
exit

## name: alu_scalar_minus_ptr
mov %r0, 5
sub %r0, %r10
exit

## name: alu_scalar_plus_ptr
mov %r0, -8
add %r0, %r10
mov %r1, 0
stxdw [%r0+0], %r1
mov %r0, 0
exit

## name: alu_fp_plus_var
ldxw %r2, [%r1+0]
mov %r0, %r10
add %r0, %r2
mov %r0, 0
exit

## name: alu_fp_plus_unbounded
call 7
lsh %r0, 32
arsh %r0, 32
mov %r1, %r10
add %r1, %r0
mov %r0, 0
exit

## name: alu_fp_plus_unknown64
call 5
mov %r1, %r10
add %r1, %r0
mov %r0, 0
exit

## name: alu_fp_plus_huge_const
lddw %r2, 0x20000000
mov %r1, %r10
add %r1, %r2
mov %r0, 0
exit

## name: alu_fp_minus_const
mov %r1, %r10
sub %r1, 16
stdw [%r1+0], 7
mov %r0, 0
exit

## name: alu_ctx_add_const
mov %r2, %r1
add %r2, 4
mov %r0, 0
exit

## name: alu_ctx_add_const_deref
add %r1, 8
ldxw %r0, [%r1+0]
exit

## name: alu_map_ptr_arith
## maps: hash:4:8:16
lddw %r1, 0, map_fd
add %r1, 8
mov %r0, 0
exit

## name: alu_map_ptr_add_zero
## maps: hash:4:8:16
lddw %r1, 0, map_fd
add %r1, 0
mov %r0, 0
exit

## name: alu_lddw_const
## level2
lddw %r0, 0x123456789
rsh %r0, 32
exit

## name: alu_xor_self
ldxw %r0, [%r1+0]
xor %r0, %r0
exit

## name: alu_arsh32
ldxw %r0, [%r1+0]
arsh32 %r0, 4
exit

## name: alu_sdiv_smod
ldxw %r0, [%r1+0]
sdiv %r0, 3
smod %r0, 5
exit

## name: alu_many_ops
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r0, %r2
add %r0, %r3
mul %r0, 7
or %r0, 3
and %r0, 0xfff
xor %r0, 0x55
rsh %r0, 2
exit
