"""Pointer arithmetic for an unprivileged loader (no CAP_PERFMON): the kernel's Spectre v1 restrictions.

Without the capability the kernel limits pointer arithmetic so that even a
mispredicted branch cannot move a pointer outside its object: the added scalar
must have a known sign (sanitize_ptr_alu), the pointer must be a stack or map
value pointer, the result must stay inside the object (sanitize_check_bounds),
and one instruction must always see the same kind of pointer arithmetic with the
same limit on every path (update_alu_sanitation_state).

The texts are Linux 6.18's (sanitize_err, check_stack_access_for_ptr_arithmetic),
checked against the live kernel loading as an unprivileged process
(tests/verifier/corpus_unpriv).  The speculative path an unknown offset opens
is speculative.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, Kind, Pseudo, Src
from pybpf.verifier import speculative
from pybpf.verifier.env import Env
from pybpf.verifier.messages import Rejection, rejection
from pybpf.verifier.regs import RegState, RegType

MAX_BPF_STACK = 512
PROHIBITED = "pointer arithmetic with it prohibited for !root"
# alu_state bits (bpf_insn_aux_data): which operand was the pointer, the offset's sign, an immediate offset
ALU_SANITIZE_SRC, ALU_SANITIZE_DST, ALU_NEG_VALUE, ALU_NON_POINTER, ALU_IMMEDIATE = 1, 2, 4, 8, 16


@dataclass
class SanitizeInfo:
    """bpf_sanitize_info: what the check before the operation found, for the one after it."""

    mask_to_left: bool = False
    alu_state: int = 0
    alu_limit: int = 0


def needed(env: Env, ins: Insn, op: int) -> bool:
    """sanitize_needed and not can_skip_alu_sanitation: an unprivileged add/sub of a register not behind a nospec."""
    return (env.unpriv and op in (AluOp.ADD, AluOp.SUB) and bool(ins.code & Src.X)
            and not env.aux[env.insn_idx].nospec)


def _ptr_limit(ptr: RegState, mask_to_left: bool) -> tuple[str, int]:
    """retrieve_ptr_limit: ("", limit) or (reason, 0)."""
    if ptr.type == RegType.PTR_TO_STACK:
        most = MAX_BPF_STACK + mask_to_left
        value = ptr.s.var_off.value - (1 << 64 if ptr.s.var_off.value >> 63 else 0)
        limit = -(value + ptr.off)
    elif ptr.type == RegType.PTR_TO_MAP_VALUE:
        most = ptr.map.value_size if ptr.map is not None else 0
        limit = (ptr.s.smin if mask_to_left else ptr.s.umax) + ptr.off
    else:
        return "type", 0
    if not 0 <= limit < most:  # the kernel's limit is a u32: a negative one is huge
        return "limit", 0
    return "", limit


def _refuse(env: Env, ins: Insn, reason: str, off_is_dst: bool) -> Rejection:
    """sanitize_err."""
    dst, src = ins.dst, ins.src
    op = "add" if ins.code & 0xF0 == AluOp.ADD else "sub"
    if reason == "bounds":
        return env.reject("unpriv_bounds", reg=dst if off_is_dst else src, err=PROHIBITED)
    if reason == "type":
        return env.reject("unpriv_type", reg=src if off_is_dst else dst, err=PROHIBITED)
    if reason == "paths":
        return env.reject("unpriv_paths", reg=dst, op=op, err=PROHIBITED)
    return env.reject("unpriv_limit", reg=dst, op=op, err=PROHIBITED)


def before(env: Env, ins: Insn, ptr: RegState, off: RegState, ptr_is_dst: bool) -> SanitizeInfo:
    """sanitize_ptr_alu before the operation.

    The masking the kernel adds may turn an unknown offset into 0: that path (the
    pointer unmoved) is explored as a speculative one.  On a speculative path the
    limits were already taken from the real ones: only that push is left.
    """
    s = off.s
    info = SanitizeInfo()
    off_is_imm = not s.var_off.mask
    off_is_neg = s.smin < 0
    if env.cur.speculative:
        if not off_is_imm:
            speculative.push_unmoved_pointer(env, ins.dst, ptr)
        return info
    if not off_is_imm and (s.smin < 0) != (s.smax < 0):
        raise _refuse(env, ins, "bounds", not ptr_is_dst)
    add = ins.code & 0xF0 == AluOp.ADD
    info.mask_to_left = (add and off_is_neg) or (not add and not off_is_neg)
    reason, limit = _ptr_limit(ptr, info.mask_to_left)
    if reason:
        raise _refuse(env, ins, reason, not ptr_is_dst)
    info.alu_limit = limit
    info.alu_state = ((ALU_NEG_VALUE if off_is_neg else 0) | (ALU_IMMEDIATE if off_is_imm else 0)
                      | (ALU_SANITIZE_SRC if ptr_is_dst else ALU_SANITIZE_DST))
    if not off_is_imm:
        env.explore_alu_limits = True  # masking may differ between paths: prune only on exact scalars
        speculative.push_unmoved_pointer(env, ins.dst, ptr)
    return info


def after(env: Env, ins: Insn, res: RegState, info: SanitizeInfo, ptr_is_dst: bool) -> None:
    """sanitize_ptr_alu after the operation: the instruction's one alu_state/alu_limit over all paths."""
    if env.cur.speculative:
        return
    reason, limit = _ptr_limit(res, info.mask_to_left)
    if reason:
        raise _refuse(env, ins, reason, not ptr_is_dst)
    aux = env.aux[env.insn_idx]
    alu_limit = abs(info.alu_limit - limit)
    if aux.alu_state and (aux.alu_state != info.alu_state or aux.alu_limit != alu_limit):
        raise _refuse(env, ins, "paths", not ptr_is_dst)
    aux.alu_state, aux.alu_limit = info.alu_state, alu_limit


def value_alu(env: Env, ins: Insn, op: int) -> None:
    """sanitize_val_alu: an add/sub of two scalars; no other path may do pointer arithmetic at this instruction.

    Unlike pointer arithmetic it is recorded on speculative paths too.
    """
    if not needed(env, ins, op):
        return
    aux = env.aux[env.insn_idx]
    if aux.alu_state and (aux.alu_state != ALU_NON_POINTER or aux.alu_limit):
        raise _refuse(env, ins, "paths", False)
    aux.alu_state, aux.alu_limit = ALU_NON_POINTER, 0


def check_calls(env: Env) -> None:
    """add_subprog_and_kfunc: subprogram calls, function addresses and kfunc calls need CAP_BPF."""
    if not env.unpriv:
        return
    for pc, ins in enumerate(env.insns):
        spec = env.specs[pc]
        if spec is not None and (spec.kind in (Kind.CALL_LOCAL, Kind.CALL_KFUNC) or (
                spec.kind is Kind.LD_IMM64 and ins.src == Pseudo.FUNC)):
            raise rejection("unpriv_calls", pc)


def check_bounds(env: Env, regno: int, res: RegState) -> None:
    """sanitize_check_bounds: the new pointer must stay inside its stack frame or map value."""
    if not env.unpriv:
        return
    if res.type == RegType.PTR_TO_STACK:
        value = res.s.var_off.value - (1 << 64 if res.s.var_off.value >> 63 else 0)
        off = res.off + value
        if res.s.var_off.mask:
            raise env.reject("unpriv_stack_var", reg=regno, var_off=str(res.s.var_off), off=off)
        if off >= 0 or off < -MAX_BPF_STACK:
            raise env.reject("unpriv_stack_oob", reg=regno, off=off)
    elif res.type == RegType.PTR_TO_MAP_VALUE:
        from pybpf.verifier.mem import map_value_access

        try:
            map_value_access(env, regno, res, res.off, 1, res.map.value_size if res.map is not None else 0)
        except Rejection:
            raise env.reject("unpriv_map_oob", reg=regno) from None
