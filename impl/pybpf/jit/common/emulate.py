"""Run a back-end's code under unicorn, with ``vm.Memory`` as the guest's data.

``EmulatedProgram(backend, insns, helpers=...)`` compiles once and keeps one
unicorn instance; each ``run(memory, args)`` maps every region of ``memory``
at its own guest address, adds ``MAX_FRAMES`` stacks to it (as the
interpreter does, so helpers can read stack pointers), calls the entry, and
returns an ``Outcome`` like the interpreter's.  ``insns_executed`` is None
unless ``count_insns=True`` asks the code to count BPF instructions (the
interpreter's count, exactly, at some cost in speed).  kfunc calls and
ld_abs/ld_ind go through gates of their own (``gates.route``).

Host bytes.  A region whose buffer is page-aligned host memory a page
multiple long — what ``host_buffer`` returns — is mapped in place
(``mem_map_ptr``), so JIT code, helpers and the region's owner share one copy.
Any other buffer gets a page-aligned shadow, copied in before the run and back
after it and around every helper call, so the region's data stays the source
of truth as helpers see it.  The bytes past a region's end up to its page end
are mapped too; a hook on the last 7 bytes and that slack makes an access that
crosses the end fault exactly where the interpreter's would (any memory hook
takes unicorn off its fast path for every access: ``exact_bounds=False``
drops them).

Faults.  An access to no mapping, or a write to a read-only one, stops the
emulation; the fault is ``Memory.find``'s text for that access, placed at the
BPF instruction whose machine code faulted.  Nothing raises out of ``run``.
"""

from __future__ import annotations

import ctypes
import mmap
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind, lookup
from pybpf.jit.common.backend import (
    BAD_GATE,
    CALLBACK_RETURN,
    CODE_BASE,
    CTX_BASE,
    GATE_BASE,
    GATE_STRIDE,
    MACHINE_STACK_SIZE,
    MACHINE_STACK_TOP,
    MAX_FRAMES,
    MAX_HELPERS,
    RETURN_ADDRESS,
    STACK_SIZE,
    Backend,
    Ctx,
    ExitKind,
    Fault,
    ImmResolver,
    JitImage,
    gate_address,
    pack_ctx,
)
from pybpf.jit.common.counting import CountPlan, count_plan
from pybpf.jit.common.faults import code_fault
from pybpf.jit.common.gates import route
from pybpf.vm.decode import KfuncResolver
from pybpf.vm.helpers import Helper, HelperContext, HelperTable, ProgramExit
from pybpf.vm.interp import Outcome
from pybpf.vm.memory import M64, PAGE, Memory, Region, RegionKind

DEFAULT_TIMEOUT_S = 10.0


def _round_up(n: int) -> int:
    return max(PAGE, (n + PAGE - 1) // PAGE * PAGE)


def host_buffer(size: int) -> memoryview:
    """``size`` zeroed bytes of page-aligned host memory that an executor maps in place."""
    block = mmap.mmap(-1, _round_up(size), mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return memoryview(block)[:size]


def host_address(data: memoryview | bytearray) -> int | None:
    """The host address of a writable buffer, or None (read-only buffers have none we may use)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(data))
    except (TypeError, ValueError):
        return None


def _in_place(data: object, size: int) -> int | None:
    """The host address when ``data`` can be mapped as is (page-aligned, page-padded mmap memory)."""
    if not isinstance(data, memoryview) or not isinstance(data.obj, mmap.mmap) or data.readonly:
        return None
    base = host_address(data.obj)
    addr = host_address(data)
    if base is None or addr is None or addr % PAGE:
        return None
    return addr if addr - base + _round_up(size) <= len(data.obj) else None


def insn_text(insns: Sequence[Insn], pc: int) -> str:
    """The kernel's text for insn ``pc`` when the disassembler can say it, else its fields."""
    if not 0 <= pc < len(insns):
        return "no instruction"
    try:
        from pybpf.isa.disasm import format_insn

        return format_insn(list(insns), pc)
    except Exception:  # the disassembler refuses invalid slots
        insn = insns[pc]
        return f"code {insn.code:#04x} dst {insn.dst} src {insn.src} off {insn.off} imm {insn.imm}"


def locate(fault: VmFault, insns: Sequence[Insn], pc: int | None) -> VmFault:
    """Pin ``fault`` to BPF insn ``pc`` the way the interpreter does."""
    if fault.pc is None:
        fault.pc = pc
    if fault.pc is not None:
        fault.place = f"insn {fault.pc} ({insn_text(insns, fault.pc)})"
    return fault


@dataclass(frozen=True)
class Compiled:
    """A program as an executor runs it: the gates' functions by id, the image, the counting plan (or None)."""

    helpers: HelperTable
    image: JitImage
    plan: CountPlan | None


def compile_routed(backend: Backend, insns: list[Insn], helpers: HelperTable | None, *, code_base: int = CODE_BASE,
                   resolve_imm64: ImmResolver | None = None, resolve_kfunc: KfuncResolver | None = None,
                   count_insns: bool = False) -> Compiled:  # fmt: skip
    """``insns`` lowered to the executors' gates (``gates.route``) and compiled; a VmFault names the
    instruction of ``insns`` (the caller's program) it is about."""
    try:
        routed = route(insns, helpers if helpers is not None else HelperTable(), resolve_kfunc)
        image = backend.compile(routed.insns, helper_ids=[h.id for h in routed.helpers], code_base=code_base,
                                resolve_imm64=resolve_imm64, count_insns=count_insns)  # fmt: skip
        return Compiled(routed.helpers, image, count_plan(routed.insns) if count_insns else None)
    except VmFault as fault:
        raise locate(fault, insns, fault.pc) from None


def call_helper(helper: Helper, ctx: HelperContext, args: Sequence[int]) -> int:
    """``helper``'s result for ``args``; a helper's bug or a result that is no integer is a VmFault,
    never a Python exception (ProgramExit and VmFault pass through)."""
    try:
        result = helper.fn(ctx, *args)
    except (ProgramExit, VmFault):
        raise
    except Exception as exc:
        raise VmFault(f"helper {helper.id} ({helper.name}) failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, int):
        raise VmFault(f"helper {helper.id} ({helper.name}) returned {type(result).__name__}, not an integer")
    return result


@dataclass
class _Mapping:
    region: Region
    size: int  # mapped bytes (page multiple)
    shadow: memoryview | None  # our copy when the region's buffer cannot be mapped in place
    hook: int | None = None  # the exact-bounds hook on a partial last page


@dataclass
class _Run:
    """State of one run, seen by the hooks."""

    memory: Memory
    mappings: list[_Mapping]
    ctx: HelperContext
    fault: VmFault | None = None
    stacks: list[Region] = field(default_factory=list)


def _outcome(r0: int | None, fault: VmFault | None, count: int | None = None) -> Outcome:
    """The interpreter's Outcome; ``count`` None when the code did not count BPF instructions."""
    return Outcome(None if r0 is None else r0 & M64, fault, count)  # type: ignore[arg-type]


def _uc():  # the unicorn module, imported only when a JIT is used
    import unicorn

    return unicorn


class EmulatedProgram:
    """One compiled program on one unicorn instance; ``run`` may be called many times."""

    def __init__(self, backend: Backend, insns: Sequence[Insn], *, helpers: HelperTable | None = None,
                 budget: int | None = None, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 resolve_imm64: ImmResolver | None = None, exact_bounds: bool = True,
                 resolve_kfunc: KfuncResolver | None = None, count_insns: bool = False):  # fmt: skip
        uc_mod = _uc()
        self.exact_bounds = exact_bounds
        self.backend = backend
        self.insns = list(insns)  # the caller's program: faults name its instructions
        self.budget = budget  # machine instructions (unicorn's count), None: unlimited
        self.timeout_s = timeout_s
        compiled = compile_routed(backend, self.insns, helpers, resolve_imm64=resolve_imm64,
                                  resolve_kfunc=resolve_kfunc, count_insns=count_insns)  # fmt: skip
        self.helpers, self.image, self._plan = compiled.helpers, compiled.image, compiled.plan
        self.uc = uc_mod.Uc(backend.unicorn_arch, backend.unicorn_mode)
        if backend.cpu_model is not None:  # before anything else runs on the instance
            self.uc.ctl_set_cpu_model(backend.cpu_model)
        self._ctx = host_buffer(Ctx.SIZE)
        self._fixed: list[memoryview] = [self._ctx]
        self._map_fixed(uc_mod)
        gates = {h.id: gate_address(h.id) for h in self.helpers if 0 <= h.id < MAX_HELPERS}
        self._ctx_template = bytes(pack_ctx([0] * MAX_FRAMES, gates, BAD_GATE, big_endian=backend.big_endian))
        self._run: _Run | None = None
        self._endian = ">" if backend.big_endian else "<"
        self.uc.hook_add(uc_mod.UC_HOOK_CODE, self._gate, begin=GATE_BASE, end=BAD_GATE + 1)
        self.uc.hook_add(uc_mod.UC_HOOK_MEM_INVALID, self._invalid)
        # an abort inside a callback unwinds to the outer entry's return: stop the nested run there
        self.uc.hook_add(uc_mod.UC_HOOK_CODE, self._returned, begin=RETURN_ADDRESS, end=RETURN_ADDRESS + 8)

    # ------------------------------------------------------------ fixed mappings

    def _map_fixed(self, uc_mod) -> None:
        code = self.image.code
        size = _round_up(len(code))
        text = host_buffer(size)
        text[: len(code)] = code
        self._fixed.append(text)
        rx = uc_mod.UC_PROT_READ | uc_mod.UC_PROT_EXEC
        self.uc.mem_map_ptr(self.image.code_base, size, rx, host_address(text))
        self.uc.mem_map(GATE_BASE, _round_up(BAD_GATE + 16 - GATE_BASE), rx)
        self.uc.mem_map(RETURN_ADDRESS, PAGE, rx)
        rw = uc_mod.UC_PROT_READ | uc_mod.UC_PROT_WRITE
        self.uc.mem_map_ptr(CTX_BASE, _round_up(Ctx.SIZE), rw, host_address(self._ctx))
        stack = host_buffer(MACHINE_STACK_SIZE)
        self._fixed.append(stack)
        self.uc.mem_map_ptr(MACHINE_STACK_TOP - MACHINE_STACK_SIZE, MACHINE_STACK_SIZE, rw, host_address(stack))

    def _ctx_u64(self, offset: int) -> int:
        return struct.unpack_from(self._endian + "Q", self._ctx, offset)[0]

    # ------------------------------------------------------------ running

    def run(self, memory: Memory, args: Sequence[int] = ()) -> Outcome:
        """Run from insn 0 with r1, r2 = ``args``; faults come back in the Outcome, never raised."""
        if len(args) > 2:
            raise ValueError(f"the JIT entry takes at most 2 arguments (r1, r2), not {len(args)}")
        r1, r2 = ([*args, 0, 0][:2])
        run = _Run(memory, [], HelperContext(memory, self._callback))
        self._ctx[:] = self._ctx_template
        try:
            for depth in range(MAX_FRAMES):
                name = "stack" if depth == 0 else f"stack of frame {depth}"
                region = memory.add(RegionKind.STACK, host_buffer(STACK_SIZE), name=name)
                run.stacks.append(region)
                struct.pack_into(self._endian + "Q", self._ctx, Ctx.STACK_TOPS + 8 * depth, region.end)
            self._map_regions(run)
            self._run = run
            return self._execute(run, r1 & M64, r2 & M64)
        except VmFault as fault:
            return _outcome(None, fault)
        finally:
            self._run = None
            self._unmap_regions(run)
            for region in run.stacks:
                memory.remove(region)

    def _execute(self, run: _Run, r1: int, r2: int) -> Outcome:
        uc_mod = _uc()
        self.backend.enter(self.uc, self.image.code_base + self.image.entry, (CTX_BASE, r1, r2))
        timeout_us = int(self.timeout_s * 1_000_000) if self.timeout_s else 0
        try:
            self.uc.emu_start(self.image.code_base + self.image.entry, RETURN_ADDRESS,
                              timeout=timeout_us, count=self.budget or 0)  # fmt: skip
        except uc_mod.UcError as error:
            if run.fault is None:
                run.fault = self._stopped(error)
        finally:
            self._sync_out(run)
        # the abort flags come before the pc: a run can stop early once a callback has aborted
        kind = self._ctx_u64(Ctx.EXIT_KIND)
        count = self._ctx_u64(Ctx.INSNS) if self._plan is not None else None
        if run.fault is not None:
            return _outcome(None, run.fault, self._count(count, run.fault))
        if kind == ExitKind.FAULT:
            fault = self._code_fault()
            return _outcome(None, fault, self._count(count, fault))
        if kind == ExitKind.PROGRAM_EXIT:
            return _outcome(self._ctx_u64(Ctx.EXIT_R0), None, count)
        if self.uc.reg_read(self.backend.pc) != RETURN_ADDRESS:
            pc = self.image.bpf_pc(self.uc.reg_read(self.backend.pc))
            if self.budget:
                what = f"instruction budget of {self.budget} machine instructions exhausted"
            else:
                what = f"time limit of {self.timeout_s} s exhausted"
            return _outcome(None, locate(VmFault(f"{what} (the program may not terminate)"), self.insns, pc), count)
        return _outcome(self.uc.reg_read(self.backend.c_ret), None, count)

    def _count(self, count: int | None, fault: VmFault) -> int | None:
        """The interpreter's count for a run that ended in ``fault`` (its block was counted whole)."""
        return None if count is None or self._plan is None else self._plan.correct(count, fault.pc)

    def _stopped(self, error: Exception) -> VmFault:
        """The fault for an emulation that ended in an exception no hook saw."""
        pc = self.image.bpf_pc(self.uc.reg_read(self.backend.pc))
        misaligned = self._misaligned(pc)
        if misaligned is not None:  # the machine's alignment trap (arm64's exclusive and LSE accesses)
            return locate(code_fault(Fault.MISALIGNED, self.insns, misaligned[0], misaligned[1]), self.insns, pc)
        access = self.backend.faulting_access(self.uc)
        if access is not None:
            address, size, write = access
            return self._access_fault(write, address, size)
        return locate(VmFault(f"the machine stopped: {error}"), self.insns, pc)

    def _misaligned(self, pc: int | None) -> tuple[int, int] | None:
        """(pc, address) when insn ``pc`` is an atomic, load-acquire or store-release whose address,
        from the BPF registers as they are now, is not aligned to its size; else None."""
        if pc is None:
            return None
        insn = self.insns[pc]
        spec = lookup(insn.code, insn.off, insn.imm, insn.src)
        if spec is None or spec.kind not in (Kind.ATOMIC, Kind.LOAD_ACQ, Kind.STORE_REL) or spec.size < 2:
            return None
        base = insn.src if spec.kind is Kind.LOAD_ACQ else insn.dst
        if base > 10:
            return None
        address = (self.uc.reg_read(self.backend.bpf_regs[base]) + insn.off) & M64
        return (pc, address) if address % spec.size else None

    def _code_fault(self) -> VmFault:
        pc = self._ctx_u64(Ctx.FAULT_PC)
        fault = code_fault(self._ctx_u64(Ctx.FAULT), self.insns, pc, self._ctx_u64(Ctx.FAULT_ADDR))
        return locate(fault, self.insns, pc)

    def _callback(self, target: int, args: Sequence[int]) -> int:
        """``HelperContext.call_subprog``: run the subprogram at slot ``target`` in a new frame (nested)."""
        run = self._run
        assert run is not None
        if not 0 <= target < len(self.insns) or self.image.pc_offsets[target] < 0:
            raise VmFault(f"callback at insn {target} is outside the program (insns 0..{len(self.insns) - 1})")
        depth = self._ctx_u64(Ctx.DEPTH)
        if depth + 1 >= MAX_FRAMES:
            raise VmFault(f"in a callback: the call stack of {depth + 2} frames is too deep (at most {MAX_FRAMES})")
        saved = self.uc.context_save()
        fmt = self._endian + "Q"
        try:
            struct.pack_into(fmt, self._ctx, Ctx.DEPTH, depth + 1)
            stack = run.stacks[depth + 1]
            stack.data[:] = bytes(stack.size)
            regs = self.backend.bpf_regs
            for n, value in enumerate(list(args)[:5]):
                self.uc.reg_write(regs[1 + n], value & M64)
            self.uc.reg_write(regs[10], stack.end)
            if self._plan is not None and self._plan.entry_extra[target]:  # entered past its block's add
                count = self._ctx_u64(Ctx.INSNS) + self._plan.entry_extra[target]
                struct.pack_into(fmt, self._ctx, Ctx.INSNS, count)
            self.backend.call_at(self.uc, self.image.code_base + self.image.pc_offsets[target], CALLBACK_RETURN)
            # the helper's writes in, the callback's writes out: both sides see one memory, as in the interpreter
            self._map_regions(run)
            self._sync_in(run)
            try:
                return self._nested(run)
            finally:
                self._sync_out(run)
        finally:
            self.uc.context_restore(saved)
            struct.pack_into(fmt, self._ctx, Ctx.DEPTH, depth)

    def _nested(self, run: _Run) -> int:
        uc_mod = _uc()
        try:
            # no timeout or count of its own: a nested timer thread breaks the outer one (unicorn 2.1);
            # the outer run's timer still stops an endless callback
            self.uc.emu_start(self.uc.reg_read(self.backend.pc), CALLBACK_RETURN)
        except uc_mod.UcError as error:
            if run.fault is None:
                run.fault = self._stopped(error)
        kind = self._ctx_u64(Ctx.EXIT_KIND)
        if run.fault is not None:
            fault, run.fault = run.fault, None  # it travels up through the helper now
            if not fault.message.startswith("in a callback"):
                fault.message = f"in a callback: {fault.message}"
            raise fault
        if kind == ExitKind.PROGRAM_EXIT:
            struct.pack_into(self._endian + "Q", self._ctx, Ctx.EXIT_KIND, 0)
            raise ProgramExit(self._ctx_u64(Ctx.EXIT_R0))
        if kind == ExitKind.FAULT:
            struct.pack_into(self._endian + "Q", self._ctx, Ctx.EXIT_KIND, 0)
            fault = self._code_fault()
            fault.message = f"in a callback: {fault.message}"
            raise fault
        if self.uc.reg_read(self.backend.pc) != CALLBACK_RETURN:
            raise VmFault("in a callback: the budget or time limit was exhausted")
        return self.uc.reg_read(self.backend.bpf_regs[0])

    # ------------------------------------------------------------ guest memory

    def _map_regions(self, run: _Run) -> None:
        """Map every region of the memory not mapped yet, unmap those it no longer has
        (a helper may add or remove regions, say a ring buffer reservation)."""
        current = {id(region): region for region in run.memory.regions if region.size}
        for mapping in [m for m in run.mappings if id(m.region) not in current]:
            self._unmap(mapping)
            run.mappings.remove(mapping)
        mapped = {id(m.region) for m in run.mappings}
        for key, region in current.items():
            if key not in mapped:
                run.mappings.append(self._map(region))

    def _map(self, region: Region) -> _Mapping:
        uc_mod = _uc()
        size = _round_up(region.size)
        addr = _in_place(region.data, region.size)
        shadow = None
        if addr is None:
            shadow = host_buffer(size)
            shadow[: region.size] = region.data
            addr = host_address(shadow)
        perms = uc_mod.UC_PROT_READ | (uc_mod.UC_PROT_WRITE if region.writable else 0)
        self.uc.mem_map_ptr(region.base, size, perms, addr)
        mapping = _Mapping(region, size, shadow)
        if self.exact_bounds and region.size % PAGE:
            # an access (8 bytes at most) that crosses the end starts at most 7 bytes before it
            tail = max(region.base, region.end - 7)
            mapping.hook = self.uc.hook_add(uc_mod.UC_HOOK_MEM_READ | uc_mod.UC_HOOK_MEM_WRITE, self._tail,
                                            user_data=region, begin=tail, end=region.base + size - 1)  # fmt: skip
        return mapping

    def _unmap(self, mapping: _Mapping) -> None:
        self.uc.mem_unmap(mapping.region.base, mapping.size)
        if mapping.hook is not None:
            self.uc.hook_del(mapping.hook)

    def _unmap_regions(self, run: _Run) -> None:
        for mapping in run.mappings:
            self._unmap(mapping)
        run.mappings.clear()

    def _sync_out(self, run: _Run) -> None:
        """Shadowed regions: guest bytes -> the region's buffer."""
        for m in run.mappings:
            if m.shadow is not None and m.region.writable:
                m.region.data[:] = m.shadow[: m.region.size]

    def _sync_in(self, run: _Run) -> None:
        for m in run.mappings:
            if m.shadow is not None:
                m.shadow[: m.region.size] = m.region.data

    # ------------------------------------------------------------ hooks

    def _stop(self, fault: VmFault) -> None:
        assert self._run is not None
        if self._run.fault is None:
            self._run.fault = fault
        self.uc.emu_stop()

    def _access_fault(self, write: bool, address: int, size: int) -> VmFault:
        assert self._run is not None
        pc = self.image.bpf_pc(self.uc.reg_read(self.backend.pc))
        misaligned = self._misaligned(pc)
        if misaligned is not None:  # the interpreter checks the alignment before the bounds
            return locate(code_fault(Fault.MISALIGNED, self.insns, misaligned[0], misaligned[1]), self.insns, pc)
        if pc is not None and self._is_atomic(pc):
            write = True  # a read-modify-write may trap on its read; the interpreter names the write
        try:
            self._run.memory.find(address, size, write)
            fault = VmFault(f"{'write' if write else 'read'} of {size} bytes at {address:#x} faulted")
        except VmFault as found:
            fault = found
        return locate(fault, self.insns, pc)

    def _is_atomic(self, pc: int) -> bool:
        insn = self.insns[pc]
        spec = lookup(insn.code, insn.off, insn.imm, insn.src)
        return spec is not None and spec.kind is Kind.ATOMIC

    def _invalid(self, uc, access, address, size, value, user_data) -> bool:
        uc_mod = _uc()
        write = access in (uc_mod.UC_MEM_WRITE_UNMAPPED, uc_mod.UC_MEM_WRITE_PROT, uc_mod.UC_MEM_WRITE)
        if access in (uc_mod.UC_MEM_FETCH_UNMAPPED, uc_mod.UC_MEM_FETCH_PROT):
            self._stop(VmFault(f"jumped to {address:#x}, which is not code"))
        else:
            self._stop(self._access_fault(write, address, size))
        return False

    def _tail(self, uc, access, address, size, value, region: Region) -> None:
        if address + size > region.base + region.size:
            self._stop(self._access_fault(access == _uc().UC_MEM_WRITE, address, size))

    def _returned(self, uc, address: int, size: int, user_data) -> None:
        uc.emu_stop()

    def _gate(self, uc, address: int, size: int, user_data) -> None:
        run = self._run
        assert run is not None
        helper_id = (address - GATE_BASE) // GATE_STRIDE
        call_pc = self._call_pc(uc)
        helper = None if address == BAD_GATE else self.helpers.get(helper_id)
        r0 = 0
        try:
            if helper is None:
                raise VmFault(self._unknown_helper(call_pc))
            self._sync_out(run)
            try:
                r0 = call_helper(helper, run.ctx, self.backend.gate_args(uc))
            finally:
                self._map_regions(run)
                self._sync_in(run)
        except ProgramExit as done:
            self._abort(ExitKind.PROGRAM_EXIT, r0=done.r0)
        except VmFault as fault:
            run.fault = locate(fault, self.insns, call_pc)
            self._abort(ExitKind.FAULT, fault=Fault.HELPER, pc=call_pc)
        self.backend.gate_return(uc, r0 & M64)

    def _abort(self, kind: ExitKind, *, r0: int = 0, fault: Fault = Fault.NONE, pc: int = 0) -> None:
        fmt = self._endian + "Q"
        struct.pack_into(fmt, self._ctx, Ctx.EXIT_KIND, kind)
        struct.pack_into(fmt, self._ctx, Ctx.EXIT_R0, r0 & M64)
        struct.pack_into(fmt, self._ctx, Ctx.FAULT, fault)
        struct.pack_into(fmt, self._ctx, Ctx.FAULT_PC, pc)

    def _call_pc(self, uc) -> int:
        ret = self.backend.return_address(uc)
        pc = self.image.bpf_pc(ret - 1) if ret is not None else None
        return self._ctx_u64(Ctx.CALL_PC) if pc is None else pc

    def _unknown_helper(self, pc: int) -> str:
        insn = self.insns[pc]
        callx_id = self.uc.reg_read(self.backend.bpf_regs[insn.dst]) if insn.dst <= 10 else 0
        return unknown_helper_message(self.insns, pc, callx_id)


def unknown_helper_message(insns: Sequence[Insn], pc: int, callx_id: int) -> str:
    """The interpreter's words for a call to a helper id nobody registered."""
    insn = insns[pc]
    spec = lookup(insn.code, insn.off, insn.imm, insn.src)
    if spec is not None and spec.kind is Kind.CALLX:
        return f"callx r{insn.dst}: r{insn.dst} = {callx_id & M64:#x} is not a known helper id"
    return f"call to unknown helper {insn.imm}"
