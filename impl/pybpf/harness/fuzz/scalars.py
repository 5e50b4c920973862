"""Scalar-domain cases: two scalars the verifier cannot see through, shaped, then combined.

Each case makes two scalars (``bpf_get_prandom_u32`` results, or constants),
shapes them with masks, moves, shifts and guarding branches, then applies the
operation under test.  Guards exit on one side so the program stays one long
path; a branch under test sends its unexplored side to its own exit.  pybpf's
``Scalar`` only steers the choice of constants (values near the current
bounds, so that comparisons are rarely decided); what is right is the kernel's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pybpf.harness.fuzz.emit import (
    HELPER_PRANDOM,
    PALETTE,
    R0,
    R6,
    R7,
    R8,
    R10,
    RET0,
    U32,
    U64,
    alu,
    call,
    ja,
    jmp,
    s32imm,
)
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import AluOp, Cls, JmpOp, Mode, Size, Src
from pybpf.verifier.scalar import Scalar

CONDS = (JmpOp.JEQ, JmpOp.JNE, JmpOp.JGT, JmpOp.JGE, JmpOp.JLT, JmpOp.JLE, JmpOp.JSET,
         JmpOp.JSGT, JmpOp.JSGE, JmpOp.JSLT, JmpOp.JSLE)
BINARY = (AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND, AluOp.LSH, AluOp.RSH,
          AluOp.MOD, AluOp.XOR, AluOp.ARSH)


@dataclass
class Builder:
    rng: random.Random
    insns: list[Insn] = field(default_factory=list)
    sim: dict[int, Scalar] = field(default_factory=dict)  # our guess, only to pick constants

    def emit(self, *insns: Insn) -> None:
        self.insns.extend(insns)

    def value(self) -> int:
        """An interesting 64-bit constant."""
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice(PALETTE)
        if r < 0.7:
            return self.rng.randrange(-300, 300) & U64
        if r < 0.85:
            return self.rng.getrandbits(self.rng.choice((8, 16, 31, 32, 33, 48, 63, 64)))
        return self.rng.getrandbits(64)

    def mask(self) -> int:
        r = self.rng.random()
        if r < 0.4:
            return (1 << self.rng.randrange(1, 64)) - 1
        if r < 0.6:
            return self.rng.getrandbits(64) & self.rng.getrandbits(64)
        if r < 0.8:
            return s32imm(self.rng.getrandbits(32)) & U64
        lo = self.rng.randrange(0, 48)
        return ((1 << self.rng.randrange(1, 16)) - 1) << lo

    # ---------------------------------------------------------------- operands

    def load_const(self, reg: int, v: int) -> None:
        kind = self.rng.random()
        if kind < 0.3 and -(1 << 31) <= (v if v < 1 << 63 else v - (1 << 64)) < 1 << 31:
            self.emit(alu(AluOp.MOV, reg, imm=s32imm(v)))
            self.sim[reg] = Scalar.const(s32imm(v))
        elif kind < 0.45:
            self.emit(alu(AluOp.MOV, reg, imm=s32imm(v), is64=False))
            self.sim[reg] = Scalar.const(v & U32)
        else:
            self.emit(*ld_imm64(reg, v))
            self.sim[reg] = Scalar.const(v)

    def fresh(self, reg: int) -> None:
        """``reg`` = a scalar the kernel knows nothing about, or a constant."""
        if self.rng.random() < 0.12:
            self.load_const(reg, self.value())
            return
        self.emit(call(HELPER_PRANDOM), alu(AluOp.MOV, reg, R0, x=True))
        self.sim[reg] = Scalar.unknown()

    def shape(self, reg: int, steps: int) -> None:
        for _ in range(steps):
            self.rng.choice((self.step_mask, self.step_mask, self.step_or, self.step_guard, self.step_guard,
                             self.step_guard, self.step_ext, self.step_arith))(reg)

    def step_mask(self, reg: int) -> None:
        m = self.mask()
        is64 = self.rng.random() < 0.7
        self._alu_k(AluOp.AND, reg, m, is64)

    def step_or(self, reg: int) -> None:
        self._alu_k(AluOp.OR, reg, self.value() & self.mask(), self.rng.random() < 0.7)

    def step_arith(self, reg: int) -> None:
        op = self.rng.choice((AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.XOR, AluOp.LSH, AluOp.RSH, AluOp.ARSH,
                              AluOp.NEG))
        is64 = self.rng.random() < 0.7
        if op == AluOp.NEG:
            self.emit(alu(AluOp.NEG, reg, is64=is64))
            self.sim[reg] = self.sim[reg].neg(is64)
            return
        if op in (AluOp.LSH, AluOp.RSH, AluOp.ARSH):
            self._alu_k(op, reg, self.rng.randrange(64 if is64 else 32), is64)
        else:
            self._alu_k(op, reg, self.value(), is64)

    def step_ext(self, reg: int) -> None:
        if self.rng.random() < 0.3:
            self.emit(alu(AluOp.MOV, reg, reg, is64=False, x=True))
            self.sim[reg] = self.sim[reg].zext32()
            return
        is64 = self.rng.random() < 0.6
        bits = self.rng.choice((8, 16, 32) if is64 else (8, 16))
        self.emit(alu(AluOp.MOV, reg, reg, is64=is64, x=True, off=bits))
        self.sim[reg] = self.sim[reg].movsx(bits, is64)

    def _alu_k(self, op: int, reg: int, v: int, is64: bool) -> None:
        imm = s32imm(v)
        self.emit(alu(op, reg, imm=imm, is64=is64))
        cur = self.sim[reg]
        if op in (AluOp.AND, AluOp.OR):
            pair = cur.fork_split(op, Scalar.const(imm))
            if pair is not None:
                cur = pair[0]
        self.sim[reg] = cur.alu(op, is64, Scalar.const(imm))

    def near(self, s: Scalar, is64: bool) -> int:
        """A constant near the bounds of ``s``, so that comparing with it is rarely decided."""
        if is64:
            lo, hi, slo, shi = s.umin, s.umax, s.smin, s.smax
        else:
            lo, hi, slo, shi = s.u32_min, s.u32_max, s.s32_min, s.s32_max
        c = self.rng.choice((lo, hi, slo, shi, self.rng.randint(lo, hi), self.rng.randint(slo, shi),
                             self.value()))
        return (c + self.rng.choice((-1, 0, 0, 1))) & U64

    def step_guard(self, reg: int) -> None:
        """exit if (reg op K): refines ``reg`` on the path that goes on."""
        op = self.rng.choice(CONDS)
        is64 = self.rng.random() < 0.6
        cur = self.sim[reg]
        for _ in range(8):
            k = self.near(cur, is64)
            if self.rng.random() < 0.5:
                other = Scalar.const(s32imm(k))
                first = jmp(op, reg, 1, imm=s32imm(k), is64=is64)
            else:
                self.load_const(R8, k)
                other = self.sim[R8]
                first = jmp(op, reg, 1, R8, is64=is64, x=True)
            if cur.is_branch_taken(op, is64, other) is None:
                break
        else:
            return
        self.emit(first, ja(2), *RET0)
        self.sim[reg] = cur.refine(op, is64, other, False)[0]

    # ---------------------------------------------------------------- operations under test

    def operand_pair(self) -> None:
        self.fresh(R6)
        self.shape(R6, self.rng.randrange(0, 4))
        self.fresh(R7)
        self.shape(R7, self.rng.randrange(0, 4))

    def alu_case(self) -> None:
        self.operand_pair()
        r = self.rng.random()
        is64 = self.rng.random() < 0.5
        if r < 0.03:
            # [-1, 0] (or its 32-bit form) meeting AND/OR with a constant: the kernel forks the two cases
            self.emit(alu(AluOp.ARSH, R6, imm=63 if is64 else 31, is64=is64),
                      alu(self.rng.choice((AluOp.AND, AluOp.OR)), R6, imm=s32imm(self.value()),
                          is64=self.rng.random() < 0.5))
        elif r < 0.06:
            # spill and fill back, zero- or sign-extending a narrower part
            size = self.rng.choice((Size.B, Size.H, Size.W, Size.DW))
            mode = Mode.MEMSX if size != Size.DW and self.rng.random() < 0.4 else Mode.MEM
            self.emit(Insn(Cls.STX | Mode.MEM | Size.DW, R10, R6, -8, 0), Insn(Cls.LDX | mode | size, R6, R10, -8, 0))
        elif r < 0.08:
            self.emit(alu(AluOp.NEG, R6, is64=is64))
        elif r < 0.16:
            bits = self.rng.choice((16, 32, 64))
            kind = self.rng.randrange(3)
            code = ((Cls.ALU64 | Src.K) if kind == 2 else (Cls.ALU | (Src.X if kind else Src.K))) | AluOp.END
            self.emit(Insn(code, R6, 0, 0, bits))
        elif r < 0.22:
            bits = self.rng.choice((8, 16, 32) if is64 else (8, 16))
            self.emit(alu(AluOp.MOV, R6, R7, is64=is64, x=True, off=bits))
        else:
            op = self.rng.choice(BINARY)
            signed = op in (AluOp.DIV, AluOp.MOD) and self.rng.random() < 0.4
            off = 1 if signed else 0
            if self.rng.random() < 0.5:
                src = R6 if self.rng.random() < 0.1 else R7
                self.emit(alu(op, R6, src, is64=is64, x=True, off=off))
            else:
                if op in (AluOp.LSH, AluOp.RSH, AluOp.ARSH):
                    imm = self.rng.randrange(64 if is64 else 32)
                else:
                    imm = s32imm(self.value()) or 1
                self.emit(alu(op, R6, imm=imm, is64=is64, off=off))

    def branch_case(self) -> None:
        self.operand_pair()
        op = self.rng.choice(CONDS)
        is64 = self.rng.random() < 0.5
        r = self.rng.random()
        if r < 0.5:
            src, first = self.sim[R7], jmp(op, R6, 0, R7, is64=is64, x=True)
        elif r < 0.55:
            src, first = self.sim[R6], jmp(op, R6, 0, R6, is64=is64, x=True)
        else:
            k = s32imm(self.near(self.sim[R6], is64))
            src, first = Scalar.const(k), jmp(op, R6, 0, imm=k, is64=is64)
        guess = self.sim[R6].is_branch_taken(op, is64, src)
        if guess is True or (guess is None and self.rng.random() < 0.5):
            # the jump goes on with the program; falling through exits
            self.emit(Insn(first.code, first.dst, first.src, 2, first.imm), *RET0)
        else:
            self.emit(Insn(first.code, first.dst, first.src, 1, first.imm), ja(2), *RET0)


def program(seed: int, cases: int, kind: str) -> list[Insn]:
    b = Builder(random.Random(seed))
    for _ in range(cases):
        (b.alu_case if kind == "alu" else b.branch_case)()
    b.emit(*RET0)
    return b.insns
