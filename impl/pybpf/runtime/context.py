"""What helpers see of the runtime: ``ExecEnv``, and ``RunState``, the state of one ``Runtime.run``."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from pybpf.errors import VmFault
from pybpf.runtime.callbacks import TailCall
from pybpf.runtime.clock import Clock
from pybpf.runtime.locks import HeldLock, SpinLocks
from pybpf.runtime.maps.base import BpfMap
from pybpf.runtime.maps.ringbuf import RingBufMap
from pybpf.runtime.objects import ObjectTable, func_pc
from pybpf.runtime.program import Program
from pybpf.vm.helpers import HelperContext
from pybpf.vm.memory import Memory


@dataclass
class RunState:
    """One run, from its first program through its tail calls."""

    program: Program
    cpu: int
    tail_calls: int = 0
    pending: TailCall | None = None  # set by bpf_tail_call, taken by Runtime.run
    lock: HeldLock = field(default_factory=HeldLock)
    samples: dict[int, RingBufMap] = field(default_factory=dict)  # ringbuf samples reserved and not yet released

    def take_tail_call(self) -> TailCall | None:
        pending, self.pending = self.pending, None
        return pending


@dataclass
class ExecEnv:
    """The runtime as the helpers use it; ``runs`` is this thread's stack of runs in progress (innermost last).

    Runs are per thread: two threads running programs on one runtime each see their own innermost run
    (and so their own held lock).
    """

    memory: Memory
    objects: ObjectTable
    ncpus: int
    clock: Clock
    rng: random.Random
    locks: SpinLocks
    atomics: threading.Lock = field(default_factory=threading.Lock, repr=False)  # exchanges helpers do at once
    trace: list[str] = field(default_factory=list)  # bpf_trace_printk's lines, as trace_pipe would show them
    signals: list[tuple[int, bool]] = field(default_factory=list)  # (signal, thread only) bpf_send_signal recorded
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def runs(self) -> list[RunState]:
        try:
            return self._local.runs
        except AttributeError:
            self._local.runs = []
            return self._local.runs

    @property
    def state(self) -> RunState:
        if not self.runs:
            raise VmFault("a runtime helper was called outside Runtime.run")
        return self.runs[-1]

    def current_cpu(self) -> int:
        return self.runs[-1].cpu if self.runs else 0

    def map_arg(self, value: int, helper: str, reg: int = 1) -> BpfMap:
        found = self.objects.map_by_handle(value)
        if found is None:
            raise VmFault(f"{helper}: r{reg} = {value:#x} is not a map")
        return found

    def call_subprog(self, ctx: HelperContext, func: int, args: Sequence[int], helper: str) -> int:
        """Run the callback ``func`` (a function handle) with ``args``; its r0."""
        pc = func_pc(func)
        if pc is None:
            raise VmFault(f"{helper}: {func:#x} is not a subprogram of the program")
        state = self.state
        if ctx.call_subprog is None:
            raise VmFault(f"{helper}: this executor cannot call back into the program")
        r0 = ctx.call_subprog(pc, args)
        if state.pending is not None:
            raise VmFault(f"{helper}: a callback made a tail call, which the runtime does not allow")
        return r0
