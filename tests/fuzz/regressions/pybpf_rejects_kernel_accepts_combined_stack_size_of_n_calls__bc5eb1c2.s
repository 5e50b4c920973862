## name: fuzz_4294968917
## prog_type: kprobe
## maps: hash:4:16:1
## features: loop scalar map_value call
## kernel: accept
## kernel_errno: 0
## kernel_error: 
## pybpf: reject
## pybpf_error: combined stack size of 2 calls is 528. Too large
## finding: pybpf rejects, kernel accepts: combined stack size of N calls is N. Too large
## origin: pybpf fuzz --seed 1, program 1621 (seed 4294968917)
mov %r2, %r10
add %r2, -512
ldxh %r0, [%r2]
call local +2
mov %r0, 1
exit
ldxdw %r3, [%r10-8]
exit
