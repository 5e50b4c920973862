"""The mutable state of one program run, shared by its bound instruction closures.

Registers are a list of 11 slots; ``None`` in a slot means "holds no value"
(never written, or clobbered by a call).  Any arithmetic on ``None`` raises
``TypeError``, which the run loop turns into a fault naming the register, so
checking for uninitialised reads costs nothing on the hot path.

``count`` is kept per control transfer, not per instruction: a taken jump from
instruction index ``p`` to ``t`` adds ``p + 1 - t``, so that at any point the
number of instructions executed so far is ``count + (index of the current
instruction) + 1`` (see ``Interpreter``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.errors import VmFault
from pybpf.vm.helpers import HelperContext, HelperTable
from pybpf.vm.memory import Memory, Region, RegionKind

NREGS = 11
FP = 10  # the read-only frame pointer
FIRST_ARG, LAST_ARG = 1, 5
FIRST_SAVED = 6  # r6..r9 are callee-saved
MAX_CALL_FRAMES = 8  # the kernel's MAX_CALL_FRAMES
MAX_LOOPS = 8 * 1024 * 1024  # may_goto's budget, the kernel's BPF_MAX_LOOPS


def uninit_message(reg: int) -> str:
    return f"Invalid read of r{reg}: it holds no value (never written, or clobbered by a call)"


def budget_message(budget: int) -> str:
    return f"instruction budget of {budget} exhausted (the program may not terminate)"


@dataclass(slots=True)
class Frame:
    """A suspended caller: where to return and what the callee must not change."""

    return_pc: int
    return_index: int  # instruction index of return_pc (for ``count``)
    saved: list[int | None]  # the caller's r6..r10
    stack: Region  # the callee's stack, freed on return


class Machine:
    """Registers, memory, call frames and counters of one run."""

    __slots__ = ("budget", "count", "ctx", "frames", "helpers", "loops", "memory", "regs", "stack_size", "stacks")

    def __init__(self, memory: Memory, helpers: HelperTable, budget: int, stack_size: int):
        self.memory = memory
        self.helpers = helpers
        self.ctx = HelperContext(memory)
        self.budget = budget
        self.stack_size = stack_size
        self.regs: list[int | None] = [None] * NREGS
        self.frames: list[Frame] = []
        self.stacks: list[Region] = []  # every stack region this run mapped and still holds
        self.count = 0
        self.loops = MAX_LOOPS

    def new_stack(self) -> int:
        """Map a fresh zeroed stack for a new frame; returns its top (the frame's r10)."""
        depth = len(self.stacks)
        name = "stack" if depth == 0 else f"stack of frame {depth}"
        region = self.memory.add(RegionKind.STACK, bytearray(self.stack_size), name=name)
        self.stacks.append(region)
        return region.end

    def call(self, return_pc: int, return_index: int) -> None:
        """Enter a BPF-to-BPF callee: r1..r5 pass through, r0 and r6..r9 start empty."""
        if len(self.frames) + 1 >= MAX_CALL_FRAMES:
            raise VmFault(f"the call stack of {len(self.frames) + 2} frames is too deep (at most {MAX_CALL_FRAMES})")
        regs = self.regs
        saved = regs[FIRST_SAVED:]
        top = self.new_stack()
        self.frames.append(Frame(return_pc, return_index, saved, self.stacks[-1]))
        regs[0] = None
        regs[FIRST_SAVED:] = [None] * (FP - FIRST_SAVED) + [top]

    def ret(self, exit_after: int) -> int:
        """Leave a callee (``exit_after`` = its exit's index + 1); returns the caller's pc."""
        frame = self.frames.pop()
        self.stacks.pop()
        self.memory.remove(frame.stack)
        regs = self.regs
        regs[FIRST_ARG : LAST_ARG + 1] = [None] * (LAST_ARG - FIRST_ARG + 1)
        regs[FIRST_SAVED:] = frame.saved
        self.count += exit_after - frame.return_index
        return frame.return_pc

    def release(self) -> None:
        """Unmap every stack this run still holds."""
        while self.stacks:
            self.memory.remove(self.stacks.pop())

    def exhausted(self) -> None:
        raise VmFault(budget_message(self.budget))
