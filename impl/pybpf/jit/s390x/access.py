"""Which memory access a faulting s390x instruction made: (address, size, write).

unicorn 2.1's s390x reports an access to unmapped or write-protected memory
as a program interruption (``UC_ERR_EXCEPTION``, pc at the instruction), not
through the invalid-memory hooks other architectures use; the address is
not reported.  The back-end only emits storage operands of a few formats
(RX, RXY, RS, RSY; see ``encode``), so the address is recomputed from the
instruction and the registers: base + index + displacement.
"""

from __future__ import annotations

from collections.abc import Callable

from pybpf.jit.s390x.encode import INSNS, Fmt

# mnemonic -> (bytes accessed, writes)
ACCESS: dict[str, tuple[int, bool]] = {
    **{name: (8, False) for name in ("lg", "ltg", "lrvg")},
    **{name: (4, False) for name in ("l", "ly", "lrv", "llgf", "lgf")},
    **{name: (2, False) for name in ("lh", "lrvh", "llgh", "lgh")},
    **{name: (1, False) for name in ("llgc", "lgb")},
    **{name: (8, True) for name in ("stg", "strvg", "csg", "laag", "lang", "laog", "laxg")},
    **{name: (4, True) for name in ("st", "sty", "strv", "cs", "csy", "laa", "lan", "lao", "lax")},
    **{name: (2, True) for name in ("sth", "sthy", "strvh")},
    **{name: (1, True) for name in ("stc", "stcy")},
}

_LONG = (Fmt.RXY, Fmt.RSY)  # 48-bit, opcode in the first and last byte, 20-bit displacement
_SHORT = (Fmt.RX, Fmt.RS)  # 32-bit, 12-bit displacement


def _by_opcode() -> dict[int, str]:
    table = {}
    for name, form in INSNS.items():
        if name in ACCESS:
            table[form.op] = name
    return table


_OPCODES = _by_opcode()


def decode_access(code: bytes, reg: Callable[[int], int]) -> tuple[int, int, bool] | None:
    """The access of the instruction at the start of ``code`` (6 bytes suffice), or None when it makes none.

    ``reg(n)`` reads general register n.
    """
    if len(code) < 4:
        return None
    name = _OPCODES.get(code[0])
    if name is not None and INSNS[name].fmt in _SHORT:
        disp = (code[2] & 0xF) << 8 | code[3]
    elif len(code) >= 6 and (name := _OPCODES.get(code[0] << 8 | code[5])) is not None:
        disp = (code[4] << 12 | (code[2] & 0xF) << 8 | code[3]) & 0xF_FFFF
        disp -= (disp & 0x8_0000) << 1  # signed 20 bits
    else:
        return None
    base, index = code[2] >> 4, code[1] & 0xF
    if INSNS[name].fmt in (Fmt.RS, Fmt.RSY):
        index = 0  # that field is r3 there
    address = disp + (reg(base) if base else 0) + (reg(index) if index else 0)
    size, write = ACCESS[name]
    return address & ((1 << 64) - 1), size, write
