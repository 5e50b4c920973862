"""A z/Architecture instruction encoder: the formats the s390x back-end emits.

Every instruction is one row of ``INSNS`` (mnemonic -> format and opcode, as
the z/Architecture Principles of Operation lists them); ``asm(name, *operands)``
encodes it, taking the operands in assembler order:

====== ============================ =======================================
format operands                     e.g.
====== ============================ =======================================
RR     r1, r2                       ``lr``, ``basr``, ``bcr`` (r1 is a mask)
RRE    r1, r2                       ``lgr``, ``dlgr`` (r1 even: a pair)
RRF    r1, r2, r3                   ``agrk`` (RRF-a: r1 = r2 op r3)
RX     r1, d2, x2, b2               ``l``, ``st``, ``la`` (d2 0..4095)
RXY    r1, d2, x2, b2               ``lg``, ``lrvg`` (d2 signed 20 bits)
RS     r1, r3, d2, b2               ``cs`` (RS-a)
RSS    r1, d2, b2                   ``sll``: RS-a whose r3 field is unused
RSY    r1, r3, d2, b2               ``sllg``, ``csg``, ``laag``, ``stmg``
RI     r1, i2                       ``aghi``, ``nill`` (i2 16 bits)
RIL    r1, i2                       ``afi``, ``lgfi``, ``iihf`` (i2 32 bits)
RIE_B  r1, r2, m3, ri4              ``cgrj`` (compare and branch)
RIE_C  r1, i2, m3, ri4              ``cgij`` (compare immediate and branch)
SS     d1, length, b1, d2, b2       ``xc`` (SS-a; length 1..256 bytes)
====== ============================ =======================================

Branch targets (``brc``, ``brcl``, ``brasl``, ``larl``, RIE ``ri4``) are relative
to the start of the branching instruction, in BYTES here (they must be even);
the encoder halves them.  Immediates may be given signed or unsigned: only
their low bits are kept, after a range check that accepts either reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


class Fmt(Enum):
    RR = "RR"
    RRE = "RRE"
    RRF = "RRF"
    RX = "RX"
    RXY = "RXY"
    RS = "RS"
    RSS = "RSS"
    RSY = "RSY"
    RI = "RI"
    RIL = "RIL"
    RIE_B = "RIE_B"
    RIE_C = "RIE_C"
    SS = "SS"


class Cond(IntEnum):
    """Branch masks over the condition code (bit 8 = CC0 ... bit 1 = CC3).

    After a compare CC0 is equal, CC1 first operand low, CC2 high; after a
    TEST UNDER MASK-like ``ngrk`` CC0 is "result zero".
    """

    NEVER = 0
    HIGH = 2
    LOW = 4
    NE = 7
    EQ = 8
    HE = 10  # high or equal
    LE = 12  # low or equal
    ALWAYS = 15


@dataclass(frozen=True)
class Form:
    fmt: Fmt
    op: int  # the whole opcode: 8 bits (RR, RX, RS), 12 (RI, RIL: op + 4-bit extension), 16 (others)


_T = Fmt
# mnemonic -> (format, opcode); the opcodes are z/Architecture facts
INSNS: dict[str, Form] = {name: Form(fmt, op) for name, fmt, op in (
    # loads and moves between registers
    ("lr", _T.RR, 0x18), ("lgr", _T.RRE, 0xB904), ("lgfr", _T.RRE, 0xB914), ("llgfr", _T.RRE, 0xB916),
    ("lgbr", _T.RRE, 0xB906), ("lghr", _T.RRE, 0xB907), ("llgcr", _T.RRE, 0xB984), ("llghr", _T.RRE, 0xB985),
    ("lbr", _T.RRE, 0xB926), ("lhr", _T.RRE, 0xB927), ("llcr", _T.RRE, 0xB994), ("llhr", _T.RRE, 0xB995),
    ("lrvgr", _T.RRE, 0xB90F), ("lrvr", _T.RRE, 0xB91F), ("ltgr", _T.RRE, 0xB902), ("ltr", _T.RR, 0x12),
    ("lcr", _T.RR, 0x13), ("lcgr", _T.RRE, 0xB903),
    # arithmetic and logic
    ("ar", _T.RR, 0x1A), ("agr", _T.RRE, 0xB908), ("sr", _T.RR, 0x1B), ("sgr", _T.RRE, 0xB909),
    ("msr", _T.RRE, 0xB252), ("msgr", _T.RRE, 0xB90C), ("dr", _T.RR, 0x1D), ("dlr", _T.RRE, 0xB997),
    ("dlgr", _T.RRE, 0xB987), ("dsgr", _T.RRE, 0xB90D), ("dsgfr", _T.RRE, 0xB91D),
    ("nr", _T.RR, 0x14), ("or", _T.RR, 0x16), ("xr", _T.RR, 0x17),
    ("ngr", _T.RRE, 0xB980), ("ogr", _T.RRE, 0xB981), ("xgr", _T.RRE, 0xB982),
    ("agrk", _T.RRF, 0xB9E8), ("sgrk", _T.RRF, 0xB9E9), ("ngrk", _T.RRF, 0xB9E4), ("nrk", _T.RRF, 0xB9F4),
    # compares
    ("cr", _T.RR, 0x19), ("cgr", _T.RRE, 0xB920), ("clr", _T.RR, 0x15), ("clgr", _T.RRE, 0xB921),
    # storage operands
    ("l", _T.RX, 0x58), ("lh", _T.RX, 0x48), ("st", _T.RX, 0x50), ("sth", _T.RX, 0x40), ("stc", _T.RX, 0x42),
    ("la", _T.RX, 0x41),
    ("lg", _T.RXY, 0xE304), ("ly", _T.RXY, 0xE358), ("lgf", _T.RXY, 0xE314), ("lgh", _T.RXY, 0xE315),
    ("lgb", _T.RXY, 0xE377),
    ("llgf", _T.RXY, 0xE316), ("llgh", _T.RXY, 0xE391), ("llgc", _T.RXY, 0xE390), ("lay", _T.RXY, 0xE371),
    ("stg", _T.RXY, 0xE324), ("sty", _T.RXY, 0xE350), ("sthy", _T.RXY, 0xE370), ("stcy", _T.RXY, 0xE372),
    ("ltg", _T.RXY, 0xE302), ("lrvg", _T.RXY, 0xE30F), ("lrv", _T.RXY, 0xE31E), ("lrvh", _T.RXY, 0xE31F),
    ("strvg", _T.RXY, 0xE32F), ("strv", _T.RXY, 0xE33E), ("strvh", _T.RXY, 0xE33F),
    # shifts: 32-bit ones shift r1 in place, 64-bit ones are r1 = r3 shifted
    ("sll", _T.RSS, 0x89), ("srl", _T.RSS, 0x88), ("sra", _T.RSS, 0x8A),
    ("sllg", _T.RSY, 0xEB0D), ("srlg", _T.RSY, 0xEB0C), ("srag", _T.RSY, 0xEB0A),
    ("sllk", _T.RSY, 0xEBDF), ("srlk", _T.RSY, 0xEBDE), ("srak", _T.RSY, 0xEBDC),
    # multiple registers, compare and swap, interlocked access
    ("xc", _T.SS, 0xD7),
    ("stmg", _T.RSY, 0xEB24), ("lmg", _T.RSY, 0xEB04), ("cs", _T.RS, 0xBA), ("csy", _T.RSY, 0xEB14),
    ("csg", _T.RSY, 0xEB30),
    ("laa", _T.RSY, 0xEBF8), ("laag", _T.RSY, 0xEBE8), ("lan", _T.RSY, 0xEBF4), ("lang", _T.RSY, 0xEBE4),
    ("lao", _T.RSY, 0xEBF6), ("laog", _T.RSY, 0xEBE6), ("lax", _T.RSY, 0xEBF7), ("laxg", _T.RSY, 0xEBE7),
    # immediates
    ("lhi", _T.RI, 0xA78), ("lghi", _T.RI, 0xA79), ("ahi", _T.RI, 0xA7A), ("aghi", _T.RI, 0xA7B),
    ("mhi", _T.RI, 0xA7C), ("mghi", _T.RI, 0xA7D), ("chi", _T.RI, 0xA7E), ("cghi", _T.RI, 0xA7F),
    ("nill", _T.RI, 0xA57), ("tmll", _T.RI, 0xA71),
    ("lgfi", _T.RIL, 0xC01), ("llilf", _T.RIL, 0xC0F), ("llihf", _T.RIL, 0xC0E), ("iihf", _T.RIL, 0xC08),
    ("iilf", _T.RIL, 0xC09), ("nihf", _T.RIL, 0xC0A), ("nilf", _T.RIL, 0xC0B), ("oihf", _T.RIL, 0xC0C),
    ("oilf", _T.RIL, 0xC0D), ("xihf", _T.RIL, 0xC06), ("xilf", _T.RIL, 0xC07),
    ("afi", _T.RIL, 0xC29), ("agfi", _T.RIL, 0xC28), ("msfi", _T.RIL, 0xC21), ("msgfi", _T.RIL, 0xC20),
    ("cfi", _T.RIL, 0xC2D), ("cgfi", _T.RIL, 0xC2C), ("clfi", _T.RIL, 0xC2F), ("clgfi", _T.RIL, 0xC2E),
    # branches
    ("bcr", _T.RR, 0x07), ("basr", _T.RR, 0x0D), ("brc", _T.RI, 0xA74), ("brcl", _T.RIL, 0xC04),
    ("brasl", _T.RIL, 0xC05), ("larl", _T.RIL, 0xC00),
    ("crj", _T.RIE_B, 0xEC76), ("cgrj", _T.RIE_B, 0xEC64), ("clrj", _T.RIE_B, 0xEC77),
    ("clgrj", _T.RIE_B, 0xEC65),
    ("cij", _T.RIE_C, 0xEC7E), ("cgij", _T.RIE_C, 0xEC7C), ("clij", _T.RIE_C, 0xEC7F),
    ("clgij", _T.RIE_C, 0xEC7D),
)}  # fmt: skip

_RELATIVE = frozenset({"brc", "brcl", "brasl", "larl"})  # i2 is a branch target
_UNSIGNED_IMM = frozenset({"clij", "clgij"})  # i2 of these compares is an unsigned byte
_PAIR = frozenset({"dr", "dlr", "dlgr", "dsgr", "dsgfr"})  # r1 names an even/odd register pair


def _bits(value: int, width: int, what: str) -> int:
    """``value`` as a ``width``-bit field, read signed or unsigned; out of both ranges is our bug."""
    if not -(1 << (width - 1)) <= value < (1 << width):
        raise ValueError(f"{what} {value} does not fit in {width} bits")
    return value & ((1 << width) - 1)


def _ureg(value: int, what: str = "register") -> int:
    if not 0 <= value <= 15:
        raise ValueError(f"{what} {value} is not 0..15")
    return value


def _sbits(value: int, width: int, what: str) -> int:
    if not -(1 << (width - 1)) <= value < (1 << (width - 1)):
        raise ValueError(f"{what} {value} does not fit in {width} signed bits")
    return value & ((1 << width) - 1)


def _rel(offset: int, width: int) -> int:
    if offset & 1:
        raise ValueError(f"branch offset {offset} is odd")
    return _sbits(offset // 2, width, "branch offset (halfwords)")


def _rr(op: int, r1: int, r2: int) -> bytes:
    return bytes((op, _ureg(r1) << 4 | _ureg(r2)))


def _rre(op: int, r1: int, r2: int) -> bytes:
    return op.to_bytes(2, "big") + bytes((0, _ureg(r1) << 4 | _ureg(r2)))


def _rrf(op: int, r1: int, r2: int, r3: int) -> bytes:
    return op.to_bytes(2, "big") + bytes((_ureg(r3) << 4, _ureg(r1) << 4 | _ureg(r2)))


def _rx(op: int, r1: int, d2: int, x2: int, b2: int) -> bytes:
    if not 0 <= d2 < 4096:
        raise ValueError(f"displacement {d2} is not 0..4095")
    return bytes((op, _ureg(r1) << 4 | _ureg(x2), _ureg(b2) << 4 | d2 >> 8, d2 & 0xFF))


def _rxy(op: int, r1: int, d2: int, x2: int, b2: int) -> bytes:
    d = _sbits(d2, 20, "displacement")
    return bytes((op >> 8, _ureg(r1) << 4 | _ureg(x2), _ureg(b2) << 4 | (d >> 8) & 0xF, d & 0xFF, d >> 12,
                  op & 0xFF))  # fmt: skip


def _rs(op: int, r1: int, r3: int, d2: int, b2: int) -> bytes:
    return _rx(op, r1, d2, r3, b2)  # RS-a puts r3 where RX has x2


def _rsy(op: int, r1: int, r3: int, d2: int, b2: int) -> bytes:
    return _rxy(op, r1, d2, r3, b2)  # likewise RSY-a


def _ri(op: int, r1: int, i2: int) -> bytes:
    return bytes((op >> 4, _ureg(r1) << 4 | op & 0xF)) + i2.to_bytes(2, "big")


def _ril(op: int, r1: int, i2: int) -> bytes:
    return bytes((op >> 4, _ureg(r1) << 4 | op & 0xF)) + i2.to_bytes(4, "big")


def _rie_b(op: int, r1: int, r2: int, m3: int, ri4: int) -> bytes:
    return (
        bytes((op >> 8, _ureg(r1) << 4 | _ureg(r2)))
        + _rel(ri4, 16).to_bytes(2, "big")
        + bytes((_ureg(m3, "mask") << 4, op & 0xFF))
    )


def _rie_c(op: int, r1: int, i2: int, m3: int, ri4: int) -> bytes:
    return (
        bytes((op >> 8, _ureg(r1) << 4 | _ureg(m3, "mask"))) + _rel(ri4, 16).to_bytes(2, "big") + bytes((i2, op & 0xFF))
    )


def _ss(op: int, d1: int, size: int, b1: int, d2: int, b2: int) -> bytes:
    if not 1 <= size <= 256:
        raise ValueError(f"SS length {size} is not 1..256")
    return bytes((op, size - 1)) + _rx(0, 0, d1, 0, b1)[2:] + _rx(0, 0, d2, 0, b2)[2:]


def asm(name: str, *operands: int) -> bytes:
    """The encoding of one instruction; ``ValueError`` for an operand out of range (a back-end bug)."""
    form = INSNS[name]
    op, fmt = form.op, form.fmt
    if name in _PAIR and operands[0] & 1:
        raise ValueError(f"{name}: r1 must name an even register of a pair, not r{operands[0]}")
    match fmt, operands:
        case Fmt.RR, (r1, r2):
            return _rr(op, r1, r2)
        case Fmt.RRE, (r1, r2):
            return _rre(op, r1, r2)
        case Fmt.RRF, (r1, r2, r3):
            return _rrf(op, r1, r2, r3)
        case Fmt.RX, (r1, d2, x2, b2):
            return _rx(op, r1, d2, x2, b2)
        case Fmt.RXY, (r1, d2, x2, b2):
            return _rxy(op, r1, d2, x2, b2)
        case Fmt.RS, (r1, r3, d2, b2):
            return _rs(op, r1, r3, d2, b2)
        case Fmt.RSS, (r1, d2, b2):
            return _rs(op, r1, 0, d2, b2)
        case Fmt.RSY, (r1, r3, d2, b2):
            return _rsy(op, r1, r3, d2, b2)
        case Fmt.RI, (r1, i2):
            imm = _rel(i2, 16) if name in _RELATIVE else _bits(i2, 16, "immediate")
            return _ri(op, r1, imm)
        case Fmt.RIL, (r1, i2):
            imm = _rel(i2, 32) if name in _RELATIVE else _bits(i2, 32, "immediate")
            return _ril(op, r1, imm)
        case Fmt.RIE_B, (r1, r2, m3, ri4):
            return _rie_b(op, r1, r2, m3, ri4)
        case Fmt.RIE_C, (r1, i2, m3, ri4):
            byte = _bits(i2, 8, "immediate") if name in _UNSIGNED_IMM else _sbits(i2, 8, "immediate")
            return _rie_c(op, r1, byte, m3, ri4)
        case Fmt.SS, (d1, size, b1, d2, b2):
            return _ss(op, d1, size, b1, d2, b2)
    raise ValueError(f"{name} ({fmt.value}) takes other operands than {operands}")


def length(name: str) -> int:
    """How many bytes ``name`` encodes to (2, 4 or 6): z/Architecture tells it by the format."""
    fmt = INSNS[name].fmt
    if fmt is Fmt.RR:
        return 2
    if fmt in (Fmt.RRE, Fmt.RRF, Fmt.RX, Fmt.RS, Fmt.RSS, Fmt.RI):
        return 4
    return 6  # RXY, RSY, RIL, RIE, SS
