"""The BPF opcode table: the single source of truth for the instruction set.

Every legal instruction form is one ``OpSpec`` row.  The codec's validator, the
assembler, both disassemblers and the interpreter's dispatch are all derived
from ``OPCODES`` — none of them keeps a list of legal opcodes of its own.

Encoding facts follow RFC 9669 and include/uapi/linux/bpf.h (opcode values are
facts of the ABI, not code).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, IntEnum


class Cls(IntEnum):
    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    JMP32 = 0x06
    ALU64 = 0x07


class Src(IntEnum):
    K = 0x00
    X = 0x08


class AluOp(IntEnum):
    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    XOR = 0xA0
    MOV = 0xB0
    ARSH = 0xC0
    END = 0xD0


class JmpOp(IntEnum):
    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40
    JNE = 0x50
    JSGT = 0x60
    JSGE = 0x70
    CALL = 0x80
    EXIT = 0x90
    JLT = 0xA0
    JLE = 0xB0
    JSLT = 0xC0
    JSLE = 0xD0
    JCOND = 0xE0


class Size(IntEnum):
    W = 0x00
    H = 0x08
    B = 0x10
    DW = 0x18


SIZE_BYTES = {Size.B: 1, Size.H: 2, Size.W: 4, Size.DW: 8}


class Mode(IntEnum):
    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60
    MEMSX = 0x80
    ATOMIC = 0xC0


class AtomicOp(IntEnum):
    """Values of ``imm`` in a BPF_STX | BPF_ATOMIC instruction."""

    ADD = 0x00
    OR = 0x40
    AND = 0x50
    XOR = 0xA0
    FETCH_ADD = 0x01
    FETCH_OR = 0x41
    FETCH_AND = 0x51
    FETCH_XOR = 0xA1
    XCHG = 0xE1
    CMPXCHG = 0xF1
    LOAD_ACQ = 0x100
    STORE_REL = 0x110


FETCH = 0x01


class Pseudo(IntEnum):
    """``src_reg`` of ``ld_imm64`` (BPF_PSEUDO_*): what the 64-bit immediate means."""

    NONE = 0
    MAP_FD = 1
    MAP_VALUE = 2
    BTF_ID = 3
    FUNC = 4
    MAP_IDX = 5
    MAP_IDX_VALUE = 6


class CallSrc(IntEnum):
    """``src_reg`` of BPF_JMP | BPF_CALL."""

    HELPER = 0
    LOCAL = 1  # BPF_PSEUDO_CALL: imm is a pc-relative subprogram offset
    KFUNC = 2  # BPF_PSEUDO_KFUNC_CALL: imm is a BTF id, off a BTF fd index


class Kind(Enum):
    """What an instruction does, independent of its encoding details."""

    ALU = "alu"  # dst = dst OP src|imm
    NEG = "neg"
    MOV = "mov"
    MOVSX = "movsx"  # sign-extending move (v4); width in OpSpec.ext_bits
    ADDR_SPACE_CAST = "addr_space_cast"
    END = "end"  # le/be conversion; bits in imm
    BSWAP = "bswap"  # unconditional byte swap (v4)
    LD_IMM64 = "ld_imm64"
    LD_ABS = "ld_abs"
    LD_IND = "ld_ind"
    LDX = "ldx"
    LDXSX = "ldxsx"  # sign-extending load (v4)
    ST = "st"
    STX = "stx"
    ATOMIC = "atomic"
    LOAD_ACQ = "load_acq"
    STORE_REL = "store_rel"
    JA = "ja"
    JCOND = "jcond"  # conditional jump
    MAY_GOTO = "may_goto"
    CALL = "call"  # helper call, imm = helper id
    CALL_LOCAL = "call_local"
    CALL_KFUNC = "call_kfunc"
    CALLX = "callx"
    EXIT = "exit"


# Fields an instruction carries; any field a form does not use must be zero.
DST, SRC, OFF, IMM = "dst", "src", "off", "imm"


@dataclass(frozen=True)
class OpSpec:
    """One legal instruction form.

    ``fixed`` holds discriminator fields with their required value (e.g. ``off``
    is 1 for ``sdiv``; ``imm`` is 16/32/64 for byte swaps).  Every field that is
    neither in ``uses`` nor in ``fixed`` must be zero.
    """

    code: int
    name: str  # bpf_conformance mnemonic, e.g. "add32", "ldxsb", "lock fetch_add"
    kind: Kind
    uses: frozenset[str]
    fixed: tuple[tuple[str, int], ...] = ()
    op: int = 0  # AluOp / JmpOp / AtomicOp value, where meaningful
    is64: bool = True  # operation width: ALU64/JMP vs ALU/JMP32; DW atomics
    size: int = 0  # memory access width in bytes
    isa: int = 1  # lowest ISA version (cpu=v1..v4) that has this form
    signed: bool = False  # sdiv/smod, sign-extending forms, signed jumps
    ext_bits: int = 0  # movsx/bswap/end width

    @property
    def cls(self) -> Cls:
        return Cls(self.code & 0x07)

    def matches(self, off: int, imm: int, src: int) -> bool:
        vals = {OFF: off, IMM: imm, SRC: src}
        return all(vals[f] == v for f, v in self.fixed)


# ---------------------------------------------------------------- the table

_ALU_NAMES = {
    AluOp.ADD: "add", AluOp.SUB: "sub", AluOp.MUL: "mul", AluOp.DIV: "div",
    AluOp.OR: "or", AluOp.AND: "and", AluOp.LSH: "lsh", AluOp.RSH: "rsh",
    AluOp.MOD: "mod", AluOp.XOR: "xor", AluOp.ARSH: "arsh",
}  # fmt: skip

_JMP_NAMES = {
    JmpOp.JEQ: "jeq", JmpOp.JGT: "jgt", JmpOp.JGE: "jge", JmpOp.JSET: "jset",
    JmpOp.JNE: "jne", JmpOp.JSGT: "jsgt", JmpOp.JSGE: "jsge", JmpOp.JLT: "jlt",
    JmpOp.JLE: "jle", JmpOp.JSLT: "jslt", JmpOp.JSLE: "jsle",
}  # fmt: skip
SIGNED_JMPS = frozenset({JmpOp.JSGT, JmpOp.JSGE, JmpOp.JSLT, JmpOp.JSLE})

_ATOMIC_NAMES = {
    AtomicOp.ADD: "add", AtomicOp.OR: "or", AtomicOp.AND: "and", AtomicOp.XOR: "xor",
    AtomicOp.FETCH_ADD: "fetch_add", AtomicOp.FETCH_OR: "fetch_or",
    AtomicOp.FETCH_AND: "fetch_and", AtomicOp.FETCH_XOR: "fetch_xor",
    AtomicOp.XCHG: "xchg", AtomicOp.CMPXCHG: "cmpxchg",
}  # fmt: skip

_SIZE_SUFFIX = {Size.B: "b", Size.H: "h", Size.W: "w", Size.DW: "dw"}

_REG = frozenset({DST, SRC})
_DST_IMM = frozenset({DST, IMM})
_MEM_LD = frozenset({DST, SRC, OFF})
_MEM_ST_IMM = frozenset({DST, OFF, IMM})


def _alu_rows() -> Iterator[OpSpec]:
    for cls, is64, sfx in ((Cls.ALU64, True, ""), (Cls.ALU, False, "32")):
        for op, name in _ALU_NAMES.items():
            for src in Src:
                code = cls | src | op
                uses = _REG if src == Src.X else _DST_IMM
                isa = 1
                yield OpSpec(code, name + sfx, Kind.ALU, uses, (("off", 0),), op, is64, isa=isa)
                if op in (AluOp.DIV, AluOp.MOD):
                    yield OpSpec(code, "s" + name + sfx, Kind.ALU, uses, (("off", 1),), op, is64,
                                 isa=4, signed=True)
        yield OpSpec(cls | Src.K | AluOp.NEG, "neg" + sfx, Kind.NEG, frozenset({DST}), (), AluOp.NEG, is64)
        yield OpSpec(cls | Src.K | AluOp.MOV, "mov" + sfx, Kind.MOV, _DST_IMM, (("off", 0),), AluOp.MOV, is64)
        yield OpSpec(cls | Src.X | AluOp.MOV, "mov" + sfx, Kind.MOV, _REG, (("off", 0),), AluOp.MOV, is64)
        for bits in (8, 16, 32) if is64 else (8, 16):
            name = f"movsx{bits}{'64' if is64 else '32'}"
            yield OpSpec(cls | Src.X | AluOp.MOV, name, Kind.MOVSX, _REG, (("off", bits),), AluOp.MOV,
                         is64, isa=4, signed=True, ext_bits=bits)
    # addr_space_cast (arena): ALU64 | MOV | X with off == 1, imm = (dst_as << 16) | src_as
    yield OpSpec(Cls.ALU64 | Src.X | AluOp.MOV, "addr_space_cast", Kind.ADDR_SPACE_CAST,
                 frozenset({DST, SRC, IMM}), (("off", 1),), AluOp.MOV, True, isa=4)
    for bits in (16, 32, 64):
        yield OpSpec(Cls.ALU | Src.K | AluOp.END, f"le{bits}", Kind.END, frozenset({DST}), (("imm", bits),),
                     AluOp.END, False, ext_bits=bits)
        yield OpSpec(Cls.ALU | Src.X | AluOp.END, f"be{bits}", Kind.END, frozenset({DST}), (("imm", bits),),
                     AluOp.END, False, ext_bits=bits)
        yield OpSpec(Cls.ALU64 | Src.K | AluOp.END, f"bswap{bits}", Kind.BSWAP, frozenset({DST}),
                     (("imm", bits),), AluOp.END, True, isa=4, ext_bits=bits)


def _mem_rows() -> Iterator[OpSpec]:
    yield OpSpec(Cls.LD | Mode.IMM | Size.DW, "lddw", Kind.LD_IMM64, frozenset({DST, SRC, IMM}), (), size=8)
    for size, sfx in _SIZE_SUFFIX.items():
        nbytes = SIZE_BYTES[size]
        if size != Size.DW:
            yield OpSpec(Cls.LD | Mode.ABS | size, f"ldabs{sfx}", Kind.LD_ABS, frozenset({IMM}), size=nbytes)
            yield OpSpec(Cls.LD | Mode.IND | size, f"ldind{sfx}", Kind.LD_IND, frozenset({SRC, IMM}),
                         size=nbytes)
            yield OpSpec(Cls.LDX | Mode.MEMSX | size, f"ldxs{sfx}", Kind.LDXSX, _MEM_LD, size=nbytes, isa=4,
                         signed=True)
        yield OpSpec(Cls.LDX | Mode.MEM | size, f"ldx{sfx}", Kind.LDX, _MEM_LD, size=nbytes)
        yield OpSpec(Cls.ST | Mode.MEM | size, f"st{sfx}", Kind.ST, _MEM_ST_IMM, size=nbytes)
        yield OpSpec(Cls.STX | Mode.MEM | size, f"stx{sfx}", Kind.STX, _MEM_LD, size=nbytes)
    for size in (Size.W, Size.DW):
        is64 = size == Size.DW
        for op, name in _ATOMIC_NAMES.items():
            yield OpSpec(Cls.STX | Mode.ATOMIC | size, f"lock {name}{'' if is64 else '32'}", Kind.ATOMIC,
                         _MEM_LD, (("imm", op),), op, is64, size=SIZE_BYTES[size],
                         isa=1 if op == AtomicOp.ADD else 3)
    # load-acquire / store-release (kernel 6.15+): every access width
    for size, sfx in _SIZE_SUFFIX.items():
        yield OpSpec(Cls.STX | Mode.ATOMIC | size, f"load_acq{sfx}", Kind.LOAD_ACQ, _MEM_LD,
                     (("imm", AtomicOp.LOAD_ACQ),), AtomicOp.LOAD_ACQ, size == Size.DW,
                     size=SIZE_BYTES[size], isa=4)
        yield OpSpec(Cls.STX | Mode.ATOMIC | size, f"store_rel{sfx}", Kind.STORE_REL, _MEM_LD,
                     (("imm", AtomicOp.STORE_REL),), AtomicOp.STORE_REL, size == Size.DW,
                     size=SIZE_BYTES[size], isa=4)


def _jmp_rows() -> Iterator[OpSpec]:
    yield OpSpec(Cls.JMP | JmpOp.JA, "ja", Kind.JA, frozenset({OFF}), (), JmpOp.JA)
    yield OpSpec(Cls.JMP32 | JmpOp.JA, "ja32", Kind.JA, frozenset({IMM}), (), JmpOp.JA, False, isa=4)
    for cls, is64, sfx, isa in ((Cls.JMP, True, "", 1), (Cls.JMP32, False, "32", 3)):
        for op, name in _JMP_NAMES.items():
            signed = op in SIGNED_JMPS
            yield OpSpec(cls | Src.K | op, name + sfx, Kind.JCOND, frozenset({DST, OFF, IMM}), (), op, is64,
                         isa=isa, signed=signed)
            yield OpSpec(cls | Src.X | op, name + sfx, Kind.JCOND, frozenset({DST, SRC, OFF}), (), op, is64,
                         isa=isa, signed=signed)
    yield OpSpec(Cls.JMP | JmpOp.JCOND, "may_goto", Kind.MAY_GOTO, frozenset({OFF}), (("src", 0),), JmpOp.JCOND)
    call = Cls.JMP | JmpOp.CALL
    yield OpSpec(call, "call", Kind.CALL, frozenset({IMM}), (("src", CallSrc.HELPER),), JmpOp.CALL)
    yield OpSpec(call, "call local", Kind.CALL_LOCAL, frozenset({IMM}), (("src", CallSrc.LOCAL),), JmpOp.CALL)
    yield OpSpec(call, "call kfunc", Kind.CALL_KFUNC, frozenset({OFF, IMM}), (("src", CallSrc.KFUNC),),
                 JmpOp.CALL)
    # callx: the target register is in dst_reg (RFC 9669, section 4.3.1)
    yield OpSpec(Cls.JMP | Src.X | JmpOp.CALL, "callx", Kind.CALLX, frozenset({DST}), (), JmpOp.CALL)
    yield OpSpec(Cls.JMP | JmpOp.EXIT, "exit", Kind.EXIT, frozenset(), (), JmpOp.EXIT)


OPCODES: tuple[OpSpec, ...] = (*_alu_rows(), *_mem_rows(), *_jmp_rows())

# code -> candidate rows; a code maps to several rows when off/imm/src discriminate.
BY_CODE: dict[int, tuple[OpSpec, ...]] = {}
for _spec in OPCODES:
    BY_CODE[_spec.code] = (*BY_CODE.get(_spec.code, ()), _spec)
del _spec


def lookup(code: int, off: int, imm: int, src: int) -> OpSpec | None:
    """The row describing an instruction, or None when the encoding is illegal."""
    for spec in BY_CODE.get(code, ()):
        if spec.matches(off, imm, src):
            return spec
    return None


MAX_ISA = 4
