## name: good
mov %r0, 0
exit
