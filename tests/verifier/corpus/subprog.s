## name: sub_simple
## level2
mov %r1, 1
call local sub
exit
sub:
mov %r0, %r1
add %r0, 1
exit

## name: sub_r0_uninit
call local sub
exit
sub:
exit

## name: sub_uses_caller_r6
mov %r6, 1
call local sub
exit
sub:
mov %r0, %r6
exit

## name: sub_stack
call local sub
exit
sub:
stdw [%r10-8], 1
ldxdw %r0, [%r10-8]
exit

## name: sub_caller_stack_ptr
stdw [%r10-8], 5
mov %r1, %r10
add %r1, -8
call local sub
exit
sub:
ldxdw %r0, [%r1+0]
exit

## name: sub_r1_clobbered
mov %r1, 1
call local sub
mov %r0, %r1
exit
sub:
mov %r0, 0
exit

## name: sub_nested
call local a
exit
a:
call local b
exit
b:
mov %r0, 7
exit

## name: sub_stack_too_big
stdw [%r10-256], 1
call local a
mov %r0, 0
exit
a:
stdw [%r10-256], 1
call local b
exit
b:
stdw [%r10-8], 1
mov %r0, 0
exit

## name: sub_depth_8
call local f1
exit
f1:
call local f2
exit
f2:
call local f3
exit
f3:
call local f4
exit
f4:
call local f5
exit
f5:
call local f6
exit
f6:
call local f7
exit
f7:
mov %r0, 0
exit

## name: sub_depth_9
call local f1
exit
f1:
call local f2
exit
f2:
call local f3
exit
f3:
call local f4
exit
f4:
call local f5
exit
f5:
call local f6
exit
f6:
call local f7
exit
f7:
call local f8
exit
f8:
mov %r0, 0
exit

## name: sub_jump_out
mov %r0, 0
call local sub
exit
sub:
ja -3
exit
