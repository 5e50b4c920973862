"""The result model and its views: report.json round-trips and keeps test_progs' summary fields, JUnit parses,
the HTML is one well-formed file, the Markdown and console tables count what they should."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from pybpf.harness.selftest import reports
from pybpf.harness.selftest.results import (
    SCHEMA,
    Durations,
    ItemResult,
    ReportError,
    Status,
    VerifierStats,
    from_json,
    read_report,
    summary,
    to_json,
    write_json,
)

LOG = ("0: (95) exit\nR0 !read_ok\n"
       "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n")
REASON = ("VERIFIER LOG:\n=============\n" + LOG + "=============\n"
          "MATCHED    SUBSTR: 'R0 !read_ok'\nEXPECTED   SUBSTR: 'processed 2 insns'\n")


def item(program, status, arch="x86_64", *, file="progs/linked_list.c", unpriv=False, reason="", insns=None,
         target="kernel"):
    return ItemResult(file=file, program=program, arch=arch, target=target, status=status, unpriv=unpriv,
                      reason=reason, node_id=f"{file}::{program}[{arch}]",
                      stats=VerifierStats(insns, 1, 1, 0) if insns is not None else None,
                      durations=Durations(0.25, 0.01, None), log=LOG if status is Status.FAILED else "")


RESULTS = [
    item("map_list_push_pop", Status.PASSED, insns=120),
    item("map_list_push_pop", Status.PASSED, unpriv=True, insns=118),
    item("global_list_in_list", Status.FAILED, reason=REASON, insns=1),
    item("map_list_push_pop", Status.DENIED, "s390x",
         reason="JIT does not support calling kernel function (kfunc) (DENYLIST.s390x:79: linked_list)"),
    item("global_list_in_list", Status.DENIED, "s390x", reason="same"),
    item("and_of_negative", Status.PASSED, file="progs/verifier_and.c", insns=7),
    item("and_of_negative", Status.SKIPPED, "s390x", file="progs/verifier_and.c", reason="not on this arch <&>"),
]


def test_names():
    r = RESULTS[1]
    assert (r.test, r.subtest, r.name) == ("linked_list", "map_list_push_pop @unpriv",
                                           "linked_list/map_list_push_pop @unpriv")
    assert r.key == ("linked_list/map_list_push_pop @unpriv", "x86_64", "kernel")


def test_json_round_trip_and_test_progs_fields():
    text = to_json(RESULTS, meta={"kernel": "6.18"})
    report = from_json(text)
    assert report.results == RESULTS and report.complete and report.meta == {"kernel": "6.18"}
    obj = json.loads(text)
    # test_progs' --json-summary keys, with its meaning: tests = (file, arch, target) here
    assert {k: obj[k] for k in ("success", "success_subtest", "skipped", "failed")} == \
        {"success": 3, "success_subtest": 3, "skipped": 3, "failed": 1}
    first = obj["results"][0]
    assert {"name", "number", "message", "failed", "subtests"} <= set(first)
    assert (first["name"], first["number"], first["failed"]) == ("linked_list", 1, True)
    sub = first["subtests"][2]
    assert {"name", "number", "message", "failed"} <= set(sub)
    assert (sub["name"], sub["number"], sub["failed"], sub["message"]) == ("global_list_in_list", 3, True, REASON)
    assert obj["schema"] == SCHEMA


def test_a_partial_run_is_still_a_valid_report(tmp_path):
    path = write_json(tmp_path / "reports" / "report.json", RESULTS[:2], complete=False)
    back = read_report(path)
    assert not back.complete and back.results == RESULTS[:2]
    assert read_report(write_json(tmp_path / "empty.json", [])).results == []
    files = reports.write_reports(tmp_path / "out", RESULTS[:1], complete=False)
    assert set(files) == {"json", "junit", "markdown", "html"}
    assert "interrupted" in files["markdown"].read_text()
    ET.parse(files["junit"])
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary left behind


@pytest.mark.parametrize(("text", "why"), [
    ("{", "not JSON"),
    ("[]", "missing 'schema'"),
    ('{"schema": "other/1"}', "schema is 'other/1'"),
    (json.dumps({"schema": SCHEMA, "complete": True, "results": [{"subtests": [{}]}]}), "missing 'status'"),
])
def test_invalid_reports_are_one_clear_error(text, why):
    with pytest.raises(ReportError) as info:
        from_json(text, file="base.json")
    msg = str(info.value)
    assert msg.startswith("base.json:") and why in msg and "\n" not in msg


def test_bad_field_names_its_place():
    obj = json.loads(to_json(RESULTS))
    obj["results"][1]["subtests"][0]["status"] = "exploded"
    with pytest.raises(ReportError, match=r"results\[1\]\.subtests\[0\]: unknown status 'exploded'"):
        from_json(json.dumps(obj))


def test_summary_counts():
    s = summary(RESULTS)
    assert (s.success, s.success_subtest, s.skipped, s.failed) == (3, 3, 3, 1)


def test_junit():
    root = ET.fromstring(reports.junit(RESULTS))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"x86_64/kernel", "s390x/kernel"}
    x86 = suites["x86_64/kernel"]
    assert (x86.get("tests"), x86.get("failures"), x86.get("skipped")) == ("4", "1", "0")
    failure = x86.find("testcase[@name='global_list_in_list']/failure")
    assert failure.get("message") == "EXPECTED   SUBSTR: 'processed 2 insns'" and "VERIFIER LOG:" in failure.text
    s390 = suites["s390x/kernel"]
    assert s390.get("skipped") == "3"
    denied = s390.find("testcase[@name='map_list_push_pop']/skipped")
    assert denied.get("message").startswith("denied: JIT does not support")
    assert x86.find("testcase[@name='map_list_push_pop @unpriv']").get("classname") == "selftest.x86_64.linked_list"


def test_markdown_table():
    md = reports.markdown(RESULTS)
    lines = md.splitlines()
    assert "| arch | passed | failed | skipped | denied |" in lines
    assert "| x86_64 | 3 | 1 | 0 | 0 |" in lines and "| s390x | 0 | 0 | 1 | 2 |" in lines
    assert "| test | x86_64 | s390x |" in lines
    assert "| linked_list | **2/1/0/0** | 0/0/0/2 |" in lines
    assert "| verifier_and | 1/0/0/0 | 0/0/1/0 |" in lines
    assert "<details><summary>FAILED linked_list/global_list_in_list [x86_64/kernel]</summary>" in lines


class _Checker(HTMLParser):
    """Every element closed in order (void elements aside), and no external resource."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.external += [v for k, v in attrs if k in ("src", "href") and v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()


def test_html_is_one_well_formed_file():
    page = reports.html_report(RESULTS, complete=False)
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [] and checker.external == []
    assert page.count("<details>") == 2  # the failure, the skipped/denied list
    assert "not on this arch &lt;&amp;&gt;" in page and "R0 !read_ok" in page and "interrupted" in page


def test_console_table():
    text = reports.table(RESULTS)
    lines = text.splitlines()
    assert lines[0].split() == ["passed/failed/skipped/denied", "x86_64", "s390x"]
    assert ["linked_list", "2/1/0/0", "0/0/0/2"] in [ln.split() for ln in lines]
    assert ["total", "3/1/0/0", "0/0/1/2"] in [ln.split() for ln in lines]
    assert "  linked_list/global_list_in_list [x86_64/kernel]: EXPECTED   SUBSTR: 'processed 2 insns'" in lines
    assert reports.table([]).startswith("passed/failed/skipped/denied")
