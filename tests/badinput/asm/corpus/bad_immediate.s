## name: imm
mov %r0, 0x1ffffffffffffffff
exit
