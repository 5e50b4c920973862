"""``pybpf verify``: the veristat-like table and its JSON, against the live kernel where it can be used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pybpf.cli.main import main
from pybpf.kernel import available
from pybpf.toolchain import compile_bpf

REPO = Path(__file__).resolve().parents[2]
KEYS = {"file", "program", "verdict", "total_insns", "total_states", "peak_states", "duration_us"}


@pytest.fixture(scope="module")
def basics(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("verify") / "verifier_basics.o"
    compile_bpf(REPO / "selftests/progs/verifier_basics.c", include_dirs=[REPO / "selftests/include"], output=out)
    return str(out)


def test_json_has_the_veristat_keys_and_the_log_on_request(capsys, basics):
    status = main(["verify", basics, "--prog", "r0_not_initialized", "--prog", "return_constant", "-o", "json",
                   "--log"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 1  # one of the two is rejected
    assert {r["program"]: r["verdict"] for r in rows} == {"r0_not_initialized": "failure",
                                                          "return_constant": "success"}
    assert all(r.keys() >= KEYS and "log" in r for r in rows)
    rejected = next(r for r in rows if r["verdict"] == "failure")
    assert rejected["first_error"] == "R0 !read_ok" and "R0 !read_ok" in rejected["log"]


def test_both_targets_agree_on_the_basics(capsys, basics):
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    main(["verify", basics, "--target", "both"])
    out = capsys.readouterr().out
    assert "verdict agreement: " in out and "DIFF" not in out
    line = next(x for x in out.splitlines() if x.startswith("verdict agreement"))
    judged = line.split("verdict agreement: ")[1].split(" ")[0]
    agree, total = map(int, judged.split("/"))
    assert total > 10 and agree == total


def test_bad_object_is_one_line_and_exit_2(capsys, tmp_path, basics):
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"not an ELF file at all")
    status = main(["verify", str(junk), basics, "--prog", "return_constant"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.count("\n") == 1 and str(junk) in captured.err
    assert "return_constant" in captured.out  # the good object was still verified


def test_only_bad_objects_print_no_table(capsys, tmp_path):
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"garbage")
    assert main(["verify", str(junk)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
