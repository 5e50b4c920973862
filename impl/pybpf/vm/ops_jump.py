"""Control flow: closures for jumps, may_goto, helper and BPF-to-BPF calls, and exit.

A taken transfer adds its precomputed ``delta`` to ``Machine.count`` (see
``machine``).  Only transfers that can go backwards or deeper (jumps to an
earlier instruction, local calls) compare the count with the budget first,
which is enough to stop every non-terminating program: between two such checks
a program runs forward through at most the whole program.  ``limit`` is the
budget minus the instructions up to and including the jump itself, so the
check happens before ``count`` moves and a budget fault is counted like any
other fault at that instruction.

Conditional jumps are compiled from one template per form, like the ALU
operations: each condition is one Python expression in ``_COND``.  Equality is
written with ``^`` so that a register holding no value raises ``TypeError``
(``None == 0`` would silently be false).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from pybpf.errors import VmFault
from pybpf.isa.opcodes import JmpOp, OpSpec, Src
from pybpf.vm.helpers import Helper, ProgramExit
from pybpf.vm.machine import FIRST_ARG, LAST_ARG, Machine, uninit_message
from pybpf.vm.ops_alu import M32, M64, Op


class Halt(Exception):
    """Raised by ``exit`` in the main frame."""


@dataclass(frozen=True)
class Transfer:
    """A decoded jump target: the op index, the count delta, and the budget check."""

    target: int
    delta: int
    limit: int | None  # fault if count > limit before the jump; None: forward, no check needed


_COND: dict[JmpOp, str] = {
    JmpOp.JEQ: "not ({a} ^ {b})",
    JmpOp.JNE: "{a} ^ {b}",
    JmpOp.JSET: "{a} & {b}",
    JmpOp.JGT: "{a} > {b}",
    JmpOp.JGE: "{a} >= {b}",
    JmpOp.JLT: "{a} < {b}",
    JmpOp.JLE: "{a} <= {b}",
    JmpOp.JSGT: "{a} > {b}",
    JmpOp.JSGE: "{a} >= {b}",
    JmpOp.JSLT: "{a} < {b}",
    JmpOp.JSLE: "{a} <= {b}",
}

_TEMPLATE = """\
def factory(regs, m, d, b_operand, npc, target, delta, limit):
    {bind_b}
    def op():
        if {cond}:
{check}            m.count += delta
            return target
        return npc
    return op
"""
_CHECK = "            if m.count > limit:\n                m.exhausted()\n"


def _operand(reg: str, is64: bool, signed: bool) -> str:
    """Python text for a register's value as the comparison sees it."""
    bits = 64 if is64 else 32
    value = reg if is64 else f"({reg} & {M32:#x})"
    if signed:
        sign = f"{1 << (bits - 1):#x}"
        return f"(({value} ^ {sign}) - {sign})"
    return value


@cache
def _jcond_factory(op: JmpOp, is64: bool, reg: bool, checked: bool) -> Callable[..., Op]:
    signed = op in (JmpOp.JSGT, JmpOp.JSGE, JmpOp.JSLT, JmpOp.JSLE)
    a = _operand("regs[d]", is64, signed)
    if reg:
        bind_b, b = "s = b_operand", _operand("regs[s]", is64, signed)
    else:
        bind_b, b = "k = b_operand", "k"
    source = _TEMPLATE.format(bind_b=bind_b, cond=_COND[op].format(a=a, b=b), check=_CHECK if checked else "")
    namespace: dict = {}
    exec(compile(source, f"<{op.name.lower()}{'' if is64 else '32'}>", "exec"), namespace)
    return namespace["factory"]


def _imm_operand(imm: int, is64: bool, signed: bool) -> int:
    """The immediate as the comparison sees it (sign-extended to 64 bits for JMP)."""
    if signed:
        return imm  # already the signed 32-bit value; sign extension keeps it
    return imm & (M64 if is64 else M32)


def make_jcond(m: Machine, spec: OpSpec, d: int, s: int, imm: int, npc: int, to: Transfer) -> Op:
    reg = bool(spec.code & Src.X)
    operand = s if reg else _imm_operand(imm, spec.is64, spec.signed)
    factory = _jcond_factory(JmpOp(spec.op), spec.is64, reg, to.limit is not None)
    return factory(m.regs, m, d, operand, npc, to.target, to.delta, to.limit)


def make_ja(m: Machine, to: Transfer) -> Op:
    target, delta, limit = to.target, to.delta, to.limit
    if limit is None:

        def op() -> int:
            m.count += delta
            return target

    else:

        def op() -> int:
            if m.count > limit:
                m.exhausted()
            m.count += delta
            return target

    return op


def make_may_goto(m: Machine, npc: int, to: Transfer) -> Op:
    """Fall through while the loop budget lasts; jump once it is spent (kernel semantics)."""
    ja = make_ja(m, to)

    def op() -> int:
        if m.loops:
            m.loops -= 1
            return npc
        return ja()

    return op


# ---------------------------------------------------------------- calls and exit

_NARGS = LAST_ARG - FIRST_ARG + 1


def invoke_helper(m: Machine, helper: Helper) -> None:
    """Call ``helper`` with r1..r5; r0 = its result; r1..r5 are clobbered."""
    regs = m.regs
    args = regs[FIRST_ARG : LAST_ARG + 1]
    for n in range(helper.nargs):
        if args[n] is None:
            raise VmFault(f"{uninit_message(FIRST_ARG + n)}; helper {helper.id} ({helper.name}) reads it")
    try:
        result = helper.fn(m.ctx, *(0 if a is None else a for a in args))
    except (ProgramExit, VmFault):
        raise
    except Exception as exc:  # a helper's own bug must not escape as a Python exception
        raise VmFault(f"helper {helper.id} ({helper.name}) failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, int):
        raise VmFault(f"helper {helper.id} ({helper.name}) returned {type(result).__name__}, not an integer")
    regs[0] = result & M64
    regs[FIRST_ARG : LAST_ARG + 1] = [None] * _NARGS


def make_call(m: Machine, helper_id: int, npc: int) -> Op:
    helper = m.helpers.get(helper_id)

    def op() -> int:
        if helper is None:
            raise VmFault(f"call to unknown helper {helper_id}")
        invoke_helper(m, helper)
        return npc

    return op


def make_callx(m: Machine, d: int, npc: int) -> Op:
    """callx: the helper id is the value of the dst register (bpf_conformance's convention)."""
    regs, helpers = m.regs, m.helpers

    def op() -> int:
        helper_id = regs[d] & M64
        helper = helpers.get(helper_id)
        if helper is None:
            raise VmFault(f"callx r{d}: r{d} = {helper_id:#x} is not a known helper id")
        invoke_helper(m, helper)
        return npc

    return op


def make_call_local(m: Machine, npc: int, return_index: int, to: Transfer) -> Op:
    target, delta, limit = to.target, to.delta, to.limit

    def op() -> int:
        if limit is not None and m.count > limit:
            m.exhausted()
        m.call(npc, return_index)
        m.count += delta
        return target

    return op


def make_exit(m: Machine, after: int) -> Op:
    """Return from a subprogram, or end the program from the main frame."""
    regs, frames = m.regs, m.frames

    def op() -> int:
        if regs[0] is None:
            raise VmFault(uninit_message(0) + "; exit returns it")
        if frames:
            return m.ret(after)
        raise Halt

    return op
