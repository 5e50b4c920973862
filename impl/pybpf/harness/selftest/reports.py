"""Views of selftest results: the console table, JUnit XML, a Markdown summary for a PR, a one-file HTML report.

Each view is ``list[ItemResult] -> str`` and copes with any subset of a run
(an interrupted one says so where ``complete=False`` is passed).
``write_reports`` writes all of them, each atomically, into a directory:
``report.json``, ``junit.xml``, ``summary.md``, ``report.html``.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from pybpf.harness.selftest.results import ItemResult, Status, to_json, write_atomically

STATUSES = (Status.PASSED, Status.FAILED, Status.SKIPPED, Status.DENIED)
FILES = {"json": "report.json", "junit": "junit.xml", "markdown": "summary.md", "html": "report.html"}
_INTERRUPTED = "interrupted: these are the results of the programs that finished"


@dataclass(frozen=True)
class Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    denied: int = 0

    @classmethod
    def of(cls, results: Sequence[ItemResult]) -> Tally:
        c = Counter(r.status for r in results)
        return cls(*(c[s] for s in STATUSES))

    def text(self) -> str:
        return f"{self.passed}/{self.failed}/{self.skipped}/{self.denied}"

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.denied


def archs_of(results: Sequence[ItemResult]) -> list[str]:
    return list(dict.fromkeys(r.arch for r in results))


def matrix(results: Sequence[ItemResult]) -> dict[str, dict[str, Tally]]:
    """test (file stem) -> arch -> tally, tests and archs in run order."""
    cells: dict[str, dict[str, list[ItemResult]]] = {}
    for r in results:
        cells.setdefault(r.test, {}).setdefault(r.arch, []).append(r)
    # rows by file name: the order workers finished in would change from run to run
    return {test: {arch: Tally.of(items) for arch, items in row.items()} for test, row in sorted(cells.items())}


def _failures(results: Sequence[ItemResult]) -> list[ItemResult]:
    return [r for r in results if r.status is Status.FAILED]


def _label(r: ItemResult) -> str:
    return f"{r.name} [{r.arch}/{r.target}]"


# ------------------------------------------------------------------ console

def table(results: Sequence[ItemResult], *, complete: bool = True) -> str:
    """Per architecture: rows = test files, cells = passed/failed/skipped/denied; then what failed and why."""
    archs = archs_of(results)
    grid = matrix(results)
    body = [[test, *(row[a].text() if a in row else "" for a in archs)] for test, row in grid.items()]
    body.append(["total", *(Tally.of([r for r in results if r.arch == a]).text() for a in archs)])
    out = [tabulate(body, headers=["passed/failed/skipped/denied", *archs], tablefmt="simple")]
    failures = _failures(results)
    if failures:
        out += ["", "FAILED:"] + [f"  {_label(r)}: {r.headline}" for r in failures]
    if not complete:
        out += ["", _INTERRUPTED]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ JUnit

def junit(results: Sequence[ItemResult], *, complete: bool = True) -> str:
    """One ``testsuite`` per (arch, target), one ``testcase`` per program run; denied ones are skipped."""
    root = ET.Element("testsuites", name="pybpf selftests")
    suites: dict[tuple[str, str], list[ItemResult]] = {}
    for r in results:
        suites.setdefault((r.arch, r.target), []).append(r)
    for (arch, target), items in suites.items():
        tally = Tally.of(items)
        seconds = sum(sum(v or 0 for v in (r.durations.compile_s, r.durations.verify_s, r.durations.run_s))
                      for r in items)
        suite = ET.SubElement(root, "testsuite", name=f"{arch}/{target}", tests=str(len(items)),
                              failures=str(tally.failed), errors="0", skipped=str(tally.skipped + tally.denied),
                              time=f"{seconds:.6f}")
        if not complete:
            ET.SubElement(suite, "system-err").text = _INTERRUPTED
        for r in items:
            d = r.durations
            case = ET.SubElement(suite, "testcase", classname=f"selftest.{arch}.{r.test}", name=r.subtest,
                                 file=r.file, time=f"{sum(v or 0 for v in (d.compile_s, d.verify_s, d.run_s)):.6f}")
            if r.status is Status.FAILED:
                ET.SubElement(case, "failure", message=r.headline or "failed",
                              type="FAIL").text = r.reason + ("\n" + r.log if r.log and r.log not in r.reason else "")
            elif r.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", message=r.reason)
            elif r.status is Status.DENIED:
                ET.SubElement(case, "skipped", message=f"denied: {r.reason}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------ Markdown

def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``."""
    ticks = "`" * max(3, _longest_backticks(text) + 1)
    return f"{ticks}\n{text.rstrip()}\n{ticks}"


def _longest_backticks(text: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == "`" else 0
        best = max(best, run)
    return best


def markdown(results: Sequence[ItemResult], *, complete: bool = True) -> str:
    """A PR comment: the file x arch table, each failure with its report folded away."""
    archs = archs_of(results)
    out = ["### BPF selftests", ""]
    if not complete:
        out += [f"> **{_INTERRUPTED}**", ""]
    out += ["| arch | passed | failed | skipped | denied |", "|---|---:|---:|---:|---:|"]
    for a in archs:
        t = Tally.of([r for r in results if r.arch == a])
        out.append(f"| {a} | {t.passed} | {t.failed} | {t.skipped} | {t.denied} |")
    out += ["", "Per test file (passed/failed/skipped/denied):", "", f"| test | {' | '.join(archs)} |",
            f"|---|{'---|' * len(archs)}"]
    for test, row in matrix(results).items():
        cells = (("**" + row[a].text() + "**" if row[a].failed else row[a].text()) if a in row else "" for a in archs)
        out.append(f"| {_md(test)} | {' | '.join(cells)} |")
    for r in _failures(results):
        out += ["", f"<details><summary>FAILED {_md(_label(r))}</summary>", "", _fence(r.reason or r.log), "",
                "</details>"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ HTML

_CSS = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#eee}
.passed{background:#dfd}.failed{background:#fbb}.skipped{background:#eee}.denied{background:#ffd}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto}summary{cursor:pointer}"""


def _cell_class(t: Tally) -> str:
    return "failed" if t.failed else "passed" if t.passed else "denied" if t.denied and not t.skipped else "skipped"


def html_report(results: Sequence[ItemResult], *, complete: bool = True) -> str:
    """A single HTML file (no external assets): the totals, the test x arch matrix, every failure's log folded."""
    e = html.escape
    archs = archs_of(results)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"><title>BPF selftests</title>',
             f"<style>{_CSS}</style></head><body>", "<h1>BPF selftests</h1>"]
    if not complete:
        parts.append(f"<p><strong>{e(_INTERRUPTED)}</strong></p>")
    parts.append("<table><tr><th>arch</th>" + "".join(f"<th>{e(s.value)}</th>" for s in STATUSES) + "</tr>")
    for a in archs:
        t = Tally.of([r for r in results if r.arch == a])
        parts.append(f"<tr><td>{e(a)}</td><td>{t.passed}</td><td>{t.failed}</td><td>{t.skipped}</td>"
                     f"<td>{t.denied}</td></tr>")
    parts.append("</table><h2>Test files (passed/failed/skipped/denied)</h2>")
    parts.append("<table><tr><th>test</th>" + "".join(f"<th>{e(a)}</th>" for a in archs) + "</tr>")
    for test, row in matrix(results).items():
        cells = "".join(f'<td class="{_cell_class(row[a])}">{row[a].text()}</td>' if a in row else "<td></td>"
                        for a in archs)
        parts.append(f"<tr><td>{e(test)}</td>{cells}</tr>")
    parts.append("</table>")
    failures = _failures(results)
    if failures:
        parts.append("<h2>Failures</h2>")
        for r in failures:
            parts.append(f"<details><summary>{e(_label(r))}</summary><pre>{e(r.reason or '')}</pre>")
            if r.log and r.log not in r.reason:
                parts.append(f"<pre>{e(r.log)}</pre>")
            parts.append("</details>")
    others = [r for r in results if r.status in (Status.SKIPPED, Status.DENIED)]
    if others:
        parts.append(f"<details><summary>{len(others)} skipped or denied</summary><table>"
                     "<tr><th>program</th><th>status</th><th>reason</th></tr>")
        parts += [f'<tr><td>{e(_label(r))}</td><td class="{r.status.value}">{r.status.value}</td>'
                  f"<td>{e(r.reason)}</td></tr>" for r in others]
        parts.append("</table></details>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_reports(directory: str | Path, results: Sequence[ItemResult], *, complete: bool = True,
                  meta: dict[str, Any] | None = None) -> dict[str, Path]:
    """Every report file into ``directory`` (created); returns view name -> path."""
    base = Path(directory)
    texts = {
        "json": to_json(results, complete=complete, meta=meta),
        "junit": junit(results, complete=complete),
        "markdown": markdown(results, complete=complete),
        "html": html_report(results, complete=complete),
    }
    return {view: write_atomically(base / FILES[view], text) for view, text in texts.items()}
