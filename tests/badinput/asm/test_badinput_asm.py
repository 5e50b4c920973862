"""Malformed assembler files (``corpus/*.s``, the verifier corpus format of ``harness/asmprog.py``) given to
``pybpf verify``; malformed asm inside ``.data`` tests is in ``../datafile``.

Each bad file is one error line naming ``file:line N`` (the file alone where no line
is to blame), exit 2, and the good file of the same run is still verified.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good.s"
CORPUS = HERE / "corpus"
EXIT_USAGE = 2

# file -> (the line the error names, or None; part of the message)
CASES: dict[str, tuple[int | None, str]] = {
    "bad_mnemonic.s": (6, "Invalid mnemonic 'movv'"),
    "bad_register.s": (2, "Invalid register '%r12'"),
    "bad_immediate.s": (2, "out of 32-bit range"),
    "bad_memory_operand.s": (2, "Invalid memory operand"),
    "missing_operand.s": (2, "'add' takes 2, got 1"),
    "unknown_label.s": (2, "Invalid label 'nowhere'"),
    "insn_before_name.s": (1, "before the first '## name:'"),
    "unknown_header.s": (2, "unknown header '## prog_typ'"),
    "unknown_prog_type.s": (2, "unknown program type 'no_such_type'"),
    "bad_map.s": (2, "is not <type>:<key_size>:<value_size>:<max_entries>"),
    "no_name.s": (1, "a program without a name"),
    "not_utf8.s": (None, "not UTF-8"),
    "empty.s": (None, "no programs"),
}


def test_corpus_is_complete():
    assert sorted(p.name for p in CORPUS.glob("*.s")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_error_line_and_the_good_file_still_verified(cli, one_error_each, name):
    path = CORPUS / name
    run = cli("verify", "-o", "json", path, GOOD)
    assert run.status == EXIT_USAGE
    line = one_error_each(run, [path])[str(path)]
    assert run.err.splitlines() == [line]
    where, message = CASES[name]
    assert line.startswith(f"pybpf: error: {path}:" + (f"line {where}: " if where else " ")), line
    assert message in line, line
    rows = json.loads(run.out)
    assert [(r["file"], r["program"], r["verdict"]) for r in rows] == [(str(GOOD), "good", "success")]
