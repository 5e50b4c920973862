"""The contract between a JIT back-end and the executors that run its code.

Every back-end (x86_64, arm64, s390x) compiles a whole program into one
image, run at ``CODE_BASE`` by the emulator (``emulate.EmulatedProgram``) or
wherever the native executor (``native.NativeProgram``) put it.  Both
executors are arch-neutral: they rely on this contract only.

Entry.  ``code[entry]`` is a function of the host C ABI (SysV x86_64 /
AAPCS64 / s390x ELF ABI) taking three 64-bit arguments ``(ctx, r1, r2)``
and returning BPF r0 in the C return register.  ``ctx`` is the address of the
run's context block (``Ctx`` below); ``r1``/``r2`` are BPF r1 (input pointer,
0 when there is no input) and r2 (its length).  BPF r3..r5 start at 0.  The
prologue saves the ABI's callee-saved registers, stores its stack pointer in
``ctx.saved_sp`` (for the abort path), sets BPF r10 to ``ctx.stack_tops[0]``
and enters the main program *as a BPF-to-BPF call*, so that every ``exit``
is a return and the main frame's return lands in the epilogue.

Frames.  BPF r10 of frame ``d`` (0 = main) is ``ctx.stack_tops[d]``: the
executor provides ``MAX_FRAMES`` stacks with unmapped guard pages between
them, the main one zeroed (the emulator's are ``STACK_SIZE``-byte
``vm.Memory`` regions, so helpers can read them).  A BPF-to-BPF call checks
``ctx.depth + 1 < MAX_FRAMES`` (else abort with ``Fault.CALL_DEPTH``),
increments ``ctx.depth``, preserves r6..r10 for the caller, sets r10 to the
next stack top, zeroes that stack (as the interpreter's fresh stack), and
decrements ``ctx.depth`` on return.  Return addresses and saved registers live
on the *machine* stack (the ABI stack the executor gives the entry).

Helper calls.  ``call N`` loads ``ctx.gates[N]`` (``N < MAX_HELPERS``; any
other id uses ``ctx.bad_gate``) and calls it as a C function with BPF r1..r5
in the registers the back-end maps them to — each back-end maps BPF r1..r5 to
its ABI's first five argument registers and r0 to its return register, so a
gate *is* a C function ``u64 gate(r1, r2, r3, r4, r5)``.  ``callx rD`` does
the same with the id taken from rD at run time (ids >= MAX_HELPERS go to
``bad_gate``).  A gate is called with the ABI's stack alignment (natively
it is a real C function).  Before the call the code stores the call's BPF pc
in ``ctx.call_pc`` (and callx its id in ``ctx.callx_id``): the native
executor needs both to place a helper's fault and to name an unknown id; the
emulator uses ``Backend.return_address`` when a back-end implements it (else
``ctx.call_pc``) and reads callx's register itself.  After every gate
returns, the code checks ``ctx.exit_kind``: non-zero means "abort": restore
the machine stack pointer from ``ctx.saved_sp`` and leave through the
epilogue, returning ``ctx.exit_r0``.
The emulator maps ``GATE_BASE`` and puts ``gate_address(id)`` in the table
(a unicorn hook there runs the Python helper and performs the arch's return);
the native executor puts ctypes callbacks there.

Callbacks.  A helper may run a subprogram (``HelperContext.call_subprog``):
the emulator saves the whole CPU context, sets BPF r1..r5 and r10 (the next
frame's zeroed stack), increments ``ctx.depth`` and calls the subprogram's
code (``Backend.call_at``) in a nested emulation that ends at
``CALLBACK_RETURN``; its r0 is the result, and the context is restored.

Kfuncs and legacy packet loads go through gates too, at ids the executors keep
for themselves (``INTERNAL_GATES``, the top of the id space, where no kernel
helper is): ``jit.common.gates`` rewrites each kfunc call into ``call N`` with
an id of that range before compiling, so a back-end never sees one.  An
ld_abs/ld_ind of size S sets BPF r1 = its src register (ld_ind) or 0
(ld_abs), r2 = its imm (sign-extended) and calls gate ``LD_PACKET_GATES[S]``
like a helper; r0 is the loaded value, r1..r5 are clobbered (as in the
kernel), and a load outside the packet ends the program with r0 = 0 through
the gate's ``ProgramExit``.  ``callx`` treats ids of ``INTERNAL_GATES`` as
unknown (``bad_gate``).

Counting.  ``compile(count_insns=True)`` adds each basic block's length to
``ctx.insns`` where the block starts (``counting.count_plan``: the same blocks
for every back-end); the executors take off what a fault mid-block did not
run, so the count equals the interpreter's ``insns_executed``, faults included.

``may_goto`` falls through while ``ctx.loops`` is non-zero (decrementing
it) and jumps once it is spent.  Tail calls are helper 12 like any other: with
no gate registered for it, the call is the unknown-helper fault.

Faults detected by the code itself (``Fault``) store
``ctx.exit_kind = ExitKind.FAULT``, ``ctx.fault = Fault.X`` and
``ctx.fault_pc = pc`` and take the abort path (``Fault.MISALIGNED`` also stores
the address in ``ctx.fault_addr``: atomics, load-acquire and store-release
must be aligned, as in the interpreter, though x86 would not trap).  Stray memory accesses are
caught by the emulator, which maps the faulting machine pc back through
``JitImage.pc_offsets``.
"""

from __future__ import annotations

import bisect
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property

from pybpf.isa.insn import Insn

Arch = str  # "x86_64" | "arm64" | "s390x"

# ---------------------------------------------------------------- the guest address layout (emulator)

# vm.Memory places regions from 0x1000_0000 upward; the JIT's own areas are far above.
CODE_BASE = 0x4000_0000_0000
GATE_BASE = 0x4100_0000_0000
GATE_STRIDE = 16  # bytes between two gate addresses
CTX_BASE = 0x4200_0000_0000
MACHINE_STACK_TOP = 0x4300_0010_0000  # the ABI stack grows down from here
MACHINE_STACK_SIZE = 0x10_0000
RETURN_ADDRESS = 0x4400_0000_0000  # where the entry returns to: the emulator stops there
CALLBACK_RETURN = RETURN_ADDRESS + 0x100  # where a helper's callback into the program returns to

MAX_HELPERS = 1024  # helper ids 0..1023 have a gate slot
MAX_FRAMES = 8  # the kernel's MAX_CALL_FRAMES
STACK_SIZE = 512  # the kernel's MAX_BPF_STACK, per frame
MAX_LOOPS = 8 * 1024 * 1024  # may_goto's budget, the kernel's BPF_MAX_LOOPS


FIRST_INTERNAL = MAX_HELPERS - 64  # gate ids >= this one belong to the executors, not to helpers
INTERNAL_GATES = range(FIRST_INTERNAL, MAX_HELPERS)
LD_PACKET_GATES = {1: MAX_HELPERS - 3, 2: MAX_HELPERS - 2, 4: MAX_HELPERS - 1}  # by size (no 8-byte form)
KFUNC_GATES = range(FIRST_INTERNAL, MAX_HELPERS - 3)  # one per kfunc a program calls


def gate_address(helper_id: int) -> int:
    """The emulator's gate for ``helper_id``; ``MAX_HELPERS`` is the bad-id gate."""
    return GATE_BASE + helper_id * GATE_STRIDE


BAD_GATE = gate_address(MAX_HELPERS)


class ExitKind(IntEnum):
    """``ctx.exit_kind``: why the code aborted (0: it did not)."""

    NONE = 0
    PROGRAM_EXIT = 1  # a helper ended the program (``ProgramExit``): r0 = ctx.exit_r0
    FAULT = 2  # ctx.fault says which, at ctx.fault_pc (or the emulator has the fault)


class Fault(IntEnum):
    """``ctx.fault``: faults the generated code detects itself."""

    NONE = 0
    CALL_DEPTH = 1  # a BPF-to-BPF call beyond MAX_FRAMES
    HELPER = 2  # a helper raised VmFault (the executor holds it)
    INVALID = 3  # the slot at fault_pc is no instruction the machine runs
    FELL_OFF = 4  # ran past the last instruction
    BAD_JUMP = 5  # the jump at fault_pc leaves the program or enters an ld_imm64
    UNSUPPORTED = 6  # an instruction this JIT does not run (addr_space_cast: there is no arena)
    MISALIGNED = 7  # an atomic, load-acquire or store-release address not aligned to its size (ctx.fault_addr)


# ---------------------------------------------------------------- the context block


class Ctx:
    """Byte offsets in the context block (little- or big-endian as the arch is)."""

    SAVED_SP = 0x00  # machine stack pointer after the prologue
    DEPTH = 0x08  # current frame depth, 0 = main
    EXIT_KIND = 0x10  # ExitKind
    EXIT_R0 = 0x18  # r0 of a ProgramExit
    FAULT = 0x20  # Fault
    FAULT_PC = 0x28  # BPF pc of a code-detected fault
    BAD_GATE = 0x30  # the gate for an unknown helper id
    LOOPS = 0x38  # may_goto's remaining budget, starts at MAX_LOOPS
    CALL_PC = 0x40  # BPF pc of the latest helper call (stored before each gate call)
    CALLX_ID = 0x48  # the helper id of the latest callx (stored before its gate call)
    STACK_TOPS = 0x50  # MAX_FRAMES u64: r10 of each frame depth
    GATES = STACK_TOPS + 8 * MAX_FRAMES  # MAX_HELPERS u64: gate addresses
    FAULT_ADDR = GATES + 8 * MAX_HELPERS  # the address of a Fault.MISALIGNED access
    INSNS = FAULT_ADDR + 8  # BPF instructions executed, when the code counts them
    SIZE = INSNS + 8


def pack_ctx(stack_tops: list[int], gates: dict[int, int], bad_gate: int, *, big_endian: bool = False) -> bytearray:
    """A fresh context block."""
    fmt = ">Q" if big_endian else "<Q"
    block = bytearray(Ctx.SIZE)
    struct.pack_into(fmt, block, Ctx.LOOPS, MAX_LOOPS)
    struct.pack_into(fmt, block, Ctx.BAD_GATE, bad_gate)
    for depth, top in enumerate(stack_tops):
        struct.pack_into(fmt, block, Ctx.STACK_TOPS + 8 * depth, top)
    # the gate table in one call: it is packed for every program compiled
    table = [bad_gate] * MAX_HELPERS
    for helper_id, gate in gates.items():
        if 0 <= helper_id < MAX_HELPERS:
            table[helper_id] = gate
    struct.pack_into(f"{fmt[0]}{MAX_HELPERS}Q", block, Ctx.GATES, *table)
    return block


# ---------------------------------------------------------------- the image


@dataclass(frozen=True)
class JitImage:
    """Compiled code.  ``pc_offsets[pc]`` is where BPF slot ``pc`` starts (-1 for
    ld_imm64's second slot); ``body_end`` ends the per-instruction code (shared
    stubs follow it); ``code_base`` is the address it was compiled for."""

    arch: Arch
    code: bytes
    entry: int
    pc_offsets: list[int]
    body_end: int
    code_base: int = CODE_BASE
    notes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def _starts(self) -> tuple[list[int], list[int]]:
        """(offsets, pcs) of the slots that have code, by offset: for bisecting."""
        pairs = sorted((off, pc) for pc, off in enumerate(self.pc_offsets) if off >= 0)
        return [off for off, _ in pairs], [pc for _, pc in pairs]

    def bpf_pc(self, machine_pc: int) -> int | None:
        """The BPF slot whose code holds the machine address ``machine_pc``, or None."""
        offset = machine_pc - self.code_base
        if not 0 <= offset < self.body_end:
            return None
        offsets, pcs = self._starts
        at = bisect.bisect_right(offsets, offset) - 1
        return pcs[at] if at >= 0 else None


ImmResolver = Callable[[int, Insn, Insn], int]
"""(pc, first slot, second slot) -> the value of a pseudo ld_imm64 (the interpreter's hook)."""


# ---------------------------------------------------------------- the back-end


class Backend(ABC):
    """One architecture's code generator plus the facts the executors need.

    Register maps are data: ``bpf_regs[i]`` is the unicorn register id holding
    BPF ``r<i>`` (i = 0..10); ``c_args`` are the unicorn ids of the ABI's first
    three argument registers (the entry's ctx, r1, r2); ``c_ret`` the return
    register; ``sp`` the stack pointer; ``link`` the link register (None where
    the return address is pushed on the stack, as on x86).
    """

    arch: Arch
    unicorn_arch: int
    unicorn_mode: int
    capstone_arch: int
    capstone_mode: int
    big_endian: bool = False
    cpu_model: int | None = None  # unicorn's CPU model for the code (None: unicorn's default)
    bpf_regs: tuple[int, ...]
    c_args: tuple[int, ...]
    c_ret: int
    pc: int
    sp: int
    link: int | None = None

    @abstractmethod
    def compile(self, insns: list[Insn], *, helper_ids: Iterable[int], code_base: int = CODE_BASE,
                resolve_imm64: ImmResolver | None = None, count_insns: bool = False) -> JitImage:  # fmt: skip
        """Translate a whole program; raises ``VmFault`` (with ``pc``) for what it cannot run at all
        (a pseudo ld_imm64 without ``resolve_imm64``, a kfunc call: ``gates.route`` lowers those
        first).  ``count_insns``: count executed instructions in ``ctx.insns``.  ``helper_ids`` are the ids
        that will have a gate (a back-end may ignore it: calls to other ids reach ``bad_gate``);
        ``code_base`` is where the image will live (only ``JitImage.bpf_pc`` depends on it when
        the code is position-independent).  Slots the machine cannot run (invalid encodings, jumps
        out of the program, falling off the end) compile to code that reports a ``Fault``."""

    @abstractmethod
    def gate_return(self, uc: object, r0: int) -> None:
        """Finish a gate in the emulator: r0 into ``c_ret``, then return to the caller as the ABI's
        return instruction would (x86: pop the return address; arm64: pc = x30; s390x: pc = r14)."""

    def gate_args(self, uc: object) -> tuple[int, ...]:
        """BPF r1..r5 as a gate sees them."""
        return tuple(uc.reg_read(reg) for reg in self.bpf_regs[1:6])  # type: ignore[attr-defined]

    def return_address(self, uc: object) -> int | None:
        """Inside a gate: where it will return (x86: the u64 at the stack pointer; else the link
        register), which places a helper's fault; None: use ``ctx.call_pc`` instead."""
        return None

    def faulting_access(self, uc: object) -> tuple[int, int, bool] | None:
        """After the emulation stopped with an exception instead of calling the invalid-memory hook
        (unicorn's s390x does that): ``(address, size, write)`` of the access the instruction at the
        pc made, for the fault's text; None when the back-end cannot tell."""
        return None

    def call_at(self, uc: object, address: int, return_address: int) -> None:
        """Inside a gate: make the emulator call ``address`` (a BPF subprogram's code, for a helper's
        callback) returning to ``return_address``, on the machine stack below the current one.
        The default suits ABIs that push the return address (``link`` None) or keep it in ``link``;
        it leaves 256 bytes for the caller's register save area (s390x) and aligns to 16."""
        sp = (uc.reg_read(self.sp) - 256) & ~15  # type: ignore[attr-defined]
        if self.link is None:
            sp -= 8
            uc.mem_write(sp, return_address.to_bytes(8, "big" if self.big_endian else "little"))  # type: ignore
        else:
            uc.reg_write(self.link, return_address)  # type: ignore[attr-defined]
        uc.reg_write(self.sp, sp)  # type: ignore[attr-defined]
        uc.reg_write(self.pc, address)  # type: ignore[attr-defined]

    @abstractmethod
    def enter(self, uc: object, entry: int, args: tuple[int, int, int]) -> None:
        """Set up the emulator to call ``entry(ctx, r1, r2)`` returning to ``RETURN_ADDRESS``
        with the stack pointer at ``MACHINE_STACK_TOP`` (ABI-aligned)."""
