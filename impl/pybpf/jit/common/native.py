"""Run x86_64 JIT code natively on an x86_64 host — only for programs the caller vouches for.

Nothing checks a native program's memory accesses: a stray pointer reads or
writes this process's memory, or kills it.  So ``NativeProgram`` refuses to
exist unless ``trusted=True``: *the caller vouches that the program is safe*
(until pybpf's verifier exists, that means programs the kernel's verifier
accepts).

W^X: the code is written into an anonymous read+write mapping, which is then
made read+exec (``mprotect``) before it is first called.  The entry is called
through ctypes; each registered helper's gate is a ctypes callback (so a gate
really is a C function ``u64 (u64 r1, .., u64 r5)``); a helper that raises
``ProgramExit`` or ``VmFault`` sets the context block's ``exit_kind`` and the
code takes its abort path, as under the emulator.

Memory.  There is no guest address space: pointers are host addresses.
``run(memory, args)`` passes an argument that points into a region of
``memory`` whose buffer is writable host memory as that buffer's host
address.  Helpers get host addresses too, so ``ctx.memory`` (the given
``Memory``) cannot resolve them: native runs suit helpers that do not touch
guest memory, and ``ctx.call_subprog`` refuses (callbacks need the emulator).
kfuncs (``resolve_kfunc``) and ld_abs/ld_ind go through gates as under the
emulator (``gates.route``): the packet loads read the packet region's buffer,
so they work; kfuncs that hand out guest memory (``bpf_obj_new_impl``) do not.
The frames' stacks are ``MAX_FRAMES`` stacks of one page each
with PROT_NONE guard pages between them.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import struct
from collections.abc import Sequence

from pybpf.errors import InputError, VmFault
from pybpf.isa.insn import Insn
from pybpf.jit.common.backend import (
    MAX_FRAMES,
    MAX_HELPERS,
    STACK_SIZE,
    Backend,
    Ctx,
    ExitKind,
    Fault,
    ImmResolver,
    pack_ctx,
)
from pybpf.jit.common.emulate import call_helper, compile_routed, host_address, locate, unknown_helper_message
from pybpf.jit.common.faults import code_fault
from pybpf.vm.decode import KfuncResolver
from pybpf.vm.helpers import Helper, HelperContext, HelperTable, ProgramExit
from pybpf.vm.interp import Outcome
from pybpf.vm.memory import M64, PAGE, Memory

_GATE = ctypes.CFUNCTYPE(ctypes.c_uint64, *[ctypes.c_uint64] * 5)
_ENTRY = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_PRIVATE = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
_ZERO_STACK = bytes(STACK_SIZE)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    libc.mprotect.restype = ctypes.c_int
    return libc


def _protect(libc: ctypes.CDLL, addr: int, size: int, prot: int) -> None:
    if libc.mprotect(addr, size, prot) != 0:
        raise OSError(ctypes.get_errno(), "mprotect failed")


def _no_callbacks(pc: int, args: Sequence[int]) -> int:
    raise VmFault("helper callbacks into the program are not supported by native runs")


def native_unavailable(backend: Backend) -> str | None:
    """Why ``backend``'s code cannot run on this host, or None."""
    if backend.arch != "x86_64" or platform.machine() not in ("x86_64", "AMD64"):
        return f"native runs need the x86_64 back-end on an x86_64 host (this is {platform.machine()})"
    return None


class NativeProgram:
    """A compiled program callable on this CPU.  ``trusted`` must be True: see the module docstring."""

    def __init__(self, backend: Backend, insns: Sequence[Insn], *, helpers: HelperTable | None = None,
                 trusted: bool = False, resolve_imm64: ImmResolver | None = None,
                 resolve_kfunc: KfuncResolver | None = None, count_insns: bool = False):  # fmt: skip
        if not trusted:
            raise InputError("native execution runs unchecked machine code: pass trusted=True only for a program "
                             "you vouch is safe (one a verifier accepted)")  # fmt: skip
        reason = native_unavailable(backend)
        if reason is not None:
            raise InputError(reason)
        self.insns = list(insns)  # the caller's program: faults name its instructions
        self._libc = _libc()
        compiled = compile_routed(backend, self.insns, helpers, code_base=0, resolve_imm64=resolve_imm64,
                                  resolve_kfunc=resolve_kfunc, count_insns=count_insns)  # fmt: skip
        self.helpers, self.image, self._plan = compiled.helpers, compiled.image, compiled.plan
        image = compiled.image
        size = max(PAGE, (len(image.code) + PAGE - 1) // PAGE * PAGE)
        self._text = mmap.mmap(-1, size, _PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE)
        self._text[: len(image.code)] = image.code
        self._text_addr = ctypes.addressof(ctypes.c_char.from_buffer(self._text))
        _protect(self._libc, self._text_addr, size, _PROT_READ | _PROT_EXEC)
        self._entry = _ENTRY(self._text_addr + image.entry)
        # MAX_FRAMES stacks, a page each, a guard page below each one
        self._stacks = mmap.mmap(-1, 2 * PAGE * MAX_FRAMES, _PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE)
        stacks_addr = ctypes.addressof(ctypes.c_char.from_buffer(self._stacks))
        for depth in range(MAX_FRAMES):
            _protect(self._libc, stacks_addr + 2 * PAGE * depth, PAGE, 0)
        tops = [stacks_addr + 2 * PAGE * (depth + 1) for depth in range(MAX_FRAMES)]
        self._callbacks = {h.id: _GATE(self._gate_fn(h)) for h in self.helpers if 0 <= h.id < MAX_HELPERS}
        self._bad = _GATE(self._bad_gate)
        gates = {hid: ctypes.cast(cb, ctypes.c_void_p).value or 0 for hid, cb in self._callbacks.items()}
        bad = ctypes.cast(self._bad, ctypes.c_void_p).value or 0
        self._ctx = mmap.mmap(-1, (Ctx.SIZE + PAGE - 1) // PAGE * PAGE, _PRIVATE)
        self._ctx[: Ctx.SIZE] = pack_ctx(tops, gates, bad)
        # what a run changes of the block: the words before the stack tops, fault_addr and the count
        self._ctx_head = bytes(self._ctx[: Ctx.STACK_TOPS])
        self._ctx_addr = ctypes.addressof(ctypes.c_char.from_buffer(self._ctx))
        self._stack_at = tops[0] - STACK_SIZE - stacks_addr  # frame 0's BPF stack, zeroed before each run
        self._hctx = HelperContext(Memory())
        self._fault: VmFault | None = None

    def _u64(self, offset: int) -> int:
        return struct.unpack_from("<Q", self._ctx, offset)[0]

    def _abort(self, kind: ExitKind, r0: int = 0, fault: Fault = Fault.NONE) -> None:
        struct.pack_into("<QQQ", self._ctx, Ctx.EXIT_KIND, kind, r0 & M64, fault)
        struct.pack_into("<Q", self._ctx, Ctx.FAULT_PC, self._u64(Ctx.CALL_PC))

    def _gate_fn(self, helper: Helper):
        def gate(r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
            # nothing may raise through the C frames of the JIT code: every outcome goes to ctx
            try:
                return call_helper(helper, self._hctx, (r1, r2, r3, r4, r5)) & M64
            except ProgramExit as done:
                self._abort(ExitKind.PROGRAM_EXIT, r0=done.r0)
            except VmFault as fault:
                self._fault = fault
                self._abort(ExitKind.FAULT, fault=Fault.HELPER)
            return 0

        return gate

    def _bad_gate(self, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
        self._fault = VmFault(unknown_helper_message(self.insns, self._u64(Ctx.CALL_PC), self._u64(Ctx.CALLX_ID)))
        self._abort(ExitKind.FAULT, fault=Fault.HELPER)
        return 0

    def run(self, memory: Memory, args: Sequence[int] = ()) -> Outcome:
        """Run with r1, r2 = ``args`` (pointers into ``memory``'s regions become host addresses)."""
        r1, r2 = [self._host(memory, a) for a in [*args, 0, 0][:2]]
        # only what a run may have changed: the run takes microseconds, an 8 KiB copy is not free
        self._ctx[: Ctx.STACK_TOPS] = self._ctx_head
        self._ctx[Ctx.FAULT_ADDR : Ctx.SIZE] = bytes(Ctx.SIZE - Ctx.FAULT_ADDR)
        self._stacks[self._stack_at : self._stack_at + STACK_SIZE] = _ZERO_STACK  # cheaper than a ctypes call
        self._fault = None
        self._hctx = HelperContext(memory, _no_callbacks)
        r0 = self._entry(self._ctx_addr, r1, r2)
        kind = self._u64(Ctx.EXIT_KIND)
        pc = self._u64(Ctx.FAULT_PC)
        count = self._u64(Ctx.INSNS) if self._plan is not None else None
        if kind == ExitKind.FAULT:
            fault = self._fault or code_fault(self._u64(Ctx.FAULT), self.insns, pc, self._u64(Ctx.FAULT_ADDR))
            fault = locate(fault, self.insns, pc)
            count = None if self._plan is None or count is None else self._plan.correct(count, fault.pc)
            return Outcome(None, fault, count)  # type: ignore[arg-type]
        return Outcome(r0 & M64, None, count)  # type: ignore[arg-type]

    @staticmethod
    def _host(memory: Memory, value: int) -> int:
        value &= M64
        for region in memory.regions:
            if region.base <= value < region.end or (value == region.end and region.size):
                addr = host_address(region.data) if not isinstance(region.data, bytes) else None
                if addr is None:
                    raise InputError(f"{region.describe()} has no writable host buffer to pass natively")
                return addr + value - region.base
        return value
