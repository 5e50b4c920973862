## name: ops
add %r0
exit
