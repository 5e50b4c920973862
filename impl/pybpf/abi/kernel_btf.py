"""Kernel BTF for kfuncs: the live vmlinux's when it can be read, else the bundled 6.18 subset.

A kfunc call names its FUNC by id in kernel BTF (``imm``), and the verifier
reads the prototype there.  pybpf judges programs on machines without
``/sys/kernel/btf/vmlinux`` too, so a subset cut from 6.18's BTF by
``gen_kfuncs_btf`` ships with it (``kfuncs.btf``).  Type ids differ between the
two: whoever resolves a kfunc call (``harness.verify``) takes the id from the
same ``Btf`` the verifier is given.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pybpf.btf import Btf, BtfError, Kind, load

VMLINUX = Path("/sys/kernel/btf/vmlinux")
BUNDLE = Path(__file__).with_name("kfuncs.btf")


@functools.cache
def parsed(path: Path) -> Btf:
    """The BTF file at ``path``, parsed once per process (vmlinux's takes most of a second)."""
    return load(path)


def kernel_btf(*, live: bool = True) -> Btf:
    """The live vmlinux BTF if readable (and ``live``), else the bundled kfunc subset (loaded once each)."""
    if live:
        try:
            return parsed(VMLINUX)
        except BtfError:
            pass
    return parsed(BUNDLE)


def kfunc_id(btf: Btf, name: str) -> int | None:
    """The FUNC id of kfunc ``name`` in ``btf``, None when it has none."""
    return btf.find(name, Kind.FUNC)


__all__ = ["BUNDLE", "VMLINUX", "kernel_btf", "kfunc_id"]
