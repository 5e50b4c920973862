"""Malformed bpf_conformance ``.data`` tests (``corpus/``) given to ``pybpf conformance``.

Each broken file is one ERROR row whose message names ``file:line N`` (the
format is ``shared/bpf_conformance/FORMAT.md``; the assembler's errors are in
the asm section's own lines), and the good test of the same run still passes.
``pybpf conformance`` documents exit status 1 for a run with an errored test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good.data"
CORPUS = HERE / "corpus"
EXIT_FAILED = 1

# file -> (the line the error names, or None for the whole file; part of the message)
CASES: dict[str, tuple[int | None, str]] = {
    "empty.data": (1, "nothing to run"),
    "no_program.data": (2, "nothing to run"),
    "no_result.data": (4, "nothing to check"),
    "text_before_section.data": (1, "text outside any section"),
    "bad_result.data": (5, "'0xzz' is not a number"),
    "two_results.data": (5, "single number"),
    "result_too_big.data": (5, "does not fit in 64 bits"),
    "bad_mem_hex.data": (5, "'zz' is not a hex byte"),
    "bad_raw_hex.data": (2, "neither a 0x... 64-bit word nor 8 hex bytes"),
    "duplicate_section.data": (6, "duplicate section '-- result'"),
    "unknown_section.data": (4, "unknown section '-- rezult'"),
    "result_and_error.data": (6, "either a -- result or an -- error"),
    "bad_mnemonic.data": (3, "Invalid mnemonic 'movv'"),
    "bad_register.data": (3, "Invalid register '%r11'"),
    "bad_immediate.data": (3, "out of 32-bit range"),
    "bad_memory_operand.data": (3, "Invalid memory operand"),
    "missing_operand.data": (3, "ja"),
    "not_utf8.data": (None, "not UTF-8"),
}


def test_corpus_is_complete():
    assert sorted(p.name for p in CORPUS.glob("*.data")) == sorted(CASES)


def _where(path: Path, line: int | None) -> str:
    return f"{path}:line {line}: " if line is not None else f"{path}: "


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_error_row_naming_file_and_line(cli, one_error_each, name):
    path = CORPUS / name
    run = cli("conformance", path, "--report", "table")
    assert run.status == EXIT_FAILED
    line = one_error_each(run, [path], stream="out")[str(path)]
    where, message = CASES[name]
    assert f"{path.stem} [interp] ERROR: " in line and _where(path, where) in line and message in line, line


def test_the_good_test_of_the_same_run_still_passes(cli, one_error_each):
    run = cli("conformance", CORPUS, GOOD, "--report", "json")
    assert run.status == EXIT_FAILED
    rows = {r["test"]: r for r in json.loads(run.out)}
    assert rows.pop("good")["status"] == "PASS"
    assert sorted(rows) == sorted(Path(n).stem for n in CASES)
    for name, (where, message) in CASES.items():
        row = rows[Path(name).stem]
        assert row["status"] == "ERROR" and _where(CORPUS / name, where) in row["message"], row
        assert message in row["message"] and "\n" not in row["message"], row
    one_error_each(run, [])  # nothing on stderr is a traceback
