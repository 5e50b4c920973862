"""``Btf`` -> bytes: the inverse of ``parse``.

For a ``Btf`` that ``parse`` read, ``write`` gives back the same bytes: it keeps
the header's version, flags, hdr_len and section order and the string section
as it was.  A split BTF writes only its own types and strings.
"""

from __future__ import annotations

from pybpf.btf.graph import Btf
from pybpf.btf.types import BtfType
from pybpf.btf.uapi import (
    BTF_ARRAY,
    BTF_DECL_TAG,
    BTF_ENUM,
    BTF_ENUM64,
    BTF_HEADER,
    BTF_INT,
    BTF_MAGIC,
    BTF_MEMBER,
    BTF_PARAM,
    BTF_TYPE,
    BTF_VAR,
    BTF_VAR_SECINFO,
    BTF_VERSION,
    INT_ENCODING_SHIFT,
    INT_OFFSET_SHIFT,
    MEMBER_BITFIELD_SHIFT,
    Kind,
    info_word,
)


def write(btf: Btf, byte_order: str | None = None) -> bytes:
    """The raw BTF bytes of ``btf``'s own types and strings, in its byte order unless told otherwise."""
    order = byte_order or btf.byte_order
    type_sec = _type_section(btf.own_types, order)
    str_sec = btf.strings
    hdr = btf.header
    hdr_len = hdr.hdr_len if hdr else BTF_HEADER.size
    if hdr is not None and hdr.str_off < hdr.type_off:
        str_off, type_off, body = 0, len(str_sec), [str_sec, type_sec]
    else:
        type_off, str_off, body = 0, len(type_sec), [type_sec, str_sec]
    head = BTF_HEADER.codec(order).pack(
        BTF_MAGIC, hdr.version if hdr else BTF_VERSION, hdr.flags if hdr else 0, hdr_len,
        type_off, len(type_sec), str_off, len(str_sec))
    return b"".join([head, bytes(hdr_len - len(head)), *body])


def _type_section(types: list[BtfType], order: str) -> bytes:
    codecs = {layout.name: layout.codec(order).pack for layout in (
        BTF_TYPE, BTF_INT, BTF_ARRAY, BTF_MEMBER, BTF_ENUM, BTF_ENUM64, BTF_PARAM, BTF_VAR, BTF_VAR_SECINFO,
        BTF_DECL_TAG)}
    pack_type = codecs["btf_type"]
    out: list[bytes] = []
    for t in types:
        head, tail = _ENCODERS[t.kind](t, codecs)
        out.append(pack_type(*head))
        out.extend(tail)
    return b"".join(out)


# Each encoder returns the (name_off, info, size_or_type) triple and the records that follow.

def _ref(t, codecs, kflag=False):
    return (t.name_off, info_word(t.kind, 0, kflag), t.type), ()


def _tag_ref(t, codecs):
    return _ref(t, codecs, t.attr)


def _int(t, codecs):
    word = (int(t.encoding) << INT_ENCODING_SHIFT) | (t.offset << INT_OFFSET_SHIFT) | t.bits
    return (t.name_off, info_word(Kind.INT), t.size), (codecs["btf_int"](word),)


def _array(t, codecs):
    return (t.name_off, info_word(Kind.ARRAY), 0), (codecs["btf_array"](t.type, t.index_type, t.nelems),)


def _composite(t, codecs):
    pack = codecs["btf_member"]
    if t.kind_flag:
        recs = [pack(m.name_off, m.type, (m.bitfield_size << MEMBER_BITFIELD_SHIFT) | m.bit_offset)
                for m in t.members]
    else:
        recs = [pack(m.name_off, m.type, m.bit_offset) for m in t.members]
    return (t.name_off, info_word(t.kind, len(t.members), t.kind_flag), t.size), recs


def _enum(t, codecs):
    pack = codecs["btf_enum"]
    recs = [pack(v.name_off, v.val & 0xFFFFFFFF) for v in t.values]
    return (t.name_off, info_word(Kind.ENUM, len(t.values), t.signed), t.size), recs


def _enum64(t, codecs):
    pack = codecs["btf_enum64"]
    recs = [pack(v.name_off, v.val & 0xFFFFFFFF, (v.val >> 32) & 0xFFFFFFFF) for v in t.values]
    return (t.name_off, info_word(Kind.ENUM64, len(t.values), t.signed), t.size), recs


def _fwd(t, codecs):
    return (t.name_off, info_word(Kind.FWD, 0, t.union), 0), ()


def _func(t, codecs):
    return (t.name_off, info_word(Kind.FUNC, int(t.linkage)), t.type), ()


def _func_proto(t, codecs):
    pack = codecs["btf_param"]
    return (t.name_off, info_word(Kind.FUNC_PROTO, len(t.params)), t.type), [pack(p.name_off, p.type)
                                                                             for p in t.params]


def _var(t, codecs):
    return (t.name_off, info_word(Kind.VAR), t.type), (codecs["btf_var"](int(t.linkage)),)


def _datasec(t, codecs):
    pack = codecs["btf_var_secinfo"]
    return (t.name_off, info_word(Kind.DATASEC, len(t.vars)), t.size), [pack(v.type, v.offset, v.size)
                                                                        for v in t.vars]


def _sized(t, codecs):
    return (t.name_off, info_word(t.kind), t.size), ()


def _decl_tag(t, codecs):
    return (t.name_off, info_word(Kind.DECL_TAG, 0, t.attr), t.type), (codecs["btf_decl_tag"](t.component_idx),)


_ENCODERS = {
    Kind.INT: _int, Kind.PTR: _ref, Kind.ARRAY: _array, Kind.STRUCT: _composite, Kind.UNION: _composite,
    Kind.ENUM: _enum, Kind.ENUM64: _enum64, Kind.FWD: _fwd, Kind.TYPEDEF: _ref, Kind.VOLATILE: _ref,
    Kind.CONST: _ref, Kind.RESTRICT: _ref, Kind.FUNC: _func, Kind.FUNC_PROTO: _func_proto, Kind.VAR: _var,
    Kind.DATASEC: _datasec, Kind.FLOAT: _sized, Kind.DECL_TAG: _decl_tag, Kind.TYPE_TAG: _tag_ref,
}
