## name: pkt_xdp_bounds_ok
## prog_type: xdp
## level2
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, +2
ldxb %r0, [%r2+12]
mov %r0, 2
mov %r0, 2
exit

## name: pkt_xdp_no_check
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxb %r0, [%r2+0]
mov %r0, 2
exit

## name: pkt_xdp_read_past_range
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, +2
ldxw %r0, [%r2+12]
mov %r0, 2
mov %r0, 2
exit

## name: pkt_xdp_wrong_branch
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, +2
mov %r0, 2
exit
ldxb %r0, [%r2+0]
mov %r0, 2
exit

## name: pkt_xdp_jlt
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jlt %r4, %r3, +2
mov %r0, 1
exit
ldxdw %r0, [%r2+0]
mov %r0, 2
exit

## name: pkt_xdp_jge
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jge %r4, %r3, +2
ldxw %r0, [%r2+0]
mov %r0, 2
mov %r0, 2
exit

## name: pkt_xdp_end_gt_pkt
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 4
jgt %r3, %r4, +2
mov %r0, 1
exit
ldxw %r0, [%r2+0]
mov %r0, 2
exit

## name: pkt_xdp_write
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 4
jgt %r4, %r3, +1
stw [%r2+0], 0
mov %r0, 2
exit

## name: pkt_xdp_end_deref
## prog_type: xdp
ldxw %r3, [%r1+4]
ldxb %r0, [%r3+0]
exit

## name: pkt_xdp_end_arith
## prog_type: xdp
ldxw %r3, [%r1+4]
add %r3, 1
mov %r0, 2
exit

## name: pkt_xdp_var_off
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 7
add %r2, %r5
mov %r4, %r2
add %r4, 4
jgt %r4, %r3, +1
ldxw %r0, [%r2+0]
mov %r0, 2
exit

## name: pkt_tc_bounds_ok
## prog_type: sched_cls
ldxw %r2, [%r1+76]
ldxw %r3, [%r1+80]
mov %r4, %r2
add %r4, 20
jgt %r4, %r3, +3
ldxh %r0, [%r2+12]
stb [%r2+0], 1
exit
mov %r0, 0
exit

## name: pkt_tc_no_check
## prog_type: sched_cls
ldxw %r2, [%r1+76]
ldxw %r0, [%r2+0]
exit

## name: pkt_cmp_pkt_with_scalar
## prog_type: xdp
ldxw %r2, [%r1+0]
jgt %r2, 100, +1
mov %r0, 2
mov %r0, 2
exit

## name: pkt_meta
## prog_type: xdp
ldxw %r2, [%r1+8]
ldxw %r3, [%r1+0]
mov %r4, %r2
add %r4, 4
jgt %r4, %r3, +1
ldxw %r0, [%r2+0]
mov %r0, 2
exit

## name: pkt_ld_abs
mov %r6, %r1
ldabsb 12
exit

## name: pkt_ld_abs_no_r6
ldabsw 12
exit

## name: pkt_ld_abs_xdp
## prog_type: xdp
mov %r6, %r1
ldabsb 12
exit

## name: pkt_ld_ind
mov %r6, %r1
mov %r2, 2
ldindh %r2, 12
exit
