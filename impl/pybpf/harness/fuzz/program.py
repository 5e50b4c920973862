"""A generated program with what it needs to be judged and run, and its text in the corpus format.

The text is the differential corpus's (``tests/verifier/corpus/*.s``): ``## key: value``
header lines, then the program in the conformance asm syntax; map references are
``lddw %rN, <map index>, map_fd``.  Regression cases add the kernel's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybpf.abi.uapi import MapType, ProgType
from pybpf.errors import InputError
from pybpf.harness.fuzz.inputs import InputRecipe
from pybpf.isa import assemble, to_conformance_asm
from pybpf.isa.insn import Insn
from pybpf.verifier import MapDesc


@dataclass(frozen=True)
class FuzzProgram:
    name: str
    prog_type: int
    maps: tuple[MapDesc, ...]
    insns: tuple[Insn, ...]  # ld_imm64 map_fd carries the map's index in ``maps``
    recipe: InputRecipe = field(default_factory=InputRecipe)
    features: tuple[str, ...] = ()  # the generator's sections, in program order

    def with_insns(self, insns: list[Insn] | tuple[Insn, ...]) -> FuzzProgram:
        return FuzzProgram(self.name, self.prog_type, self.maps, tuple(insns), self.recipe, self.features)


def maps_text(maps: tuple[MapDesc, ...]) -> str:
    return ",".join(f"{MapType(m.map_type).name.lower()}:{m.key_size}:{m.value_size}:{m.max_entries}" for m in maps)


def parse_maps(text: str, *, file: str | None = None, line: int = 0) -> tuple[MapDesc, ...]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        fields = part.split(":")
        if len(fields) != 4 or fields[0].upper() not in MapType.__members__ or not all(
                f.isdigit() for f in fields[1:]):
            raise InputError(f"bad map {part!r} (want <type>:<key_size>:<value_size>:<max_entries>)",
                             file=file, place=f"line {line}")
        out.append(MapDesc(MapType[fields[0].upper()], int(fields[1]), int(fields[2]), int(fields[3])))
    return tuple(out)


def to_text(prog: FuzzProgram, meta: dict[str, str] | None = None) -> str:
    """The program as a corpus block; ``meta`` adds header lines (a verdict, a note)."""
    lines = [f"## name: {prog.name}", f"## prog_type: {ProgType(prog.prog_type).name.lower()}"]
    if prog.maps:
        lines.append(f"## maps: {maps_text(prog.maps)}")
    if prog.features:
        lines.append(f"## features: {' '.join(prog.features)}")
    lines += [f"## {k}: {v}" for k, v in (meta or {}).items()]
    return "\n".join([*lines, *to_conformance_asm(prog.insns)]) + "\n"


@dataclass(frozen=True)
class Case:
    """One block of a corpus file: the program and its header lines."""

    program: FuzzProgram
    meta: dict[str, str]
    file: str
    line: int


def parse_blocks(text: str, *, file: str) -> list[Case]:
    """Every ``## name:`` block of ``text``; bad input raises InputError naming the file and line."""
    blocks: list[tuple[dict[str, str], list[str], int]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("## name:"):
            blocks.append(({"name": line.split(":", 1)[1].strip()}, [], lineno))
        elif line.startswith("##"):
            if not blocks:
                raise InputError("a header line before the first '## name:'", file=file, place=f"line {lineno}")
            key, _, val = line[2:].partition(":")
            blocks[-1][0][key.strip()] = val.strip()
        elif blocks:
            blocks[-1][1].append(line)
        elif line.strip():
            raise InputError("an instruction before the first '## name:'", file=file, place=f"line {lineno}")
    cases = []
    for meta, lines, first in blocks:
        kind = meta.get("prog_type", "socket_filter").upper()
        if kind not in ProgType.__members__:
            raise InputError(f"unknown prog_type {kind.lower()!r}", file=file, place=f"line {first}")
        insns = assemble("\n".join(lines), file=file, first_line=first + len(meta))
        prog = FuzzProgram(meta["name"], ProgType[kind], parse_maps(meta.get("maps", ""), file=file, line=first),
                           tuple(insns), features=tuple(meta.get("features", "").split()))
        cases.append(Case(prog, meta, file, first))
    return cases
