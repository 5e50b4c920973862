## name: fuzz_4294967328
## prog_type: sched_cls
## features: call stack_ptr ctx
## kernel: reject
## kernel_errno: 13
## kernel_error: misaligned stack access off (0x0; 0x1)+0+-512 size 4
## pybpf: accept
## pybpf_error: 
## finding: pybpf accepts, kernel rejects: misaligned stack access off (N; N)+N+N size N
## origin: pybpf fuzz --seed 1, program 32 (seed 4294967328)
call 7
mov %r6, %r0
and %r6, 1
mov %r2, %r10
add %r2, %r6
stw [%r2-512], 1
exit
