"""The binary layout of BTF, as ``include/uapi/linux/btf.h`` declares it.

Every record is declared once here, with the header's field names; the parser
and the writer both take their ``struct`` formats from these declarations, so
byte order is the only thing they add.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag

BTF_MAGIC = 0xEB9F
BTF_VERSION = 1
BTF_MAX_TYPE = 0x000FFFFF  # largest type id
BTF_MAX_NAME_OFFSET = 0x00FFFFFF
BTF_MAX_VLEN = 0xFFFF
PTR_SIZE = 8  # BTF describes a 64-bit target (BPF, and the kernel it runs in)

LITTLE, BIG = "<", ">"


class Kind(IntEnum):
    """``BTF_KIND_*``; the names are the ones bpftool prints."""

    UNKN = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


KIND_MAX = max(Kind)


class IntEncoding(IntFlag):
    """``BTF_INT_SIGNED/CHAR/BOOL``: the top nibble of an INT's extra word."""

    SIGNED = 1 << 0
    CHAR = 1 << 1
    BOOL = 1 << 2


class FuncLinkage(IntEnum):
    """``BTF_FUNC_*``, carried in a FUNC's vlen."""

    STATIC = 0
    GLOBAL = 1
    EXTERN = 2


class VarLinkage(IntEnum):
    """``BTF_VAR_*``, the ``struct btf_var`` word."""

    STATIC = 0
    GLOBAL_ALLOCATED = 1
    GLOBAL_EXTERN = 2


# struct btf_type.info: vlen in bits 0-15, kind in bits 24-28, kind_flag in bit 31.
INFO_VLEN_MASK = 0xFFFF
INFO_KIND_SHIFT = 24
INFO_KIND_MASK = 0x1F
INFO_KFLAG_SHIFT = 31
INFO_UNUSED_MASK = 0x60FF0000  # bits 16-23 and 29-30, which the kernel rejects when set

# The INT extra word: encoding in bits 24-27, offset in bits 16-23, nr_bits in bits 0-7.
INT_ENCODING_SHIFT = 24
INT_OFFSET_SHIFT = 16
INT_BITS_MASK = 0xFF
INT_UNUSED_MASK = 0xF000FF00

# A struct member's offset word when the struct's kind_flag is set.
MEMBER_BITFIELD_SHIFT = 24
MEMBER_BIT_OFFSET_MASK = 0x00FFFFFF


@dataclass(frozen=True)
class Layout:
    """One C struct of btf.h: its name and its ``(field, struct code)`` pairs."""

    name: str
    fields: tuple[tuple[str, str], ...]
    le: struct.Struct = field(init=False, repr=False, compare=False)
    be: struct.Struct = field(init=False, repr=False, compare=False)
    size: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        codes = "".join(code for _, code in self.fields)
        object.__setattr__(self, "le", struct.Struct(LITTLE + codes))
        object.__setattr__(self, "be", struct.Struct(BIG + codes))
        object.__setattr__(self, "size", self.le.size)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def codec(self, byte_order: str) -> struct.Struct:
        return self.le if byte_order == LITTLE else self.be


BTF_HEADER = Layout("btf_header", (
    ("magic", "H"), ("version", "B"), ("flags", "B"), ("hdr_len", "I"),
    ("type_off", "I"), ("type_len", "I"), ("str_off", "I"), ("str_len", "I"),
))
BTF_TYPE = Layout("btf_type", (("name_off", "I"), ("info", "I"), ("size_or_type", "I")))
BTF_INT = Layout("btf_int", (("int_data", "I"),))
BTF_ARRAY = Layout("btf_array", (("type", "I"), ("index_type", "I"), ("nelems", "I")))
BTF_MEMBER = Layout("btf_member", (("name_off", "I"), ("type", "I"), ("offset", "I")))
BTF_ENUM = Layout("btf_enum", (("name_off", "I"), ("val", "I")))  # __s32 val: sign applied by kind_flag
BTF_ENUM64 = Layout("btf_enum64", (("name_off", "I"), ("val_lo32", "I"), ("val_hi32", "I")))
BTF_PARAM = Layout("btf_param", (("name_off", "I"), ("type", "I")))
BTF_VAR = Layout("btf_var", (("linkage", "I"),))
BTF_VAR_SECINFO = Layout("btf_var_secinfo", (("type", "I"), ("offset", "I"), ("size", "I")))
BTF_DECL_TAG = Layout("btf_decl_tag", (("component_idx", "i"),))

# What follows a struct btf_type, per kind: one record, vlen records, or nothing.
TRAILER_ONE: dict[Kind, Layout] = {
    Kind.INT: BTF_INT, Kind.ARRAY: BTF_ARRAY, Kind.VAR: BTF_VAR, Kind.DECL_TAG: BTF_DECL_TAG,
}
TRAILER_VLEN: dict[Kind, Layout] = {
    Kind.STRUCT: BTF_MEMBER, Kind.UNION: BTF_MEMBER, Kind.ENUM: BTF_ENUM, Kind.ENUM64: BTF_ENUM64,
    Kind.FUNC_PROTO: BTF_PARAM, Kind.DATASEC: BTF_VAR_SECINFO,
}


def info_word(kind: Kind, vlen: int = 0, kind_flag: bool = False) -> int:
    return (int(kind_flag) << INFO_KFLAG_SHIFT) | (int(kind) << INFO_KIND_SHIFT) | vlen
