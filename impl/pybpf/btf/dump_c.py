"""The ``c`` dump: a ``vmlinux.h``-style header that compiles with clang.

Named structs, unions, enums and typedefs are emitted at top level, each after
what it needs: a by-value member needs its type complete first, a pointer only
needs a forward declaration.  Anonymous structs, unions and enums are written
inline where they are used.  Explicit padding (unnamed bitfields) and
``__attribute__((packed))`` make clang lay every struct out at the offsets BTF
records.  Names that two different types share get a ``___2`` suffix, in the
order they are emitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf
from pybpf.btf.types import COMPOSITE_KINDS, ENUM_KINDS, BtfType, type_refs
from pybpf.btf.uapi import IntEncoding, Kind

PROLOGUE = """\
#ifndef {guard}
#define {guard}

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

"""
EPILOGUE = """\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* {guard} */
"""

CLANG_BUILTIN_TYPEDEFS = ("__builtin_va_list", "__int128_t", "__uint128_t")
_QUALIFIERS = {Kind.CONST: "const", Kind.VOLATILE: "volatile", Kind.RESTRICT: "restrict"}
_C_INT_WORDS = frozenset({"signed", "unsigned", "char", "short", "int", "long", "_Bool", "__int128"})
_C_FLOATS = frozenset({"float", "double", "long double"})
# An enum BTF sizes otherwise than C would (packed enums, 64-bit ones with small values) gets a machine mode.
_ENUM_MODES = {1: "QI", 2: "HI", 4: "SI", 8: "DI"}
_INT_BY_SIZE = {1: "char", 2: "short", 4: "int", 8: "long", 16: "__int128"}
_FLOAT_BY_SIZE = {4: "float", 8: "double", 16: "long double"}
# Padding pieces, widest first: (bits, the unnamed bitfield's type).
_PAD_UNITS = ((64, "long"), (32, "int"), (16, "short"), (8, "char"))
# Types a header declares; VAR, FUNC, DATASEC and DECL_TAG describe objects, not types.
_DECLARING_KINDS = frozenset({Kind.PTR, Kind.ARRAY, Kind.STRUCT, Kind.UNION, Kind.TYPEDEF, Kind.VOLATILE,
                              Kind.CONST, Kind.RESTRICT, Kind.FUNC_PROTO, Kind.TYPE_TAG})


def dump_c(btf: Btf, guard: str = "__VMLINUX_H__") -> str:
    """The header text for every named type of ``btf`` (and, for split BTF, what they need from the base)."""
    return _CWriter(btf).run(guard)


@dataclass
class _Names:
    """One C namespace: the first type to claim a name keeps it, later ones get ``name___N``."""

    taken: dict[str, int] = field(default_factory=dict)

    def claim(self, name: str) -> str:
        count = self.taken.get(name, 0) + 1
        self.taken[name] = count
        return name if count == 1 else f"{name}___{count}"


class _CWriter:
    def __init__(self, btf: Btf):
        self.btf = btf
        self.types = btf.types
        self.out: list[str] = []
        self.tags = _Names()  # struct, union and enum tags
        # Typedef names and enumerators; clang's own names are taken, so the kernel's
        # ``__builtin_va_list`` (x86's, 24 bytes) comes out as ``__builtin_va_list___2``.
        self.idents = _Names(dict.fromkeys(CLANG_BUILTIN_TYPEDEFS, 1))
        self.tag_of: dict[int, str] = {}
        self.ident_of: dict[int, str] = {}
        self.done: set[int] = set()
        self.emitting: set[int] = set()
        self.complete: set[int] = set()  # typedefs whose target is known complete
        self.declared: set[str] = set()  # forward declarations already written ("struct foo")
        self.visiting: set[int] = set()  # anonymous types being walked, against malformed loops
        self.inlined_enums: set[int] = set()
        self.enum_users = self._count_enum_users()

    def run(self, guard: str) -> str:
        types = self.types
        for tid in range(self.btf.start_id, len(types)):
            t = types[tid]
            kind = t.kind
            if kind in COMPOSITE_KINDS or kind == Kind.TYPEDEF:
                if t.name_off:
                    self.ensure(tid, strong=True)
            elif kind in ENUM_KINDS:
                if t.name_off or not self.enum_users.get(tid):
                    self._emit_enum(tid)
            elif kind == Kind.FWD:
                self._forward(tid)
        for tid in sorted(t for t in set(self.enum_users) - self.inlined_enums if t >= self.btf.start_id):
            self._emit_enum(tid)  # anonymous enums whose users were never emitted: keep their constants
        return PROLOGUE.format(guard=guard) + "".join(self.out) + EPILOGUE.format(guard=guard)

    def _count_enum_users(self) -> dict[int, int]:
        """How many declaring types use each anonymous enum: those are written inline, once."""
        users: dict[int, int] = {}
        types = self.types
        for t in types:
            if t.kind in _DECLARING_KINDS:
                for ref in type_refs(t):
                    r = types[ref]
                    if r.kind in ENUM_KINDS and not r.name_off:
                        users[ref] = users.get(ref, 0) + 1
        return users

    # -- ordering ----------------------------------------------------------------------------------

    def ensure(self, tid: int, strong: bool) -> None:
        """Make sure what a declaration using ``tid`` needs is already written.

        ``strong``: the use is by value, so structs and unions must be complete; through a pointer a
        forward declaration does.
        """
        t = self.types[tid]
        kind = t.kind
        if kind == Kind.PTR:
            self.ensure(t.type, False)
        elif kind == Kind.ARRAY:
            self.ensure(t.type, True)  # C wants complete element types, even behind a pointer
        elif kind in _QUALIFIERS or kind == Kind.TYPE_TAG:
            self.ensure(t.type, strong)
        elif kind == Kind.FUNC_PROTO:
            if tid in self.visiting:
                return
            self.visiting.add(tid)
            self.ensure(t.type, False)
            for p in t.params:
                self.ensure(p.type, False)
            self.visiting.discard(tid)
        elif kind in ENUM_KINDS:
            if t.name_off:
                self._emit_enum(tid)
        elif kind == Kind.FWD:
            self._forward(tid)
        elif kind in COMPOSITE_KINDS:
            self._ensure_composite(tid, t, strong)
        elif kind == Kind.TYPEDEF:
            self._ensure_typedef(tid, t, strong)

    def _ensure_typedef(self, tid: int, t: BtfType, strong: bool) -> None:
        if tid in self.done:
            if strong and tid not in self.complete:
                self.complete.add(tid)
                self.ensure(t.type, True)
            return
        if tid in self.emitting:
            # Met again while completing its own target (``struct s { s_t *next; }``): a typedef only
            # needs its target declared, so write it now and let the target's definition follow.
            self.ensure(t.type, False)
            self._write_typedef(tid, t)
            return
        self.emitting.add(tid)
        self.ensure(t.type, strong)
        self.emitting.discard(tid)
        if tid not in self.done:
            self._write_typedef(tid, t)
        if strong:
            self.complete.add(tid)

    def _write_typedef(self, tid: int, t: BtfType) -> None:
        self.done.add(tid)
        self.out.append(f"typedef {self.declare(t.type, self._ident(tid))};\n\n")

    def _ensure_composite(self, tid: int, t: BtfType, strong: bool) -> None:
        if not t.name_off:  # written inline: its members are what it needs
            if tid in self.visiting:
                return
            self.visiting.add(tid)
            for m in t.members:
                self.ensure(m.type, True)
            self.visiting.discard(tid)
        elif tid in self.done:
            return
        elif not strong or tid in self.emitting:
            self._forward(tid)
        else:
            self.emitting.add(tid)
            for m in t.members:
                self.ensure(m.type, True)
            self.out.append(f"{self._composite_body(tid, t, 0)};\n\n")
            self.emitting.discard(tid)
            self.done.add(tid)

    def _forward(self, tid: int) -> None:
        text = self._tag_ref(tid)
        if text not in self.declared:
            self.declared.add(text)
            self.out.append(f"{text};\n\n")

    def _emit_enum(self, tid: int) -> None:
        if tid in self.done:
            return
        self.done.add(tid)
        t = self.types[tid]
        if not t.values and not t.name_off:
            return  # an empty anonymous enum declares nothing
        self.out.append(f"{self._enum_body(tid, t, 0)};\n\n")

    # -- names -------------------------------------------------------------------------------------

    def _tag(self, tid: int) -> str:
        name = self.tag_of.get(tid)
        if name is None:
            t = self.types[tid]
            base = self.btf.name_of(t)
            name = base if t.kind == Kind.FWD else self.tags.claim(base)
            self.tag_of[tid] = name
        return name

    def _tag_ref(self, tid: int) -> str:
        t = self.types[tid]
        if t.kind == Kind.FWD:
            keyword = "union" if t.union else "struct"
        else:
            keyword = {Kind.STRUCT: "struct", Kind.UNION: "union"}.get(t.kind, "enum")
        return f"{keyword} {self._tag(tid)}"

    def _ident(self, tid: int) -> str:
        name = self.ident_of.get(tid)
        if name is None:
            name = self.idents.claim(self.btf.name_of(tid))
            self.ident_of[tid] = name
        return name

    # -- declarations ------------------------------------------------------------------------------

    def declare(self, tid: int, inner: str = "", indent: int = 0) -> str:
        """The C declaration of ``inner`` (a name, or "" for an abstract declarator) with type ``tid``."""
        quals: list[str] = []
        types = self.types
        for _ in range(len(types)):
            t = types[tid]
            kind = t.kind
            if kind in _QUALIFIERS:
                quals.append(_QUALIFIERS[kind])
            elif kind == Kind.TYPE_TAG:
                pass
            elif kind == Kind.PTR:
                inner = f"*{' '.join(quals)} {inner}" if quals else f"*{inner}"
                quals = []
            elif kind == Kind.ARRAY:
                inner = f"{_wrap(inner)}[{t.nelems}]"
            elif kind == Kind.FUNC_PROTO:
                inner = f"{_wrap(inner)}({self._params(t, indent)})"
                quals = []
            else:
                spec = self._specifier(tid, t, indent)
                if quals:
                    spec = f"{' '.join(dict.fromkeys(quals))} {spec}"
                return f"{spec} {inner}" if inner else spec
            tid = t.type
        raise BtfError(f"{self.btf.describe(tid)} is part of a reference loop", file=self.btf.file)

    def _params(self, t: BtfType, indent: int) -> str:
        """Parameter types only: a parameter name could shadow a typedef a later parameter uses."""
        if not t.params:
            return "void"
        last = len(t.params) - 1
        return ", ".join("..." if p.type == 0 and i == last else self.declare(p.type, "", indent)
                         for i, p in enumerate(t.params))

    def _specifier(self, tid: int, t: BtfType, indent: int) -> str:
        kind = t.kind
        if kind == Kind.UNKN:
            return "void"
        if kind == Kind.INT:
            return _int_name(self.btf.name_of(t), t)
        if kind == Kind.FLOAT:
            name = self.btf.name_of(t)
            return name if name in _C_FLOATS else _FLOAT_BY_SIZE.get(t.size, "double")
        if kind == Kind.TYPEDEF:
            return self._ident(tid)
        if kind == Kind.FWD or (kind in COMPOSITE_KINDS and t.name_off):
            return self._tag_ref(tid)
        if kind in COMPOSITE_KINDS:
            return self._composite_body(tid, t, indent)
        if kind in ENUM_KINDS:
            if t.name_off:
                return self._tag_ref(tid)
            if tid in self.inlined_enums:  # its constants are out already: name the integer it is
                base = _INT_BY_SIZE.get(t.size, "int")
                return base if t.signed else f"unsigned {base}"
            self.inlined_enums.add(tid)
            return self._enum_body(tid, t, indent)
        return "void"  # FUNC, VAR, DATASEC, DECL_TAG are not types a declaration can use

    def _enum_body(self, tid: int, t: BtfType, indent: int) -> str:
        pad = "\t" * (indent + 1)
        head = f"enum {self._tag(tid)} {{" if t.name_off else "enum {"
        suffix = ("LL" if t.signed else "ULL") if t.kind == Kind.ENUM64 else ""
        lines = [head]
        for v in t.values:
            name = self.idents.claim(self.btf.str_at(v.name_off))
            lines.append(f"{pad}{name} = {v.val}{suffix},")
        mode = _ENUM_MODES.get(t.size) if t.size != _natural_enum_size(t) else None
        lines.append("\t" * indent + "}" + (f" __attribute__((mode({mode})))" if mode else ""))
        return "\n".join(lines)

    def _composite_body(self, tid: int, t: BtfType, indent: int) -> str:
        btf = self.btf
        keyword = "struct" if t.kind == Kind.STRUCT else "union"
        head = f"{keyword} {self._tag(tid)} {{" if t.name_off else f"{keyword} {{"
        pad = "\t" * (indent + 1)
        packed = btf.is_packed(tid)
        lines = [head]
        cur = 0  # where clang would put the next member, in bits
        for m in btf.members(tid):
            name = _c_ident(m.name)
            if t.kind == Kind.STRUCT:
                if m.bitfield_size:
                    unit = btf.size_of(m.type) * 8
                    natural = cur
                    if not packed and cur // unit != (cur + m.bitfield_size - 1) // unit:
                        natural = _align_up(cur, unit)
                else:
                    natural = _align_up(cur, 8 if packed else btf.align_of(m.type) * 8)
                if natural < m.bit_offset:
                    lines += [f"{pad}{piece};" for piece in _padding(cur, m.bit_offset)]
            decl = self.declare(m.type, name, indent + 1)
            bits = f": {m.bitfield_size}" if m.bitfield_size else ""
            lines.append(f"{pad}{decl}{bits};")
            end = m.bit_offset + (m.bitfield_size or btf.size_of(m.type) * 8)
            cur = end if t.kind == Kind.STRUCT else max(cur, end)
        if t.kind == Kind.STRUCT:
            align = 8 if packed else btf.align_of(tid) * 8
            if _align_up(cur, align) < t.size * 8:
                lines += [f"{pad}{piece};" for piece in _padding(cur, t.size * 8)]
        lines.append("\t" * indent + "}" + (" __attribute__((packed))" if packed else ""))
        return "\n".join(lines)


def _natural_enum_size(t: BtfType) -> int:
    """The size C gives an enum with these values: int, else unsigned int, else 64 bits."""
    vals = [v.val for v in t.values]
    if all(-(1 << 31) <= v < (1 << 31) for v in vals) or all(0 <= v < (1 << 32) for v in vals):
        return 4
    return 8


def _wrap(inner: str) -> str:
    return f"({inner})" if inner.startswith("*") else inner


def _align_up(bits: int, align: int) -> int:
    return -(-bits // align) * align


def _padding(cur: int, target: int) -> list[str]:
    """Unnamed bitfields filling bits [cur, target), each inside one unit of its type so clang keeps it there."""
    pieces = []
    while cur < target:
        gap = target - cur
        if cur % 8:
            width, ctype = min(gap, 8 - cur % 8), "char"
        else:
            width, ctype = next(((u, c) for u, c in _PAD_UNITS if cur % u == 0 and gap >= u), (gap, "char"))
        pieces.append(f"{ctype}: {width}")
        cur += width
    return pieces


def _int_name(name: str, t: BtfType) -> str:
    """The INT's own name when it is C's (``long unsigned int``), else one clang knows for its size and sign."""
    if name and set(name.split()) <= _C_INT_WORDS:
        return name
    if t.encoding & IntEncoding.BOOL:
        return "_Bool"
    base = _INT_BY_SIZE.get(t.size, "long")
    return base if t.encoding & IntEncoding.SIGNED else f"unsigned {base}"


_IDENT = re.compile(r"[A-Za-z_]\w*")


def _c_ident(name: str) -> str:
    return name if not name or _IDENT.fullmatch(name) else re.sub(r"\W", "_", name)
