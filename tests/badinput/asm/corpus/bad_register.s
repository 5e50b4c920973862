## name: reg
mov %r12, 0
exit
