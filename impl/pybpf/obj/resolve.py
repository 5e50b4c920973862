"""Checking ``__ksym`` externs against the target kernel's BTF before anything is loaded.

libbpf fails a load when a non-weak kfunc or typed ksym is not in the kernel's
BTF ("extern (func ksym) 'x': not found in kernel or module BTFs"); with a
target BTF in hand the object layer says so at the call site instead.
Kernel-module BTF is not searched: a loader that wants module kfuncs passes
``target_btf=None`` and resolves them itself.
"""

from __future__ import annotations

from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.obj.errors import ObjectError
from pybpf.obj.model import ExternKind, Object, RelocKind


def _essential(name: str) -> str:
    """``bpf_foo___v2`` names the kernel's ``bpf_foo`` (libbpf's flavor convention)."""
    cut = name.find("___")
    return name if cut <= 0 else name[:cut]


def find_kernel_extern(target: Btf, name: str, kind: ExternKind) -> int | None:
    want = Kind.FUNC if kind is ExternKind.KFUNC else Kind.VAR
    return target.find(_essential(name), want)


def _first_use(obj: Object, name: str) -> str | None:
    for prog in obj.programs.values():
        for r in prog.relocs:
            if r.target == name and r.kind in (RelocKind.KFUNC_CALL, RelocKind.KSYM):
                return f"program '{prog.name}' (section '{prog.section}') insn {r.insn_idx}"
    return None


def check_externs(obj: Object, target: Btf) -> None:
    for ext in obj.externs.values():
        if ext.kind is ExternKind.KCONFIG or ext.weak or ext.typeless:
            continue
        if find_kernel_extern(target, ext.name, ext.kind) is None:
            what = "kfunc" if ext.kind is ExternKind.KFUNC else "ksym"
            raise ObjectError(f"unresolved {what} '{ext.name}': not in the target kernel's BTF", file=obj.path,
                              place=_first_use(obj, ext.name) or "section '.ksyms'")
