## name: timer_map_without_btf
## prog_type: sched_cls
## maps: array:4:24:1
mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, out
mov %r1, %r0
add %r1, 8
call 172
out:
mov %r0, 0
exit

## name: timer_on_stack_refused
## prog_type: sched_cls
## level2
mov %r1, %r10
add %r1, -16
call 172
mov %r0, 0
exit

## name: timer_cancel_scalar
## prog_type: sched_cls
mov %r1, 0
call 172
mov %r0, 0
exit

## name: timer_set_callback_not_func
## prog_type: sched_cls
## maps: array:4:24:1
mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, out
mov %r1, %r0
add %r1, 8
mov %r2, 0
call 170
out:
mov %r0, 0
exit
