"""``Runtime``: maps, programs and helpers over one guest memory, and the runs of programs.

    rt = Runtime(ncpus=2, seed=1)
    counts = rt.create_map(MapType.ARRAY, 4, 8, 16, name="counts")
    prog = rt.load(insns)          # ld_imm64 BPF_PSEUDO_MAP_FD with imm = counts.fd
    outcome = rt.run(prog, data=b"...")
    counts.lookup_bytes(key)

A run gets r1 = the address of ``ctx`` when one is given, else r1 = the
address of ``data`` and r2 = its length (``args`` overrides both).  ``data``
is mapped as a PACKET region and ``ctx`` as a CTX region for the run; a
``bytearray`` is mapped in place, so the caller sees what the program wrote.
The run's CPU (``bpf_get_smp_processor_id``, per-CPU map slots) is ``cpu``.
"""

from __future__ import annotations

import errno as errnos
import random
from collections.abc import Callable, Sequence
from typing import Any

from pybpf.abi.profiles import LINUX_6_18, Profile, profile
from pybpf.errors import InputError, VmFault
from pybpf.isa.insn import Insn
from pybpf.runtime.clock import Clock, SystemClock
from pybpf.runtime.context import ExecEnv, RunState
from pybpf.runtime.helpers import register_helpers
from pybpf.runtime.locks import SpinLocks
from pybpf.runtime.maps.base import BpfMap, MapAttr, MapEnv
from pybpf.runtime.maps.fd_maps import OUTER_TYPES
from pybpf.runtime.maps.registry import create_map
from pybpf.runtime.objects import ObjectTable
from pybpf.runtime.program import Program, make_resolver
from pybpf.runtime.shared_memory import SharedMemory
from pybpf.vm.decode import KfuncResolver
from pybpf.vm.helpers import HelperTable
from pybpf.vm.interp import DEFAULT_BUDGET, Interpreter, Outcome
from pybpf.vm.memory import Region, RegionKind


class Runtime:
    """One BPF world: guest memory, maps, programs and the helpers that tie them together."""

    def __init__(self, *, ncpus: int = 1, cpu: int = 0, seed: int | None = None, clock: Clock | None = None,
                 budget: int = DEFAULT_BUDGET, strict_alignment: bool = False,
                 executor: Callable[..., Any] = Interpreter, abi: str | Profile = LINUX_6_18.name):  # fmt: skip
        # ``executor`` runs each loaded program, made with Interpreter's arguments (see ``pybpf.jit.tiers``);
        # ``abi`` is the kfunc profile of local kptrs and graph collections programs call (``pybpf.abi``)
        if ncpus < 1 or not 0 <= cpu < ncpus:
            raise InputError(f"cpu {cpu} must be one of the {ncpus} CPUs (ncpus >= 1)")
        try:
            self.profile = abi if isinstance(abi, Profile) else profile(abi)
        except KeyError as err:
            raise InputError(str(err.args[0])) from None
        self.ncpus = ncpus
        self.cpu = cpu
        self.budget = budget
        self.executor = executor
        self.memory = SharedMemory(strict_alignment=strict_alignment)  # runs in several threads may share it
        self.objects = ObjectTable()
        self.env = ExecEnv(self.memory, self.objects, ncpus, clock or SystemClock(), random.Random(seed),
                           SpinLocks())  # fmt: skip
        self.helpers: HelperTable = register_helpers(HelperTable(), self.env)
        self._map_env = MapEnv(self.memory, ncpus, self.env.current_cpu, self.objects.by_fd, self.env.locks)

    # ------------------------------------------------------------ maps

    def create_map(self, map_type: int, key_size: int, value_size: int, max_entries: int, *, map_flags: int = 0,
                   name: str = "", inner_map_fd: int | None = None, numa_node: int = 0,
                   map_extra: int = 0) -> BpfMap:  # fmt: skip
        """BPF_MAP_CREATE: a new map with its fd and id, or ``MapCreateError`` with the kernel's errno."""
        inner, inner_errno = None, 0
        if map_type in OUTER_TYPES and inner_map_fd:
            found = self.objects.by_fd(inner_map_fd)
            if isinstance(found, BpfMap):
                inner = found
            else:  # no such fd, or a program's
                inner_errno = errnos.EBADF if found is None else errnos.EINVAL
        attr = MapAttr(map_type, key_size, value_size, max_entries, map_flags, name, numa_node, map_extra,
                       inner, inner_errno)  # fmt: skip
        created = create_map(attr, self._map_env)
        self.objects.add(created)
        return created

    def remove(self, obj: BpfMap | Program) -> None:
        """Close a map or a program: its fd and id go away, and a map's values are unmapped."""
        self.objects.remove(obj)
        if isinstance(obj, BpfMap):
            obj.release()

    def close(self) -> None:
        """Tear the runtime down: every map released (what their values hold freed), every program dropped."""
        for obj in self.objects.objects():
            self.remove(obj)  # type: ignore[arg-type]

    @property
    def maps(self) -> list[BpfMap]:
        return self.objects.maps()

    def map(self, which: str | int) -> BpfMap:
        """A map by name or by fd."""
        if isinstance(which, int):
            found = self.objects.map_by_fd(which)
            if found is None:
                raise InputError(f"fd {which} is not a map of this runtime")
            return found
        named = [m for m in self.maps if m.name == which]
        if len(named) != 1:
            raise InputError(f"{len(named) or 'no'} maps are named {which!r}" + (" (use the fd)" if named else ""))
        return named[0]

    # ------------------------------------------------------------ programs

    def load(self, insns: Sequence[Insn], *, name: str = "", fd_array: Sequence[int] = (),
             resolve_kfunc: KfuncResolver | None = None) -> Program:  # fmt: skip
        """Decode ``insns`` with their map and subprogram references resolved; VmFault if one cannot be.

        ``resolve_kfunc`` gives kfunc calls their functions (``pybpf.runtime.kfuncs.KfuncResolver``).
        """
        prog = Program(tuple(insns), name, tuple(fd_array))
        self.objects.add(prog)
        try:
            prog.interpreter = self.executor(list(prog.insns), helpers=self.helpers, budget=self.budget,
                                             resolve_imm64=make_resolver(prog, self.objects),
                                             resolve_kfunc=resolve_kfunc)
        except VmFault as fault:
            self.objects.remove(prog)
            raise fault.located(file=name or None) from None
        return prog


    # ------------------------------------------------------------ runs

    def run(self, program: Program | Sequence[Insn], data: bytes | bytearray = b"",
            ctx: bytes | bytearray | None = None, *, cpu: int | None = None,
            args: Sequence[int] | None = None) -> Outcome:  # fmt: skip
        """Run ``program`` (loading it first if given as slots) to its end, through its tail calls."""
        prog = program if isinstance(program, Program) else self.load(program)
        cpu = self.cpu if cpu is None else cpu
        if not 0 <= cpu < self.ncpus:
            raise InputError(f"cpu {cpu} is not one of the runtime's {self.ncpus} CPUs")
        mapped: list[Region] = []
        try:
            regs = self._map_input(data, ctx, mapped) if args is None else tuple(args)
            state = RunState(prog, cpu)
            self.env.runs.append(state)
            try:
                outcome, executed = self._run_chain(state, regs)
            finally:
                self.env.runs.pop()
            leftover = self._release_leftovers(state)
        finally:
            for region in mapped:
                self.memory.remove(region)
        fault = outcome.fault or leftover
        if fault is not None and fault.file is None and state.program.name:
            fault.file = state.program.name
        return Outcome(None if fault else outcome.r0, fault, executed)

    def _map_input(self, data: bytes | bytearray, ctx: bytes | bytearray | None, mapped: list[Region]) -> tuple:
        packet = self.memory.add(RegionKind.PACKET, data if isinstance(data, bytearray) else bytearray(data))
        mapped.append(packet)
        if ctx is None:
            return (packet.base, len(data))
        context = self.memory.add(RegionKind.CTX, ctx if isinstance(ctx, bytearray) else bytearray(ctx))
        mapped.append(context)
        return (context.base,)

    def _run_chain(self, state: RunState, regs: Sequence[int]) -> tuple[Outcome, int | None]:
        executed: int | None = 0
        while True:
            assert state.program.interpreter is not None
            outcome = state.program.interpreter.run(self.memory, regs)
            # a machine-code JIT does not count instructions (None): then neither does the chain
            count = outcome.insns_executed
            executed = None if executed is None or count is None else executed + count
            tail = state.take_tail_call()
            if tail is None or outcome.fault is not None:
                return outcome, executed
            assert isinstance(tail.target, Program)
            state.program, regs = tail.target, (tail.ctx,)

    def _release_leftovers(self, state: RunState) -> VmFault | None:
        """Undo what a run should have undone itself; the fault that says so."""
        fault = None
        if state.lock.addr is not None:
            fault = VmFault(f"the program exited holding the bpf_spin_lock at {state.lock.addr:#x}")
            self.env.locks.release_held(self.memory, state.lock)
        if state.samples:
            fault = fault or VmFault(f"the program exited with {len(state.samples)} ring buffer sample(s) "
                                     "reserved and neither submitted nor discarded")  # fmt: skip
            for addr, ring in state.samples.items():
                ring.commit(addr, 0, discard=True)
            state.samples.clear()
        return fault


__all__ = ["Runtime"]
