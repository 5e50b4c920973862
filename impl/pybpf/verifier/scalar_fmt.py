"""A scalar register's value as the verifier log prints it after ``R1=``, and back.

The rules are those of kernel/bpf/log.c in Linux 6.18:

* a scalar whose tnum is constant prints as that constant, signed, in decimal
  when it lies in [-32768, 32767] and as 64-bit hex otherwise (``-1``, ``0x10000``);
* otherwise ``scalar(`` then, comma-separated: ``id=N`` (with ``+d``/``-d`` when the
  id tracks a constant delta), every bound that differs from its type's default
  (smin, smax, umin, umax, smin32, smax32, umin32, umax32, in that order), and
  ``var_off=(0x..; 0x..)`` unless the tnum is completely unknown, then ``)``;
* a bound equal to a later bound two or four... places on (min with min, max with max)
  is printed once as ``name1=name2=value`` — unless one is a negative signed
  value and the other is not;
* unsigned bounds print in decimal up to 65535, signed ones in [-32768, 32767],
  else in hex; a 32-bit signed bound in hex is printed as its u32 bit pattern;
* a precise scalar is prefixed with ``P``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pybpf.errors import InputError
from pybpf.verifier.bounds import S32_MAX, S32_MIN, S64_MAX, S64_MIN, s32, s64
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.tnum import U32, U64, Tnum

_NAMES = ("smin", "smax", "umin", "umax", "smin32", "smax32", "umin32", "umax32")
_DEFAULTS = (S64_MIN, S64_MAX, 0, U64, S32_MIN, S32_MAX, 0, U32)


def _snum(v: int) -> str:
    """verbose_snum of a u64 bit pattern."""
    sv = s64(v)
    return str(sv) if -32768 <= sv <= 32767 else f"{v & U64:#x}"


def _unum(v: int) -> str:
    return str(v) if v <= 65535 else f"{v:#x}"


def _s32_field(v: int) -> int:
    """The u64 the kernel stores for a printed 32-bit signed bound."""
    return v & U64 if -32768 <= v <= 32767 else v & U32


def _ranges(s: Scalar) -> list[str]:
    vals = [s.smin & U64, s.smax & U64, s.umin, s.umax, _s32_field(s.s32_min), _s32_field(s.s32_max),
            s.u32_min, s.u32_max]
    omit = [s.smin == S64_MIN, s.smax == S64_MAX, s.umin == 0, s.umax == U64,
            s.s32_min == S32_MIN, s.s32_max == S32_MAX, s.u32_min == 0, s.u32_max == U32]
    out = []
    for i in range(8):
        if omit[i]:
            continue
        v = vals[i]
        neg = _NAMES[i][0] == "s" and v >> 63
        names = [_NAMES[i]]
        for j in range(i + 2, 8, 2):
            if omit[j] or vals[j] != v or (_NAMES[j][0] == "s" and v >> 63) != neg:
                continue
            omit[j] = True
            names.append(_NAMES[j])
        out.append("=".join(names) + "=" + (_snum(v) if _NAMES[i][0] == "s" else _unum(v)))
    return out


def format_scalar(s: Scalar, *, id: int = 0, delta: int | None = None, precise: bool = False) -> str:
    """The text after ``R<n>=`` for a SCALAR_VALUE register.

    ``id`` is the register's id without flags; ``delta`` the constant offset of a
    linked register (printed only with an id, as ``id=N+delta``).
    """
    prefix = "P" if precise else ""
    if not s.var_off.mask:
        return prefix + _snum(s.var_off.value)
    parts = []
    if id:
        parts.append(f"id={id}" + (f"{delta:+d}" if delta is not None else ""))
    parts += _ranges(s)
    if s.var_off.mask != U64:
        parts.append(f"var_off={s.var_off}")
    return f"{prefix}scalar({','.join(parts)})"


# ---------------------------------------------------------------- parsing the log's text back


class PrintedScalar(NamedTuple):
    scalar: Scalar
    id: int
    delta: int | None
    precise: bool


_NUM = r"-?(?:0x[0-9a-f]+|\d+)"
_CONST_RE = re.compile(rf"(P?)({_NUM})")
_SCALAR_RE = re.compile(r"(P?)scalar\((.*)\)")
_ID_RE = re.compile(r"id=(\d+)([+-]\d+)?")
_VAR_OFF_RE = re.compile(r"var_off=\((0x[0-9a-f]+); (0x[0-9a-f]+)\)")


def _num(text: str) -> int:
    return int(text, 0)


def parse_scalar(text: str) -> PrintedScalar:
    """Read back what ``format_scalar`` prints (and what the kernel prints) for a scalar."""
    m = _CONST_RE.fullmatch(text)
    if m:
        return PrintedScalar(Scalar.const(_num(m.group(2))), 0, None, bool(m.group(1)))
    m = _SCALAR_RE.fullmatch(text)
    if not m:
        raise InputError(f"not a scalar value: {text!r}")
    body = m.group(2)
    ident, delta = 0, None
    var_off = Tnum(0, U64)
    vo = _VAR_OFF_RE.search(body)
    if vo:
        var_off = Tnum(_num(vo.group(1)), _num(vo.group(2)))
        body = body[: vo.start()] + body[vo.end():]
    fields = dict(zip(_NAMES, _DEFAULTS, strict=True))
    for part in filter(None, body.split(",")):
        idm = _ID_RE.fullmatch(part)
        if idm:
            ident = int(idm.group(1))
            delta = int(idm.group(2)) if idm.group(2) else None
            continue
        *names, value = part.split("=")
        if not names or any(n not in fields for n in names):
            raise InputError(f"unknown field in scalar {text!r}: {part!r}")
        raw = _num(value)
        for n in names:
            if n in ("smin", "smax"):
                fields[n] = s64(raw)
            elif n in ("smin32", "smax32"):
                fields[n] = s32(raw)
            elif n in ("umin32", "umax32"):
                fields[n] = raw & U32
            else:
                fields[n] = raw & U64
    scalar = Scalar(var_off, fields["smin"], fields["smax"], fields["umin"], fields["umax"],
                    fields["smin32"], fields["smax32"], fields["umin32"], fields["umax32"])
    return PrintedScalar(scalar, ident, delta, bool(m.group(1)))
