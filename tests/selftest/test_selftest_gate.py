"""``pybpf gate``: a program run that passed and now fails is a regression (exit 1); nothing else is."""

from __future__ import annotations

import pytest
from pybpf.cli.main import main
from pybpf.harness.selftest.gate import compare, format_report
from pybpf.harness.selftest.results import Durations, ItemResult, Status, VerifierStats, write_json


def item(program, status, arch="x86_64", insns=None, reason=""):
    return ItemResult(file="progs/linked_list.c", program=program, arch=arch, target="kernel", status=status,
                      reason=reason, stats=VerifierStats(insns) if insns is not None else None,
                      durations=Durations())


BASELINE = [
    item("push_pop", Status.PASSED, insns=100),
    item("push_pop", Status.PASSED, "s390x", insns=100),
    item("in_list", Status.FAILED, reason="EXPECTED   SUBSTR: 'x'"),
    item("old_only", Status.PASSED),
    item("denied_one", Status.PASSED),
]
CANDIDATE = [
    item("push_pop", Status.PASSED, insns=130),
    item("push_pop", Status.FAILED, "s390x", insns=100,
         reason="VERIFIER LOG:\n=============\nlog\n=============\n"
                "MATCHED    SUBSTR: 'a'\nEXPECTED   SUBSTR: 'processed 2 insns'\n"),
    item("in_list", Status.PASSED),
    item("new_one", Status.FAILED),
    item("denied_one", Status.DENIED),
]


def test_compare():
    report = compare(BASELINE, CANDIDATE)
    assert not report.ok
    assert [c.key for c in report.regressions] == [("linked_list/push_pop", "s390x", "kernel")]
    assert [c.key[0] for c in report.fixes] == ["linked_list/in_list"]
    assert [(c.key[0], c.before, c.after) for c in report.changes] == \
        [("linked_list/denied_one", Status.PASSED, Status.DENIED)]
    assert [r.name for r in report.new] == ["linked_list/new_one"]
    assert [r.name for r in report.removed] == ["linked_list/old_only"]
    assert [(d.key[1], d.before, d.after, d.delta) for d in report.insn_deltas] == [("x86_64", 100, 130, 30)]
    assert compare(BASELINE, BASELINE).ok


def test_format():
    text = format_report(compare(BASELINE, CANDIDATE))
    assert "REGRESSIONS (passed -> failed) (1):\n  linked_list/push_pop [s390x/kernel]: " \
           "EXPECTED   SUBSTR: 'processed 2 insns'\n" in text
    assert "linked_list/push_pop [x86_64/kernel]: 100 -> 130 (+30, +30.0%)" in text
    assert "new (1):\n  linked_list/new_one [x86_64/kernel]: failed" in text
    assert "removed (1):\n  linked_list/old_only [x86_64/kernel]: was passed" in text
    assert text.endswith("gate: FAIL: 1 regression(s)\n")


def test_cli_regression_exits_1(tmp_path, capsys):
    base = write_json(tmp_path / "base.json", BASELINE)
    cand = write_json(tmp_path / "cand.json", CANDIDATE, complete=False)
    assert main(["gate", str(base), str(cand)]) == 1
    out = capsys.readouterr().out
    assert f"note: {cand} is from an interrupted run" in out
    assert "REGRESSIONS" in out and "gate: FAIL" in out


def test_cli_no_regression_exits_0(tmp_path, capsys):
    base = write_json(tmp_path / "base.json", BASELINE)
    fixed = [r if r.key[1] != "s390x" else item("push_pop", Status.PASSED, "s390x", insns=90) for r in CANDIDATE]
    assert main(["gate", str(base), str(write_json(tmp_path / "c.json", fixed))]) == 0
    assert capsys.readouterr().out.endswith("gate: OK: no regression\n")


@pytest.mark.parametrize(("content", "why"), [
    ("{ not json", "not JSON"),
    ('{"success": 1}', "missing 'schema'"),
    (None, "cannot read"),
])
def test_cli_bad_report_exits_2_with_one_line(tmp_path, capsys, content, why):
    base = write_json(tmp_path / "base.json", BASELINE)
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert main(["gate", str(base), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pybpf: error: {bad}") and why in lines[0]
