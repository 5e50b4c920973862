"""The differential corpus: programs in the conformance asm syntax, grouped by area in ``corpus/*.s``.

A program starts with ``## name: <name>`` and may set ``## prog_type: <ProgType name>``
(default socket_filter), ``## maps: <type>:<key_size>:<value_size>:<max_entries>[,...]``
(MapType names; ``lddw %rN, <i>, map_fd`` refers to the i-th) and ``## level2``
(its full level-2 log is recorded and compared too), ``## heavy``
(pybpf judges it without a log, for speed) and ``## prog_flags: sleepable``.
The parser is ``pybpf.harness.asmprog`` (``pybpf verify`` reads the same files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pybpf.harness.asmprog import read_asm_programs, with_map_fds
from pybpf.isa.insn import Insn
from pybpf.verifier import MapDesc

CORPUS = Path(__file__).parent / "corpus"
RECORDING = CORPUS / "recorded.json"

__all__ = ["CORPUS", "RECORDING", "Program", "load_corpus", "load_recording", "with_map_fds"]


@dataclass(frozen=True)
class Program:
    name: str
    area: str
    prog_type: int
    maps: tuple[MapDesc, ...]
    insns: tuple[Insn, ...]
    level2: bool
    heavy: bool = False  # pybpf runs it without a log (a million instructions of level-1 log is slow)
    prog_flags: int = 0
    func_info: bool = False  # loaded with BTF func_info (``## func_info``)


def load_corpus() -> list[Program]:
    progs = [Program(a.name, path.stem, a.prog_type, a.maps, a.insns, a.level2, a.heavy, a.prog_flags,
                     a.func_info)
             for path in sorted(CORPUS.glob("*.s")) for a in read_asm_programs(path)]
    names = [p.name for p in progs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate program names in the corpus: {sorted(dup)}")
    return progs


def load_recording() -> dict[str, dict]:
    return json.loads(RECORDING.read_text()) if RECORDING.exists() else {}
