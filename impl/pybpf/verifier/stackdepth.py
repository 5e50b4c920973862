"""check_max_stack_depth: the stack of the deepest call chain, each frame rounded as the JIT does."""

from __future__ import annotations

from pybpf.isa.opcodes import Kind
from pybpf.verifier.env import Env
from pybpf.verifier.stack import MAX_BPF_STACK


def _round(depth: int) -> int:
    return -(-depth // 16) * 16


def check_max_stack_depth(env: Env) -> None:
    calls: dict[int, list[int]] = {s: [] for s in env.subprog_starts}
    for pc, spec in enumerate(env.specs):
        if spec is not None and spec.kind is Kind.CALL_LOCAL:
            calls[env.subprog_of(pc)].append(pc + 1 + env.insns[pc].imm)

    def walk(sub: int, total: int, frames: int) -> None:
        total += _round(env.stack_depth.get(sub, 0))
        if total > MAX_BPF_STACK:
            env.insn_idx = sub
            raise env.reject("combined_stack", n=frames, size=total)
        for callee in calls[sub]:
            walk(callee, total, frames + 1)

    walk(0, 0, 1)
