"""Bytes -> ``Btf``: the header, the type section, the string section.

Byte order comes from the magic (0xeB9F reads back as 0x9FEB when swapped).
Split BTF is parsed on top of a ``base``: its ids continue after the base's
last id and its string offsets after the base's string section.  Everything
the parser does not accept raises ``BtfError`` naming the place; what it
accepts, ``write`` gives back byte for byte, so fields the spec says must be
zero are checked here rather than silently dropped.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf
from pybpf.btf.types import (
    COMPOSITE_KINDS,
    Array,
    BtfType,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    EnumValue,
    Float,
    Func,
    FuncProto,
    Fwd,
    Header,
    Int,
    Member,
    Param,
    Ptr,
    Restrict,
    Struct,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarSecinfo,
    Volatile,
    referenced_ids,
    type_refs,
)
from pybpf.btf.uapi import (
    BIG,
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
    INFO_KFLAG_SHIFT,
    INFO_KIND_MASK,
    INFO_KIND_SHIFT,
    INFO_UNUSED_MASK,
    INFO_VLEN_MASK,
    INT_BITS_MASK,
    INT_ENCODING_SHIFT,
    INT_OFFSET_SHIFT,
    INT_UNUSED_MASK,
    LITTLE,
    MEMBER_BIT_OFFSET_MASK,
    MEMBER_BITFIELD_SHIFT,
    FuncLinkage,
    IntEncoding,
    Kind,
    VarLinkage,
)

# What the info word and size_or_type mean per kind; anything a kind does not use must be zero.
_USES_VLEN = frozenset({Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FUNC, Kind.FUNC_PROTO, Kind.DATASEC})
_USES_KFLAG = frozenset({Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FWD, Kind.DECL_TAG, Kind.TYPE_TAG})
_NO_SIZE_OR_TYPE = frozenset({Kind.ARRAY, Kind.FWD})
_SIMPLE_REFS = {Kind.PTR: Ptr, Kind.TYPEDEF: Typedef, Kind.VOLATILE: Volatile, Kind.CONST: Const,
                Kind.RESTRICT: Restrict}
_FUNC_LINKAGES = {int(v): v for v in FuncLinkage}
_VAR_LINKAGES = {int(v): v for v in VarLinkage}


def detect_byte_order(data: bytes | memoryview) -> str | None:
    """``"<"`` or ``">"`` if ``data`` starts with the BTF magic in that byte order, else None."""
    if len(data) < 2:
        return None
    magic = int.from_bytes(data[:2], "little")
    if magic == BTF_MAGIC:
        return LITTLE
    if magic == int.from_bytes(BTF_MAGIC.to_bytes(2, "little"), "big"):
        return BIG
    return None


def parse(data: bytes | bytearray | memoryview, *, base: Btf | None = None, file: str | None = None) -> Btf:
    """Parse raw BTF (a ``.BTF`` section or a ``/sys/kernel/btf/*`` file) into a ``Btf``."""
    data = memoryview(data).cast("B")
    header, order = parse_header(data, file)
    type_start = header.hdr_len + header.type_off
    str_start = header.hdr_len + header.str_off
    strings = bytes(data[str_start:str_start + header.str_len])
    _check_strings(strings, base, file)
    reader = _TypeReader(data, order, file, base, strings)
    with _gc_paused():
        types = reader.read_all(type_start, type_start + header.type_len)
        btf = Btf(types, strings, base=base, header=header, byte_order=order, file=file)
        if reader.max_ref >= len(btf.types):
            _report_bad_ref(btf)
        _check_loops(btf)
    return btf


def parse_header(data: memoryview, file: str | None = None) -> tuple[Header, str]:
    """The header and byte order, with the sections checked against the data's size."""
    size = len(data)
    if size < BTF_HEADER.size:
        raise BtfError(f"truncated header: {size} bytes, a BTF header needs {BTF_HEADER.size}",
                       file=file, place="header")
    order = detect_byte_order(data)
    if order is None:
        raise BtfError(f"bad magic {int.from_bytes(data[:2], 'little'):#06x} (BTF starts with {BTF_MAGIC:#06x})",
                       file=file, place="header")
    header = Header(*BTF_HEADER.codec(order).unpack_from(data, 0))
    if header.version != BTF_VERSION:
        raise BtfError(f"unsupported BTF version {header.version}", file=file, place="header")
    if not BTF_HEADER.size <= header.hdr_len <= size:
        raise BtfError(f"hdr_len {header.hdr_len} outside the data (size {size}, minimum {BTF_HEADER.size})",
                       file=file, place="header")
    if any(data[BTF_HEADER.size:header.hdr_len]):
        raise BtfError(f"unknown non-zero header fields past byte {BTF_HEADER.size} (hdr_len {header.hdr_len})",
                       file=file, place="header")
    body = size - header.hdr_len
    sections = sorted([("type", header.type_off, header.type_len), ("string", header.str_off, header.str_len)],
                      key=lambda s: s[1])
    for name, off, length in sections:
        if off + length > body:
            raise BtfError(f"{name} section at {off:#x} length {length:#x} runs past the data "
                           f"({body:#x} bytes after the header)", file=file, place="header")
    if header.type_off % 4:
        raise BtfError(f"type section offset {header.type_off:#x} is not 4-byte aligned", file=file, place="header")
    if header.type_len % 4:
        raise BtfError(f"type section length {header.type_len:#x} is not a multiple of 4", file=file, place="header")
    (first, off1, len1), (second, off2, _) = sections
    if off1 != 0 or off1 + len1 != off2:
        gap = "overlap" if off1 + len1 > off2 else "a gap"
        raise BtfError(f"{first} and {second} sections leave {gap} or do not start the data "
                       f"(type_off {header.type_off:#x}, str_off {header.str_off:#x})", file=file, place="header")
    end = max(o + n for _, o, n in sections)
    if end != body:
        raise BtfError(f"{body - end} bytes of trailing data after the sections", file=file, place="header")
    return header, order


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic GC while ~400k acyclic objects are made: its passes over them cost more than the parse."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _forbidden_info_bits(kind: Kind) -> int:
    mask = INFO_UNUSED_MASK
    if kind not in _USES_VLEN:
        mask |= INFO_VLEN_MASK
    if kind not in _USES_KFLAG:
        mask |= 1 << INFO_KFLAG_SHIFT
    return mask


def _check_strings(strings: bytes, base: Btf | None, file: str | None) -> None:
    if base is None and (not strings or strings[0] != 0):
        raise BtfError("the string section does not start with an empty string (split BTF parsed without its base?)",
                       file=file, place="string section")
    if strings and strings[-1] != 0:
        raise BtfError("the string section does not end with a NUL", file=file, place="string section")


def _report_bad_ref(btf: Btf) -> None:
    count = len(btf.types)
    for tid in range(btf.start_id, count):
        for what, ref in referenced_ids(btf.types[tid]):
            if ref >= count:
                where = f"{what} type id" if what else "type id"
                raise BtfError(f"{where} {ref} out of range (last is {count - 1})", file=btf.file,
                               place=f"type {btf.describe(tid)}")


def _check_loops(btf: Btf) -> None:
    """Reject a reference cycle that does not pass through a struct or union: no C type is like that.

    Only own types are walked: a base never refers to the split BTF on top of it.
    """
    types, start = btf.types, btf.start_id
    state = bytearray(len(types))  # 0 unseen, 1 on the current path, 2 finished
    for root in range(start, len(types)):
        if state[root] or types[root].kind in COMPOSITE_KINDS:
            continue
        state[root] = 1
        path = [root]
        pending = [iter(type_refs(types[root]))]
        while pending:
            for ref in pending[-1]:
                if ref < start or state[ref] == 2 or types[ref].kind in COMPOSITE_KINDS:
                    continue
                if state[ref] == 1:
                    loop = " -> ".join(f"[{tid}]" for tid in [*path[path.index(ref):], ref])
                    raise BtfError(f"reference loop {loop}", file=btf.file, place=f"type {btf.describe(ref)}")
                state[ref] = 1
                path.append(ref)
                pending.append(iter(type_refs(types[ref])))
                break
            else:
                state[path.pop()] = 2
                pending.pop()


class _TypeReader:
    """Walks the type section once; each kind has a ``_read_<kind>`` that returns (type, next position)."""

    def __init__(self, data: memoryview, order: str, file: str | None, base: Btf | None, strings: bytes):
        self.data, self.order, self.file, self.base = data, order, file, base
        self.strings = strings
        self.str_base = base.str_end if base else 0
        self.str_limit = self.str_base + len(strings)
        self.first_id = len(base.types) if base else 1
        self.max_ref = 0  # the largest type id seen in a reference, checked once all types are in
        self.codecs = {layout.name: layout.codec(order) for layout in (
            BTF_TYPE, BTF_INT, BTF_ARRAY, BTF_MEMBER, BTF_ENUM, BTF_ENUM64, BTF_PARAM, BTF_VAR,
            BTF_VAR_SECINFO, BTF_DECL_TAG)}
        # Per kind: its reader and the info bits that must be zero for it.
        self.readers = {kind: (getattr(self, f"_read_{kind.name.lower()}"), _forbidden_info_bits(kind))
                        for kind in Kind if kind != Kind.UNKN}

    def read_all(self, pos: int, end: int) -> list[BtfType]:
        self.end = end
        data, str_limit, type_size = self.data, self.str_limit, BTF_TYPE.size
        unpack_type = self.codecs["btf_type"].unpack_from
        readers = self.readers
        types: list[BtfType] = []
        append = types.append
        tid = self.first_id
        while pos < end:
            if pos + type_size > end:
                raise BtfError(f"truncated struct btf_type: {end - pos} bytes left in the type section",
                               file=self.file, place=f"type [{tid}]")
            name_off, info, size_or_type = unpack_type(data, pos)
            kind = (info >> INFO_KIND_SHIFT) & INFO_KIND_MASK
            entry = readers.get(kind)
            if entry is None:
                raise BtfError(f"unknown kind {kind} (info {info:#010x})", file=self.file, place=f"type [{tid}]")
            read, forbidden = entry
            if name_off >= str_limit:
                self._bad_string(tid, kind, name_off, "name")
            if info & forbidden:
                raise BtfError(f"info {info:#010x} sets bits a {Kind(kind).name} does not use",
                               file=self.file, place=self._where(tid, kind, name_off))
            if size_or_type and kind in _NO_SIZE_OR_TYPE:
                raise BtfError(f"size_or_type must be 0 for a {Kind(kind).name} (is {size_or_type})",
                               file=self.file, place=self._where(tid, kind, name_off))
            t, pos = read(tid, name_off, info & INFO_VLEN_MASK, info >> 31, size_or_type, pos + type_size)
            append(t)
            tid += 1
        return types

    # -- helpers -----------------------------------------------------------------------------------

    def _where(self, tid: int, kind: int, name_off: int) -> str:
        return f"type [{tid}] {Kind(kind).name} '{self._peek_name(name_off)}'"

    def _peek_name(self, off: int) -> str:
        if not off:
            return "(anon)"
        if off < self.str_base:
            return self.base.str_at(off)
        local = off - self.str_base
        return self.strings[local:self.strings.find(b"\0", local)].decode("utf-8", "replace")

    def _bad_string(self, tid: int, kind: int, off: int, what: str) -> None:
        raise BtfError(f"{what} string offset {off:#x} past the string section (size {self.str_limit:#x})",
                       file=self.file, place=f"type [{tid}] {Kind(kind).name}")

    def _one(self, layout_name: str, size: int, pos: int, tid: int, kind: Kind, name_off: int) -> tuple:
        if pos + size > self.end:
            raise BtfError(f"{layout_name} runs past the end of the type section", file=self.file,
                           place=self._where(tid, kind, name_off))
        return self.codecs[layout_name].unpack_from(self.data, pos)

    def _records(self, layout_name: str, size: int, vlen: int, pos: int, tid: int, kind: Kind,
                 name_off: int) -> list[tuple]:
        stop = pos + vlen * size
        if stop > self.end:
            raise BtfError(f"vlen {vlen} runs past the end of the type section "
                           f"({vlen} x {layout_name} needs {vlen * size} bytes, {self.end - pos} left)",
                           file=self.file, place=self._where(tid, kind, name_off))
        return list(self.codecs[layout_name].iter_unpack(self.data[pos:stop]))

    def _check_names(self, recs: list[tuple], tid: int, kind: Kind, name_off: int, what: str) -> None:
        """Name offsets are field 0 of members, enumerators and params."""
        limit = self.str_limit
        for i, rec in enumerate(recs):
            if rec[0] >= limit:
                raise BtfError(f"{what} {i} name string offset {rec[0]:#x} past the string section "
                               f"(size {limit:#x})", file=self.file, place=self._where(tid, kind, name_off))

    def _ref(self, tid: int) -> int:
        if tid > self.max_ref:
            self.max_ref = tid
        return tid

    # -- one reader per kind -----------------------------------------------------------------------

    def _read_int(self, tid, name_off, vlen, kflag, size, pos):
        (word,) = self._one("btf_int", BTF_INT.size, pos, tid, Kind.INT, name_off)
        if word & INT_UNUSED_MASK:
            raise BtfError(f"int data {word:#010x} sets reserved bits", file=self.file,
                           place=self._where(tid, Kind.INT, name_off))
        enc = IntEncoding(word >> INT_ENCODING_SHIFT)
        return Int(name_off, size, enc, (word >> INT_OFFSET_SHIFT) & 0xFF, word & INT_BITS_MASK), pos + 4

    def _read_ptr(self, tid, name_off, vlen, kflag, ref, pos):
        return Ptr(name_off, self._ref(ref)), pos

    def _read_typedef(self, tid, name_off, vlen, kflag, ref, pos):
        return Typedef(name_off, self._ref(ref)), pos

    def _read_volatile(self, tid, name_off, vlen, kflag, ref, pos):
        return Volatile(name_off, self._ref(ref)), pos

    def _read_const(self, tid, name_off, vlen, kflag, ref, pos):
        return Const(name_off, self._ref(ref)), pos

    def _read_restrict(self, tid, name_off, vlen, kflag, ref, pos):
        return Restrict(name_off, self._ref(ref)), pos

    def _read_type_tag(self, tid, name_off, vlen, kflag, ref, pos):
        return TypeTag(name_off, self._ref(ref), bool(kflag)), pos

    def _read_array(self, tid, name_off, vlen, kflag, _, pos):
        elem, index, nelems = self._one("btf_array", BTF_ARRAY.size, pos, tid, Kind.ARRAY, name_off)
        self._ref(max(elem, index))
        return Array(name_off, elem, index, nelems), pos + BTF_ARRAY.size

    def _read_struct(self, tid, name_off, vlen, kflag, size, pos, cls=Struct):
        kind = cls.kind
        recs = self._records("btf_member", BTF_MEMBER.size, vlen, pos, tid, kind, name_off)
        if not recs:
            return cls(name_off, size, (), bool(kflag)), pos
        self._check_names(recs, tid, kind, name_off, "member")
        self._ref(max(r[1] for r in recs))
        if kflag:
            mask = MEMBER_BIT_OFFSET_MASK
            members = tuple([Member(n, t, o & mask, o >> MEMBER_BITFIELD_SHIFT) for n, t, o in recs])
        else:
            members = tuple([Member(n, t, o) for n, t, o in recs])
        return cls(name_off, size, members, bool(kflag)), pos + vlen * BTF_MEMBER.size

    def _read_union(self, tid, name_off, vlen, kflag, size, pos):
        return self._read_struct(tid, name_off, vlen, kflag, size, pos, Union)

    def _read_enum(self, tid, name_off, vlen, kflag, size, pos):
        recs = self._records("btf_enum", BTF_ENUM.size, vlen, pos, tid, Kind.ENUM, name_off)
        self._check_names(recs, tid, Kind.ENUM, name_off, "value")
        if kflag:
            values = tuple([EnumValue(n, v - (1 << 32) if v & 0x80000000 else v) for n, v in recs])
        else:
            values = tuple([EnumValue(n, v) for n, v in recs])
        return Enum(name_off, size, values, bool(kflag)), pos + vlen * BTF_ENUM.size

    def _read_enum64(self, tid, name_off, vlen, kflag, size, pos):
        recs = self._records("btf_enum64", BTF_ENUM64.size, vlen, pos, tid, Kind.ENUM64, name_off)
        self._check_names(recs, tid, Kind.ENUM64, name_off, "value")
        values = []
        for n, lo, hi in recs:
            val = (hi << 32) | lo
            if kflag and val >> 63:
                val -= 1 << 64
            values.append(EnumValue(n, val))
        return Enum64(name_off, size, tuple(values), bool(kflag)), pos + vlen * BTF_ENUM64.size

    def _read_fwd(self, tid, name_off, vlen, kflag, _, pos):
        return Fwd(name_off, bool(kflag)), pos

    def _read_func(self, tid, name_off, vlen, kflag, ref, pos):
        return Func(name_off, self._ref(ref), _FUNC_LINKAGES.get(vlen, vlen)), pos

    def _read_func_proto(self, tid, name_off, vlen, kflag, ret, pos):
        recs = self._records("btf_param", BTF_PARAM.size, vlen, pos, tid, Kind.FUNC_PROTO, name_off)
        self._ref(ret)
        if recs:
            self._check_names(recs, tid, Kind.FUNC_PROTO, name_off, "param")
            self._ref(max(r[1] for r in recs))
        return FuncProto(name_off, ret, tuple([Param(n, t) for n, t in recs])), pos + vlen * BTF_PARAM.size

    def _read_var(self, tid, name_off, vlen, kflag, ref, pos):
        (linkage,) = self._one("btf_var", BTF_VAR.size, pos, tid, Kind.VAR, name_off)
        return Var(name_off, self._ref(ref), _VAR_LINKAGES.get(linkage, linkage)), pos + BTF_VAR.size

    def _read_datasec(self, tid, name_off, vlen, kflag, size, pos):
        recs = self._records("btf_var_secinfo", BTF_VAR_SECINFO.size, vlen, pos, tid, Kind.DATASEC, name_off)
        if recs:
            self._ref(max(r[0] for r in recs))
        return Datasec(name_off, size, tuple([VarSecinfo(*r) for r in recs])), pos + vlen * BTF_VAR_SECINFO.size

    def _read_float(self, tid, name_off, vlen, kflag, size, pos):
        return Float(name_off, size), pos

    def _read_decl_tag(self, tid, name_off, vlen, kflag, ref, pos):
        (idx,) = self._one("btf_decl_tag", BTF_DECL_TAG.size, pos, tid, Kind.DECL_TAG, name_off)
        return DeclTag(name_off, self._ref(ref), idx, bool(kflag)), pos + BTF_DECL_TAG.size

