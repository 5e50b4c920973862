"""The report views: JSON round-trips, JUnit parses, the table shows why things were skipped."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from pybpf.harness import report
from pybpf.harness.conformance import Status, TestResult

RESULTS = [
    TestResult("add", "interp", Status.PASS, "0x3", "0x3", "", 0.001, "s/add.data"),
    TestResult("add", "kernel", Status.PASS, "0x3", "0x3", "", 0.002, "s/add.data"),
    TestResult("callx", "interp", Status.PASS, "0x2", "0x2", "", 0.001, "s/callx.data"),
    TestResult("callx", "kernel", Status.SKIP, "0x2", None, "kernel cannot run it: callx: no indirect calls",
               0.0, "s/callx.data"),
    TestResult("bad", "interp", Status.FAIL, "0x1", "0x2", "r0 is 0x2, expected 0x1", 0.003, "s/bad.data"),
    TestResult("bad", "kernel", Status.ERROR, "0x1", "error: verifier: R0 !read_ok",
               "verifier: R0 !read_ok <&> \"quoted\"", 0.0, "s/bad.data"),
]


def test_json_round_trip_and_schema():
    text = report.to_json(RESULTS)
    assert report.from_json(text) == RESULTS
    first = json.loads(text)[0]
    assert set(first) == {"test", "path", "target", "status", "expected", "got", "message", "duration_s"}
    assert first["status"] == "PASS"


def test_junit_is_valid_xml_with_one_suite_per_target():
    root = ET.fromstring(report.junit(RESULTS))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"interp", "kernel"}
    kernel = suites["kernel"]
    assert (kernel.get("tests"), kernel.get("failures"), kernel.get("errors"), kernel.get("skipped")) == \
        ("3", "0", "1", "1")
    skipped = kernel.find("testcase[@name='callx']/skipped")
    assert skipped is not None and "no indirect calls" in skipped.get("message", "")
    error = kernel.find("testcase[@name='bad']/error")
    assert error is not None and error.get("message") == "verifier: R0 !read_ok <&> \"quoted\""
    failure = suites["interp"].find("testcase[@name='bad']/failure")
    assert failure is not None and "expected: 0x1" in (failure.text or "")


def test_table_has_a_cell_per_target_a_summary_and_the_skip_reasons():
    text = report.table(RESULTS)
    lines = text.splitlines()
    header = lines[0].split()
    assert header == ["test", "interp", "kernel"]
    assert any(line.split() == ["callx", "PASS", "SKIP"] for line in lines)
    summary = next(line for line in lines if line.startswith("passed/failed/skipped/errors"))
    assert summary.split()[1:] == ["2/1/0/0", "1/0/1/1"]
    assert "SKIP reasons:" in lines
    assert any("callx [kernel]" in line and "no indirect calls" in line for line in lines)
    assert "FAIL/ERROR details:" in lines
    assert any("bad [interp]" in line and "expected 0x1" in line for line in lines)


def test_table_counts_a_long_run_of_one_skip_reason():
    many = [TestResult(f"t{n}", "kernel", Status.SKIP, "0x0", None, "target kernel unavailable: no bpf()")
            for n in range(40)]
    text = report.table(many)
    assert "40 tests [kernel] SKIP: target kernel unavailable: no bpf()" in text


def test_markdown_summary_and_problems():
    text = report.markdown(RESULTS)
    assert "| interp | 2 | 1 | 0 | 0 |" in text
    assert "| kernel | 1 | 0 | 1 | 1 |" in text
    assert "| bad | kernel | **ERROR** |" in text
    assert "<details><summary>1 skipped</summary>" in text


@pytest.mark.parametrize("view", sorted(report.VIEWS))
def test_every_view_handles_no_results(view):
    assert isinstance(report.VIEWS[view]([]), str)
