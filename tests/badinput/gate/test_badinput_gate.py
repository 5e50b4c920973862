"""Unreadable or malformed reports (``corpus/``, made by ``make_corpus.py``) given to ``pybpf gate``.

Either side of the comparison may be the bad one: one error line naming the
file and the place in it (``line L column C`` for JSON, ``results[0].subtests[0]``
for a bad field), exit 2, and the good report is never written to.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _helpers.badinput import EXIT_USAGE, corpus_names, read_cases

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good.json"
CORPUS = HERE / "corpus"
CASES = read_cases(HERE / "cases.json")


def test_corpus_is_complete():
    assert corpus_names(CORPUS, ".json") == sorted(CASES)


def test_good_report_against_itself(cli):
    run = cli("gate", GOOD, GOOD)
    assert (run.status, run.err) == (0, "")


@pytest.mark.parametrize("bad_side", ["baseline", "candidate"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_error_line_naming_file_and_place(cli, one_error_each, name, bad_side):
    path = CORPUS / name
    before = GOOD.read_bytes()
    run = cli("gate", *((path, GOOD) if bad_side == "baseline" else (GOOD, path)))
    assert run.status == EXIT_USAGE and run.out == ""
    line = one_error_each(run, [path])[str(path)]
    assert run.err_lines == [line]
    message, place = CASES[name]
    assert line.startswith(f"pybpf: error: {path}:{place}"), line
    assert message in line, line
    assert GOOD.read_bytes() == before


@pytest.mark.parametrize("what", ["missing", "directory"])
def test_unreadable_path(cli, one_error_each, tmp_path, what):
    path = tmp_path / "report.json"
    if what == "directory":
        path.mkdir()
    run = cli("gate", GOOD, path)
    assert run.status == EXIT_USAGE
    assert "cannot read" in one_error_each(run, [path])[str(path)]
