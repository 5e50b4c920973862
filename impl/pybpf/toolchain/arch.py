"""Target architectures as the kernel spells them (``SRCARCH``) and their byte order.

``-D__TARGET_ARCH_<srcarch>`` selects the ``pt_regs`` layout in ``bpf_tracing.h``;
the byte order picks ``bpfel`` or ``bpfeb``.  Keys are what ``uname -m`` (or
Debian/Go naming) says.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from pybpf.errors import InputError


class Endian(StrEnum):
    LITTLE = "little"
    BIG = "big"


@dataclass(frozen=True, slots=True)
class TargetArch:
    srcarch: str
    endian: Endian


_LE, _BE = Endian.LITTLE, Endian.BIG

ARCHES = MappingProxyType({
    "x86_64": TargetArch("x86", _LE),
    "amd64": TargetArch("x86", _LE),
    "i386": TargetArch("x86", _LE),
    "i686": TargetArch("x86", _LE),
    "aarch64": TargetArch("arm64", _LE),
    "arm64": TargetArch("arm64", _LE),
    "arm": TargetArch("arm", _LE),
    "armv7l": TargetArch("arm", _LE),
    "s390x": TargetArch("s390", _BE),
    "riscv64": TargetArch("riscv", _LE),
    "ppc64le": TargetArch("powerpc", _LE),
    "ppc64": TargetArch("powerpc", _BE),
    "loongarch64": TargetArch("loongarch", _LE),
    "mips64": TargetArch("mips", _BE),
    "mips64el": TargetArch("mips", _LE),
})


def host_arch() -> str:
    return platform.machine()


def target_arch(name: str) -> TargetArch:
    """The kernel's spelling and byte order for ``name`` (``uname -m`` style)."""
    try:
        return ARCHES[name]
    except KeyError:
        known = ", ".join(sorted(ARCHES))
        raise InputError(f"unknown target architecture {name!r} (known: {known})") from None
