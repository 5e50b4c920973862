## name: scale_diamonds_16
ldxw %r2, [%r1+0]
mov %r0, 0
jgt %r2, 1, +1
add %r0, 1
jgt %r2, 2, +1
add %r0, 1
jgt %r2, 3, +1
add %r0, 1
jgt %r2, 4, +1
add %r0, 1
jgt %r2, 5, +1
add %r0, 1
jgt %r2, 6, +1
add %r0, 1
jgt %r2, 7, +1
add %r0, 1
jgt %r2, 8, +1
add %r0, 1
jgt %r2, 9, +1
add %r0, 1
jgt %r2, 10, +1
add %r0, 1
jgt %r2, 11, +1
add %r0, 1
jgt %r2, 12, +1
add %r0, 1
jgt %r2, 13, +1
add %r0, 1
jgt %r2, 14, +1
add %r0, 1
jgt %r2, 15, +1
add %r0, 1
jgt %r2, 16, +1
add %r0, 1
exit

## name: scale_loop_stack
mov %r0, 0
mov %r1, 0
stdw [%r10-8], 0
ldxdw %r2, [%r10-8]
add %r2, %r1
stxdw [%r10-8], %r2
add %r1, 1
jlt %r1, 30, -5
ldxdw %r0, [%r10-8]
exit

## name: scale_loop_map
## maps: array:4:64:1
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +8
mov %r1, 0
mov %r3, %r0
add %r3, %r1
stb [%r3+0], 1
add %r1, 1
jlt %r1, 64, -5
mov %r0, 0
exit
mov %r0, 0
exit

## name: scale_loop_map_oob
## maps: array:4:64:1
stw [%r10-4], 0
lddw %r1, 0, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +8
mov %r1, 0
mov %r3, %r0
add %r3, %r1
stb [%r3+0], 1
add %r1, 1
jle %r1, 64, -5
mov %r0, 0
exit
mov %r0, 0
exit

## name: scale_nested_branches_stack
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
stdw [%r10-8], 0
jeq %r2, 0, +2
stdw [%r10-8], 1
ja +1
stdw [%r10-16], 2
jeq %r3, 0, +1
stdw [%r10-24], 3
ldxdw %r0, [%r10-8]
exit
