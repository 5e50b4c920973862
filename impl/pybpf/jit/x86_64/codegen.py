"""Instruction selection for x86_64: one BPF instruction at a time, into a ``CodeBuffer``.

Registers (the mapping the Linux x86_64 JIT uses, so that BPF r1..r5 are the
SysV argument registers and r0 the return register, and a helper gate is a
plain C call): r0 rax, r1 rdi, r2 rsi, r3 rdx, r4 rcx, r5 r8, r6 rbx, r7 r13,
r8 r14, r9 r15, r10 rbp.  r12 holds the context block; r9, r10 and r11 are
scratch.  Every function body runs with rsp = 8 (mod 16), so a gate call
subtracts 8 first to call with the ABI's 16-byte alignment.

Where x86 differs from BPF the code adds what BPF defines: div/idiv trap on
a zero divisor and on INT_MIN / -1, so both are tested first; shift counts
need cl, which is BPF r4, so it is borrowed through r11; 32-bit cmpxchg does
not zero-extend eax on success, so it is done afterwards.
"""

from __future__ import annotations

import struct

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, AtomicOp, JmpOp, Kind, OpSpec, Src, lookup
from pybpf.jit.common.backend import (
    FIRST_INTERNAL,
    LD_PACKET_GATES,
    MAX_FRAMES,
    MAX_HELPERS,
    STACK_SIZE,
    Ctx,
    ExitKind,
    Fault,
    ImmResolver,
)
from pybpf.jit.common.codebuf import CodeBuffer, Label
from pybpf.jit.common.stubs import FaultStubs, kfunc_refused
from pybpf.jit.x86_64 import encode as x
from pybpf.jit.x86_64.encode import R9, R10, R11, R12, RAX, RBP, RCX, RDX, RSP, Alu, Cond, Mem, Shift

# BPF r0..r10 -> x86 register numbers
REGS = (x.RAX, x.RDI, x.RSI, x.RDX, x.RCX, x.R8, x.RBX, x.R13, x.R14, x.R15, x.RBP)
CTX = R12
CALLEE_SAVED = (x.RBX, x.R13, x.R14, x.R15, x.RBP)  # BPF r6..r10, kept across a BPF-to-BPF call
HOST_SAVED = (x.RBP, x.RBX, x.R12, x.R13, x.R14, x.R15)  # what the SysV ABI wants preserved
M32 = 0xFFFF_FFFF
M64 = (1 << 64) - 1

_ALU = {AluOp.ADD: Alu.ADD, AluOp.SUB: Alu.SUB, AluOp.OR: Alu.OR, AluOp.AND: Alu.AND, AluOp.XOR: Alu.XOR}
_SHIFT = {AluOp.LSH: Shift.SHL, AluOp.RSH: Shift.SHR, AluOp.ARSH: Shift.SAR}
_COND = {
    JmpOp.JEQ: Cond.E, JmpOp.JNE: Cond.NE, JmpOp.JSET: Cond.NE,
    JmpOp.JGT: Cond.A, JmpOp.JGE: Cond.AE, JmpOp.JLT: Cond.B, JmpOp.JLE: Cond.BE,
    JmpOp.JSGT: Cond.G, JmpOp.JSGE: Cond.GE, JmpOp.JSLT: Cond.L, JmpOp.JSLE: Cond.LE,
}  # fmt: skip
_FETCH_ALU = {AtomicOp.FETCH_OR: Alu.OR, AtomicOp.FETCH_AND: Alu.AND, AtomicOp.FETCH_XOR: Alu.XOR}
_LOCK_ALU = {AtomicOp.ADD: Alu.ADD, AtomicOp.OR: Alu.OR, AtomicOp.AND: Alu.AND, AtomicOp.XOR: Alu.XOR}


def patch(code: bytearray, fix, target: int) -> None:
    """The x86 patcher: ``rel32``/``rel8`` displacements from the end of the instruction."""
    rel = target - fix.origin
    if fix.kind == "rel32":
        struct.pack_into("<i", code, fix.at, rel)
    elif fix.kind == "rel8":
        if not -128 <= rel <= 127:
            from pybpf.errors import InternalError

            raise InternalError(f"rel8 branch of {rel} bytes does not fit")
        struct.pack_into("<b", code, fix.at, rel)
    else:
        raise ValueError(f"unknown x86 fixup kind {fix.kind!r}")


class Compiler(FaultStubs):
    """Compiles one program; ``compile()`` returns (code, entry, pc_offsets, body_end)."""

    def __init__(self, insns: list[Insn], resolve_imm64: ImmResolver | None, *, count_insns: bool = False):
        super().__init__(insns, resolve_imm64, count_insns=count_insns)
        self.buf = CodeBuffer(patch)
        self.epilogue = Label("epilogue")
        self.abort = Label("abort")
        self.zero_frame = Label("zero_frame")

    # ------------------------------------------------------------ emit helpers

    def e(self, *parts: bytes) -> None:
        for part in parts:
            self.buf.emit(part)

    def jmp(self, label: Label) -> None:
        at = self.buf.emit(x.JMP_REL32 + x.REL32_PLACEHOLDER)
        self.buf.fixup(label, "rel32", at + 1)

    def jcc(self, cond: Cond, label: Label) -> None:
        at = self.buf.emit(x.jcc_rel32(cond) + x.REL32_PLACEHOLDER)
        self.buf.fixup(label, "rel32", at + 2)

    def call(self, label: Label) -> None:
        at = self.buf.emit(x.CALL_REL32 + x.REL32_PLACEHOLDER)
        self.buf.fixup(label, "rel32", at + 1)

    # ------------------------------------------------------------ the whole program

    def compile(self) -> tuple[bytes, int, list[int], int]:
        self.find_second_slots()
        entry = self.prologue()
        pc = 0
        while pc < self.n:
            self.buf.mark_pc(pc)
            self.buf.bind(self.labels[pc])
            if pc in self.counts:  # a block starts: its length into ctx.insns
                self.e(x.alu_imm(Alu.ADD, Mem(CTX, Ctx.INSNS), self.counts[pc]))
            pc = self.insn(pc)
        self.buf.pc_offsets.extend([-1] * (self.n - len(self.buf.pc_offsets)))  # a trailing second slot
        self.jmp(self.fault(Fault.FELL_OFF, max(self.n - 1, 0)))
        body_end = self.buf.pos
        self.shared_stubs()
        return self.buf.finish(), entry, self.buf.pc_offsets, body_end

    def prologue(self) -> int:
        """entry(ctx, r1, r2); also the epilogue and the abort path."""
        entry = self.buf.pos
        self.e(*(x.push(r) for r in HOST_SAVED), x.alu_imm(Alu.SUB, RSP, 8))  # rsp = 0 (mod 16)
        self.e(x.mov(CTX, x.RDI), x.store(Mem(CTX, Ctx.SAVED_SP), RSP, 8))
        self.e(x.mov(x.RDI, x.RSI), x.mov(x.RSI, x.RDX))
        for reg in (RAX, RDX, RCX, x.R8, x.RBX, x.R13, x.R14, x.R15):
            self.e(x.alu(Alu.XOR, reg, reg, w=False))
        self.e(x.load(RBP, Mem(CTX, Ctx.STACK_TOPS), 8))
        self.call(self.labels[0] if self.n else self.fault(Fault.FELL_OFF, 0))
        self.buf.bind(self.epilogue)
        self.e(x.alu_imm(Alu.ADD, RSP, 8), *(x.pop(r) for r in reversed(HOST_SAVED)), x.RET)
        self.buf.bind(self.abort)
        self.e(x.load(RSP, Mem(CTX, Ctx.SAVED_SP), 8), x.load(RAX, Mem(CTX, Ctx.EXIT_R0), 8))
        self.jmp(self.epilogue)
        return entry

    def shared_stubs(self) -> None:
        # zero_frame: the 512 bytes below rbp = 0 (a callee's fresh stack)
        self.buf.bind(self.zero_frame)
        self.e(x.mov_imm(R11, -STACK_SIZE & M64), x.alu(Alu.XOR, R10, R10, w=False))
        loop = self.buf.here("zero_loop")
        self.e(x.store(Mem(RBP, 0, R11, 1), R10, 8), x.alu_imm(Alu.ADD, R11, 8))
        self.jcc(Cond.NE, loop)
        self.e(x.RET)
        for label, kind, pc in self.stubs:
            self.buf.bind(label)
            if kind is Fault.MISALIGNED:  # check_aligned left the address in r11
                self.e(x.store(Mem(CTX, Ctx.FAULT_ADDR), R11, 8))
            self.e(x.store_imm(Mem(CTX, Ctx.FAULT_PC), pc, 8), x.store_imm(Mem(CTX, Ctx.FAULT), kind, 8),
                   x.store_imm(Mem(CTX, Ctx.EXIT_KIND), ExitKind.FAULT, 8))  # fmt: skip
            self.jmp(self.abort)

    # ------------------------------------------------------------ one instruction

    def insn(self, pc: int) -> int:
        """Emit slot ``pc``; returns the next slot."""
        insn = self.insns[pc]
        spec = lookup(insn.code, insn.off, insn.imm, insn.src)
        if spec is None or insn.dst > 10 or (insn.src > 10 and spec.kind is not Kind.LD_IMM64):
            self.jmp(self.fault(Fault.INVALID, pc))
            return pc + 1
        d = REGS[insn.dst]
        s = REGS[insn.src] if insn.src <= 10 else 0
        match spec.kind:
            case Kind.ALU:
                self.alu(spec, insn, d, s)
            case Kind.NEG:
                self.e(x.neg(d, spec.is64))
            case Kind.MOV if spec.code & Src.X:
                self.e(x.mov(d, s, spec.is64))
            case Kind.MOV:
                self.e(x.mov_imm(d, insn.imm & (M64 if spec.is64 else M32), spec.is64))
            case Kind.MOVSX:
                self.e(x.movsx(d, s, spec.ext_bits, spec.is64))
            case Kind.END | Kind.BSWAP:
                self.end(spec, d)
            case Kind.LD_IMM64:
                if pc + 1 >= self.n:
                    self.jmp(self.fault(Fault.INVALID, pc))
                    return pc + 1
                self.e(x.mov_imm(d, self.imm64_value(pc), True))
                return pc + 2
            case Kind.LDX | Kind.LOAD_ACQ:  # x86 loads are acquire loads
                if spec.kind is Kind.LOAD_ACQ:
                    self.check_aligned(pc, s, insn.off, spec.size)
                self.e(x.load(d, Mem(s, insn.off), spec.size))
            case Kind.LDXSX:
                self.e(x.load_sx(d, Mem(s, insn.off), spec.size))
            case Kind.ST:
                self.e(x.store_imm(Mem(d, insn.off), insn.imm, spec.size))
            case Kind.STX | Kind.STORE_REL:  # x86 stores are release stores
                if spec.kind is Kind.STORE_REL:
                    self.check_aligned(pc, d, insn.off, spec.size)
                self.e(x.store(Mem(d, insn.off), s, spec.size))
            case Kind.ATOMIC:
                self.check_aligned(pc, d, insn.off, spec.size)
                self.atomic(spec, Mem(d, insn.off), d, s)
            case Kind.JA:
                self.jmp(self.target(pc, pc + 1 + (insn.off if spec.is64 else insn.imm)))
            case Kind.JCOND:
                self.jcond(spec, insn, pc, d, s)
            case Kind.MAY_GOTO:
                self.e(x.alu_imm(Alu.CMP, Mem(CTX, Ctx.LOOPS), 0))
                self.jcc(Cond.E, self.target(pc, pc + 1 + insn.off))
                self.e(x.inc_mem(Mem(CTX, Ctx.LOOPS), -1))
            case Kind.CALL:
                slot = Ctx.GATES + 8 * insn.imm if 0 <= insn.imm < MAX_HELPERS else Ctx.BAD_GATE
                self.e(x.load(R11, Mem(CTX, slot), 8))
                self.gate_call(pc)
            case Kind.CALLX:
                self.callx(pc, d)
            case Kind.CALL_LOCAL:
                self.call_local(pc, pc + 1 + insn.imm)
            case Kind.CALL_KFUNC:
                raise kfunc_refused(insn, pc)
            case Kind.EXIT:
                self.e(x.RET)
            case Kind.LD_ABS | Kind.LD_IND:
                self.ld_packet(pc, spec, insn, s)
            case _:  # addr_space_cast needs an arena
                self.jmp(self.fault(Fault.UNSUPPORTED, pc))
        return pc + 1

    # ------------------------------------------------------------ arithmetic

    def alu(self, spec: OpSpec, insn: Insn, d: int, s: int) -> None:
        w, reg, op = spec.is64, bool(spec.code & Src.X), AluOp(spec.op)
        imm = insn.imm
        if op in _ALU:
            self.e(x.alu(_ALU[op], d, s, w) if reg else x.alu_imm(_ALU[op], d, imm, w))
        elif op is AluOp.MUL:
            self.e(x.imul(d, s, w) if reg else x.imul_imm(d, d, imm, w))
        elif op in _SHIFT:
            if not reg:
                self.e(x.shift_imm(_SHIFT[op], d, imm & (63 if w else 31), w))
            else:
                self.shift_reg(_SHIFT[op], d, s, w)
        elif op in (AluOp.DIV, AluOp.MOD):
            if not reg:
                self.e(x.mov_imm(R11, imm & (M64 if w else M32), w))
            else:
                self.e(x.mov(R11, s, w))
            self.divide(op is AluOp.MOD, spec.signed, d, w)
        else:
            raise AssertionError(f"no x86 selection for {spec.name}")

    def shift_reg(self, kind: Shift, d: int, s: int, w: bool) -> None:
        """Shift by a register: the count must be in cl (BPF r4 lives in rcx)."""
        if s == RCX:
            self.e(x.shift_cl(kind, d, w))
            return
        self.e(x.mov(R11, RCX), x.mov(RCX, s))
        if d == RCX:  # the value to shift is the saved rcx
            self.e(x.shift_cl(kind, R11, w), x.mov(RCX, R11))
        else:
            self.e(x.shift_cl(kind, d, w), x.mov(RCX, R11))

    def divide(self, mod: bool, signed: bool, d: int, w: bool) -> None:
        """d = d / r11 or d % r11 with BPF's rules for 0 and (signed) -1."""
        zero, done = Label("div0"), Label("divdone")
        self.e(x.test(R11, R11, w))
        self.jcc(Cond.E, zero)
        if signed:
            # x / -1 = -x (INT_MIN wraps), x % -1 = 0: idiv would trap on INT_MIN / -1
            normal = Label("divnormal")
            self.e(x.alu_imm(Alu.CMP, R11, -1, w))
            self.jcc(Cond.NE, normal)
            self.e(x.alu(Alu.XOR, d, d, w=False) if mod else x.neg(d, w))
            self.jmp(done)
            self.buf.bind(normal)
        self.e(x.mov(R10, RAX), x.mov(R9, RDX))
        if d != RAX:
            self.e(x.mov(RAX, d, w))
        if signed:
            self.e(x.sign_extend_rax(w))
        else:
            self.e(x.alu(Alu.XOR, RDX, RDX, w=False))
        self.e(x.div(R11, w, signed), x.mov(R11, RDX if mod else RAX, w))
        self.e(x.mov(RAX, R10), x.mov(RDX, R9), x.mov(d, R11))
        self.jmp(done)
        self.buf.bind(zero)
        if mod:
            if not w:
                self.e(x.mov(d, d, w=False))  # the low half, zero-extended
        else:
            self.e(x.alu(Alu.XOR, d, d, w=False))
        self.buf.bind(done)

    def end(self, spec: OpSpec, d: int) -> None:
        bits = spec.ext_bits
        swap = spec.kind is Kind.BSWAP or bool(spec.code & Src.X)  # bswap, or be* on a little-endian host
        if not swap:
            if bits < 64:
                self.e(x.movzx(d, d, bits))
        elif bits == 16:
            self.e(x.rol16(d, 8), x.movzx(d, d, 16))
        else:
            self.e(x.bswap(d, bits == 64))

    # ------------------------------------------------------------ atomics

    def check_aligned(self, pc: int, base: int, off: int, size: int) -> None:
        """Fault unless base + off is size-aligned (x86 would not trap; BPF machines do)."""
        if size > 1:
            self.e(x.lea(R11, Mem(base, off)), x.test_imm(R11, size - 1, w=False))
            self.jcc(Cond.NE, self.fault(Fault.MISALIGNED, pc))

    def atomic(self, spec: OpSpec, mem: Mem, d: int, s: int) -> None:
        w, op = spec.is64, AtomicOp(spec.op)
        if op in _LOCK_ALU:
            self.e(x.lock_alu(_LOCK_ALU[op], mem, s, w))
        elif op is AtomicOp.FETCH_ADD:
            self.e(x.lock_xadd(mem, s, w))
        elif op is AtomicOp.XCHG:
            self.e(x.xchg(mem, s, w))
        elif op is AtomicOp.CMPXCHG:
            self.e(x.lock_cmpxchg(mem, s, w))
            if not w:
                self.e(x.mov(RAX, RAX, w=False))
        else:
            self.fetch_loop(_FETCH_ALU[op], mem, d, s, w)

    def fetch_loop(self, kind: Alu, mem: Mem, d: int, s: int, w: bool) -> None:
        """s = old [mem], [mem] = old OP s: a cmpxchg loop (it needs rax, BPF r0, which is saved in r10)."""
        self.e(x.mov(R10, RAX))
        base = R10 if d == RAX else d
        value = R10 if s == RAX else s
        at = Mem(base, mem.disp)
        self.e(x.load(RAX, at, 8 if w else 4))
        retry = self.buf.here("fetch_retry")
        self.e(x.mov(R11, RAX, w), x.alu(kind, R11, value, w), x.lock_cmpxchg(at, R11, w))
        self.jcc(Cond.NE, retry)
        if s != RAX:
            self.e(x.mov(s, RAX, w), x.mov(RAX, R10))

    # ------------------------------------------------------------ control flow

    def jcond(self, spec: OpSpec, insn: Insn, pc: int, d: int, s: int) -> None:
        w, op = spec.is64, JmpOp(spec.op)
        reg = bool(spec.code & Src.X)
        if op is JmpOp.JSET:
            self.e(x.test(d, s, w) if reg else x.test_imm(d, insn.imm, w))
        else:
            self.e(x.alu(Alu.CMP, d, s, w) if reg else x.alu_imm(Alu.CMP, d, insn.imm, w))
        self.jcc(_COND[op], self.target(pc, pc + 1 + insn.off))

    def gate_call(self, pc: int) -> None:
        """Call the gate in r11 (ABI-aligned), then take the abort path if it asked for it."""
        self.e(x.store_imm(Mem(CTX, Ctx.CALL_PC), pc, 8))
        self.e(x.alu_imm(Alu.SUB, RSP, 8), x.call_reg(R11), x.alu_imm(Alu.ADD, RSP, 8))
        self.e(x.alu_imm(Alu.CMP, Mem(CTX, Ctx.EXIT_KIND), 0))
        self.jcc(Cond.NE, self.abort)

    def ld_packet(self, pc: int, spec: OpSpec, insn: Insn, s: int) -> None:
        """ld_abs/ld_ind: r1 = src (or 0), r2 = imm, then the packet loader's gate (see ``backend``)."""
        r1, r2 = REGS[1], REGS[2]
        if spec.kind is Kind.LD_IND:
            if s != r1:
                self.e(x.mov(r1, s))
        else:
            self.e(x.alu(Alu.XOR, r1, r1, w=False))
        self.e(x.mov_imm(r2, insn.imm & M64), x.load(R11, Mem(CTX, Ctx.GATES + 8 * LD_PACKET_GATES[spec.size]), 8))
        self.gate_call(pc)

    def callx(self, pc: int, d: int) -> None:
        bad, go = Label("callx_bad"), Label("callx_go")
        self.e(x.store(Mem(CTX, Ctx.CALLX_ID), d, 8), x.mov(R11, d), x.alu_imm(Alu.CMP, R11, FIRST_INTERNAL))
        self.jcc(Cond.AE, bad)
        self.e(x.load(R11, Mem(CTX, Ctx.GATES, R11, 8), 8))
        self.jmp(go)
        self.buf.bind(bad)
        self.e(x.load(R11, Mem(CTX, Ctx.BAD_GATE), 8))
        self.buf.bind(go)
        self.gate_call(pc)

    def call_local(self, pc: int, to: int) -> None:
        """A BPF-to-BPF call: a depth check, r6..r10 saved, a fresh zeroed stack."""
        self.e(x.load(R11, Mem(CTX, Ctx.DEPTH), 8), x.alu_imm(Alu.CMP, R11, MAX_FRAMES - 1))
        self.jcc(Cond.AE, self.fault(Fault.CALL_DEPTH, pc))
        self.e(*(x.push(r) for r in CALLEE_SAVED))  # 40 bytes: rsp = 0 (mod 16) before the call
        self.e(x.inc_mem(Mem(CTX, Ctx.DEPTH), 1), x.load(RBP, Mem(CTX, Ctx.STACK_TOPS + 8, R11, 8), 8))
        self.call(self.zero_frame)
        self.call(self.target(pc, to))
        self.e(*(x.pop(r) for r in reversed(CALLEE_SAVED)), x.inc_mem(Mem(CTX, Ctx.DEPTH), -1))
