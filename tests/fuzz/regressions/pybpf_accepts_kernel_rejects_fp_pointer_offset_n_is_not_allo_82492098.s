## name: fuzz_38486
## prog_type: sched_cls
## features: scalar
## kernel: reject
## kernel_errno: 22
## kernel_error: fp pointer offset -900368429 is not allowed
## pybpf: accept
## pybpf_error: 
## finding: pybpf accepts, kernel rejects: fp pointer offset N is not allowed
## origin: pybpf fuzz --seed 0, program 38486 (seed 38486)
call 7
mov %r6, %r0
sub %r6, 0x35aa882d
jlt %r6, -1, +1
ja +1
exit
mov %r2, %r10
add %r2, %r6
exit
