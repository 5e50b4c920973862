## name: fuzz_4294967502
## prog_type: cgroup_skb
## features: stack_ptr packet
## kernel: accept
## kernel_errno: 0
## kernel_error: 
## pybpf: reject
## pybpf_error: invalid bpf_context access off=76 size=4
## finding: pybpf rejects, kernel accepts: invalid bpf_context access off=N size=N
## origin: pybpf fuzz --seed 1, program 206 (seed 4294967502)
mov %r9, %r1
ldxw %r2, [%r9+76]
call 7
and %r0, 1
exit
