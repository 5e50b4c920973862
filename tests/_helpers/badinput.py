"""The bad-input corpora: a folder's ``corpus/`` of broken files and ``cases.json``, what pybpf says of each."""

from __future__ import annotations

import json
from pathlib import Path

EXIT_USAGE = 2  # pybpf's exit status for bad input


def read_cases(path: Path) -> dict[str, list[str]]:
    """``cases.json``: {corpus file name: [a part of its message, the place named]}."""
    return json.loads(path.read_text())


def corpus_names(corpus: Path, suffix: str) -> list[str]:
    """The names of the corpus files ending in ``suffix``, sorted (to compare with the cases)."""
    return sorted(p.name for p in corpus.glob(f"*{suffix}"))
