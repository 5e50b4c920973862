## name: up_bounded_loop
mov %r0, 0
add %r0, 1
jlt %r0, 5, -2
exit

## name: up_bpf2bpf_call
call local +1
exit
mov %r0, 0
exit

## name: up_stack_uninit_read
ldxdw %r0, [%r10-8]
exit

## name: up_stack_partially_init_read
stw [%r10-8], 0
ldxdw %r0, [%r10-8]
exit

## name: up_xdp_refused
## prog_type: xdp
mov %r0, 2
exit

## name: up_kprobe_refused
## prog_type: kprobe
mov %r0, 0
exit

## name: up_stack_ptr_store_in_map_key
## maps: hash:8:8:16
stxdw [%r10-8], %r10
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 1
mov %r0, 0
exit
