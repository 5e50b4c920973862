"""The object's ``.BTF`` section parsed, with a parse error placed at its byte offset in the section."""

from __future__ import annotations

import re
import struct

from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf
from pybpf.btf.parse import detect_byte_order, parse
from pybpf.btf.uapi import (
    BTF_HEADER,
    BTF_TYPE,
    INFO_KIND_MASK,
    INFO_KIND_SHIFT,
    INFO_VLEN_MASK,
    TRAILER_ONE,
    TRAILER_VLEN,
    Kind,
)
from pybpf.obj.errors import ObjectError, at

SECTION = ".BTF"
_TYPE_PLACE = re.compile(r"type \[(\d+)\]")


def _type_offset(data: bytes, tid: int) -> int:
    """Byte offset of type ``tid`` in the section (the header's end if the walk cannot get there)."""
    order = detect_byte_order(data) or "<"
    try:
        hdr = BTF_HEADER.codec(order).unpack_from(data, 0)
    except struct.error:
        return 0
    hdr_len, type_off, type_len = hdr[3], hdr[4], hdr[5]
    pos, end = hdr_len + type_off, min(len(data), hdr_len + type_off + type_len)
    codec = BTF_TYPE.codec(order)
    for _ in range(1, tid):
        if pos + BTF_TYPE.size > end:
            break
        _, info, _ = codec.unpack_from(data, pos)
        kind_value = (info >> INFO_KIND_SHIFT) & INFO_KIND_MASK
        if kind_value > max(Kind):
            break
        kind = Kind(kind_value)
        pos += BTF_TYPE.size
        if kind in TRAILER_ONE:
            pos += TRAILER_ONE[kind].size
        elif kind in TRAILER_VLEN:
            pos += TRAILER_VLEN[kind].size * (info & INFO_VLEN_MASK)
    return pos


def _offset_of(data: bytes, place: str | None) -> int:
    if not place or place == "header":
        return 0
    if place == "string section" and len(data) >= BTF_HEADER.size:
        hdr = BTF_HEADER.codec(detect_byte_order(data) or "<").unpack_from(data, 0)
        return hdr[3] + hdr[6]
    match = _TYPE_PLACE.search(place)
    return _type_offset(data, int(match.group(1))) if match else 0


def load_object_btf(data: bytes, file: str) -> Btf:
    """Parse ``.BTF``; a BtfError becomes an ObjectError at ``section '.BTF' offset 0x..``."""
    try:
        return parse(data, file=file)
    except BtfError as err:
        what = f"{err.place}: {err.message}" if err.place else err.message
        raise ObjectError(what, file=file, place=at(SECTION, _offset_of(data, err.place))) from None


def btf_call(file: str, place: str, fn, *args):
    """Run a ``Btf`` query; a BtfError (bad type id in the object's own BTF) becomes an ObjectError at ``place``."""
    try:
        return fn(*args)
    except BtfError as err:
        where = f"{err.place}: " if err.place else ""
        raise ObjectError(f"{where}{err.message}", file=file, place=place) from None
