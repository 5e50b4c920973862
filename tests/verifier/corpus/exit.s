## name: exit_r0_uninit
exit

## name: exit_r0_ptr_sockfilter
mov %r0, %r10
exit

## name: exit_cgroup_skb_ok
## prog_type: cgroup_skb
mov %r0, 1
exit

## name: exit_cgroup_skb_bad_const
## prog_type: cgroup_skb
mov %r0, 5
exit

## name: exit_cgroup_skb_unknown
## prog_type: cgroup_skb
ldxw %r0, [%r1+0]
exit

## name: exit_cgroup_skb_masked
## prog_type: cgroup_skb
ldxw %r0, [%r1+0]
and %r0, 1
exit

## name: exit_cgroup_skb_ptr
## prog_type: cgroup_skb
mov %r0, %r10
exit

## name: exit_cgroup_skb_neg
## prog_type: cgroup_skb
mov %r0, -1
exit

## name: exit_cgroup_skb_branch
## prog_type: cgroup_skb
ldxw %r2, [%r1+0]
mov %r0, 0
jgt %r2, 5, +1
mov %r0, 3
exit

## name: exit_cgroup_skb_prandom
## prog_type: cgroup_skb
call 7
exit

## name: exit_xdp_any
## prog_type: xdp
mov %r0, 77
exit

## name: exit_tc_any
## prog_type: sched_cls
mov %r0, -1
exit

## name: exit_kprobe
## prog_type: kprobe
mov %r0, 0
exit
