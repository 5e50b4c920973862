"""Which executor runs the runtime's programs: the interpreter, pyjit, or a machine-code JIT under unicorn.

``executor_factory(tier, arch)`` gives what ``Runtime(executor=...)`` calls
for each program it loads, with ``vm.Interpreter``'s constructor arguments;
the result must ``run(memory, args)`` to an ``Outcome`` as the interpreter
does.  The machine-code tier is ``EmulatedExecutor``: the back-end of ``arch``
compiled and run by ``jit.common.emulate.EmulatedProgram``.  Its
``insns_executed`` is None unless the factory was asked to count
(``count_insns=True``): the code then counts BPF instructions, at some cost.
"""

from __future__ import annotations

import importlib
import platform
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

from pybpf.errors import InputError
from pybpf.isa.insn import Insn
from pybpf.vm.decode import ImmResolver, KfuncResolver
from pybpf.vm.helpers import HelperTable
from pybpf.vm.interp import DEFAULT_BUDGET, Interpreter, Outcome
from pybpf.vm.memory import Memory

ARCHES = ("x86_64", "arm64", "s390x")
# platform.machine() names of the hosts whose back-end we have
_HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64", "s390x": "s390x"}
JIT_EXTRA = "pip install 'pybpf[jit]'"


class Tier(StrEnum):
    INTERP = "interp"  # vm.Interpreter, counts instructions
    PYJIT = "pyjit"  # BPF translated to Python, the interpreter's contract and counts
    JIT = "jit"  # a machine-code back-end run under unicorn


class Executor(Protocol):
    def run(self, memory: Memory, args: Sequence[int] = ()) -> Outcome: ...


ExecutorFactory = Callable[..., Executor]
"""``factory(insns, *, helpers, budget, resolve_imm64, resolve_kfunc) -> Executor`` (Interpreter's signature)."""


def host_arch() -> str:
    """The back-end for this machine; x86_64 where we have none (the emulator runs any of them)."""
    return _HOST_ARCH.get(platform.machine().lower(), "x86_64")


def missing_jit_modules(*modules: str) -> str | None:
    """One line naming the first of ``modules`` that is not installed, or None."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            return f"the JIT tools need {module}, which is not installed ({JIT_EXTRA})"
    return None


def backend_for(arch: str):
    """A fresh ``Backend`` of ``arch``."""
    if arch not in ARCHES:
        raise InputError(f"unknown arch {arch!r} (choose from {', '.join(ARCHES)})")
    return importlib.import_module(f"pybpf.jit.{arch}").BACKEND()


class EmulatedExecutor:
    """``EmulatedProgram`` behind the interpreter's constructor and ``run``.

    The runtime's ``budget`` counts BPF instructions, which a machine does not:
    the emulator's time limit bounds a run instead, or ``machine_budget``
    machine instructions when given (not a callback's: a nested run has none).  kfunc calls go through
    gates, resolved by ``resolve_kfunc`` as the interpreter resolves them.
    """

    def __init__(self, insns: Sequence[Insn], *, arch: str, helpers: HelperTable | None = None,
                 budget: int = DEFAULT_BUDGET, resolve_imm64: ImmResolver | None = None,
                 resolve_kfunc: KfuncResolver | None = None, count_insns: bool = False,
                 machine_budget: int | None = None):  # fmt: skip
        from pybpf.jit.common.emulate import DEFAULT_TIMEOUT_S, EmulatedProgram

        self.insns = list(insns)
        # a machine-instruction budget replaces the time limit: unicorn's timer is a thread per run, whose
        # join costs milliseconds on a busy machine
        timeout_s = None if machine_budget else DEFAULT_TIMEOUT_S
        self.program = EmulatedProgram(backend_for(arch), self.insns, helpers=helpers, resolve_imm64=resolve_imm64,
                                       resolve_kfunc=resolve_kfunc, count_insns=count_insns,
                                       budget=machine_budget, timeout_s=timeout_s)  # fmt: skip

    def run(self, memory: Memory, args: Sequence[int] = ()) -> Outcome:
        return self.program.run(memory, args)


class JitExec(StrEnum):
    EMULATE = "emulate"  # under unicorn: every access checked against the runtime's regions
    NATIVE = "native"  # x86_64 code on this CPU: nothing checks it, so only for verified programs


def _no_guest_memory(pc: int, first: Insn, second: Insn) -> int:
    raise InputError("a program that refers to maps cannot run natively: its maps live in pybpf's guest memory, "
                     "which native code cannot address (use --jit-exec emulate)")


class NativeExecutor:
    """``NativeProgram`` behind the interpreter's constructor and ``run``, for a program a verifier accepted.

    The factory is only made for such a program (``trusted``); maps, whose addresses are guest addresses,
    are refused when the program is compiled.
    """

    def __init__(self, insns: Sequence[Insn], *, helpers: HelperTable | None = None, budget: int = DEFAULT_BUDGET,
                 resolve_imm64: ImmResolver | None = None, resolve_kfunc: KfuncResolver | None = None,
                 count_insns: bool = False):  # fmt: skip
        from pybpf.jit.common.native import NativeProgram

        self.insns = list(insns)
        self.program = NativeProgram(backend_for("x86_64"), self.insns, helpers=helpers, trusted=True,
                                     resolve_imm64=_no_guest_memory, resolve_kfunc=resolve_kfunc,
                                     count_insns=count_insns)  # fmt: skip

    def run(self, memory: Memory, args: Sequence[int] = ()) -> Outcome:
        return self.program.run(memory, args)


def native_factory(*, verified: bool, count_insns: bool = False) -> ExecutorFactory:
    """The executor of ``--jit-exec native``; ``verified`` says a verifier accepted the program (else refused)."""
    from pybpf.jit.common.native import native_unavailable

    if not verified:
        raise InputError("native execution runs unchecked machine code: only a program pybpf's verifier "
                         "accepted may run natively")
    why = native_unavailable(backend_for("x86_64"))
    if why is not None:
        raise InputError(why)

    def make(insns: Sequence[Insn], **kwargs) -> Executor:
        return NativeExecutor(insns, count_insns=count_insns, **kwargs)

    return make


def executor_factory(tier: Tier | str, arch: str | None = None, *, count_insns: bool = False,
                     machine_budget: int | None = None) -> ExecutorFactory:
    """What ``Runtime(executor=...)`` takes for ``tier`` (``arch``: the JIT's back-end, default the host's;
    ``count_insns``: machine code counts BPF instructions too, as the other tiers always do;
    ``machine_budget``: a JIT run stops after that many machine instructions instead of a time limit)."""
    try:
        tier = Tier(tier)
    except ValueError:
        raise InputError(f"unknown tier {tier!r} (choose from {', '.join(t.value for t in Tier)})") from None
    if tier is Tier.INTERP:
        return Interpreter
    if tier is Tier.PYJIT:
        from pybpf.jit.pyjit import PyJit

        return PyJit
    why = missing_jit_modules("unicorn")
    if why is not None:
        raise InputError(why)
    chosen = arch or host_arch()
    backend_for(chosen)  # an unknown arch is bad input now, not at the first load

    def make(insns: Sequence[Insn], **kwargs) -> Executor:
        return EmulatedExecutor(insns, arch=chosen, count_insns=count_insns, machine_budget=machine_budget, **kwargs)

    return make


__all__ = ["ARCHES", "EmulatedExecutor", "Executor", "ExecutorFactory", "JitExec", "NativeExecutor", "Tier",
           "backend_for", "executor_factory", "host_arch", "missing_jit_modules", "native_factory"]
