"""Views of conformance results: ``table``, ``json``, ``junit``, ``markdown``.

Each view is a function ``list[TestResult] -> str``, found by name in ``VIEWS``.

JSON schema (``to_json``; ``from_json`` reads it back): a list of objects, one
per test and target, in run order::

    {
      "test": "add",                      # the file's stem
      "path": "../shared/bpf_conformance/add.data",
      "target": "interp",                 # a name from the target registry
      "status": "PASS",                   # PASS | FAIL | SKIP | ERROR
      "expected": "0x3",                  # "0x..." r0, "error: TEXT", "reject" (--expect-reject) or "-"
      "got": "0x3",                       # "0x..." r0, "error: TEXT", or null when nothing ran
      "message": "",                      # why it failed / was skipped / was rejected; "" when it passed
      "duration_s": 0.0012                # wall time of this test on this target
    }
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from tabulate import tabulate

from pybpf.harness.conformance import Status, TestResult

# A group of identical skip messages longer than this is listed once with a count.
_LIST_NAMES_UP_TO = 5


@dataclass(frozen=True)
class Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0

    @classmethod
    def of(cls, results: Sequence[TestResult]) -> Tally:
        c = Counter(r.status for r in results)
        return cls(c[Status.PASS], c[Status.FAIL], c[Status.SKIP], c[Status.ERROR])

    def text(self) -> str:
        return f"{self.passed}/{self.failed}/{self.skipped}/{self.errors}"


def targets_of(results: Sequence[TestResult]) -> list[str]:
    return list(dict.fromkeys(r.target for r in results))


def _rows(results: Sequence[TestResult]) -> dict[tuple[str, str], dict[str, TestResult]]:
    """(path, test) -> target -> result, in run order."""
    rows: dict[tuple[str, str], dict[str, TestResult]] = {}
    for r in results:
        rows.setdefault((r.path, r.test), {})[r.target] = r
    return rows


def _by_target(results: Sequence[TestResult], target: str) -> list[TestResult]:
    return [r for r in results if r.target == target]


def _grouped(results: Sequence[TestResult], status: set[Status]) -> list[str]:
    """One line per (target, message), naming the tests; long groups are counted."""
    groups: dict[tuple[str, str], list[str]] = {}
    for r in results:
        if r.status in status:
            groups.setdefault((r.target, f"{r.status.value}: {r.message}"), []).append(r.test)
    lines = []
    for (target, message), names in groups.items():
        if len(names) == 1:
            lines.append(f"  {names[0]} [{target}] {message}")
        elif len(names) <= _LIST_NAMES_UP_TO:
            lines.append(f"  {', '.join(names)} [{target}] {message}")
        else:
            lines.append(f"  {len(names)} tests [{target}] {message}")
    return lines


# ---------------------------------------------------------------- views


def table(results: Sequence[TestResult]) -> str:
    """Rows = tests, columns = targets, then a summary row and the reasons for what did not pass."""
    targets = targets_of(results)
    body = [[name, *(cells[t].status.value if t in cells else "" for t in targets)]
            for (_, name), cells in _rows(results).items()]
    body.append(["passed/failed/skipped/errors", *(Tally.of(_by_target(results, t)).text() for t in targets)])
    out = [tabulate(body, headers=["test", *targets], tablefmt="simple")]
    skips = _grouped(results, {Status.SKIP})
    if skips:
        out += ["", "SKIP reasons:", *skips]
    problems = _grouped(results, {Status.FAIL, Status.ERROR})
    if problems:
        out += ["", "FAIL/ERROR details:", *problems]
    return "\n".join(out) + "\n"


def to_json(results: Sequence[TestResult]) -> str:
    return json.dumps([asdict(r) for r in results], indent=2) + "\n"


def from_json(text: str) -> list[TestResult]:
    """The results ``to_json`` wrote."""
    return [TestResult(**{**obj, "status": Status(obj["status"])}) for obj in json.loads(text)]


def junit(results: Sequence[TestResult]) -> str:
    """JUnit XML: one ``testsuite`` per target, one ``testcase`` per test."""
    root = ET.Element("testsuites", name="pybpf conformance")
    for target in targets_of(results):
        mine = _by_target(results, target)
        tally = Tally.of(mine)
        suite = ET.SubElement(root, "testsuite", name=target, tests=str(len(mine)), failures=str(tally.failed),
                              errors=str(tally.errors), skipped=str(tally.skipped),
                              time=f"{sum(r.duration_s for r in mine):.6f}")
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"conformance.{target}", name=r.test,
                                 file=r.path, time=f"{r.duration_s:.6f}")
            detail = f"expected: {r.expected}\ngot: {r.got if r.got is not None else '-'}\n{r.message}"
            if r.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=r.message)
            elif r.status is Status.FAIL:
                ET.SubElement(case, "failure", message=r.message, type="FAIL").text = detail
            elif r.status is Status.ERROR:
                ET.SubElement(case, "error", message=r.message, type="ERROR").text = detail
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(results: Sequence[TestResult]) -> str:
    """A summary, the tests that did not pass, and the full grid folded away: fit for a PR comment."""
    targets = targets_of(results)
    out = ["### BPF conformance", "", "| target | passed | failed | skipped | errors |", "|---|---:|---:|---:|---:|"]
    for t in targets:
        tally = Tally.of(_by_target(results, t))
        out.append(f"| {t} | {tally.passed} | {tally.failed} | {tally.skipped} | {tally.errors} |")
    bad = [r for r in results if r.status in (Status.FAIL, Status.ERROR)]
    if bad:
        out += ["", "| test | target | status | expected | got | message |", "|---|---|---|---|---|---|"]
        out += [f"| {_md(r.test)} | {r.target} | **{r.status.value}** | `{_md(r.expected)}` | "
                f"`{_md(r.got or '-')}` | {_md(r.message)} |" for r in bad]
    skipped = [r for r in results if r.status is Status.SKIP]
    if skipped:
        out += ["", f"<details><summary>{len(skipped)} skipped</summary>", ""]
        out += [f"- `{_md(r.test)}` [{r.target}]: {_md(r.message)}" for r in skipped]
        out += ["", "</details>"]
    out += ["", "<details><summary>All results</summary>", "", f"| test | {' | '.join(targets)} |",
            f"|---|{'---|' * len(targets)}"]
    for (_, name), cells in _rows(results).items():
        statuses = (cells[t].status.value if t in cells else "" for t in targets)
        out.append(f"| {_md(name)} | {' | '.join(statuses)} |")
    out += ["", "</details>"]
    return "\n".join(out) + "\n"


VIEWS: dict[str, Callable[[Sequence[TestResult]], str]] = {
    "table": table,
    "json": to_json,
    "junit": junit,
    "markdown": markdown,
}
