"""The type graph: ``Btf``, a list of types indexed by type id, and the questions asked of it.

A ``Btf`` is what ``parse`` returns and what ``write`` takes.  ``types[0]`` is
void; a split BTF (a kernel module's) has a ``base`` and its ``types`` list
holds the base's types first, so ids are the same everywhere.  Names are read
from the string section only when asked for; the name and decl-tag indexes are
built on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pybpf.btf.errors import BtfError
from pybpf.btf.types import (
    COMPOSITE_KINDS,
    MODIFIER_KINDS,
    VOID,
    BtfType,
    FuncProto,
    Header,
    Int,
)
from pybpf.btf.uapi import LITTLE, PTR_SIZE, Kind

_SIZED_KINDS = frozenset({Kind.INT, Kind.ENUM, Kind.ENUM64, Kind.STRUCT, Kind.UNION, Kind.FLOAT, Kind.DATASEC})
_SCALAR_KINDS = frozenset({Kind.INT, Kind.ENUM, Kind.ENUM64, Kind.FLOAT})
_MAX_ALIGN = 16  # __int128's, the widest natural alignment clang gives on BPF
_PATH_PART = re.compile(r"([A-Za-z_]\w*)((?:\[\d+\])*)")


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A member as a user sees it: name, type id, where it starts in bits, its bitfield width (0: none)."""

    name: str
    type: int
    bit_offset: int
    bitfield_size: int = 0

    @property
    def byte_offset(self) -> int:
        return self.bit_offset // 8

    @property
    def is_bitfield(self) -> bool:
        return self.bitfield_size != 0


@dataclass(frozen=True, slots=True)
class DatasecVar:
    """A DATASEC entry with its VAR looked up: ``var_id`` is the VAR (or FUNC), ``type`` what it holds."""

    name: str
    var_id: int
    type: int
    offset: int
    size: int


class Btf:
    """A BTF type graph: ``types`` by id, the string section, and an optional ``base`` it is split from."""

    def __init__(self, types: list[BtfType] | None = None, strings: bytes | None = None, *, base: Btf | None = None,
                 header: Header | None = None, byte_order: str = LITTLE, file: str | None = None):
        self.base = base
        self.types: list[BtfType] = (list(base.types) if base else [VOID]) + list(types or ())
        # A base string section starts with the empty string; a split one continues the base's.
        self.strings = (b"" if base else b"\0") if strings is None else strings
        self.header = header  # as read; ``write`` keeps its version, flags, hdr_len and section order
        self.byte_order = byte_order
        self.file = file
        self.start_id = len(base.types) if base else 1
        self.str_start = base.str_end if base else 0
        self._names: dict[int, str] = {}
        self._by_name: dict[str, list[int]] | None = None
        self._tags: dict[int, list[tuple[int, str]]] | None = None
        self._aligns: dict[int, int] = {}

    # -- ids and strings ---------------------------------------------------------------------------

    @property
    def own_types(self) -> list[BtfType]:
        """The types this BTF's type section holds (for a split BTF, not the base's)."""
        return self.types[self.start_id:]

    @property
    def str_end(self) -> int:
        """One past the last string offset: where a split BTF on top of this one starts its strings."""
        return self.str_start + len(self.strings)

    def __len__(self) -> int:
        return len(self.types)

    def type_by_id(self, tid: int) -> BtfType:
        if not 0 <= tid < len(self.types):
            raise BtfError(f"type id {tid} out of range (last is {len(self.types) - 1})", file=self.file)
        return self.types[tid]

    def str_at(self, off: int) -> str:
        """The NUL-terminated string at ``off`` in the (base + own) string section."""
        name = self._names.get(off)
        if name is not None:
            return name
        if off < self.str_start:
            return self.base.str_at(off)
        local = off - self.str_start
        if local >= len(self.strings):
            raise BtfError(f"string offset {off:#x} past the string section (size {self.str_end:#x})",
                           file=self.file)
        end = self.strings.find(b"\0", local)
        name = self.strings[local:end].decode("utf-8", "surrogateescape")
        self._names[off] = name
        return name

    def name_of(self, t: BtfType | int) -> str:
        """A type's name, ``""`` when anonymous; takes a type or a type id."""
        if isinstance(t, int):
            t = self.type_by_id(t)
        return self.str_at(t.name_off) if t.name_off else ""

    def describe(self, tid: int) -> str:
        """``[123] STRUCT 'foo'``, the way bpftool and our messages name a type."""
        t = self.type_by_id(tid)
        return f"[{tid}] {t.kind.name} '{self.name_of(t) or '(anon)'}'"

    # -- building ----------------------------------------------------------------------------------

    def add_string(self, s: str) -> int:
        """The offset of ``s``, appending it to the own string section if it is not there yet."""
        if not s:
            return 0
        raw = s.encode("utf-8", "surrogateescape") + b"\0"
        at = self.strings.find(b"\0" + raw)
        if at >= 0:
            return self.str_start + at + 1
        if self.strings.startswith(raw):
            return self.str_start
        off = self.str_end
        self.strings += raw
        return off

    def add_type(self, t: BtfType) -> int:
        """Append ``t``; returns its id."""
        self.types.append(t)
        self._forget()
        return len(self.types) - 1

    def set_type(self, tid: int, t: BtfType) -> None:
        """Replace an own type (a loader fixing DATASEC sizes, say)."""
        if not self.start_id <= tid < len(self.types):
            raise BtfError(f"type id {tid} is not one of this BTF's own types", file=self.file)
        self.types[tid] = t
        self._forget()

    def _forget(self) -> None:
        self._by_name = None
        self._tags = None
        self._aligns.clear()

    # -- lookups -----------------------------------------------------------------------------------

    def find_all(self, name: str, kind: Kind | None = None) -> list[int]:
        """Every type id named ``name`` (of ``kind`` if given), lowest first."""
        if self._by_name is None:
            index: dict[str, list[int]] = {}
            str_at = self.str_at
            for tid, t in enumerate(self.types):
                if t.name_off:
                    index.setdefault(str_at(t.name_off), []).append(tid)
            self._by_name = index
        ids = self._by_name.get(name, [])
        if kind is None:
            return list(ids)
        return [tid for tid in ids if self.types[tid].kind == kind]

    def find(self, name: str, kind: Kind | None = None) -> int | None:
        """The first type id named ``name`` (of ``kind`` if given), or None."""
        ids = self.find_all(name, kind)
        return ids[0] if ids else None

    def resolve(self, tid: int) -> int:
        """Skip typedef/const/volatile/restrict/type_tag; returns the id underneath."""
        types = self.types
        self.type_by_id(tid)
        for _ in range(len(types)):
            t = types[tid]
            if t.kind not in MODIFIER_KINDS:
                return tid
            tid = t.type
        raise BtfError(f"type {self.describe(tid)} is part of a modifier loop", file=self.file)

    def decl_tags(self, tid: int, component_idx: int | None = None) -> list[str]:
        """The DECL_TAG strings on type ``tid`` itself, or on its member/param ``component_idx``."""
        if self._tags is None:
            tags: dict[int, list[tuple[int, str]]] = {}
            for t in self.types:
                if t.kind == Kind.DECL_TAG:
                    tags.setdefault(t.type, []).append((t.component_idx, self.name_of(t)))
            self._tags = tags
        want = -1 if component_idx is None else component_idx
        return [name for idx, name in self._tags.get(tid, ()) if idx == want]

    def func_proto_of(self, func_id: int) -> FuncProto:
        """The FUNC_PROTO of a FUNC (a FUNC_PROTO id is answered with itself)."""
        t = self.type_by_id(func_id)
        if t.kind == Kind.FUNC:
            t = self.type_by_id(t.type)
        if t.kind != Kind.FUNC_PROTO:
            raise BtfError(f"{self.describe(func_id)} is not a function", file=self.file)
        return t

    def datasec_vars(self, sec_id: int) -> list[DatasecVar]:
        sec = self.type_by_id(sec_id)
        if sec.kind != Kind.DATASEC:
            raise BtfError(f"{self.describe(sec_id)} is not a DATASEC", file=self.file)
        out = []
        for v in sec.vars:
            var = self.type_by_id(v.type)
            out.append(DatasecVar(self.name_of(var), v.type, getattr(var, "type", 0), v.offset, v.size))
        return out

    # -- layout ------------------------------------------------------------------------------------

    def size_of(self, tid: int) -> int:
        """The size in bytes of a value of type ``tid`` (through modifiers, arrays and VARs)."""
        types, start, mult = self.types, tid, 1
        self.type_by_id(tid)
        for _ in range(len(types)):
            t = types[tid]
            kind = t.kind
            if kind in _SIZED_KINDS:
                return mult * t.size
            if kind == Kind.PTR:
                return mult * PTR_SIZE
            if kind == Kind.ARRAY:
                mult *= t.nelems
            elif kind not in MODIFIER_KINDS and kind != Kind.VAR:
                raise BtfError(f"{self.describe(start)} has no size ({self.describe(tid)})", file=self.file)
            tid = t.type
        raise BtfError(f"type {self.describe(start)} is part of a type loop", file=self.file)

    def align_of(self, tid: int) -> int:
        """The alignment clang gives type ``tid`` on BPF; 1 for a struct whose layout says packed."""
        cached = self._aligns.get(tid)
        if cached is not None:
            return cached
        t = self.type_by_id(self.resolve(tid))
        kind = t.kind
        if kind in _SCALAR_KINDS:
            align = min(t.size & -t.size, _MAX_ALIGN) or 1
        elif kind == Kind.PTR:
            align = PTR_SIZE
        elif kind == Kind.ARRAY:
            align = self.align_of(t.type)
        elif kind in COMPOSITE_KINDS:
            align = self._composite_align(tid)
        else:
            raise BtfError(f"{self.describe(tid)} has no alignment", file=self.file)
        self._aligns[tid] = align
        return align

    def is_packed(self, tid: int) -> bool:
        """Whether a struct/union's recorded layout needs ``__attribute__((packed))`` in C.

        It does when a member sits off its type's alignment, a bitfield crosses a unit of its type,
        or the size is not a multiple of the widest member alignment (bitfields' types count, as in C).
        """
        t = self.type_by_id(self.resolve(tid))
        if t.kind not in COMPOSITE_KINDS:
            return False
        natural = 1
        for m in self.members(tid):
            align = self.align_of(m.type)
            natural = max(natural, align)
            if m.bitfield_size:
                unit = self.size_of(m.type) * 8
                if unit and m.bit_offset // unit != (m.bit_offset + m.bitfield_size - 1) // unit:
                    return True
            elif m.bit_offset % (align * 8):
                return True
        return t.size % natural != 0

    def _composite_align(self, tid: int) -> int:
        if self.is_packed(tid):
            return 1
        align = 1
        for m in self.members(tid):
            align = max(align, self.align_of(m.type))
        return align

    def members(self, tid: int) -> list[MemberInfo]:
        """A struct/union's members with bit offsets and bitfield sizes, in either encoding.

        Without kind_flag a bitfield is a member whose INT type has fewer bits than its size
        (the old encoding); its INT offset adds to the member's.
        """
        t = self.type_by_id(self.resolve(tid))
        if t.kind not in COMPOSITE_KINDS:
            raise BtfError(f"{self.describe(tid)} is not a struct or union", file=self.file)
        out = []
        for m in t.members:
            bit_offset, bitfield_size = m.bit_offset, m.bitfield_size
            if not t.kind_flag:
                mt = self.types[self.resolve(m.type)]
                if isinstance(mt, Int) and (mt.bits != mt.size * 8 or mt.offset):
                    bit_offset, bitfield_size = bit_offset + mt.offset, mt.bits
            out.append(MemberInfo(self.str_at(m.name_off) if m.name_off else "", m.type, bit_offset, bitfield_size))
        return out

    def member_offset(self, tid: int, path: str) -> MemberInfo:
        """Where ``a.b[2].c`` lies in struct ``tid``: the leaf's type, bit offset from the start, bitfield size.

        Members of anonymous structs/unions are found by their own names, as in C.
        """
        bit_offset, bitfield_size, cur = 0, 0, tid
        for part in path.split("."):
            match = _PATH_PART.fullmatch(part)
            if not match:
                raise BtfError(f"bad member path '{path}'", file=self.file)
            name, indexes = match.groups()
            found = self._find_member(cur, name)
            if found is None:
                raise BtfError(f"{self.describe(self.resolve(cur))} has no member '{name}' (path '{path}')",
                               file=self.file)
            bit_offset += found.bit_offset
            cur, bitfield_size = found.type, found.bitfield_size
            for index in re.findall(r"\d+", indexes):
                arr = self.types[self.resolve(cur)]
                if arr.kind != Kind.ARRAY:
                    raise BtfError(f"'{name}' in path '{path}' is not an array", file=self.file)
                cur = arr.type
                bit_offset += int(index) * self.size_of(cur) * 8
        return MemberInfo(path, cur, bit_offset, bitfield_size)

    def _find_member(self, tid: int, name: str) -> MemberInfo | None:
        for m in self.members(tid):
            if m.name == name:
                return m
            if not m.name and self.types[self.resolve(m.type)].kind in COMPOSITE_KINDS:
                inner = self._find_member(m.type, name)
                if inner is not None:
                    return MemberInfo(inner.name, inner.type, m.bit_offset + inner.bit_offset,
                                      inner.bitfield_size)
        return None
