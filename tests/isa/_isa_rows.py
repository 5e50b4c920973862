"""A representative instruction for every row of the opcode table (test data generator)."""

from __future__ import annotations

from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import DST, IMM, OFF, OPCODES, SRC, Kind, OpSpec, Pseudo

# Values chosen to exercise formatting: signs, the 32-bit extremes, hex vs decimal.
IMMS = (0, 1, -1, 7, 0x7FFFFFFF, -0x80000000, 255, -5, 16, 1000, 0x12345678)
OFFS = (-8, 0, 4, 32767, -32768, 2, -1, 100)
_ADDR_SPACE_CASTS = (1, 1 << 16)
_LD_IMM64_VALUES = (0x1122334455667788, 7, 0xFFFFFFFF80000000, 0)


def sample(spec: OpSpec, n: int) -> list[Insn]:
    """Instruction ``n`` of ``spec``'s samples: its slots, with every jump going to the next slot.

    Registers and values vary with ``n``; unused fields are zero, fixed fields hold
    their discriminating value.
    """
    f = {DST: n % 11, SRC: (n * 7 + 3) % 11, OFF: OFFS[n % len(OFFS)], IMM: IMMS[n % len(IMMS)]}
    f = {field: value if field in spec.uses else 0 for field, value in f.items()}
    f.update(dict(spec.fixed))
    if spec.kind in (Kind.JA, Kind.MAY_GOTO, Kind.JCOND):
        f[OFF] = 0
        if spec.kind is Kind.JA:
            f[IMM] = 0
    if spec.kind is Kind.CALL_LOCAL:
        f[IMM] = 0
    if spec.kind is Kind.CALL:
        f[IMM] = (5, 1, 999)[n % 3]
    if spec.kind is Kind.ADDR_SPACE_CAST:
        f[IMM] = _ADDR_SPACE_CASTS[n % 2]
    if spec.kind is Kind.LD_IMM64:
        return list(ld_imm64(f[DST], _LD_IMM64_VALUES[n % len(_LD_IMM64_VALUES)], Pseudo.NONE))
    return [Insn(spec.code, f[DST], f[SRC], f[OFF], f[IMM])]


def row_id(spec: OpSpec) -> str:
    source = "" if spec.kind not in (Kind.ALU, Kind.MOV, Kind.JCOND) else "_reg" if SRC in spec.uses else "_imm"
    return f"{spec.name.replace(' ', '_')}{source}"


ROWS = OPCODES
ROW_IDS = [row_id(s) for s in OPCODES]
EXIT = Insn(0x95)
