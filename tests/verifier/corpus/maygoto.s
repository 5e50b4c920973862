## name: mg_simple
mov %r0, 0
may_goto +1
mov %r0, 1
exit

## name: mg_loop_counter
mov %r0, 0
l: may_goto done
add %r0, 1
ja l
done: exit

## name: mg_loop_precise_bound
mov %r6, 0
l: may_goto done
add %r6, 1
jgt %r6, 100, done
ja l
done: mov %r0, 0
exit

## name: mg_loop_stack
stdw [%r10-8], 0
l: may_goto done
ldxdw %r1, [%r10-8]
add %r1, 1
stxdw [%r10-8], %r1
ja l
done: mov %r0, 0
exit

## name: mg_loop_ctx_read
mov %r6, %r1
mov %r7, 0
l: may_goto done
ldxw %r2, [%r6+0]
add %r7, %r2
ja l
done: mov %r0, 0
exit

## name: mg_loop_oob_stack
mov %r6, -8
l: may_goto done
stxdw [%r10-8], %r6
add %r6, -8
ja l
done: mov %r1, %r10
add %r1, %r6
stdw [%r1+0], 0
mov %r0, 0
exit

## name: mg_nested
mov %r0, 0
a: may_goto adone
b: may_goto bdone
add %r0, 1
ja b
bdone: ja a
adone: exit

## name: mg_uninit_after
l: may_goto done
mov %r2, 1
ja l
done: mov %r0, %r2
exit

## name: mg_ret_after_loop
## prog_type: cgroup_skb
mov %r0, 5
l: may_goto done
mov %r0, 7
ja l
done: exit

## name: mg_branchy
mov %r6, 0
call 7
mov %r7, %r0
l: may_goto done
jgt %r7, 10, big
add %r6, 1
ja l
big: add %r6, 2
ja l
done: mov %r0, 0
exit

## name: mg_fallthrough_only
may_goto +0
mov %r0, 0
exit

## name: mg_map_loop
## maps: hash:8:8:4
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 1
jeq %r0, 0, out
mov %r6, %r0
l: may_goto out
ldxdw %r1, [%r6+0]
add %r1, 1
stxdw [%r6+0], %r1
ja l
out: mov %r0, 0
exit

## name: mg_loop_two_counters
mov %r6, 0
mov %r7, 100
l: may_goto done
add %r6, 1
sub %r7, 1
ja l
done: mov %r0, 0
exit

## name: mg_loop_packet
## prog_type: xdp
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, done
l: may_goto done
ldxb %r5, [%r2+0]
jeq %r5, 0, done
ja l
done: mov %r0, 2
exit

## name: mg_loop_precise_index
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r6, 0
l: may_goto done
add %r6, 1
and %r6, 1
mov %r1, %r10
add %r1, -16
lsh %r6, 3
add %r1, %r6
rsh %r6, 3
ldxdw %r0, [%r1+0]
ja l
done: mov %r0, 0
exit

## name: mg_loop_return_counter
## prog_type: cgroup_skb
mov %r0, 0
l: may_goto done
xor %r0, 1
ja l
done: exit

## name: mg_in_callback
## func_info
mov %r1, 4
lddw %r2, 6, func
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
mov %r0, 0
may_goto +2
mov %r0, 1
ja -3
exit

## name: mg_two_in_sequence
mov %r6, 0
a: may_goto adone
add %r6, 1
ja a
adone: mov %r7, 0
b: may_goto bdone
add %r7, 2
ja b
bdone: mov %r0, 0
exit
