"""Generate ``kfuncs.btf``: the part of Linux 6.18's vmlinux BTF that pybpf's verifier needs for kfuncs.

The verifier reads a kfunc's prototype (parameter names carry the ``__k``,
``__ign``, ``__alloc``... suffixes) and the kernel's special structs from
kernel BTF.  Where ``/sys/kernel/btf/vmlinux`` cannot be read (another OS, a
container without sysfs), ``pybpf.abi.kernel_btf`` falls back to this bundle.

It keeps, renumbered from 1 in the order they are first reached:

* the FUNC of every kfunc of every ABI profile that the source BTF has, with
  its FUNC_PROTO and every type reachable from it;
* the structs named in ``EXTRA_STRUCTS`` (``bpf_spin_lock``, the graph roots and
  nodes, ``bpf_refcount``, ``bpf_timer``) and what they reach;
* the structs of ``OPAQUE_STRUCTS`` only as declarations (FWD), not what they reach.

Run it on a machine with 6.18's BTF to refresh the bundle::

    python -m pybpf.abi.gen_kfuncs_btf [--from /sys/kernel/btf/vmlinux] [--out impl/pybpf/abi/kfuncs.btf]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from pybpf.abi.profiles import PROFILES
from pybpf.btf import Btf, Kind, load, write
from pybpf.btf.types import COMPOSITE_KINDS, ENUM_KINDS, BtfType, Fwd, type_refs

EXTRA_STRUCTS = ("bpf_spin_lock", "bpf_list_head", "bpf_list_node", "bpf_rb_root", "bpf_rb_node", "bpf_refcount",
                 "bpf_timer")
# kernel objects a kfunc takes by pointer and pybpf never looks into without the live BTF: kept as a
# declaration (FWD), which keeps the bundle small (task_struct alone reaches most of vmlinux)
OPAQUE_STRUCTS = ("task_struct",)
BUNDLE = Path(__file__).with_name("kfuncs.btf")
SOURCE = Path("/sys/kernel/btf/vmlinux")


def kfunc_names() -> list[str]:
    """Every kfunc name of every profile, each once, in table order."""
    names: list[str] = []
    for p in PROFILES.values():
        names += [k.name for k in p.kfuncs if k.name not in names]
    return names


def _roots(src: Btf) -> list[int]:
    roots = [tid for name in kfunc_names() if (tid := src.find(name, Kind.FUNC)) is not None]
    roots += [tid for name in EXTRA_STRUCTS if (tid := src.find(name, Kind.STRUCT)) is not None]
    return roots


def _closure(src: Btf, roots: list[int]) -> list[int]:
    """The ids reachable from ``roots`` (depth first, each once, void excluded), in discovery order."""
    order: list[int] = []
    seen = {0}
    stack = list(reversed(roots))
    while stack:
        tid = stack.pop()
        if tid in seen:
            continue
        seen.add(tid)
        order.append(tid)
        if _opaque(src, tid):
            continue
        stack.extend(reversed([r for r in type_refs(src.types[tid]) if r not in seen]))
    return order


def _renamed(t: BtfType, src: Btf, dst: Btf, ids: dict[int, int]) -> BtfType:
    """``t`` with its names re-interned in ``dst`` and its type ids mapped through ``ids``."""
    def name(off: int) -> int:
        return dst.add_string(src.str_at(off)) if off else 0

    changes: dict[str, object] = {"name_off": name(t.name_off)}
    if hasattr(t, "type"):
        changes["type"] = ids[t.type]
    if t.kind == Kind.ARRAY:
        changes["index_type"] = ids[t.index_type]
    elif t.kind in COMPOSITE_KINDS:
        changes["members"] = tuple(dataclasses.replace(m, name_off=name(m.name_off), type=ids[m.type])
                                   for m in t.members)
    elif t.kind == Kind.FUNC_PROTO:
        changes["params"] = tuple(dataclasses.replace(p, name_off=name(p.name_off), type=ids[p.type])
                                  for p in t.params)
    elif t.kind in ENUM_KINDS:
        changes["values"] = tuple(dataclasses.replace(v, name_off=name(v.name_off)) for v in t.values)
    elif t.kind == Kind.DATASEC:
        changes["vars"] = tuple(dataclasses.replace(v, type=ids[v.type]) for v in t.vars)
    return dataclasses.replace(t, **changes)


def _opaque(src: Btf, tid: int) -> bool:
    t = src.types[tid]
    return t.kind == Kind.STRUCT and src.name_of(t) in OPAQUE_STRUCTS


def subset(src: Btf) -> Btf:
    """The kfunc subset of ``src`` as a new, self-contained BTF."""
    keep = _closure(src, _roots(src))
    ids = {0: 0} | {old: new for new, old in enumerate(keep, start=1)}
    dst = Btf()
    for old in keep:
        if _opaque(src, old):
            dst.add_type(Fwd(dst.add_string(src.name_of(src.types[old]))))
            continue
        dst.add_type(_renamed(src.types[old], src, dst, ids))
    return dst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="source", default=str(SOURCE), help="the vmlinux BTF to cut from")
    ap.add_argument("--out", default=str(BUNDLE), help="where to write the bundle")
    args = ap.parse_args(argv)
    out = subset(load(args.source))
    Path(args.out).write_bytes(write(out))
    print(f"{args.out}: {len(out.types) - 1} types", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
