"""A64 instruction encoder: one function per instruction form, each returning the 32-bit word.

Register operands are numbers 0..31; 31 means XZR/WZR or SP as the form says
(``XZR``/``SP`` name it at call sites).  ``sf`` selects the 64-bit (X) form,
else the 32-bit (W) one, which zero-extends its result into the X register.
Branch offsets are in bytes, relative to the branch itself.  Field layouts are
those of the Arm Architecture Reference Manual (A64 base and LSE instructions).
A value that does not fit its field raises ``ValueError``: the instruction
selector checks ranges first, so this only catches its bugs.
"""

from __future__ import annotations

from enum import IntEnum

XZR = 31
SP = 31
LR = 30


class Cond(IntEnum):
    EQ = 0
    NE = 1
    HS = 2
    LO = 3
    MI = 4
    PL = 5
    VS = 6
    VC = 7
    HI = 8
    LS = 9
    GE = 10
    LT = 11
    GT = 12
    LE = 13
    AL = 14


class Shift(IntEnum):
    LSL = 0
    LSR = 1
    ASR = 2
    ROR = 3


def _field(value: int, bits: int, what: str) -> int:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{what} {value} does not fit {bits} bits")
    return value


def _signed(value: int, bits: int, what: str) -> int:
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise ValueError(f"{what} {value} does not fit {bits} signed bits")
    return value & ((1 << bits) - 1)


def _reg(r: int) -> int:
    return _field(r, 5, "register")


def _sf(sf: bool) -> int:
    return 1 << 31 if sf else 0


# ---------------------------------------------------------------- data processing, registers

_SHIFTED_REG = {"add": 0x0B000000, "adds": 0x2B000000, "sub": 0x4B000000, "subs": 0x6B000000}
_LOGICAL_REG = {"and": 0x0A000000, "bic": 0x0A200000, "orr": 0x2A000000, "orn": 0x2A200000,
                "eor": 0x4A000000, "eon": 0x4A200000, "ands": 0x6A000000}  # fmt: skip


def arith_reg(op: str, sf: bool, rd: int, rn: int, rm: int, shift: Shift = Shift.LSL, amount: int = 0) -> int:
    """add/adds/sub/subs (shifted register); ROR is not allowed here."""
    if shift is Shift.ROR:
        raise ValueError("add/sub take no ROR shift")
    return (_sf(sf) | _SHIFTED_REG[op] | shift << 22 | _reg(rm) << 16 | _field(amount, 6 if sf else 5, "shift") << 10
            | _reg(rn) << 5 | _reg(rd))  # fmt: skip


def logical_reg(op: str, sf: bool, rd: int, rn: int, rm: int, shift: Shift = Shift.LSL, amount: int = 0) -> int:
    """and/bic/orr/orn/eor/eon/ands (shifted register)."""
    return (_sf(sf) | _LOGICAL_REG[op] | shift << 22 | _reg(rm) << 16 | _field(amount, 6 if sf else 5, "shift") << 10
            | _reg(rn) << 5 | _reg(rd))  # fmt: skip


def mov_reg(sf: bool, rd: int, rm: int) -> int:
    """mov rd, rm (orr rd, zr, rm): neither may be SP."""
    return logical_reg("orr", sf, rd, XZR, rm)


def neg(sf: bool, rd: int, rm: int) -> int:
    return arith_reg("sub", sf, rd, XZR, rm)


def cmp_reg(sf: bool, rn: int, rm: int) -> int:
    return arith_reg("subs", sf, XZR, rn, rm)


def tst_reg(sf: bool, rn: int, rm: int) -> int:
    return logical_reg("ands", sf, XZR, rn, rm)


_DP2 = {"udiv": 0x1AC00800, "sdiv": 0x1AC00C00, "lslv": 0x1AC02000, "lsrv": 0x1AC02400,
        "asrv": 0x1AC02800, "rorv": 0x1AC02C00}  # fmt: skip


def dp2(op: str, sf: bool, rd: int, rn: int, rm: int) -> int:
    """Two-source ops: udiv/sdiv (x/0 = 0) and lslv/lsrv/asrv/rorv (amount taken modulo the width)."""
    return _sf(sf) | _DP2[op] | _reg(rm) << 16 | _reg(rn) << 5 | _reg(rd)


def madd(sf: bool, rd: int, rn: int, rm: int, ra: int) -> int:
    """rd = ra + rn * rm."""
    return _sf(sf) | 0x1B000000 | _reg(rm) << 16 | _reg(ra) << 10 | _reg(rn) << 5 | _reg(rd)


def msub(sf: bool, rd: int, rn: int, rm: int, ra: int) -> int:
    """rd = ra - rn * rm."""
    return _sf(sf) | 0x1B008000 | _reg(rm) << 16 | _reg(ra) << 10 | _reg(rn) << 5 | _reg(rd)


def mul(sf: bool, rd: int, rn: int, rm: int) -> int:
    return madd(sf, rd, rn, rm, XZR)


def csel(sf: bool, rd: int, rn: int, rm: int, cond: Cond) -> int:
    """rd = cond ? rn : rm."""
    return _sf(sf) | 0x1A800000 | _reg(rm) << 16 | cond << 12 | _reg(rn) << 5 | _reg(rd)


def csinc(sf: bool, rd: int, rn: int, rm: int, cond: Cond) -> int:
    """rd = cond ? rn : rm + 1 (``cset rd, c`` is csinc rd, zr, zr, !c)."""
    return _sf(sf) | 0x1A800400 | _reg(rm) << 16 | cond << 12 | _reg(rn) << 5 | _reg(rd)


def rev16(sf: bool, rd: int, rn: int) -> int:
    """Swap the bytes of every halfword."""
    return _sf(sf) | 0x5AC00400 | _reg(rn) << 5 | _reg(rd)


def rev32(rd: int, rn: int) -> int:
    """Swap the bytes of each word of an X register."""
    return 0xDAC00800 | _reg(rn) << 5 | _reg(rd)


def rev(sf: bool, rd: int, rn: int) -> int:
    """Swap all bytes of the register (its low word for the W form)."""
    return (0xDAC00C00 if sf else 0x5AC00800) | _reg(rn) << 5 | _reg(rd)


# ---------------------------------------------------------------- data processing, immediates


def arith_imm(op: str, sf: bool, rd: int, rn: int, imm12: int, shift12: bool = False) -> int:
    """add/adds/sub/subs #imm12 (optionally << 12); here rd/rn 31 is SP (adds/subs: rd 31 is ZR)."""
    base = {"add": 0x11000000, "adds": 0x31000000, "sub": 0x51000000, "subs": 0x71000000}[op]
    return _sf(sf) | base | int(shift12) << 22 | _field(imm12, 12, "imm12") << 10 | _reg(rn) << 5 | _reg(rd)


def add_imm(sf: bool, rd: int, rn: int, imm: int) -> int:
    return arith_imm("add", sf, rd, rn, imm)


def sub_imm(sf: bool, rd: int, rn: int, imm: int) -> int:
    return arith_imm("sub", sf, rd, rn, imm)


def cmp_imm(sf: bool, rn: int, imm: int) -> int:
    return arith_imm("subs", sf, XZR, rn, imm)


def cmn_imm(sf: bool, rn: int, imm: int) -> int:
    return arith_imm("adds", sf, XZR, rn, imm)


def bitmask_imm(value: int, sf: bool) -> tuple[int, int, int] | None:
    """(N, immr, imms) encoding ``value`` as a logical immediate, or None when it has none.

    A logical immediate is an element of 2..64 bits, replicated across the
    register, whose bits are one contiguous run of ones rotated right by immr.
    All-zero and all-ones have no encoding.
    """
    width = 64 if sf else 32
    value &= (1 << width) - 1
    if value == 0 or value == (1 << width) - 1:
        return None
    size = width
    while size > 2:  # the smallest element that replicates to the value
        half = size // 2
        if (value >> half) & ((1 << half) - 1) != value & ((1 << half) - 1):
            break
        size = half
    elem = value & ((1 << size) - 1)
    ones = bin(elem).count("1")
    run = (1 << ones) - 1
    for rotation in range(size):  # elem = ROR(run, rotation)
        rotated = ((run >> rotation) | (run << (size - rotation))) & ((1 << size) - 1)
        if rotated == elem:
            n = 1 if size == 64 else 0
            imms = ((~(size - 1) << 1) | (ones - 1)) & 0x3F
            return n, rotation, imms
    return None


def logical_imm(op: str, sf: bool, rd: int, rn: int, value: int) -> int:
    """and/orr/eor/ands #bitmask; rd 31 is SP (ands: ZR).  ValueError if ``value`` has no encoding."""
    enc = bitmask_imm(value, sf)
    if enc is None:
        raise ValueError(f"{value:#x} is no {64 if sf else 32}-bit logical immediate")
    n, immr, imms = enc
    base = {"and": 0x12000000, "orr": 0x32000000, "eor": 0x52000000, "ands": 0x72000000}[op]
    return _sf(sf) | base | n << 22 | immr << 16 | imms << 10 | _reg(rn) << 5 | _reg(rd)


def _movw(base: int, sf: bool, rd: int, imm16: int, hw: int) -> int:
    if hw >= (4 if sf else 2):
        raise ValueError(f"hw {hw} out of range")
    return _sf(sf) | base | hw << 21 | _field(imm16, 16, "imm16") << 5 | _reg(rd)


def movz(sf: bool, rd: int, imm16: int, hw: int = 0) -> int:
    return _movw(0x52800000, sf, rd, imm16, hw)


def movn(sf: bool, rd: int, imm16: int, hw: int = 0) -> int:
    return _movw(0x12800000, sf, rd, imm16, hw)


def movk(sf: bool, rd: int, imm16: int, hw: int = 0) -> int:
    return _movw(0x72800000, sf, rd, imm16, hw)


def mov_imm(sf: bool, rd: int, value: int) -> list[int]:
    """The shortest movz/movn + movk sequence (or one orr #bitmask) putting ``value`` in rd."""
    width = 64 if sf else 32
    value &= (1 << width) - 1
    chunks = [(value >> (16 * i)) & 0xFFFF for i in range(width // 16)]
    zeros, ones = chunks.count(0), chunks.count(0xFFFF)
    if zeros == len(chunks):
        return [movz(sf, rd, 0)]
    if ones == len(chunks):
        return [movn(sf, rd, 0)]
    if max(zeros, ones) < len(chunks) - 1 and bitmask_imm(value, sf) is not None:
        return [logical_imm("orr", sf, rd, XZR, value)]
    if ones > zeros:  # start from all ones: movn writes ~imm16 at one chunk
        first = next(i for i, c in enumerate(chunks) if c != 0xFFFF)
        words = [movn(sf, rd, chunks[first] ^ 0xFFFF, first)]
        skip = 0xFFFF
    else:
        first = next(i for i, c in enumerate(chunks) if c != 0)
        words = [movz(sf, rd, chunks[first], first)]
        skip = 0
    words += [movk(sf, rd, c, i) for i, c in enumerate(chunks) if i > first and c != skip]
    return words


# ---------------------------------------------------------------- bitfield moves


def ubfm(sf: bool, rd: int, rn: int, immr: int, imms: int) -> int:
    n = 1 if sf else 0
    return _sf(sf) | 0x53000000 | n << 22 | _field(immr, 6, "immr") << 16 | _field(imms, 6, "imms") << 10 \
        | _reg(rn) << 5 | _reg(rd)


def sbfm(sf: bool, rd: int, rn: int, immr: int, imms: int) -> int:
    n = 1 if sf else 0
    return _sf(sf) | 0x13000000 | n << 22 | _field(immr, 6, "immr") << 16 | _field(imms, 6, "imms") << 10 \
        | _reg(rn) << 5 | _reg(rd)


def lsl_imm(sf: bool, rd: int, rn: int, amount: int) -> int:
    width = 64 if sf else 32
    amount %= width
    return ubfm(sf, rd, rn, (width - amount) % width, width - 1 - amount)


def lsr_imm(sf: bool, rd: int, rn: int, amount: int) -> int:
    width = 64 if sf else 32
    return ubfm(sf, rd, rn, amount % width, width - 1)


def asr_imm(sf: bool, rd: int, rn: int, amount: int) -> int:
    width = 64 if sf else 32
    return sbfm(sf, rd, rn, amount % width, width - 1)


def sxt(sf: bool, bits: int, rd: int, rn: int) -> int:
    """sxtb/sxth/sxtw: sign-extend the low ``bits`` (8, 16; 32 only for sf) of rn."""
    return sbfm(sf, rd, rn, 0, bits - 1)


def uxt(bits: int, rd: int, rn: int) -> int:
    """uxtb/uxth (W form, which also clears bits 63..32) and, for 32, the W mov that zero-extends."""
    if bits == 32:
        return mov_reg(False, rd, rn)
    return ubfm(False, rd, rn, 0, bits - 1)


# ---------------------------------------------------------------- loads and stores


class MemOp(IntEnum):
    """The ``opc`` field of the load/store register forms."""

    STR = 0
    LDR = 1  # zero-extends
    LDRS64 = 2  # sign-extends to 64 bits (ldrsb/ldrsh/ldrsw x)


_SIZE_LOG2 = {1: 0, 2: 1, 4: 2, 8: 3}


def _check_signed(op: MemOp, size: int) -> None:
    if op is MemOp.LDRS64 and size == 8:
        raise ValueError("no sign-extending 8-byte load")


def ldst_uimm(op: MemOp, size: int, rt: int, rn: int, offset: int) -> int:
    """str/ldr/ldrs rt, [rn, #offset]: offset a non-negative multiple of size below 4096 * size."""
    _check_signed(op, size)
    scale = _SIZE_LOG2[size]
    if offset % size:
        raise ValueError(f"offset {offset} is not a multiple of {size}")
    return scale << 30 | 0x39000000 | op << 22 | _field(offset >> scale, 12, "scaled offset") << 10 \
        | _reg(rn) << 5 | _reg(rt)


def ldst_unscaled(op: MemOp, size: int, rt: int, rn: int, offset: int) -> int:
    """stur/ldur/ldurs rt, [rn, #offset]: offset -256..255."""
    _check_signed(op, size)
    return _SIZE_LOG2[size] << 30 | 0x38000000 | op << 22 | _signed(offset, 9, "offset") << 12 | _reg(rn) << 5 \
        | _reg(rt)


def ldst_reg(op: MemOp, size: int, rt: int, rn: int, rm: int) -> int:
    """str/ldr/ldrs rt, [rn, xm]."""
    _check_signed(op, size)
    return _SIZE_LOG2[size] << 30 | 0x38206800 | op << 22 | _reg(rm) << 16 | _reg(rn) << 5 | _reg(rt)


def ldst_imm(op: MemOp, size: int, rt: int, rn: int, offset: int) -> int | None:
    """The one-word form for [rn, #offset] if there is one, else None (use a register offset)."""
    if 0 <= offset < 4096 * size and offset % size == 0:
        return ldst_uimm(op, size, rt, rn, offset)
    if -256 <= offset < 256:
        return ldst_unscaled(op, size, rt, rn, offset)
    return None


def stp_pre(rt: int, rt2: int, rn: int, offset: int) -> int:
    """stp xt, xt2, [rn, #offset]! (offset a multiple of 8 in -512..504)."""
    return 0xA9800000 | _signed(offset // 8, 7, "offset") << 15 | _reg(rt2) << 10 | _reg(rn) << 5 | _reg(rt)


def ldp_post(rt: int, rt2: int, rn: int, offset: int) -> int:
    """ldp xt, xt2, [rn], #offset."""
    return 0xA8C00000 | _signed(offset // 8, 7, "offset") << 15 | _reg(rt2) << 10 | _reg(rn) << 5 | _reg(rt)


def stp(rt: int, rt2: int, rn: int, offset: int) -> int:
    """stp xt, xt2, [rn, #offset]."""
    return 0xA9000000 | _signed(offset // 8, 7, "offset") << 15 | _reg(rt2) << 10 | _reg(rn) << 5 | _reg(rt)


def ldp(rt: int, rt2: int, rn: int, offset: int) -> int:
    """ldp xt, xt2, [rn, #offset]."""
    return 0xA9400000 | _signed(offset // 8, 7, "offset") << 15 | _reg(rt2) << 10 | _reg(rn) << 5 | _reg(rt)


# ---------------------------------------------------------------- exclusive, ordered and LSE atomic accesses


def ldxr(size: int, rt: int, rn: int) -> int:
    return _SIZE_LOG2[size] << 30 | 0x085F7C00 | _reg(rn) << 5 | _reg(rt)


def stxr(size: int, rs: int, rt: int, rn: int) -> int:
    """stxr ws, rt, [rn]: ws = 0 when the store happened, 1 when the reservation was lost."""
    return _SIZE_LOG2[size] << 30 | 0x08007C00 | _reg(rs) << 16 | _reg(rn) << 5 | _reg(rt)


def ldaxr(size: int, rt: int, rn: int) -> int:
    return _SIZE_LOG2[size] << 30 | 0x085FFC00 | _reg(rn) << 5 | _reg(rt)


def stlxr(size: int, rs: int, rt: int, rn: int) -> int:
    return _SIZE_LOG2[size] << 30 | 0x0800FC00 | _reg(rs) << 16 | _reg(rn) << 5 | _reg(rt)


def ldar(size: int, rt: int, rn: int) -> int:
    return _SIZE_LOG2[size] << 30 | 0x08DFFC00 | _reg(rn) << 5 | _reg(rt)


def stlr(size: int, rt: int, rn: int) -> int:
    return _SIZE_LOG2[size] << 30 | 0x089FFC00 | _reg(rn) << 5 | _reg(rt)


_LSE_OPC = {"ldadd": 0, "ldclr": 1, "ldeor": 2, "ldset": 3}


def lse_rmw(op: str, size: int, rs: int, rt: int, rn: int, *, acquire: bool = False, release: bool = False) -> int:
    """ldadd/ldclr/ldeor/ldset rs, rt, [rn] (ARMv8.1 LSE): rt = old, [rn] = old OP rs."""
    return (_SIZE_LOG2[size] << 30 | 0x38200000 | int(acquire) << 23 | int(release) << 22 | _reg(rs) << 16
            | _LSE_OPC[op] << 12 | _reg(rn) << 5 | _reg(rt))  # fmt: skip


def swp(size: int, rs: int, rt: int, rn: int, *, acquire: bool = False, release: bool = False) -> int:
    """swp rs, rt, [rn]: rt = old, [rn] = rs."""
    return (_SIZE_LOG2[size] << 30 | 0x38208000 | int(acquire) << 23 | int(release) << 22 | _reg(rs) << 16
            | _reg(rn) << 5 | _reg(rt))  # fmt: skip


def cas(size: int, rs: int, rt: int, rn: int, *, acquire: bool = False, release: bool = False) -> int:
    """cas rs, rt, [rn]: if [rn] == rs then [rn] = rt; rs = old either way."""
    if size not in (4, 8):
        raise ValueError("cas here is for words and doublewords")
    return (_SIZE_LOG2[size] << 30 | 0x08A07C00 | int(acquire) << 22 | int(release) << 15 | _reg(rs) << 16
            | _reg(rn) << 5 | _reg(rt))  # fmt: skip


# ---------------------------------------------------------------- branches


def b(offset: int) -> int:
    return 0x14000000 | _signed(_words(offset), 26, "branch offset")


def bl(offset: int) -> int:
    return 0x94000000 | _signed(_words(offset), 26, "branch offset")


def b_cond(cond: Cond, offset: int) -> int:
    return 0x54000000 | _signed(_words(offset), 19, "branch offset") << 5 | cond


def cbz(sf: bool, rt: int, offset: int) -> int:
    return _sf(sf) | 0x34000000 | _signed(_words(offset), 19, "branch offset") << 5 | _reg(rt)


def cbnz(sf: bool, rt: int, offset: int) -> int:
    return _sf(sf) | 0x35000000 | _signed(_words(offset), 19, "branch offset") << 5 | _reg(rt)


def br(rn: int) -> int:
    return 0xD61F0000 | _reg(rn) << 5


def blr(rn: int) -> int:
    return 0xD63F0000 | _reg(rn) << 5


def ret(rn: int = LR) -> int:
    return 0xD65F0000 | _reg(rn) << 5


def brk(imm16: int = 0) -> int:
    return 0xD4200000 | _field(imm16, 16, "imm16") << 5


NOP = 0xD503201F


def _words(offset: int) -> int:
    if offset % 4:
        raise ValueError(f"branch offset {offset} is not a multiple of 4")
    return offset // 4


def invert(cond: Cond) -> Cond:
    return Cond(cond ^ 1)


def ldst_pre(op: MemOp, size: int, rt: int, rn: int, offset: int) -> int:
    """str/ldr rt, [rn, #offset]! (pre-index, offset -256..255)."""
    return ldst_unscaled(op, size, rt, rn, offset) | 0xC00


def ldst_post(op: MemOp, size: int, rt: int, rn: int, offset: int) -> int:
    """str/ldr rt, [rn], #offset (post-index, offset -256..255)."""
    return ldst_unscaled(op, size, rt, rn, offset) | 0x400


def stp_post(rt: int, rt2: int, rn: int, offset: int) -> int:
    """stp xt, xt2, [rn], #offset."""
    return 0xA8800000 | _signed(offset // 8, 7, "offset") << 15 | _reg(rt2) << 10 | _reg(rn) << 5 | _reg(rt)
