"""Broken ELF objects (``corpus/``, made by ``make_corpus.py`` from ``base.o``) given to every command that reads one.

Each file gives exactly one error line naming the file and the place (the ELF
header offset, or the section) and the exit status 2; with good objects in
the same run, the good ones are still verified or loaded and reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXIT_USAGE = 2

HERE = Path(__file__).resolve().parent
BASE = HERE / "base.o"
CORPUS = HERE / "corpus"
CASES: dict[str, list[str]] = json.loads((CORPUS / "cases.json").read_text())
BAD = [CORPUS / name for name in CASES]


def test_corpus_is_complete_and_small():
    assert sorted(p.name for p in CORPUS.glob("*.o")) == sorted(CASES)
    assert all(p.stat().st_size <= 8192 for p in BAD)


@pytest.mark.parametrize("name", sorted(CASES))
def test_objdump_names_file_and_place(cli, one_error_each, name):
    path = CORPUS / name
    run = cli("objdump", path)
    assert run.status == EXIT_USAGE
    line = one_error_each(run, [path])[str(path)]
    message, place = CASES[name]
    assert line.startswith(f"pybpf: error: {path}:"), line
    assert message in line and place in line, line
    assert run.err_lines == [line]


def test_verify_reports_every_bad_object_and_still_verifies_the_good_one(cli, one_error_each):
    run = cli("verify", "-o", "json", BASE, *BAD, BASE)
    assert run.status == EXIT_USAGE
    lines = one_error_each(run, BAD)
    assert len(run.err_lines) == len(BAD)
    for path, line in lines.items():
        message, place = CASES[Path(path).name]
        assert message in line and place in line, line
    rows = [(r["file"], r["program"], r["verdict"]) for r in json.loads(run.out)]
    assert rows == [(str(BASE), "count", "success")] * 2


def test_load_reports_every_bad_object_and_still_loads_the_good_one(cli, one_error_each):
    run = cli("load", "--target", "pybpf", *BAD, BASE)
    assert run.status == EXIT_USAGE
    one_error_each(run, BAD)
    assert f"{BASE}: prog count (xdp): " in run.out, run.out


@pytest.mark.parametrize("name", sorted(CASES))
def test_btf_dump_one_line(cli, one_error_each, name):
    path = CORPUS / name
    run = cli("btf", "dump", path)
    if run.status == 0:  # the defect is outside the ELF header and .BTF, which is all this command reads
        assert not name.startswith("btf_") and run.err == "" and "[1] " in run.out
        return
    assert run.status == EXIT_USAGE
    one_error_each(run, [path])
    assert len(run.err_lines) == 1, run.err


def test_run_on_a_bad_object_is_one_line(cli, one_error_each):
    path = CORPUS / "bad_reloc_symbol.o"
    run = cli("run", path, "--prog", "count")
    assert run.status == EXIT_USAGE
    one_error_each(run, [path])
