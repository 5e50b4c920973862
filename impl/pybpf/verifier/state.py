"""Verifier states: ``FuncState`` (bpf_func_state, one per call frame) and ``VerifierState``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pybpf.verifier.regs import BPF_REG_FP, BPF_REG_SIZE, MAX_BPF_REG, RegState, RegType
from pybpf.verifier.stack import StackSlot

if TYPE_CHECKING:
    from pybpf.verifier.locks import ActiveLock

MAX_CALL_FRAMES = 8


class FuncState:
    """One frame: its registers and its stack (slot ``spi`` covers fp-(spi+1)*8 .. fp-spi*8-1)."""

    __slots__ = ("callback_depth", "callsite", "frameno", "in_async_callback_fn", "in_callback_fn", "regs", "stack",
                 "subprogno")

    def __init__(self, frameno: int = 0, callsite: int = -1, subprogno: int = 0) -> None:
        self.regs = [RegState() for _ in range(MAX_BPF_REG)]
        self.stack: list[StackSlot] = []
        self.frameno = frameno
        self.callsite = callsite
        self.subprogno = subprogno
        self.in_callback_fn = False  # a callback's frame: its exit returns to the helper call (callbacks.py)
        self.callback_depth = 0  # iterations of a bpf_loop callback explored from this frame's call
        self.in_async_callback_fn = False  # a timer callback: frame 0 of a state of its own (callbacks.py)

    def clone(self) -> FuncState:
        f = FuncState.__new__(FuncState)
        f.regs = [r.clone() for r in self.regs]
        f.stack = [s.clone() for s in self.stack]
        f.frameno, f.callsite, f.subprogno = self.frameno, self.callsite, self.subprogno
        f.in_callback_fn, f.callback_depth = self.in_callback_fn, self.callback_depth
        f.in_async_callback_fn = self.in_async_callback_fn
        return f

    @property
    def allocated_stack(self) -> int:
        return len(self.stack) * BPF_REG_SIZE

    def grow_stack(self, size: int) -> None:
        """grow_stack_state: make room for ``size`` bytes below fp (rounded up to slots)."""
        n = -(-size // BPF_REG_SIZE)
        while len(self.stack) < n:
            self.stack.append(StackSlot())

    def init_regs(self, precise: bool = False) -> None:
        """init_reg_state; ``precise``: the loader lacks CAP_BPF (see regs.mark_reg_not_init)."""
        for r in self.regs:
            r.mark_not_init(precise)
        self.regs[BPF_REG_FP].set_ptr(RegType.PTR_TO_STACK, frameno=self.frameno)


@dataclass
class Reference:
    id: int
    insn_idx: int
    release_on_unlock: bool = False  # the 2022 series: a node added to a list, held until bpf_spin_unlock


class VerifierState:
    """bpf_verifier_state: the frames of the call chain, acquired references and the held lock."""

    __slots__ = (
        "active_lock",
        "branches",
        "bucket",
        "cleaned",
        "frames",
        "hist_seen",
        "hist_visible",
        "history",
        "hit_cnt",
        "in_free_list",
        "insn_idx",
        "may_goto_depth",
        "miss_cnt",
        "parent",
        "refs",
        "speculative",
    )

    def __init__(self) -> None:
        self.frames: list[FuncState] = []
        self.refs: list[Reference] = []
        self.active_lock: ActiveLock | None = None  # the held bpf_spin_lock (locks.py)
        self.insn_idx = 0
        self.branches = 0
        self.may_goto_depth = 0
        self.parent: VerifierState | None = None  # the checkpoint this path passed last
        self.history: list[int] = []  # instructions since ``parent`` (backtrack.py); dropped once fully explored
        # how many history entries the kernel's jump history would hold, counted up to entry hist_seen (states.py)
        self.hist_seen = self.hist_visible = 0
        self.bucket = -1  # a checkpoint's explored_state() hash bucket (states.py)
        self.hit_cnt = 0
        self.miss_cnt = 0
        self.cleaned = False
        self.in_free_list = False  # evicted from its explored list, alive while a path below it is explored
        self.speculative = False  # a path only a mispredicted branch takes (speculative.py)

    @property
    def curframe(self) -> int:
        return len(self.frames) - 1

    @property
    def cur(self) -> FuncState:
        return self.frames[-1]

    def frame_insn_idx(self, frameno: int, insn_idx: int) -> int:
        """Where frame ``frameno`` stands: ``insn_idx`` for the innermost, its callee's call for the others."""
        return insn_idx if frameno == len(self.frames) - 1 else self.frames[frameno + 1].callsite

    def clone(self) -> VerifierState:
        v = VerifierState.__new__(VerifierState)
        v.frames = [f.clone() for f in self.frames]
        v.refs = list(self.refs)
        v.active_lock = self.active_lock
        v.insn_idx = self.insn_idx
        v.branches = 0
        v.may_goto_depth = self.may_goto_depth
        v.parent = self.parent
        v.history = self.history[:]
        v.hist_seen, v.hist_visible = self.hist_seen, self.hist_visible
        v.bucket = -1
        v.hit_cnt = v.miss_cnt = 0
        v.cleaned = v.in_free_list = False
        v.speculative = self.speculative
        return v


class InsnAux:
    """bpf_insn_aux_data: what the verifier learns per instruction.

    A plain class whose annotated defaults are class attributes: an instance holds only the fields
    written to it, so one per instruction costs a third of the time and half the memory of a
    slotted dataclass setting all of them (measured on 100k instructions).
    """

    seen: bool = False
    prune_point: bool = False
    jmp_point: bool = False
    force_checkpoint: bool = False
    live_regs_before: int = 0  # bit i: register i may be read before being written
    ptr_type: int = 0
    calls_callback: bool = False  # a helper call running a callback (bpf_loop, for_each_map_elem)
    loop_inline: tuple[bool, int] | None = None  # bpf_loop here: (still fit for inlining, callback start)
    alu_state: int = 0  # unprivileged pointer arithmetic seen here (sanitize.py)
    alu_limit: int = 0
    nospec: bool = False  # speculative paths stop here (speculative.py)
    nospec_result: bool = False  # ... and after this instruction
    subprog: int = 0
    explored: list[VerifierState] | tuple[()] = ()  # the checkpoints here (is_state_visited makes the list)
    stack_reads: int = 0  # slots (bit spi) of frame 0 this instruction was seen reading; -1: maybe any
    stack_writes: int = 0  # slots it was seen overwriting whole
    miss_cnt: int = 0
    hit_cnt: int = 0
