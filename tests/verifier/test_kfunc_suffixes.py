"""Kfunc argument suffixes and flags (``__sz``, ``__szk``, ``__opt``, ``__uninit``, ``__str``, ``__ign``,
``__nullable``, dynptr, iterator and ctx arguments, KF_SLEEPABLE, KF_TRUSTED_ARGS, KF_RCU_PROTECTED) and the
per-program-type kfunc sets.

The hand-assembled programs here use the bundled 6.18 kfunc BTF (no kernel
needed); each expected text is what Linux 6.18 printed for the same program in
``selftests/progs/kfunc_args.c`` or ``kfunc_iters.c`` (which ``pybpf selftest --target both`` checks
against the live kernel).  ``test_kfunc_sets_match_the_kernel`` asks the live
kernel which program types may call each kfunc of ``SUFFIX_KFUNCS``.
"""

from __future__ import annotations

import pytest
from pybpf.abi.kernel_btf import kernel_btf, kfunc_id
from pybpf.abi.profiles import SUFFIX_KFUNCS, KfuncFlag
from pybpf.abi.uapi import ProgType
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, CallSrc, Cls, JmpOp, Mode, Size, Src
from pybpf.verifier import verify
from pybpf.verifier.regs import RegState, RegType
from pybpf.verifier.stack import SlotType, StackSlot, destroy_dynptr

KBTF = kernel_btf(live=False)
EXIT = Insn(Cls.JMP | JmpOp.EXIT, 0, 0, 0, 0)
# the program types pybpf models that need no attach target
PLAIN_TYPES = (ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.XDP, ProgType.CGROUP_SKB,
               ProgType.KPROBE, ProgType.TRACEPOINT, ProgType.PERF_EVENT, ProgType.RAW_TRACEPOINT, ProgType.SYSCALL)


def kcall(name: str, btf=KBTF) -> Insn:
    return Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, kfunc_id(btf, name))


def mov(dst: int, imm: int = 0, src: int | None = None) -> Insn:
    if src is not None:
        return Insn(Cls.ALU64 | AluOp.MOV | Src.X, dst, src, 0, 0)
    return Insn(Cls.ALU64 | AluOp.MOV | Src.K, dst, 0, 0, imm)


def fp(dst: int, off: int) -> list[Insn]:
    return [mov(dst, src=10), Insn(Cls.ALU64 | AluOp.ADD | Src.K, dst, 0, 0, off)]


FROM_SKB = [mov(6, src=1), mov(1, src=6), mov(2, 0), *fp(3, -16), kcall("bpf_dynptr_from_skb")]


def slice_(off: int = 0, buf: list[Insn] | None = None, size: int = 4) -> list[Insn]:
    return [*fp(1, -16), mov(2, off), *(buf or [mov(3, 0)]), mov(4, size), kcall("bpf_dynptr_slice")]


def judge(insns: list[Insn], prog_type: int = ProgType.SCHED_CLS, **kw):
    return verify(insns, prog_type=prog_type, kernel_btf=KBTF, **kw)


def refused(insns: list[Insn], prog_type: int = ProgType.SCHED_CLS, **kw) -> str:
    v = judge(insns, prog_type, **kw)
    assert not v.ok, v.log
    return v.log


def test_dynptr_from_skb_then_slice_is_accepted():
    prog = [*FROM_SKB, *slice_(), Insn(Cls.JMP | JmpOp.JEQ | Src.K, 0, 0, 2, 0),
            Insn(Cls.LDX | Mode.MEM | Size.B, 0, 0, 3, 0), EXIT, mov(0, 1), EXIT]
    v = judge(prog)
    assert v.ok, v.log


def test_slice_needs_a_null_check_and_is_read_only():
    unchecked = [*FROM_SKB, *slice_(), Insn(Cls.LDX | Mode.MEM | Size.B, 0, 0, 3, 0), EXIT]
    assert "R0 invalid mem access 'rdonly_mem_or_null'" in refused(unchecked)
    write = [*FROM_SKB, *slice_(), Insn(Cls.JMP | JmpOp.JEQ | Src.K, 0, 0, 2, 0), mov(1, 1),
             Insn(Cls.STX | Mode.MEM | Size.B, 0, 1, 0, 0), mov(0, 0), EXIT]
    assert "R0 cannot write into rdonly_mem" in refused(write)


def test_szk_must_be_constant():
    prog = [*FROM_SKB, Insn(Cls.JMP | JmpOp.CALL, 0, 0, 0, 7), Insn(Cls.ALU64 | AluOp.AND | Src.K, 0, 0, 0, 7),
            *fp(1, -16), mov(2, 0), *fp(3, -24), mov(4, src=0), kcall("bpf_dynptr_slice"), mov(0, 0), EXIT]
    assert refused(prog).splitlines()[-2] == "R4 must be a known constant"


def test_opt_buffer_too_small_for_szk():
    log = refused([*FROM_SKB, *slice_(buf=fp(3, -24), size=9), mov(0, 0), EXIT])
    assert "invalid read from stack R3 off -24+8 size 9\narg#2 arg#3 memory, len pair leads to invalid memory access" \
        in log


def test_uninit_dynptr_rules():
    misaligned = [mov(2, 0), *fp(3, -20), kcall("bpf_dynptr_from_skb"), mov(0, 0), EXIT]
    assert "cannot pass in dynptr at an offset=-20\nDynptr has to be an uninitialized dynptr" in refused(misaligned)
    not_stack = [mov(6, src=1), mov(2, 0), mov(3, src=6), kcall("bpf_dynptr_from_skb"), mov(0, 0), EXIT]
    assert "arg#2 expected pointer to stack or const struct bpf_dynptr" in refused(not_stack)


def test_initialised_dynptr_required_and_a_store_destroys_it():
    assert "Expected an initialized dynptr as arg #0" in refused([*slice_(), mov(0, 0), EXIT])
    clobbered = [*FROM_SKB, mov(1, 0), Insn(Cls.STX | Mode.MEM | Size.W, 10, 1, -12, 0), *slice_(), mov(0, 0), EXIT]
    assert "Expected an initialized dynptr as arg #0" in refused(clobbered)
    read = [*FROM_SKB, Insn(Cls.LDX | Mode.MEM | Size.DW, 0, 10, -16, 0), mov(0, 0), EXIT]
    assert "invalid read from stack off -16+0 size 8" in refused(read)


def test_sleepable_kfunc_needs_a_sleepable_program():
    prog = [*fp(1, -16), mov(2, 16), mov(3, 0), mov(4, 0), kcall("bpf_copy_from_user_str"), EXIT]
    log = refused(prog, ProgType.SOCKET_FILTER)
    assert "program must be sleepable to call sleepable kfunc bpf_copy_from_user_str" in log
    assert judge(prog, ProgType.SYSCALL, sleepable=True).ok


def test_sz_pair_bounds_the_buffer():
    prog = [*fp(1, -16), mov(2, 17), mov(3, 0), mov(4, 0), kcall("bpf_copy_from_user_str"), EXIT]
    log = refused(prog, ProgType.SYSCALL, sleepable=True)
    assert "invalid read from stack R1 off=-16 size=17\narg#0 arg#1 memory, len pair leads to invalid memory access" \
        in log


def test_trusted_args_refuse_null_and_ctx_must_be_ctx():
    null = [mov(1, 0), mov(2, 0), *fp(3, -16), kcall("bpf_dynptr_from_skb"), EXIT]
    assert "Possibly NULL pointer passed to trusted arg0" in refused(null)
    not_ctx = [*fp(1, -32), mov(2, 0), *fp(3, -16), kcall("bpf_dynptr_from_skb"), EXIT]
    assert "arg#0 expected pointer to ctx, but got fp" in refused(not_ctx)


def test_kfunc_set_of_the_program_type():
    prog = [mov(2, 0), *fp(3, -16), kcall("bpf_dynptr_from_xdp"), EXIT]
    assert "calling kernel function bpf_dynptr_from_xdp is not allowed" in refused(prog)


def test_str_must_be_in_a_read_only_map():
    prog = [mov(1, 1), *fp(2, -8), *fp(3, -16), mov(4, 8), mov(5, 0), kcall("bpf_stream_vprintk_impl"), EXIT]
    assert "arg#1 doesn't point to a const string" in refused(prog, ProgType.SOCKET_FILTER)


def test_ign_takes_anything():
    assert judge([mov(1, 0), kcall("bpf_strlen"), EXIT], ProgType.SOCKET_FILTER).ok


ITER_NEW = [*fp(1, -24), mov(2, 0), mov(3, 0), kcall("bpf_iter_task_new")]
ITER_DESTROY = [*fp(1, -24), kcall("bpf_iter_task_destroy")]


def test_iterator_new_then_destroy_with_a_nullable_task():
    v = judge([*ITER_NEW, *ITER_DESTROY, mov(0, 0), EXIT], ProgType.SOCKET_FILTER)
    assert v.ok, v.log


def test_iterator_rules():
    leak = refused([*ITER_NEW, mov(0, 0), EXIT], ProgType.SOCKET_FILTER)
    assert "Unreleased reference id=1 alloc_insn=4" in leak  # the call is insn 4
    assert "expected an initialized iter_task as arg #0" in refused([*ITER_DESTROY, mov(0, 0), EXIT],
                                                                    ProgType.SOCKET_FILTER)
    twice = [*ITER_NEW, *ITER_NEW, *ITER_DESTROY, mov(0, 0), EXIT]
    assert "expected uninitialized iter_task as arg #0" in refused(twice, ProgType.SOCKET_FILTER)
    high = [*fp(1, -16), mov(2, 0), mov(3, 0), kcall("bpf_iter_task_new"), mov(0, 0), EXIT]
    assert "cannot pass in iter at an offset=-16\nexpected uninitialized iter_task as arg #0" in \
        refused(high, ProgType.SOCKET_FILTER)
    sleepable = [*ITER_NEW, *ITER_DESTROY, mov(0, 0), EXIT]
    assert "kernel func bpf_iter_task_new requires RCU critical section protection" in \
        refused(sleepable, ProgType.SYSCALL, sleepable=True)


def test_destroy_dynptr_forgets_both_slots():
    first = RegState(RegType.CONST_PTR_TO_DYNPTR, id=1)
    first.range = 1
    stack = [StackSlot([SlotType.STACK_DYNPTR] * 8, RegState(RegType.CONST_PTR_TO_DYNPTR, id=1)),
             StackSlot([SlotType.STACK_DYNPTR] * 8, first)]
    destroy_dynptr(stack, 0)  # the second slot (fp-8) was written: the dynptr at fp-16 goes
    assert all(s.all_invalid() for s in stack)


def test_flags_are_the_kernels():
    """BTF_ID_FLAGS in 6.18's sources, as the live kernel showed them (kfunc_args.c)."""
    flags = {k.name: k.flags for k in SUFFIX_KFUNCS}
    assert flags["bpf_copy_from_user_str"] == KfuncFlag.SLEEPABLE
    assert flags["bpf_dynptr_from_skb"] == KfuncFlag.TRUSTED_ARGS
    assert flags["bpf_stream_vprintk_impl"] == KfuncFlag.TRUSTED_ARGS
    assert flags["bpf_dynptr_slice"] == KfuncFlag.RET_NULL


def test_kfunc_sets_match_the_kernel():
    """Each program type the live kernel lets call a kfunc (no "is not allowed") is the one pybpf's table says."""
    from pybpf.errors import KernelError
    from pybpf.kernel import available
    from pybpf.kernel.prog import prog_load

    why = available()
    if why is not None:
        pytest.skip(f"the kernel cannot be used: {why}")
    live = kernel_btf()
    for spec in SUFFIX_KFUNCS:
        for prog_type in PLAIN_TYPES:
            prog = [mov(r, 0) for r in range(1, 6)] + [kcall(spec.name, live), mov(0, 0), EXIT]
            try:
                prog_load(prog, prog_type=prog_type, prog_flags=1 << 4 if prog_type == ProgType.SYSCALL else 0).close()
                allowed = True
            except KernelError as err:
                allowed = "is not allowed" not in err.log
            expected = spec.prog_types is None or prog_type in spec.prog_types
            assert allowed == expected, (spec.name, prog_type.name)
