## name: fuzz_4294967411
## prog_type: xdp
## features: stack_ptr scalar packet
## kernel: reject
## kernel_errno: 13
## kernel_error: R2 offset is outside of the packet
## pybpf: accept
## pybpf_error: 
## finding: pybpf accepts, kernel rejects: RN offset is outside of the packet
## origin: pybpf fuzz --seed 1, program 115 (seed 4294967411)
mov %r9, %r1
ldxw %r2, [%r9]
ldxw %r3, [%r9+4]
mov %r4, %r2
add %r4, 0xe
jge32 %r4, %r3, +1
ldxh %r0, [%r2+10]
mov %r0, 0
exit
