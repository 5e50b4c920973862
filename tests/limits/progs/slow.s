## name: slow
mov %r0, 0
mov %r1, 0
loop:
add %r1, 1
jlt %r1, 1000000, loop
exit
## name: quick
mov %r0, 5
exit
