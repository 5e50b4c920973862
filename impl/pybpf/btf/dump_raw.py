"""The ``raw`` dump: one line per type (and one per member/value/param/var), as ``bpftool btf dump`` prints.

The text is bpftool's, field for field, so the two can be diffed.
"""

from __future__ import annotations

from collections.abc import Iterator

from pybpf.btf.graph import Btf
from pybpf.btf.types import BtfType
from pybpf.btf.uapi import Kind

_INT_ENCODINGS = {0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL"}
_LINKAGES = {0: "static", 1: "global", 2: "extern"}


def dump_raw(btf: Btf) -> str:
    """The whole dump: every own type (a split BTF's base is not repeated), each line ending in a newline."""
    return "".join(f"{line}\n" for line in iter_raw(btf))


def iter_raw(btf: Btf) -> Iterator[str]:
    """One string per type; types with members/values/params/vars span several tab-indented lines."""
    types = btf.types
    for tid in range(btf.start_id, len(types)):
        yield format_type(btf, tid, types[tid])


def format_type(btf: Btf, tid: int, t: BtfType) -> str:
    def name(off: int) -> str:
        return btf.str_at(off) if off else "(anon)"

    kind = t.kind
    head = f"[{tid}] {kind.name} '{name(t.name_off)}'"
    if kind == Kind.INT:
        enc = _INT_ENCODINGS.get(int(t.encoding), "UNKN")
        return f"{head} size={t.size} bits_offset={t.offset} nr_bits={t.bits} encoding={enc}"
    if kind in (Kind.PTR, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPEDEF, Kind.TYPE_TAG):
        return f"{head} type_id={t.type}"
    if kind == Kind.ARRAY:
        return f"{head} type_id={t.type} index_type_id={t.index_type} nr_elems={t.nelems}"
    if kind in (Kind.STRUCT, Kind.UNION):
        lines = [f"{head} size={t.size} vlen={len(t.members)}"]
        for m in t.members:
            bits = f" bitfield_size={m.bitfield_size}" if m.bitfield_size else ""
            lines.append(f"\t'{name(m.name_off)}' type_id={m.type} bits_offset={m.bit_offset}{bits}")
        return "\n".join(lines)
    if kind in (Kind.ENUM, Kind.ENUM64):
        lines = [f"{head} encoding={'SIGNED' if t.signed else 'UNSIGNED'} size={t.size} vlen={len(t.values)}"]
        suffix = ("LL" if t.signed else "ULL") if kind == Kind.ENUM64 else ""
        lines += [f"\t'{name(v.name_off)}' val={v.val}{suffix}" for v in t.values]
        return "\n".join(lines)
    if kind == Kind.FWD:
        return f"{head} fwd_kind={'union' if t.union else 'struct'}"
    if kind == Kind.FUNC:
        return f"{head} type_id={t.type} linkage={_LINKAGES.get(int(t.linkage), '(unknown)')}"
    if kind == Kind.FUNC_PROTO:
        lines = [f"{head} ret_type_id={t.type} vlen={len(t.params)}"]
        lines += [f"\t'{name(p.name_off)}' type_id={p.type}" for p in t.params]
        return "\n".join(lines)
    if kind == Kind.VAR:
        return f"{head} type_id={t.type}, linkage={_LINKAGES.get(int(t.linkage), '(unknown)')}"
    if kind == Kind.DATASEC:
        lines = [f"{head} size={t.size} vlen={len(t.vars)}"]
        for v in t.vars:
            var = btf.types[v.type]
            lines.append(f"\ttype_id={v.type} offset={v.offset} size={v.size} ({var.kind.name} '{name(var.name_off)}')")
        return "\n".join(lines)
    if kind == Kind.FLOAT:
        return f"{head} size={t.size}"
    if kind == Kind.DECL_TAG:
        return f"{head} type_id={t.type} component_idx={t.component_idx}"
    return head
