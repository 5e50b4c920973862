"""``Arm64Backend``: compiles a BPF program to A64 code under the contract of ``jit.common.backend``.

Layout of an image: the per-instruction body first (BPF pc 0 at offset 0,
then a ``Fault.FELL_OFF`` for a program that runs past its last instruction),
then out-of-line ``Fault.BAD_JUMP`` stubs for jumps that leave the program,
then the shared stubs: the entry, the epilogue, the abort path and the fault
path.  Slots the machine cannot run (``static_fault``) compile to a fault too,
raised only when reached, as the interpreter does.

Frames (AAPCS64).  The entry saves x29/x30 and the callee-saved registers it
uses, records sp in ``ctx.saved_sp``, and ``bl``s to pc 0: every BPF exit is a
``ret`` through x30.  A BPF-to-BPF call pushes r6..r9, r10 and x30 on the
machine stack, takes the next stack top from ``ctx.stack_tops[depth]``,
zeroes that stack and ``bl``s to the callee; a helper call saves x30 around
its ``blr`` to the gate, so a callee's return address survives it.  Register
choices follow the public description of Linux's arm64 BPF JIT (r0 in x7,
r1..r5 in x0..x4, r6..r9 in x19..x22, r10 in x25).
"""

from __future__ import annotations

from collections.abc import Iterable

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import DST, FETCH, IMM, OFF, SRC, AtomicOp, Kind, OpSpec, Pseudo, lookup
from pybpf.jit.arm64 import encode as a
from pybpf.jit.arm64 import lower
from pybpf.jit.arm64.emitter import BPF_REGS, CTX, TMP1, TMP2, TMP3, BranchRange, Emitter
from pybpf.jit.common.backend import (
    CODE_BASE,
    FIRST_INTERNAL,
    LD_PACKET_GATES,
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
)
from pybpf.jit.common.codebuf import Label
from pybpf.jit.common.counting import count_plan
from pybpf.jit.common.stubs import imm64_value, kfunc_refused
from pybpf.vm.machine import FP, NREGS
from pybpf.vm.memory import M64

FRAME_PAIRS = ((19, 20), (21, 22), (25, 26))  # callee-saved pairs the entry preserves

# kinds whose dst register receives a value: r10 may not be one
_WRITES_DST = frozenset({Kind.ALU, Kind.NEG, Kind.MOV, Kind.MOVSX, Kind.END, Kind.BSWAP, Kind.LD_IMM64,
                         Kind.LDX, Kind.LDXSX, Kind.LOAD_ACQ})  # fmt: skip


def static_fault(insns: list[Insn], pc: int, spec: OpSpec | None) -> Fault | None:
    """``Fault.INVALID`` when slot ``pc`` is no instruction the machine can run (the interpreter's
    static checks: the encoding, unused fields, registers, writes to r10, ld_imm64's second slot)."""
    if spec is None:
        return Fault.INVALID
    insn = insns[pc]
    fields = {DST: insn.dst, SRC: insn.src, OFF: insn.off, IMM: insn.imm}
    fixed = {name for name, _ in spec.fixed}
    if any(value and name not in spec.uses and name not in fixed for name, value in fields.items()):
        return Fault.INVALID
    regs = (DST,) if spec.kind is Kind.LD_IMM64 else (DST, SRC)
    if any(name in spec.uses and fields[name] >= NREGS for name in regs):
        return Fault.INVALID
    fetches_into_src = spec.kind is Kind.ATOMIC and spec.op & FETCH and spec.op != AtomicOp.CMPXCHG
    if (spec.kind in _WRITES_DST and insn.dst == FP) or (fetches_into_src and insn.src == FP):
        return Fault.INVALID
    if spec.kind is Kind.LD_IMM64:
        if pc + 1 >= len(insns) or insn.src not in set(Pseudo):
            return Fault.INVALID
        second = insns[pc + 1]
        if second.code or second.dst or second.src or second.off:
            return Fault.INVALID
    if spec.kind is Kind.ADDR_SPACE_CAST:
        return Fault.UNSUPPORTED
    return None


def _second_slots(specs: list[OpSpec | None]) -> set[int]:
    """The slots holding the upper half of an ld_imm64 (not instructions: no jump may land there)."""
    slots, pc = set(), 0
    while pc < len(specs):
        spec = specs[pc]
        if spec is not None and spec.kind is Kind.LD_IMM64 and pc + 1 < len(specs):
            slots.add(pc + 1)
            pc += 1
        pc += 1
    return slots


def _unicorn_ids() -> dict[str, int]:
    from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, arm64_const

    xregs = {f"x{n}": getattr(arm64_const, f"UC_ARM64_REG_X{n}") for n in range(31)}
    return {"arch": UC_ARCH_ARM64, "mode": UC_MODE_ARM, "sp": arm64_const.UC_ARM64_REG_SP,
            "pc": arm64_const.UC_ARM64_REG_PC, **xregs}  # fmt: skip


class _Compiler:
    """One program's translation."""

    def __init__(self, insns: list[Insn], resolve_imm64: ImmResolver | None, *, long_branches: bool = False,
                 count_insns: bool = False, lse: bool = False):  # fmt: skip
        self.insns = insns
        self.counts = count_plan(insns).adds if count_insns else {}
        self.lse = lse
        self.resolve_imm64 = resolve_imm64
        self.em = Emitter(long_branches=long_branches)
        self.labels = [Label(f"pc{pc}") for pc in range(len(insns))]
        self.epilogue = Label("epilogue")
        self.abort = Label("abort")
        self.fault = Label("fault")
        self.specs = [lookup(i.code, i.off, i.imm, i.src) for i in insns]
        self.second_slots = _second_slots(self.specs)
        self.bad_jumps: list[tuple[Label, int]] = []  # (the jump's target, its pc)

    def compile(self, code_base: int) -> JitImage:
        em, n = self.em, len(self.insns)
        if not n:
            raise VmFault("the program is empty", pc=0)
        pc = 0
        while pc < n:
            insn, spec = self.insns[pc], self.specs[pc]
            em.buf.mark_pc(pc)
            em.buf.bind(self.labels[pc])
            if pc in self.counts:  # a block starts: its length into ctx.insns
                em.ldst(a.MemOp.LDR, 8, TMP1, CTX, Ctx.INSNS)
                em.add_const(TMP1, TMP1, self.counts[pc])
                em.ldst(a.MemOp.STR, 8, TMP1, CTX, Ctx.INSNS)
            reason = static_fault(self.insns, pc, spec)
            if reason is not None:
                self.raise_fault(pc, reason)
            else:
                assert spec is not None
                self.insn(pc, spec, insn)
            pc += 2 if pc + 1 in self.second_slots else 1
        self.raise_fault(n - 1, Fault.FELL_OFF)
        body_end = em.pos
        for label, pc in self.bad_jumps:
            em.buf.bind(label)
            self.raise_fault(pc, Fault.BAD_JUMP)
        entry = self.stubs()
        code = em.buf.finish()
        atomics = "LSE instructions (ARMv8.1)" if self.lse else "exclusive load/store loops (ldxr/stxr)"
        return JitImage("arm64", code, entry, em.buf.pc_offsets, body_end, code_base, notes={"atomics": atomics})

    def check_aligned(self, pc: int, base: int, off: int, size: int) -> None:
        """Fault with ``Fault.MISALIGNED`` (the address in ``ctx.fault_addr``) unless r<base> + off is
        ``size``-aligned."""
        if size < 2:
            return
        em = self.em
        ok = em.buf.label()
        em.add_const(TMP3, BPF_REGS[base], off)
        em(a.logical_imm("ands", True, a.XZR, TMP3, size - 1))
        em.branch(ok, lambda offset: a.b_cond(a.Cond.EQ, offset))
        em.ldst(a.MemOp.STR, 8, TMP3, CTX, Ctx.FAULT_ADDR)
        self.raise_fault(pc, Fault.MISALIGNED)
        em.buf.bind(ok)

    def raise_fault(self, pc: int, fault: Fault) -> None:
        """Abort the run with ``fault`` at BPF ``pc`` (through the shared fault stub)."""
        self.em.mov_imm(True, TMP1, fault)
        self.em.mov_imm(True, TMP2, pc)
        self.em.branch(self.fault, a.b)

    # ------------------------------------------------------------ one instruction

    def target(self, pc: int, delta: int) -> Label:
        """The label of a jump's target; a stub faulting at ``pc`` for one outside the program or
        inside an ld_imm64 (the machine traps when it gets there, as the interpreter does)."""
        to = pc + 1 + delta
        if 0 <= to < len(self.insns) and to not in self.second_slots:
            return self.labels[to]
        label = Label(f"bad jump at {pc}")
        self.bad_jumps.append((label, pc))
        return label

    def insn(self, pc: int, spec: OpSpec, insn: Insn) -> None:
        em = self.em
        match spec.kind:
            case Kind.ALU:
                lower.lower_alu(em, spec, insn)
            case Kind.NEG | Kind.MOV | Kind.MOVSX | Kind.END | Kind.BSWAP:
                lower.lower_unary(em, spec, insn)
            case Kind.LD_IMM64:
                em.mov_imm(True, BPF_REGS[insn.dst], imm64_value(self.insns, pc, self.resolve_imm64))
            case Kind.LDX | Kind.LDXSX:
                lower.lower_load(em, spec, insn)
            case Kind.ST | Kind.STX:
                lower.lower_store(em, spec, insn)
            case Kind.ATOMIC if self.lse:
                lower.lower_atomic_lse(em, spec, insn)
            case Kind.ATOMIC:
                lower.lower_atomic(em, spec, insn)
            case Kind.LOAD_ACQ | Kind.STORE_REL:
                # ldar/stlr must be aligned; the emulated CPU does not trap, so the code checks
                self.check_aligned(pc, insn.src if spec.kind is Kind.LOAD_ACQ else insn.dst, insn.off, spec.size)
                lower.lower_ordered(em, spec, insn)
            case Kind.JA:
                em.branch(self.target(pc, insn.off if spec.is64 else insn.imm), a.b)
            case Kind.JCOND:
                lower.lower_jcond(em, spec, insn, self.target(pc, insn.off))
            case Kind.MAY_GOTO:  # falls through while ctx.loops lasts, counting it down
                em.ldst(a.MemOp.LDR, 8, TMP1, CTX, Ctx.LOOPS)
                em.branch(self.target(pc, insn.off), lambda off: a.cbz(True, TMP1, off))
                em(a.sub_imm(True, TMP1, TMP1, 1))
                em.ldst(a.MemOp.STR, 8, TMP1, CTX, Ctx.LOOPS)
            case Kind.CALL:
                self.helper_call(self.gate_of(insn.imm))
            case Kind.CALLX:
                self.helper_call(self.gate_of_reg(BPF_REGS[insn.dst]))
            case Kind.CALL_LOCAL:
                self.local_call(pc, self.target(pc, insn.imm))
            case Kind.EXIT:
                em(a.ret())
            case Kind.CALL_KFUNC:
                raise kfunc_refused(insn, pc)
            case Kind.LD_ABS | Kind.LD_IND:  # r1 = src (or 0), r2 = imm, through the packet loader's gate
                r1, r2 = BPF_REGS[1], BPF_REGS[2]
                if spec.kind is Kind.LD_ABS:
                    em(a.movz(True, r1, 0))
                elif insn.src != 1:
                    em(a.mov_reg(True, r1, BPF_REGS[insn.src]))
                em.mov_imm(True, r2, insn.imm & M64)
                self.helper_call(self.gate_of(LD_PACKET_GATES[spec.size]))
            case _:  # addr_space_cast needs an arena, which does not exist here
                self.raise_fault(pc, Fault.UNSUPPORTED)

    # ------------------------------------------------------------ calls

    def gate_of(self, helper_id: int) -> int:
        """Load the gate of a constant helper id into TMP1."""
        slot = Ctx.GATES + 8 * helper_id if 0 <= helper_id < MAX_HELPERS else Ctx.BAD_GATE
        self.em.ldst(a.MemOp.LDR, 8, TMP1, CTX, slot)
        return TMP1

    def gate_of_reg(self, reg: int) -> int:
        """Load the gate of the helper id in ``reg`` into TMP1 (the bad gate for ids out of range)."""
        em = self.em
        bad, go = em.buf.label(), em.buf.label()
        em(a.cmp_imm(True, reg, FIRST_INTERNAL))
        em.branch(bad, lambda off: a.b_cond(a.Cond.HS, off))
        em(a.arith_reg("add", True, TMP1, CTX, reg, a.Shift.LSL, 3))
        em.ldst(a.MemOp.LDR, 8, TMP1, TMP1, Ctx.GATES)
        em.branch(go, a.b)
        em.buf.bind(bad)
        em.ldst(a.MemOp.LDR, 8, TMP1, CTX, Ctx.BAD_GATE)
        em.buf.bind(go)
        return TMP1

    def helper_call(self, gate: int) -> None:
        """Call the gate in ``gate`` as a C function of r1..r5; r0 = its result; abort if it asked to."""
        em = self.em
        em(a.ldst_pre(a.MemOp.STR, 8, a.LR, a.SP, -16),
           a.blr(gate),
           a.ldst_post(a.MemOp.LDR, 8, a.LR, a.SP, 16),
           a.mov_reg(True, BPF_REGS[0], 0))  # fmt: skip
        em.ldst(a.MemOp.LDR, 8, TMP1, CTX, Ctx.EXIT_KIND)
        em.branch(self.abort, lambda off: a.cbnz(True, TMP1, off))

    def local_call(self, pc: int, target: Label) -> None:
        em = self.em
        ok = em.buf.label()
        em.ldst(a.MemOp.LDR, 8, TMP1, CTX, Ctx.DEPTH)
        em(a.cmp_imm(True, TMP1, MAX_FRAMES - 1))
        em.branch(ok, lambda off: a.b_cond(a.Cond.LO, off))
        self.raise_fault(pc, Fault.CALL_DEPTH)
        em.buf.bind(ok)
        em(a.add_imm(True, TMP1, TMP1, 1))
        em.ldst(a.MemOp.STR, 8, TMP1, CTX, Ctx.DEPTH)
        r6, r7, r8, r9, r10 = BPF_REGS[6:11]
        em(a.stp_pre(r6, r7, a.SP, -16), a.stp_pre(r8, r9, a.SP, -16), a.stp_pre(r10, a.LR, a.SP, -16),
           a.arith_reg("add", True, TMP2, CTX, TMP1, a.Shift.LSL, 3))  # fmt: skip
        em.ldst(a.MemOp.LDR, 8, r10, TMP2, Ctx.STACK_TOPS)
        # a fresh frame's stack starts zeroed, as the interpreter's does
        em(a.sub_imm(True, TMP2, r10, STACK_SIZE))
        zero = em.buf.here()
        em(a.stp_post(a.XZR, a.XZR, TMP2, 16), a.cmp_reg(True, TMP2, r10))
        em.branch(zero, lambda off: a.b_cond(a.Cond.NE, off))
        em.branch(target, a.bl)
        em(a.ldp_post(r10, a.LR, a.SP, 16), a.ldp_post(r8, r9, a.SP, 16), a.ldp_post(r6, r7, a.SP, 16))
        em.ldst(a.MemOp.LDR, 8, TMP1, CTX, Ctx.DEPTH)
        em(a.sub_imm(True, TMP1, TMP1, 1))
        em.ldst(a.MemOp.STR, 8, TMP1, CTX, Ctx.DEPTH)

    # ------------------------------------------------------------ shared stubs

    def stubs(self) -> int:
        """Emit the entry, epilogue, abort and fault stubs; returns the entry's offset."""
        em = self.em
        entry = em.pos
        em(a.stp_pre(29, a.LR, a.SP, -16), a.add_imm(True, 29, a.SP, 0))
        em(*(a.stp_pre(lo, hi, a.SP, -16) for lo, hi in FRAME_PAIRS))
        em(a.mov_reg(True, CTX, 0), a.mov_reg(True, BPF_REGS[1], 1), a.mov_reg(True, BPF_REGS[2], 2))
        em(*(a.movz(True, BPF_REGS[r], 0) for r in (0, 3, 4, 5, 6, 7, 8, 9)))
        em(a.add_imm(True, TMP1, a.SP, 0))
        em.ldst(a.MemOp.STR, 8, TMP1, CTX, Ctx.SAVED_SP)
        em.ldst(a.MemOp.LDR, 8, BPF_REGS[FP], CTX, Ctx.STACK_TOPS)
        em.branch(self.labels[0], a.bl)
        em(a.mov_reg(True, 0, BPF_REGS[0]))
        em.buf.bind(self.epilogue)
        em(*(a.ldp_post(lo, hi, a.SP, 16) for lo, hi in reversed(FRAME_PAIRS)))
        em(a.ldp_post(29, a.LR, a.SP, 16), a.ret())

        em.buf.bind(self.abort)  # sp back to where the entry left it, r0 from ctx
        em.ldst(a.MemOp.LDR, 8, TMP1, CTX, Ctx.SAVED_SP)
        em(a.add_imm(True, a.SP, TMP1, 0))
        em.ldst(a.MemOp.LDR, 8, 0, CTX, Ctx.EXIT_R0)
        em.branch(self.epilogue, a.b)

        em.buf.bind(self.fault)  # TMP1 = the Fault, TMP2 = its BPF pc
        em.ldst(a.MemOp.STR, 8, TMP1, CTX, Ctx.FAULT)
        em.ldst(a.MemOp.STR, 8, TMP2, CTX, Ctx.FAULT_PC)
        em.mov_imm(True, TMP1, ExitKind.FAULT)
        em.ldst(a.MemOp.STR, 8, TMP1, CTX, Ctx.EXIT_KIND)
        em.branch(self.abort, a.b)
        return entry


class Arm64Backend(Backend):
    """The A64 back-end; unicorn runs it with its default (ARMv8.0) CPU model, or with its "max" model
    (ARMv8.1 and later) when the code uses LSE atomics."""

    arch = "arm64"
    big_endian = False

    def __init__(self, *, long_branches: bool = False, lse: bool = False) -> None:
        """``long_branches``: always reach conditional targets through a ``b`` (+-128 MiB); without it
        they are only used when a program's code outgrows b.cond's +-1 MiB.  ``lse``: atomics as ARMv8.1
        LSE instructions (ldadd, ldclr, ldeor, ldset, swp, cas) instead of ldxr/stxr loops."""
        import capstone
        from unicorn import arm64_const

        self.long_branches = long_branches
        self.lse = lse
        self.cpu_model = arm64_const.UC_CPU_ARM64_MAX if lse else None

        ids = _unicorn_ids()
        self.unicorn_arch, self.unicorn_mode = ids["arch"], ids["mode"]
        self.capstone_arch, self.capstone_mode = capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM
        self.bpf_regs = tuple(ids[f"x{n}"] for n in BPF_REGS)
        self.c_args = (ids["x0"], ids["x1"], ids["x2"])
        self.c_ret = ids["x0"]
        self.pc = ids["pc"]
        self.sp = ids["sp"]
        self.link = ids["x30"]

    def compile(self, insns: list[Insn], *, helper_ids: Iterable[int], code_base: int = CODE_BASE,
                resolve_imm64: ImmResolver | None = None, count_insns: bool = False) -> JitImage:  # fmt: skip
        try:
            return _Compiler(list(insns), resolve_imm64, long_branches=self.long_branches,
                             count_insns=count_insns, lse=self.lse).compile(code_base)  # fmt: skip
        except BranchRange:  # a program beyond +-1 MiB of code: again, with long conditional branches
            return _Compiler(list(insns), resolve_imm64, long_branches=True, count_insns=count_insns,
                             lse=self.lse).compile(code_base)  # fmt: skip

    def gate_return(self, uc: object, r0: int) -> None:
        uc.reg_write(self.c_ret, r0)  # type: ignore[attr-defined]
        uc.reg_write(self.pc, uc.reg_read(self.link))  # type: ignore[attr-defined]

    def return_address(self, uc: object) -> int:
        """Where the gate being run returns to (the word after the ``blr``)."""
        return uc.reg_read(self.link)  # type: ignore[attr-defined]

    def enter(self, uc: object, entry: int, args: tuple[int, int, int]) -> None:
        for reg, value in zip(self.c_args, args, strict=True):
            uc.reg_write(reg, value)  # type: ignore[attr-defined]
        uc.reg_write(self.sp, MACHINE_STACK_TOP)  # type: ignore[attr-defined]
        uc.reg_write(self.link, RETURN_ADDRESS)  # type: ignore[attr-defined]
        uc.reg_write(self.pc, entry)  # type: ignore[attr-defined]
