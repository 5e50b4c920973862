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
from dataclasses import fields
from pathlib import Path

from pybpf.harness.asmprog import AsmProgram, read_asm_programs, with_map_fds

CORPUS = Path(__file__).parent / "corpus"
RECORDING = CORPUS / "recorded.json"

__all__ = ["CORPUS", "RECORDING", "Program", "load_corpus", "load_json", "load_programs", "load_recording",
           "with_map_fds"]


class Program(AsmProgram):
    """A corpus program (an ``AsmProgram``); its area is the corpus file it comes from."""

    @property
    def area(self) -> str:
        return Path(self.file).stem


def load_programs(directory: Path, what: str) -> list[Program]:
    """Every program of ``directory/*.s``; their names must be unique (the recordings are keyed by them)."""
    progs = [Program(**{f.name: getattr(a, f.name) for f in fields(a)})
             for path in sorted(directory.glob("*.s")) for a in read_asm_programs(path)]
    names = [p.name for p in progs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate program names in {what}: {sorted(dup)}")
    return progs


def load_json(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text()) if path.exists() else {}


def load_corpus() -> list[Program]:
    return load_programs(CORPUS, "the corpus")


def load_recording() -> dict[str, dict]:
    return load_json(RECORDING)
