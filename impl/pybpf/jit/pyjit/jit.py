"""``PyJit``: a program translated to Python source once, then run like the interpreter.

The same constructor and ``run`` as ``vm.Interpreter``, the same ``Outcome``s,
the same faults with the same words at the same pc and the same instruction
counts.  Compiled modules are cached per program (its encoding and every option
the text depends on), so many ``PyJit``s of one program compile it once.

Faults are located after the fact, from the traceback: every generated line
belongs to one instruction (``Owner``), and the innermost generated frame says
which instruction raised and, from its ``n``, how many had run.  A TypeError
there is arithmetic on an empty register; the frame's locals say which.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from types import TracebackType
from typing import Any

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import MAX_ISA
from pybpf.jit.pyjit.codegen import generate
from pybpf.jit.pyjit.emit import Owner
from pybpf.jit.pyjit.facts import Facts, gather
from pybpf.jit.pyjit.runtime import RunState, call_helper, callx_helper, ld_packet, too_deep
from pybpf.vm.decode import ImmResolver, KfuncResolver
from pybpf.vm.helpers import HelperTable, ProgramExit
from pybpf.vm.interp import DEFAULT_BUDGET, STACK_SIZE, Interpreter, Outcome
from pybpf.vm.machine import LAST_ARG, MAX_CALL_FRAMES, MAX_LOOPS, budget_message, uninit_message
from pybpf.vm.memory import M64, NO_REGION, Memory
from pybpf.vm.ops_alu import sdiv, smod, to_signed

_SIZES = (1, 2, 4, 8)
_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _namespace(budget: int) -> dict[str, Any]:
    names: dict[str, Any] = {
        "VmFault": VmFault, "NO_REGION": NO_REGION, "sdiv": sdiv, "smod": smod, "to_signed": to_signed,
        "call_helper": call_helper, "callx_helper": callx_helper, "ld_packet": ld_packet, "too_deep": too_deep,
        "MAX_DEPTH": MAX_CALL_FRAMES - 1, "BUDGET_MESSAGE": budget_message(budget),
    }  # fmt: skip
    for size in _SIZES:
        names[f"U{size}"] = struct.Struct("<" + _FMT[size]).unpack_from
        names[f"S{size}"] = struct.Struct("<" + _FMT[size].lower()).unpack_from
        names[f"P{size}"] = struct.Struct("<" + _FMT[size]).pack_into
    return names


@dataclass(frozen=True)
class _Key:
    """What a generated module depends on (the slots and every option the text uses);
    ``facts``, derived from them, rides along without being compared."""

    insns: tuple[Insn, ...]
    cpu: int
    budget: int
    strict: bool
    extra: frozenset[int]
    imm64: tuple[tuple[int, int], ...]
    facts: Facts = field(compare=False, hash=False)


@dataclass(frozen=True)
class Compiled:
    source: str
    filename: str
    owners: tuple[Owner | None, ...]
    entries: frozenset[int]
    bind: Any  # bind(rs, helpers, kfuncs) -> {entry: function}


@lru_cache(maxsize=256)
def _compile(key: _Key) -> Compiled:
    generated = generate(key.facts, budget=key.budget, strict=key.strict, extra_entries=key.extra)
    digest = hashlib.sha256(generated.source.encode()).hexdigest()[:16]
    filename = f"<pyjit {digest}>"
    namespace = _namespace(key.budget)
    exec(compile(generated.source, filename, "exec"), namespace)
    return Compiled(generated.source, filename, generated.owners, generated.entries, namespace["bind"])


class PyJit:
    """Translates ``insns`` to Python once; ``run`` may be called many times, with any memory.

    Arguments as ``vm.Interpreter``'s; what the interpreter refuses in its
    constructor (an unresolved pseudo ld_imm64 or kfunc call) is refused here
    with the same VmFault.
    """

    # the interpreter's fault wording, reused as is (they only read ``self.insns``)
    insn_text = Interpreter.insn_text
    _locate = Interpreter._locate
    _in_callback = staticmethod(Interpreter._in_callback)

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
            self._facts = gather(self.insns, cpu=cpu, budget=budget, resolve_imm64=resolve_imm64,
                                 resolve_kfunc=resolve_kfunc)  # fmt: skip
        except VmFault as fault:
            raise self._locate(fault, 0) from None
        self._seen: dict[str, Compiled] = {}  # every module this program ran, by file name
        self._program(False)  # compile now, not in the first run

    def source(self, *, strict_alignment: bool = False) -> str:
        """The generated Python (for reading; one function per subprogram)."""
        return self._program(strict_alignment).source

    def _program(self, strict: bool, extra: frozenset[int] = frozenset()) -> Compiled:
        key = _Key(tuple(self.insns), self.cpu, self.budget, strict, extra, tuple(sorted(self._facts.imm64.items())),
                   self._facts)  # fmt: skip
        program = _compile(key)
        self._seen[program.filename] = program
        return program

    # ------------------------------------------------------------ running

    def run(self, memory: Memory, args: Sequence[int] = (), *, stack_size: int = STACK_SIZE) -> Outcome:
        """Run from insn 0 with r1.. = ``args``; only VmFault-carrying Outcomes come back, never exceptions."""
        if len(args) > LAST_ARG:
            raise ValueError(f"a program takes at most {LAST_ARG} arguments, not {len(args)}")
        if stack_size <= 0:
            raise ValueError(f"stack_size must be positive, not {stack_size}")
        program = self._program(memory.strict_alignment)
        rs = RunState(memory, self.helpers, stack_size)
        functions = dict(program.bind(rs, self.helpers, self._facts.kfuncs))
        rs.ctx.call_subprog = partial(self._call_subprog, rs, functions, memory.strict_alignment)
        regs = [a & M64 for a in args] + [None] * (LAST_ARG - len(args))
        try:
            r0, count, _ = functions[0](*regs, 0, MAX_LOOPS, 0)
            return Outcome(r0, None, count)
        except ProgramExit as done:
            pc, count, _ = self._where(done.__traceback__, rs)
            if not isinstance(done.r0, int):
                fault = VmFault(f"ProgramExit carries {type(done.r0).__name__}, not an integer")
                return Outcome(None, self._locate(fault, pc), count)
            if count > self.budget:
                return Outcome(None, self._locate(VmFault(budget_message(self.budget)), pc), count)
            return Outcome(done.r0 & M64, None, count)
        except VmFault as fault:
            pc, count, _ = self._where(fault.__traceback__, rs)
            return Outcome(None, self._locate(fault, pc), count)
        except TypeError as error:
            pc, count, local = self._where(error.__traceback__, rs)
            return Outcome(None, self._locate(self._uninitialised(pc, local, error), pc), count)
        finally:
            rs.release()

    def _call_subprog(self, rs: RunState, functions: dict, strict: bool, target: int, args: Sequence[int]) -> int:
        """A helper's callback: the subprogram at ``target`` in a new frame of this run; its r0."""
        n = self._facts.n
        if not 0 <= target < n:
            raise VmFault(f"callback at insn {target} is outside the program (insns 0..{n - 1})")
        if target not in functions:  # no call or BPF_PSEUDO_FUNC names it: compile it as an entry too
            functions[target] = self._program(strict, frozenset({target})).bind(rs, self.helpers,
                                                                               self._facts.kfuncs)[target]  # fmt: skip
        if rs.count > self.budget:  # a callback body may have no back-edge to check the budget at
            raise VmFault(budget_message(self.budget))
        depth = rs.depth
        if depth + 1 >= MAX_CALL_FRAMES:
            raise too_deep(depth)
        regs = [a & M64 for a in args[:LAST_ARG]] + [None] * (LAST_ARG - len(args[:LAST_ARG]))
        try:
            r0, count, loops = functions[target](*regs, rs.count, rs.loops, depth + 1)
        except VmFault as fault:
            pc, rs.count, _ = self._where(fault.__traceback__, rs)
            raise self._in_callback(self._locate(fault, pc)) from None
        except TypeError as error:
            pc, rs.count, local = self._where(error.__traceback__, rs)
            raise self._in_callback(self._locate(self._uninitialised(pc, local, error), pc)) from None
        rs.count, rs.loops, rs.depth = count, loops, depth
        return r0

    def _where(self, tb: TracebackType | None, rs: RunState) -> tuple[int, int, dict[str, Any]]:
        """(pc, instructions run, locals) at the innermost generated line of ``tb``."""
        found: tuple[int, int, dict[str, Any]] = (0, rs.count, {})
        while tb is not None:
            program = self._seen.get(tb.tb_frame.f_code.co_filename)
            owner = program.owners[tb.tb_lineno - 1] if program is not None else None
            if owner is not None:
                local = tb.tb_frame.f_locals
                count = rs.count if owner.shared else local["n"] - owner.deficit
                found = (owner.pc, count, local)
            tb = tb.tb_next
        return found

    def _uninitialised(self, pc: int, local: dict[str, Any], error: TypeError) -> VmFault:
        """The fault for arithmetic on an empty register; any other TypeError is our bug."""
        for reg in self._facts.reads(pc):
            if local.get(f"r{reg}", 0) is None:
                return VmFault(uninit_message(reg))
        raise error
