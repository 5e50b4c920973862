"""BPF ELF objects read the way libbpf reads them: programs, maps, externs, BTF, relocations, CO-RE.

``open_object(path)`` parses a clang-built object, links every entry program
with the subprograms it calls and leaves what only a loader can do (map fds,
kfunc ids, kernel addresses) as ``Reloc`` records; the shapes are in
``pybpf.obj.model``.  ``apply_core`` resolves CO-RE relocations against a
target BTF (the running kernel's by default).
"""

from __future__ import annotations

import os
from pathlib import Path

from pybpf.btf.graph import Btf
from pybpf.obj.core import apply_core
from pybpf.obj.elf import read_object
from pybpf.obj.errors import ObjectError
from pybpf.obj.model import (
    CoreRelo,
    CoreReloKind,
    CoreResult,
    Extern,
    ExternKind,
    FuncInfo,
    LineInfo,
    MapKind,
    MapSpec,
    Object,
    Pinning,
    Program,
    Reloc,
    RelocKind,
)
from pybpf.obj.resolve import check_externs


def open_object(path: str | os.PathLike[str], *, target_btf: Btf | None = None, kconfig: str | None = None) -> Object:
    """Read the BPF ELF object at ``path``.

    With ``target_btf`` every program's CO-RE relocations are applied against it
    (results in ``Program.core_results``) and every non-weak kfunc/ksym must exist
    in it.  ``kconfig`` is Kconfig text to use instead of the running kernel's.
    Bad input raises one ``ObjectError`` (an ``InputError``) naming the file, the
    section and the offset.
    """
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ObjectError(f"cannot read: {err.strerror or err}", file=file) from None
    obj = read_object(data, file, kconfig=kconfig)
    if target_btf is not None:
        check_externs(obj, target_btf)
        for prog in obj.programs.values():
            prog.core_results = apply_core(prog, obj.btf, target_btf)
    return obj


__all__ = [
    "CoreRelo",
    "CoreReloKind",
    "CoreResult",
    "Extern",
    "ExternKind",
    "FuncInfo",
    "LineInfo",
    "MapKind",
    "MapSpec",
    "Object",
    "ObjectError",
    "Pinning",
    "Program",
    "Reloc",
    "RelocKind",
    "apply_core",
    "open_object",
]
