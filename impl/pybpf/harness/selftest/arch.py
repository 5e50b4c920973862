"""Architecture names of the selftest runner: one canonical spelling, the kernel's and the aliases.

The runner names an architecture as ``uname -m`` does on Linux (``x86_64``,
``aarch64``...), which is also the suffix of the kernel's ``DENYLIST.<arch>``
files.  ``__arch("X86_64")`` in a test is the kernel's own spelling
(test_loader.c's ``test_arch=`` values); ``arm64`` is accepted wherever a user
names an architecture.
"""

from __future__ import annotations

from types import MappingProxyType

from pybpf.errors import InputError

# canonical name -> the value test_loader.c accepts in ``comment:test_arch=``
KERNEL_SPELLING = MappingProxyType({
    "x86_64": "X86_64",
    "aarch64": "ARM64",
    "riscv64": "RISCV64",
    "s390x": "s390x",
    "loongarch64": "LOONGARCH",
})

ALIASES = MappingProxyType({
    "amd64": "x86_64",
    "arm64": "aarch64",
    "loongarch": "loongarch64",
})

ARCHES = tuple(KERNEL_SPELLING)
_FROM_KERNEL = MappingProxyType({v: k for k, v in KERNEL_SPELLING.items()})


def canonical(name: str) -> str:
    """``arm64`` -> ``aarch64``; an unknown name is an InputError listing the known ones."""
    name = name.strip()
    name = ALIASES.get(name, name)
    if name not in KERNEL_SPELLING:
        raise InputError(f"unknown architecture {name!r} (known: {', '.join(ARCHES)}; also {', '.join(ALIASES)})")
    return name


def from_kernel(spelling: str) -> str | None:
    """The canonical name for a ``test_arch=`` value (``X86_64`` -> ``x86_64``), None if the kernel knows none."""
    return _FROM_KERNEL.get(spelling)


def suffixes(arch: str) -> tuple[str, ...]:
    """The ``DENYLIST.<suffix>`` spellings that mean ``arch``: the canonical one first, then its aliases."""
    return (arch, *(alias for alias, name in ALIASES.items() if name == arch))
