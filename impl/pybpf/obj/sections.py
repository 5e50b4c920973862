"""What a program section name means: matching ``SEC()`` names against ``secdef.SECTION_DEFS``."""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.abi.uapi import ProgFlags
from pybpf.obj.secdef import SECTION_DEFS, SecDef, SecFlag

NO_AUTOLOAD_PREFIX = "?"


@dataclass(frozen=True)
class SectionInfo:
    """A section name decoded: the row it matched and what it says about the program."""

    name: str  # without the '?' prefix
    secdef: SecDef
    autoload: bool
    attach_to: str | None

    @property
    def prog_type(self) -> int:
        return int(self.secdef.prog_type)

    @property
    def expected_attach_type(self) -> int | None:
        at = self.secdef.attach_type
        return None if at is None else int(at)

    @property
    def sleepable(self) -> bool:
        return SecFlag.SLEEPABLE in self.secdef.flags

    @property
    def prog_flags(self) -> int:
        flags = 0
        if self.sleepable:
            flags |= ProgFlags.SLEEPABLE
        if SecFlag.XDP_FRAGS in self.secdef.flags:
            flags |= ProgFlags.XDP_HAS_FRAGS
        return int(flags)


def matches(pattern: str, name: str) -> bool:
    """libbpf's rule: ``x/`` needs the prefix, ``x+`` is ``x`` or ``x/...``, anything else is exact."""
    if pattern.endswith("/"):
        return name.startswith(pattern)
    if pattern.endswith("+"):
        stem = pattern[:-1]
        return name == stem or name.startswith(stem + "/")
    return name == pattern


def find_secdef(name: str) -> SecDef | None:
    """The first row of the table that ``name`` (without ``?``) matches."""
    for row in SECTION_DEFS:
        if matches(row.pattern, name):
            return row
    return None


def section_info(section: str) -> SectionInfo | None:
    """Decode a program section's name; None when no row matches it."""
    autoload = not section.startswith(NO_AUTOLOAD_PREFIX)
    name = section.removeprefix(NO_AUTOLOAD_PREFIX)
    row = find_secdef(name)
    if row is None:
        return None
    attach_to = None
    if row.takes_target and "/" in name:
        attach_to = name.split("/", 1)[1] or None
    return SectionInfo(name, row, autoload, attach_to)
