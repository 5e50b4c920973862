"""The reference interpreter: runs a decoded program against a ``Memory``.

The program is decoded once (``decode``) into per-slot binders; each run binds
them to a fresh ``Machine`` (registers, frames, counters) and then the loop is
just ``pc = ops[pc]()``: every closure does its instruction's work and returns
the next pc.  Nothing else happens per instruction.  Exits, faults and the
budget surface as exceptions, caught once around the loop:

- ``Halt`` (exit from the main frame) and ``ProgramExit`` (a helper ending the
  program) give the result;
- ``VmFault`` is located at the pc that raised it;
- ``TypeError`` means arithmetic met a register holding no value (``None``):
  the fault names which of the instruction's source registers it was.

Execution model (bpf_conformance FORMAT.md, RFC 9669): r1..r5 come from
``args``, r10 is the top of a fresh zeroed stack, every other register holds no
value until written; a BPF-to-BPF call gets its own stack, r6..r9 and r10 are
preserved for the caller, r0 is returned; at most 8 frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import MAX_ISA, lookup
from pybpf.vm.decode import Decoded, ImmResolver, KfuncResolver, decode
from pybpf.vm.helpers import HelperTable, ProgramExit
from pybpf.vm.machine import FIRST_ARG, LAST_ARG, Machine, budget_message, uninit_message
from pybpf.vm.memory import M64, Memory
from pybpf.vm.ops_alu import Op
from pybpf.vm.ops_jump import Halt

_RETURN_TO_HELPER = -1  # the return pc of a callback's frame: leaves the helper's nested loop
STACK_SIZE = 512  # the kernel's MAX_BPF_STACK, per frame here
DEFAULT_BUDGET = 1_000_000


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``r0`` on success, else ``fault``; both say how far it got."""

    r0: int | None
    fault: VmFault | None
    insns_executed: int

    @property
    def ok(self) -> bool:
        return self.fault is None


class Interpreter:
    """Executes one program; ``run`` may be called many times, with any memory.

    ``resolve_imm64`` and ``resolve_kfunc`` are the loader's hooks: without
    them an ld_imm64 with a pseudo ``src`` or a kfunc call is refused here, in
    the constructor, with a VmFault naming the instruction.
    """

    def __init__(
        self,
        insns: Sequence[Insn],
        *,
        helpers: HelperTable | None = None,
        budget: int = DEFAULT_BUDGET,
        cpu: int = MAX_ISA,
        resolve_imm64: ImmResolver | None = None,
        resolve_kfunc: KfuncResolver | None = None,
    ):
        self.insns = list(insns)
        self.helpers = helpers if helpers is not None else HelperTable()
        self.budget = budget
        self.cpu = cpu
        try:
            self._decoded: Decoded = decode(
                self.insns, cpu=cpu, budget=budget, resolve_imm64=resolve_imm64, resolve_kfunc=resolve_kfunc
            )
        except VmFault as fault:
            raise self._locate(fault, 0) from None

    def run(self, memory: Memory, args: Sequence[int] = (), *, stack_size: int = STACK_SIZE) -> Outcome:
        """Run from insn 0 with r1.. = ``args``; only VmFault-carrying Outcomes come back, never exceptions."""
        if len(args) > LAST_ARG:
            raise ValueError(f"a program takes at most {LAST_ARG} arguments, not {len(args)}")
        if stack_size <= 0:
            raise ValueError(f"stack_size must be positive, not {stack_size}")
        m = Machine(memory, self.helpers, self.budget, stack_size)
        for n, value in enumerate(args):
            m.regs[FIRST_ARG + n] = value & M64
        try:
            m.regs[10] = m.new_stack()
            ops = [step.bind(m) for step in self._decoded.steps]
            m.ctx.call_subprog = partial(self._call_subprog, m, ops)
            return self._execute(m, ops)
        finally:
            m.release()

    def _call_subprog(self, m: Machine, ops: list[Op], target: int, args: Sequence[int]) -> int:
        """A helper's callback: run the subprogram at ``target`` in a new frame of this run; its r0.

        The callee returns to a sentinel pc (-1) that ends this nested loop.  Its
        instructions count towards the run's total; while it runs, budget checks
        are short by the caller's index, and the run's final check is exact.
        """
        if not 0 <= target < self._decoded.nslots:
            raise VmFault(f"callback at insn {target} is outside the program (insns 0..{self._decoded.nslots - 1})")
        regs, after = m.regs, self._decoded.after
        if m.count > self.budget:  # a callback body may have no back-edge to check the budget at
            raise VmFault(budget_message(self.budget))
        m.call(_RETURN_TO_HELPER, 0)
        regs[FIRST_ARG : LAST_ARG + 1] = [*(a & M64 for a in args), *[None] * (LAST_ARG + 1 - FIRST_ARG - len(args))]
        # In the callee, count + after[pc] is the caller's count plus what the callee ran; the
        # caller's loop adds after[its pc] on top, so the total stays exact on return and on a fault.
        m.count += 1 - after[target]
        pc = target
        try:
            while pc >= 0:
                pc = ops[pc]()
        except VmFault as fault:
            m.count += after[pc]
            raise self._in_callback(self._locate(fault, pc)) from None
        except TypeError as error:
            m.count += after[pc]
            raise self._in_callback(self._locate(self._uninitialised(pc, regs, error), pc)) from None
        return regs[0]

    @staticmethod
    def _in_callback(fault: VmFault) -> VmFault:
        if not fault.message.startswith("in a callback"):
            fault.message = f"in a callback: {fault.message}"
        return fault  # m.count is now the caller's count plus the callee's instructions

    def _execute(self, m: Machine, ops: list[Op]) -> Outcome:
        regs, after = m.regs, self._decoded.after
        pc = 0
        try:
            try:
                while True:
                    pc = ops[pc]()
            except Halt:
                r0 = regs[0]
            except ProgramExit as done:
                r0 = done.r0
                if not isinstance(r0, int):
                    raise VmFault(f"ProgramExit carries {type(r0).__name__}, not an integer") from None
            executed = m.count + after[pc]
            if executed > self.budget:
                raise VmFault(budget_message(self.budget))
            return Outcome(r0 & M64, None, executed)
        except VmFault as fault:
            return Outcome(None, self._locate(fault, pc), m.count + after[pc])
        except TypeError as error:
            fault = self._uninitialised(pc, regs, error)
            return Outcome(None, self._locate(fault, pc), m.count + after[pc])

    def _uninitialised(self, pc: int, regs: list[int | None], error: TypeError) -> VmFault:
        """The fault for arithmetic on an empty register; any other TypeError is our bug."""
        if pc < self._decoded.nslots:
            for reg in self._decoded.steps[pc].reads:
                if regs[reg] is None:
                    return VmFault(uninit_message(reg))
        raise error

    def _locate(self, fault: VmFault, pc: int) -> VmFault:
        """Pin ``fault`` to its instruction: ``insn 3 (r0 = *(u64 *)(r1 +8)): ...``."""
        if fault.pc is None:
            fault.pc = pc
        fault.place = f"insn {fault.pc} ({self.insn_text(fault.pc)})"
        return fault

    def insn_text(self, pc: int) -> str:
        """The kernel's text for insn ``pc`` if the disassembler can say it, else its encoding."""
        if not 0 <= pc < len(self.insns):
            return "no instruction"
        try:
            from pybpf.isa.disasm import format_insn

            return format_insn(self.insns, pc)
        except Exception:  # the disassembler refuses invalid slots; fall back to the raw fields
            insn = self.insns[pc]
            spec = lookup(insn.code, insn.off, insn.imm, insn.src)
            name = f"{spec.name}: " if spec else ""
            return f"{name}code {insn.code:#04x} dst {insn.dst} src {insn.src} off {insn.off} imm {insn.imm}"
