"""The object reader's member of pybpf's exception family, and how it names places."""

from __future__ import annotations

from pybpf.errors import InputError


class ObjectError(InputError):
    """A BPF ELF object that cannot be read the way libbpf reads it.

    ``place`` is ``section 'xdp' offset 0x28`` (or ``ELF header offset 0x12``);
    the text reads ``obj.o:section 'xdp' offset 0x28: <what is wrong>``, the family's ``file:place:``.
    """


def at(section: str, offset: int = 0) -> str:
    """The place ``section '<name>' offset 0x<off>``."""
    return f"section '{section}' offset {offset:#x}"


HEADER = "ELF header"


def in_header(offset: int) -> str:
    return f"{HEADER} offset {offset:#x}"
