## name: ok
mov %r0, 0
exit
## name: typo
mov %r0, 0
movv %r1, 2
exit
