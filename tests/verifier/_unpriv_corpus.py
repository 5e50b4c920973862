"""The unprivileged corpus: ``corpus_unpriv/*.s`` (the format of ``corpus/``), judged as a loader without capabilities.

Its recording, ``corpus_unpriv/recorded.json``, is what Linux said to an
unprivileged process (``record.py --unpriv``).
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from _corpus import Program
from pybpf.harness.asmprog import read_asm_programs

CORPUS_UNPRIV = Path(__file__).parent / "corpus_unpriv"
RECORDING_UNPRIV = CORPUS_UNPRIV / "recorded.json"


def load_unpriv_corpus() -> list[Program]:
    progs = [Program(**{f.name: getattr(a, f.name) for f in fields(a)})
             for path in sorted(CORPUS_UNPRIV.glob("*.s")) for a in read_asm_programs(path)]
    names = [p.name for p in progs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate program names in the unprivileged corpus: {sorted(dup)}")
    return progs


def load_unpriv_recording() -> dict[str, dict]:
    return json.loads(RECORDING_UNPRIV.read_text()) if RECORDING_UNPRIV.exists() else {}
