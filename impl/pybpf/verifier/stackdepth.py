"""check_max_stack_depth: the stack of the deepest call chain, each frame rounded as the JIT does.

Since Linux 6.13 the x86-64 JIT gives the program types that run from kprobes, tracepoints and
perf events a private stack (bpf_enable_priv_stack, mode "adaptive"): a subprogram of the main
call tree whose own frame is at least BPF_PRIV_STACK_MIN_SIZE bytes lives on that private stack
and does not count towards the 512-byte combined depth of the chain it is called from.
"""

from __future__ import annotations

from pybpf.abi.uapi import ProgType
from pybpf.isa.opcodes import Kind
from pybpf.verifier.env import Env
from pybpf.verifier.stack import MAX_BPF_STACK

BPF_PRIV_STACK_MIN_SIZE = 64
# the types that do not run through a BPF trampoline but may nest (checked on Linux 6.18, x86-64)
PRIV_STACK_PROG_TYPES = frozenset({ProgType.KPROBE, ProgType.TRACEPOINT, ProgType.PERF_EVENT,
                                   ProgType.RAW_TRACEPOINT})


def _round(depth: int) -> int:
    return -(-depth // 16) * 16


def check_max_stack_depth(env: Env) -> None:
    calls: dict[int, list[int]] = {s: [] for s in env.subprog_starts}
    for pc, spec in enumerate(env.specs):
        if spec is not None and spec.kind is Kind.CALL_LOCAL:
            calls[env.subprog_of(pc)].append(pc + 1 + env.insns[pc].imm)
    priv_stack = env.prog_type in PRIV_STACK_PROG_TYPES

    def walk(sub: int, total: int, frames: int) -> None:
        depth = _round(env.stack_depth.get(sub, 0))
        if not (priv_stack and depth >= BPF_PRIV_STACK_MIN_SIZE):
            total += depth
        if total > MAX_BPF_STACK:
            env.insn_idx = sub
            raise env.reject("combined_stack", n=frames, size=total)
        for callee in calls[sub]:
            walk(callee, total, frames + 1)

    walk(0, 0, 1)
