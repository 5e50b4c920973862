"""How helpers call back into the running program, and how a tail call leaves it.

Callbacks.  bpf_loop and bpf_for_each_map_elem call a subprogram of the
running program: the executor must offer

    call_subprog(pc: int, args: Sequence[int]) -> int

which runs the subprogram starting at slot ``pc`` with r1.. = ``args`` in a
new frame (fresh stack, the caller's r6..r10 untouched) over the same guest
memory, and returns its r0; a fault inside it is the run's fault.  The
helpers look for it as ``HelperContext.call_subprog``.  Today's
``Interpreter`` has no such method, so ``Trampolines`` provides it with the
interpreter's public API alone: the subprogram is run as a program of its own,
``call <pc>; exit`` followed by the original slots (so every pc-relative
jump, call and BPF_PSEUDO_FUNC keeps its target), on the same memory.  Its
limits, which an interpreter-side ``call_subprog`` would lift: each callback
starts a fresh machine (its own instruction budget, its frames not counted
with the caller's; the program is decoded once per callback target), and a
helper ending the program from inside a callback (``ProgramExit``) only ends
the callback.

Tail calls.  bpf_tail_call raises ``TailCall`` (a ``ProgramExit``) after
recording it in the run's state: the interpreter ends the current program as
for any ProgramExit, and ``Runtime.run`` then starts the target program with
r1 = the context, as the kernel does (the counter of 33 tail calls per run
included).  A tail call from a subprogram also ends the whole program here,
while in the kernel the target's r0 returns to the subprogram's caller; a
tail call inside a callback is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import CallSrc, Cls, JmpOp
from pybpf.vm.helpers import ProgramExit
from pybpf.vm.interp import Interpreter
from pybpf.vm.memory import Memory

MAX_TAIL_CALL_CNT = 33  # the kernel's limit of tail calls in one run
TRAMPOLINE_SLOTS = 2


class TailCall(ProgramExit):
    """bpf_tail_call succeeded: leave the current program for ``target`` with r1 = ``ctx``."""

    def __init__(self, target: object, ctx: int):
        super().__init__(0)
        self.target = target
        self.ctx = ctx


class SubprogCaller(Protocol):
    def call_subprog(self, pc: int, args: Sequence[int]) -> int: ...


def trampoline(pc: int) -> list[Insn]:
    """``call <insn pc of the program that follows>; exit``."""
    call = Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.LOCAL, 0, pc + TRAMPOLINE_SLOTS - 1)
    return [call, Insn(Cls.JMP | JmpOp.EXIT)]


Builder = Callable[[list[Insn], int], Interpreter]
"""(slots, number of slots put in front of the program) -> an interpreter for them."""


class Trampolines:
    """``call_subprog`` for one program, through trampoline programs (see the module text)."""

    def __init__(self, insns: Sequence[Insn], build: Builder, memory: Memory):
        self.insns = list(insns)
        self.build = build
        self.memory = memory
        self._by_pc: dict[int, Interpreter] = {}

    def call_subprog(self, pc: int, args: Sequence[int]) -> int:
        if not 0 <= pc < len(self.insns):
            raise VmFault(f"callback at insn {pc} is outside the program (insns 0..{len(self.insns) - 1})")
        interp = self._by_pc.get(pc)
        if interp is None:
            interp = self._by_pc[pc] = self.build(trampoline(pc) + self.insns, TRAMPOLINE_SLOTS)
        outcome = interp.run(self.memory, args)
        if outcome.fault is not None:
            fault = outcome.fault
            at = fault.pc - TRAMPOLINE_SLOTS if fault.pc is not None and fault.pc >= TRAMPOLINE_SLOTS else None
            raise VmFault(f"in a callback: {fault.message}", pc=at)
        assert outcome.r0 is not None
        return outcome.r0
