"""Finishing a program for ``BPF_PROG_LOAD``: map fds, kfunc and ksym ids, func/line info records.

``open_object`` leaves in each ``Program.relocs`` what only a loader can
know (see ``pybpf.obj.model``).  Here externs are looked up in the running
kernel once per object (``resolve_externs``), then each program's
instructions are patched on a copy (``relocate``).  A strong extern the
kernel lacks fails the object; a weak one becomes 0 (a call to it a call of
kfunc id 0, which the verifier accepts only where it is dead code), as libbpf does.
"""

from __future__ import annotations

import errno as errnos
import struct
from dataclasses import dataclass, field, replace
from typing import SupportsIndex

from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.errors import KernelError
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import CallSrc, Pseudo
from pybpf.kernel.objload_ksyms import KernelBtf, KernelType, kallsyms_addresses
from pybpf.obj.core import types_compat
from pybpf.obj.model import Extern, ExternKind, FuncInfo, LineInfo, Program, RelocKind

FUNC_INFO = struct.Struct("<II")  # struct bpf_func_info: insn_off, type_id
LINE_INFO = struct.Struct("<IIII")  # struct bpf_line_info: insn_off, file_name_off, line_off, line_col


@dataclass(frozen=True)
class ResolvedExtern:
    """What an extern turned out to be in the running kernel.

    ``found`` for kfuncs and typed ksyms, ``address`` for typeless ksyms; a
    weak extern the kernel lacks has neither.
    """

    extern: Extern
    found: KernelType | None = None
    address: int | None = None


def essential_name(name: str) -> str:
    """``bpf_foo___v2`` names the kernel's ``bpf_foo`` (libbpf's flavor suffix)."""
    cut = name.find("___")
    return name if cut <= 0 else name[:cut]


def resolve_externs(externs: dict[str, Extern], kernel: KernelBtf, obj_btf: Btf | None) -> dict[str, ResolvedExtern]:
    """Look up every kfunc and ksym extern (KCONFIG ones were resolved when the object was opened).

    As libbpf does before loading any program, a strong extern the kernel
    lacks (ESRCH) or one whose type differs from the kernel's (EINVAL) fails
    the whole object: KernelError.
    """
    typeless = {essential_name(e.name) for e in externs.values() if e.kind is ExternKind.KSYM and e.typeless}
    addresses = kallsyms_addresses(typeless) if typeless else {}
    out: dict[str, ResolvedExtern] = {}
    for name, ext in externs.items():
        if ext.kind is ExternKind.KSYM and ext.typeless:
            address = addresses.get(essential_name(name))
            if address is None and not ext.weak:
                raise KernelError(f"extern (ksym) '{name}': not found in /proc/kallsyms", errno=errnos.ESRCH)
            out[name] = ResolvedExtern(ext, address=address)
        elif ext.kind in (ExternKind.KFUNC, ExternKind.KSYM):
            out[name] = ResolvedExtern(ext, found=_typed(ext, kernel, obj_btf))
    return out


def _typed(ext: Extern, kernel: KernelBtf, obj_btf: Btf | None) -> KernelType | None:
    """A kfunc's FUNC or a typed ksym's VAR in kernel BTF, its type checked against the object's declaration."""
    is_func = ext.kind is ExternKind.KFUNC
    what = "func ksym" if is_func else "var ksym"
    found = kernel.find(essential_name(ext.name), Kind.FUNC if is_func else Kind.VAR)
    if found is None:
        if ext.weak:
            return None
        raise KernelError(f"extern ({what}) '{ext.name}': not found in kernel or module BTFs", errno=errnos.ESRCH)
    if obj_btf is None or not ext.type_id:
        return found
    kernel_btf = kernel.btf_of(found)
    kernel_type = kernel_btf.types[found.btf_id].type  # the FUNC's FUNC_PROTO, the VAR's type
    if not types_compat(obj_btf, ext.type_id, kernel_btf, kernel_type):
        raise KernelError(f"extern ({what}) '{ext.name}': type [{ext.type_id}] incompatible with kernel "
                          f"[{kernel_type}]", errno=errnos.EINVAL)
    return found


@dataclass
class FdArray:
    """``fd_array`` of one ``BPF_PROG_LOAD``: module BTF fds that kfunc calls name by index (``insn.off``).

    Index 0 is never handed out: ``off`` 0 means vmlinux.
    """

    fds: list[SupportsIndex] = field(default_factory=lambda: [0])

    def index_of(self, fd: SupportsIndex) -> int:
        for i, known in enumerate(self.fds[1:], start=1):
            if known is fd:
                return i
        self.fds.append(fd)
        return len(self.fds) - 1

    def __bool__(self) -> bool:
        return len(self.fds) > 1


def _s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _set_imm64(insns: list[Insn], at: int, value: int, src: int) -> None:
    insns[at] = replace(insns[at], src=src, imm=_s32(value))
    insns[at + 1] = replace(insns[at + 1], imm=_s32(value >> 32))


def relocate(program: Program, map_fds: dict[str, SupportsIndex], externs: dict[str, ResolvedExtern],
             fd_array: FdArray, *, kconfig_map: str | None = None) -> list[Insn]:
    """``program.insns`` with every load-time relocation done; raises KernelError (ESRCH) for a missing one."""
    insns = list(program.insns)
    for reloc in program.relocs:
        at, kind = reloc.insn_idx, reloc.kind
        if not 0 <= at < len(insns) or (kind is not RelocKind.KFUNC_CALL and at + 1 >= len(insns)):
            raise KernelError(f"relocation {kind.value} '{reloc.target}' at insn {at} is outside the program",
                              errno=errnos.EINVAL)
        if kind is RelocKind.MAP_FD:
            insns[at] = replace(insns[at], src=Pseudo.MAP_FD, imm=int(_map_fd(map_fds, reloc.target)))
        elif kind is RelocKind.MAP_VALUE:
            insns[at] = replace(insns[at], src=Pseudo.MAP_VALUE, imm=int(_map_fd(map_fds, reloc.target)))
        elif kind is RelocKind.KCONFIG:
            if kconfig_map is None:
                raise KernelError(f"kconfig extern '{reloc.target}' but the object has no KCONFIG map",
                                  errno=errnos.EINVAL)
            insns[at] = replace(insns[at], src=Pseudo.MAP_VALUE, imm=int(_map_fd(map_fds, kconfig_map)))
            insns[at + 1] = replace(insns[at + 1], imm=reloc.offset)
        elif kind is RelocKind.KFUNC_CALL:
            _kfunc(insns, at, _extern(externs, reloc.target), fd_array)
        elif kind is RelocKind.KSYM:
            _ksym(insns, at, _extern(externs, reloc.target))
    return insns


def _map_fd(map_fds: dict[str, SupportsIndex], name: str) -> SupportsIndex:
    try:
        return map_fds[name]
    except KeyError:
        raise KernelError(f"relocation against map '{name}', which was not created", errno=errnos.ENOENT) from None


def _extern(externs: dict[str, ResolvedExtern], name: str) -> ResolvedExtern:
    resolved = externs.get(name)
    if resolved is None:
        raise KernelError(f"relocation against unknown extern '{name}'", errno=errnos.ESRCH)
    return resolved


def _kfunc(insns: list[Insn], at: int, ext: ResolvedExtern, fd_array: FdArray) -> None:
    if ext.found is None:
        # weak and absent: a kfunc call to id 0, which the kernel accepts only as dead code (libbpf's encoding)
        insns[at] = replace(insns[at], src=CallSrc.KFUNC, off=0, imm=0)
        return
    off = 0 if ext.found.btf_fd is None else fd_array.index_of(ext.found.btf_fd)
    insns[at] = replace(insns[at], src=CallSrc.KFUNC, off=off, imm=ext.found.btf_id)


def _ksym(insns: list[Insn], at: int, ext: ResolvedExtern) -> None:
    if ext.extern.typeless:
        _set_imm64(insns, at, ext.address or 0, Pseudo.NONE)
    elif ext.found is None:  # weak and absent: the pointer is NULL
        _set_imm64(insns, at, 0, Pseudo.NONE)
    else:
        btf_fd = 0 if ext.found.btf_fd is None else int(ext.found.btf_fd)
        insns[at] = replace(insns[at], src=Pseudo.BTF_ID, imm=ext.found.btf_id)
        insns[at + 1] = replace(insns[at + 1], imm=btf_fd)


def func_info_bytes(records: list[FuncInfo]) -> bytes:
    return b"".join(FUNC_INFO.pack(r.insn_off, r.type_id) for r in records)


def line_info_bytes(records: list[LineInfo]) -> bytes:
    return b"".join(LINE_INFO.pack(r.insn_off, r.file_name_off, r.line_off, r.line_col) for r in records)
