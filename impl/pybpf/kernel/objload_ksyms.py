"""Finding kernel things by name: BTF ids in vmlinux or a module's BTF, addresses in ``/proc/kallsyms``.

A loader asks these questions for kfunc calls, typed and typeless ``__ksym``
externs and BTF-based attach targets (fentry, lsm, tp_btf, iter...).  vmlinux
is searched first, then every module's BTF in the order the kernel lists
them, as libbpf does.  A match in a module comes with an open fd of that
module's BTF object: the kernel wants it in ``fd_array`` (kfuncs), in the
second slot of the ld_imm64 (typed ksyms) or as ``attach_btf_obj_fd``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pybpf.abi.kernel_btf import parsed
from pybpf.btf.graph import Btf
from pybpf.btf.load import VMLINUX_BTF
from pybpf.btf.parse import parse
from pybpf.btf.uapi import Kind
from pybpf.errors import KernelError
from pybpf.kernel.fd import Fd
from pybpf.kernel.ids import btf_get_fd_by_id, btf_ids
from pybpf.kernel.info import btf_data, btf_info

KALLSYMS = Path("/proc/kallsyms")


@dataclass(frozen=True)
class KernelType:
    """A type found in kernel BTF: its id there, and the module's BTF fd (None: vmlinux)."""

    name: str
    btf_id: int
    module: str | None = None
    btf_fd: Fd | None = None


@dataclass
class _ModuleBtf:
    name: str
    fd: Fd
    btf: Btf


class KernelBtf:
    """The running kernel's BTF, read when first needed; ``close()`` releases module BTF fds.

    ``vmlinux`` may be given (already parsed, or another kernel's for tests);
    module BTFs come from the kernel's BTF objects (``BPF_BTF_GET_NEXT_ID``).
    """

    def __init__(self, vmlinux: Btf | None = None, *, vmlinux_path: str | Path = VMLINUX_BTF,
                 modules: bool = True):
        self._vmlinux = vmlinux
        self._vmlinux_path = Path(vmlinux_path)
        self._want_modules = modules
        self._modules: list[_ModuleBtf] | None = None

    @property
    def vmlinux(self) -> Btf:
        if self._vmlinux is None:
            self._vmlinux = parsed(self._vmlinux_path)  # shared: loading object after object reads it once
        return self._vmlinux

    def modules(self) -> list[_ModuleBtf]:
        """Every loaded module's BTF, parsed on top of vmlinux's (read once)."""
        if self._modules is None:
            self._modules = list(self._read_modules()) if self._want_modules else []
        return self._modules

    def _read_modules(self) -> Iterator[_ModuleBtf]:
        for btf_id in btf_ids():
            try:
                fd = btf_get_fd_by_id(btf_id)
            except KernelError:
                continue  # freed between the two calls
            info = btf_info(fd)
            if not info.kernel_btf or info.name in ("", "vmlinux"):
                fd.close()
                continue
            yield _ModuleBtf(info.name, fd, parse(btf_data(fd), base=self.vmlinux, file=f"module {info.name}"))

    def find(self, name: str, kind: Kind) -> KernelType | None:
        """The first type named ``name`` of ``kind``: vmlinux first, then the modules."""
        tid = self.vmlinux.find(name, kind)
        if tid is not None:
            return KernelType(name, tid)
        for module in self.modules():
            for tid in module.btf.find_all(name, kind):
                if tid >= module.btf.start_id:
                    return KernelType(name, tid, module.name, module.fd)
        return None

    def btf_of(self, found: KernelType) -> Btf:
        """The BTF ``found`` lives in (to read the type it names)."""
        if found.module is None:
            return self.vmlinux
        return next(m.btf for m in self.modules() if m.name == found.module)

    def close(self) -> None:
        for module in self._modules or ():
            module.fd.close()
        self._modules = None

    def __enter__(self) -> KernelBtf:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def kallsyms_addresses(names: set[str], path: Path = KALLSYMS) -> dict[str, int]:
    """Addresses of several symbols in one pass over kallsyms (absent names are left out)."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError), path.open() as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] in names and parts[2] not in found:
                address = int(parts[0], 16)
                if address:
                    found[parts[2]] = address
    return found
