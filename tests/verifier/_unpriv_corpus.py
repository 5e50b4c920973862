"""The unprivileged corpus: ``corpus_unpriv/*.s`` (the format of ``corpus/``), judged as a loader without capabilities.

Its recording, ``corpus_unpriv/recorded.json``, is what Linux said to an
unprivileged process (``record.py --unpriv``).
"""

from __future__ import annotations

from pathlib import Path

from _corpus import Program, load_json, load_programs

CORPUS_UNPRIV = Path(__file__).parent / "corpus_unpriv"
RECORDING_UNPRIV = CORPUS_UNPRIV / "recorded.json"


def load_unpriv_corpus() -> list[Program]:
    return load_programs(CORPUS_UNPRIV, "the unprivileged corpus")


def load_unpriv_recording() -> dict[str, dict]:
    return load_json(RECORDING_UNPRIV)
