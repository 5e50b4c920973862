"""The differential corpus: programs in the conformance asm syntax, grouped by area in ``corpus/*.s``.

A program starts with ``## name: <name>`` and may set ``## prog_type: <ProgType name>``
(default socket_filter), ``## maps: <type>:<key_size>:<value_size>:<max_entries>[,...]``
(MapType names; ``lddw %rN, <i>, map_fd`` refers to the i-th) and ``## level2``
(its full level-2 log is recorded and compared too) and ``## heavy``
(pybpf judges it without a log, for speed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pybpf.abi.uapi import MapType, ProgType
from pybpf.isa import assemble
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Pseudo
from pybpf.verifier import MapDesc

CORPUS = Path(__file__).parent / "corpus"
RECORDING = CORPUS / "recorded.json"


@dataclass(frozen=True)
class Program:
    name: str
    area: str
    prog_type: int
    maps: tuple[MapDesc, ...]
    insns: tuple[Insn, ...]
    level2: bool
    heavy: bool = False  # pybpf runs it without a log (a million instructions of level-1 log is slow)


def _maps(text: str) -> tuple[MapDesc, ...]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, ks, vs, n = part.split(":")
        out.append(MapDesc(MapType[kind.upper()], int(ks), int(vs), int(n)))
    return tuple(out)


def load_corpus() -> list[Program]:
    progs = []
    for path in sorted(CORPUS.glob("*.s")):
        blocks: list[tuple[dict[str, str], list[str], int]] = []
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith("## name:"):
                blocks.append(({"name": line.split(":", 1)[1].strip()}, [], lineno + 1))
            elif line.startswith("##") and blocks:
                key, _, val = line[2:].partition(":")
                blocks[-1][0][key.strip()] = val.strip()
            elif blocks:
                blocks[-1][1].append(line)
        for meta, lines, first in blocks:
            insns = assemble("\n".join(lines), file=str(path), first_line=first)
            progs.append(Program(meta["name"], path.stem, ProgType[meta.get("prog_type", "socket_filter").upper()],
                                 _maps(meta.get("maps", "")), tuple(insns), "level2" in meta,
                                 "heavy" in meta))
    names = [p.name for p in progs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate program names in the corpus: {sorted(dup)}")
    return progs


def with_map_fds(insns: tuple[Insn, ...], fds: list[int]) -> list[Insn]:
    """The program as the kernel takes it: map indices replaced by the maps' fds."""
    out = list(insns)
    pc = 0
    while pc < len(out):
        ins = out[pc]
        if ins.code == 0x18:
            if ins.src in (Pseudo.MAP_FD, Pseudo.MAP_VALUE) and 0 <= ins.imm < len(fds):
                out[pc] = Insn(ins.code, ins.dst, ins.src, ins.off, fds[ins.imm])
            pc += 2
        else:
            pc += 1
    return out


def load_recording() -> dict[str, dict]:
    return json.loads(RECORDING.read_text()) if RECORDING.exists() else {}
