## name: cfg_unreachable
mov %r0, 0
exit
mov %r0, 1
exit

## name: cfg_unreachable_after_ja
mov %r0, 0
ja +1
mov %r0, 1
exit

## name: cfg_jump_out_of_range
mov %r0, 0
ja +5
exit

## name: cfg_jump_negative
mov %r0, 0
jeq %r0, 0, -3
exit

## name: cfg_last_not_exit
mov %r0, 0

## name: cfg_last_is_ja
mov %r0, 0
ja -2

## name: cfg_fallthrough_end
mov %r0, 0
jeq %r1, 0, +1
exit
mov %r0, 1

## name: cfg_infinite_loop
mov %r0, 0
ja -1
exit

## name: cfg_loop_const_bounded
## level2
mov %r0, 0
mov %r1, 0
add %r1, 1
add %r0, 2
jlt %r1, 4, -3
exit

## name: cfg_loop_unbounded
## heavy
ldxw %r1, [%r1+0]
mov %r0, 0
add %r0, 1
jne %r0, %r1, -2
exit

## name: cfg_loop_100
mov %r0, 0
mov %r1, 0
add %r1, 1
add %r0, %r1
jlt %r1, 100, -3
exit

## name: cfg_loop_same_state
mov %r0, 0
ldxw %r1, [%r1+0]
jgt %r1, 5, -1
exit

## name: cfg_two_exits
ldxw %r2, [%r1+0]
mov %r0, 0
jeq %r2, 0, +2
mov %r0, 1
exit
mov %r0, 2
exit

## name: cfg_loop_2000
mov %r0, 0
mov %r1, 0
add %r1, 1
add %r0, %r1
jlt %r1, 2000, -3
exit
