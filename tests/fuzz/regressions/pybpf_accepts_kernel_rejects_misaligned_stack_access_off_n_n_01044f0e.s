## name: fuzz_4294970377
## prog_type: xdp
## features: scalar loop
## kernel: reject
## kernel_errno: 13
## kernel_error: misaligned stack access off 0+-511+0 size 4
## pybpf: accept
## pybpf_error: 
## finding: pybpf accepts, kernel rejects: misaligned stack access off N+N+N size N
## origin: pybpf fuzz --seed 1, program 3081 (seed 4294970377)
call 7
mov %r6, %r0
arsh32 %r6, 0x1f
and %r6, 1
mov %r2, %r10
add %r2, %r6
add %r2, -512
ldxw %r0, [%r2]
exit
