"""One plain frozen dataclass per BTF kind, plus the records that follow them.

Fields carry the spec's names and hold exactly what the bytes say (names stay
string offsets; ``Btf.name_of`` reads them), so ``write(parse(b)) == b``.
``type`` fields are type ids.  Bits that ``info`` packs (vlen, kind_flag) are
spelled out as what they mean for the kind: a member tuple, ``signed``,
``union``, ``linkage``...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pybpf.btf.uapi import FuncLinkage, IntEncoding, Kind, VarLinkage


@dataclass(frozen=True, slots=True)
class Header:
    """``struct btf_header``: offsets are relative to the end of the header."""

    magic: int
    version: int
    flags: int
    hdr_len: int
    type_off: int
    type_len: int
    str_off: int
    str_len: int


# -- the records that follow a struct btf_type --------------------------------------------------

@dataclass(frozen=True, slots=True)
class Member:
    """A struct/union member; ``bitfield_size`` is non-zero only under the struct's kind_flag."""

    name_off: int
    type: int
    bit_offset: int
    bitfield_size: int = 0


@dataclass(frozen=True, slots=True)
class EnumValue:
    """An ENUM or ENUM64 enumerator; ``val`` is already signed when the enum is."""

    name_off: int
    val: int


@dataclass(frozen=True, slots=True)
class Param:
    """A FUNC_PROTO parameter; a last param with type 0 and no name means ``...``."""

    name_off: int
    type: int


@dataclass(frozen=True, slots=True)
class VarSecinfo:
    """A DATASEC entry: a VAR (or extern FUNC) id and where it sits in the section."""

    type: int
    offset: int
    size: int


# -- the kinds -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Void:
    """Type id 0."""

    kind: ClassVar[Kind] = Kind.UNKN
    name_off: int = 0


@dataclass(frozen=True, slots=True)
class Int:
    kind: ClassVar[Kind] = Kind.INT
    name_off: int
    size: int
    encoding: IntEncoding
    offset: int  # BTF_INT_OFFSET, in bits
    bits: int  # BTF_INT_BITS


@dataclass(frozen=True, slots=True)
class Ptr:
    kind: ClassVar[Kind] = Kind.PTR
    name_off: int
    type: int


@dataclass(frozen=True, slots=True)
class Array:
    kind: ClassVar[Kind] = Kind.ARRAY
    name_off: int
    type: int
    index_type: int
    nelems: int


@dataclass(frozen=True, slots=True)
class Struct:
    kind: ClassVar[Kind] = Kind.STRUCT
    name_off: int
    size: int
    members: tuple[Member, ...]
    kind_flag: bool = False  # members carry bitfield sizes in their offset word


@dataclass(frozen=True, slots=True)
class Union:
    kind: ClassVar[Kind] = Kind.UNION
    name_off: int
    size: int
    members: tuple[Member, ...]
    kind_flag: bool = False


@dataclass(frozen=True, slots=True)
class Enum:
    kind: ClassVar[Kind] = Kind.ENUM
    name_off: int
    size: int
    values: tuple[EnumValue, ...]
    signed: bool = False


@dataclass(frozen=True, slots=True)
class Enum64:
    kind: ClassVar[Kind] = Kind.ENUM64
    name_off: int
    size: int
    values: tuple[EnumValue, ...]
    signed: bool = False


@dataclass(frozen=True, slots=True)
class Fwd:
    kind: ClassVar[Kind] = Kind.FWD
    name_off: int
    union: bool = False  # kind_flag: a forward ``union`` rather than ``struct``


@dataclass(frozen=True, slots=True)
class Typedef:
    kind: ClassVar[Kind] = Kind.TYPEDEF
    name_off: int
    type: int


@dataclass(frozen=True, slots=True)
class Volatile:
    kind: ClassVar[Kind] = Kind.VOLATILE
    name_off: int
    type: int


@dataclass(frozen=True, slots=True)
class Const:
    kind: ClassVar[Kind] = Kind.CONST
    name_off: int
    type: int


@dataclass(frozen=True, slots=True)
class Restrict:
    kind: ClassVar[Kind] = Kind.RESTRICT
    name_off: int
    type: int


@dataclass(frozen=True, slots=True)
class Func:
    kind: ClassVar[Kind] = Kind.FUNC
    name_off: int
    type: int  # its FUNC_PROTO
    linkage: FuncLinkage | int  # kept in vlen; an int when out of the enum's range


@dataclass(frozen=True, slots=True)
class FuncProto:
    kind: ClassVar[Kind] = Kind.FUNC_PROTO
    name_off: int
    type: int  # the return type
    params: tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class Var:
    kind: ClassVar[Kind] = Kind.VAR
    name_off: int
    type: int
    linkage: VarLinkage | int


@dataclass(frozen=True, slots=True)
class Datasec:
    kind: ClassVar[Kind] = Kind.DATASEC
    name_off: int
    size: int
    vars: tuple[VarSecinfo, ...]


@dataclass(frozen=True, slots=True)
class Float:
    kind: ClassVar[Kind] = Kind.FLOAT
    name_off: int
    size: int


@dataclass(frozen=True, slots=True)
class DeclTag:
    kind: ClassVar[Kind] = Kind.DECL_TAG
    name_off: int
    type: int
    component_idx: int  # -1: the type itself, else a member or parameter index
    attr: bool = False  # kind_flag (Linux 6.13+): the tag is a full ``__attribute__``


@dataclass(frozen=True, slots=True)
class TypeTag:
    kind: ClassVar[Kind] = Kind.TYPE_TAG
    name_off: int
    type: int
    attr: bool = False


BtfType = (Void | Int | Ptr | Array | Struct | Union | Enum | Enum64 | Fwd | Typedef | Volatile | Const | Restrict
           | Func | FuncProto | Var | Datasec | Float | DeclTag | TypeTag)

VOID = Void()

# Kinds that are a name or qualifier over another type: ``resolve`` walks through them.
MODIFIER_KINDS = frozenset({Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG})
# Kinds whose ``size_or_type`` word is a type id.
REF_KINDS = frozenset({Kind.PTR, Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.FUNC,
                       Kind.FUNC_PROTO, Kind.VAR, Kind.DECL_TAG, Kind.TYPE_TAG})
COMPOSITE_KINDS = frozenset({Kind.STRUCT, Kind.UNION})
ENUM_KINDS = frozenset({Kind.ENUM, Kind.ENUM64})


def type_refs(t: BtfType) -> tuple[int, ...]:
    """The type ids ``t`` refers to, unlabelled (the fast form of ``referenced_ids``)."""
    kind = t.kind
    if kind in REF_KINDS:
        if kind == Kind.FUNC_PROTO:
            return (t.type, *[p.type for p in t.params])
        return (t.type,)
    if kind in COMPOSITE_KINDS:
        return tuple([m.type for m in t.members])
    if kind == Kind.ARRAY:
        return (t.type, t.index_type)
    if kind == Kind.DATASEC:
        return tuple([v.type for v in t.vars])
    return ()


def referenced_ids(t: BtfType) -> list[tuple[str, int]]:
    """Every type id ``t`` names, with where it names it (for messages)."""
    kind = t.kind
    if kind in COMPOSITE_KINDS:
        return [(f"member {i}", m.type) for i, m in enumerate(t.members)]
    if kind == Kind.ARRAY:
        return [("element", t.type), ("index", t.index_type)]
    if kind == Kind.FUNC_PROTO:
        return [("return", t.type)] + [(f"param {i}", p.type) for i, p in enumerate(t.params)]
    if kind == Kind.DATASEC:
        return [(f"var {i}", v.type) for i, v in enumerate(t.vars)]
    if kind in REF_KINDS:
        return [("", t.type)]
    return []


def name_offsets(t: BtfType) -> list[tuple[str, int]]:
    """Every string offset ``t`` holds, with where it holds it (for messages)."""
    offs = [("name", t.name_off)]
    if t.kind in COMPOSITE_KINDS:
        offs += [(f"member {i} name", m.name_off) for i, m in enumerate(t.members)]
    elif t.kind in ENUM_KINDS:
        offs += [(f"value {i} name", v.name_off) for i, v in enumerate(t.values)]
    elif t.kind == Kind.FUNC_PROTO:
        offs += [(f"param {i} name", p.name_off) for i, p in enumerate(t.params)]
    return offs
