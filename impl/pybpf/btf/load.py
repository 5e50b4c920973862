"""Reading BTF from a path: a raw BTF file, or the ``.BTF`` section of an ELF object.

Module BTF under ``/sys/kernel/btf/`` is split BTF on top of vmlinux's; that
is where its base comes from unless the caller names one.  The full object
loader lives elsewhere; here only the ``.BTF`` section is taken out.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf
from pybpf.btf.parse import detect_byte_order, parse

SYSFS_BTF = Path("/sys/kernel/btf")
VMLINUX_BTF = SYSFS_BTF / "vmlinux"
ELF_MAGIC = b"\x7fELF"
BTF_SECTION = ".BTF"
# What pyelftools raises on malformed input (truncation is a ValueError, a bad table an IndexError...).
_ELF_ERRORS = (ELFError, ValueError, OSError, struct.error, IndexError, KeyError, UnicodeDecodeError, OverflowError,
               EOFError, AssertionError)


def default_base(path: str | Path) -> Path | None:
    """vmlinux's BTF for a module's ``/sys/kernel/btf/<module>``, None for anything else."""
    p = Path(path)
    if p.parent == SYSFS_BTF and p.name != VMLINUX_BTF.name:
        return VMLINUX_BTF
    return None


def read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise BtfError(f"cannot read: {err.strerror or err}", file=str(path)) from None


def btf_section(data: bytes, file: str | None = None) -> bytes:
    """The ``.BTF`` section of an ELF object's bytes."""
    try:
        elf = ELFFile(io.BytesIO(data))
        section = elf.get_section_by_name(BTF_SECTION)
        if section is None:
            raise BtfError(f"no {BTF_SECTION} section in this ELF object", file=file)
        if section["sh_offset"] + section["sh_size"] > len(data):  # pyelftools fails on huge values
            raise BtfError(f"section data ({section['sh_size']:#x} bytes at file offset {section['sh_offset']:#x}) "
                           "runs past the end of the file", file=file, place=f"section '{BTF_SECTION}'")
        return section.data()
    except _ELF_ERRORS as err:
        raise BtfError(f"not a readable ELF object: {err}", file=file) from None


def load(path: str | Path, *, base: Btf | str | Path | None = None) -> Btf:
    """The BTF in ``path``: raw BTF (either byte order) or an ELF object's ``.BTF`` section.

    ``base`` (a ``Btf`` or a path) makes it split BTF; see ``default_base`` for module files.
    """
    file = str(path)
    data = read_bytes(path)
    if base is not None and not isinstance(base, Btf):
        base = load(base)
    if detect_byte_order(data) is None:
        if data[:4] != ELF_MAGIC:
            raise BtfError("neither raw BTF (magic 0xeb9f) nor an ELF object", file=file)
        data = btf_section(data, file)
    return parse(data, base=base, file=file)
