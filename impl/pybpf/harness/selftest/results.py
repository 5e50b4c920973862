"""Selftest results: an ``ItemResult`` per program run (file x program x priv/unpriv x arch x target); report.json.

``report.json`` is a superset of test_progs' ``--json-summary`` output, so tools
reading that read ours::

    {
      "success": 3,            # test_progs: tests (file x arch x target) with no failed subtest
      "success_subtest": 10,   # subtests that passed
      "skipped": 2,            # subtests skipped or denied
      "failed": 1,             # tests with a failed subtest
      "results": [             # one per test, in run order (test_progs lists only failed ones)
        {"name": "linked_list", "number": 1, "message": "", "failed": true,
         "arch": "x86_64", "target": "kernel", "file": "progs/linked_list.c",
         "subtests": [
           {"name": "map_list_push_pop", "number": 1, "message": "<the mismatch report>", "failed": true,
            # ours:
            "kernel_name": "linked_list/map_list_push_pop", "node_id": "progs/linked_list.c::map_list_push_pop[x86_64]",
            "program": "map_list_push_pop", "unpriv": false, "description": null,
            "status": "failed",      # passed | failed | skipped | denied
            "reason": "...",         # why it failed, was skipped or denied ("" when it passed)
            "stats": {"processed_insns": 42, "total_states": 3, "peak_states": 3, "max_states_per_insn": 0}
                     or null,
            "durations": {"compile_s": 0.1, "verify_s": 0.01, "run_s": null},
            "log": "..."}            # the verifier log ("" when not kept)
         ]}
      ],
      "schema": "pybpf-selftest-report/1",
      "complete": true,        # false: the run was interrupted and this is what finished
      "meta": {...}            # free-form: pybpf version, kernel, command line...
    }

``from_json`` reads it back (a ``ReportError`` naming the file and the place
for anything else); ``write_json`` writes it atomically, so an interrupted
run leaves either the old file or a whole new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Any

from pybpf.errors import InputError
from pybpf.harness.selftest.annotations import UNPRIV_SUFFIX

SCHEMA = "pybpf-selftest-report/1"
_FAILING_STATUSES = ("EXPECTED ", "UNEXPECTED ", "WRONG LINE ")

_PROCESSED = re.compile(r"processed (\d+) insns \(limit \d+\) max_states_per_insn (\d+) total_states (\d+) "
                        r"peak_states (\d+)")


class ReportError(InputError):
    """A report file that is not a pybpf selftest report."""


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    DENIED = "denied"


@dataclass(frozen=True)
class VerifierStats:
    """The verifier's closing line: ``processed N insns (limit L) max_states_per_insn M total_states T
    peak_states P``."""

    processed_insns: int
    total_states: int | None = None
    peak_states: int | None = None
    max_states_per_insn: int | None = None


def parse_verifier_stats(log: str) -> VerifierStats | None:
    """The last statistics line of a verifier log (log level 1, 2 or 4), None if it has none."""
    found = None
    for found in _PROCESSED.finditer(log):  # noqa: B007 - the last one is wanted
        pass
    if found is None:
        return None
    insns, per_insn, total, peak = (int(g) for g in found.groups())
    return VerifierStats(insns, total, peak, per_insn)


@dataclass(frozen=True)
class Durations:
    compile_s: float | None = None
    verify_s: float | None = None
    run_s: float | None = None


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one program run on one architecture and target."""

    file: str  # the program file, as given to the runner
    program: str
    arch: str
    target: str
    status: Status
    unpriv: bool = False
    reason: str = ""
    node_id: str = ""
    description: str | None = None
    stats: VerifierStats | None = None
    durations: Durations = field(default_factory=Durations)
    log: str = ""

    @property
    def test(self) -> str:
        """test_progs' test name: the file's stem (``progs/linked_list.c`` -> ``linked_list``)."""
        name = PurePath(self.file).name
        return name.split(".", 1)[0]

    @property
    def subtest(self) -> str:
        return self.program + (UNPRIV_SUFFIX if self.unpriv else "")

    @property
    def name(self) -> str:
        """The kernel-style name lists and reports use: ``linked_list/map_list_push_pop`` (`` @unpriv``)."""
        return f"{self.test}/{self.subtest}"

    @property
    def headline(self) -> str:
        """One line of ``reason``: the failing pattern of a mismatch report, else its first line."""
        lines = [ln for ln in self.reason.splitlines() if ln.strip()]
        failing = [ln for ln in lines if ln.startswith(_FAILING_STATUSES)]
        return (failing or lines or [""])[0]

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies this result across runs: (name, arch, target)."""
        return self.name, self.arch, self.target


# ------------------------------------------------------------------ test_progs' counts

@dataclass(frozen=True)
class Summary:
    success: int
    success_subtest: int
    skipped: int
    failed: int


def group(results: Iterable[ItemResult]) -> dict[tuple[str, str, str, str], list[ItemResult]]:
    """(test, file, arch, target) -> its results, in run order: a "test" of test_progs."""
    groups: dict[tuple[str, str, str, str], list[ItemResult]] = {}
    for r in results:
        groups.setdefault((r.test, r.file, r.arch, r.target), []).append(r)
    return groups


def summary(results: Iterable[ItemResult]) -> Summary:
    success = failed = sub_ok = skipped = 0
    for items in group(results).values():
        if any(r.status is Status.FAILED for r in items):
            failed += 1
        else:
            success += 1
        sub_ok += sum(r.status is Status.PASSED for r in items)
        skipped += sum(r.status in (Status.SKIPPED, Status.DENIED) for r in items)
    return Summary(success, sub_ok, skipped, failed)


# ------------------------------------------------------------------ JSON

def _subtest_json(r: ItemResult, number: int) -> dict[str, Any]:
    return {
        "name": r.subtest, "number": number, "message": r.reason if r.status is Status.FAILED else "",
        "failed": r.status is Status.FAILED,
        "kernel_name": r.name, "node_id": r.node_id, "program": r.program, "unpriv": r.unpriv,
        "description": r.description, "status": r.status.value, "reason": r.reason,
        "stats": asdict(r.stats) if r.stats else None, "durations": asdict(r.durations), "log": r.log,
    }


def to_json_obj(results: Sequence[ItemResult], *, complete: bool = True,
                meta: dict[str, Any] | None = None) -> dict[str, Any]:
    s = summary(results)
    out: dict[str, Any] = {"success": s.success, "success_subtest": s.success_subtest, "skipped": s.skipped,
                           "failed": s.failed, "results": []}
    for number, ((test, file, arch, target), items) in enumerate(group(results).items(), 1):
        failed = any(r.status is Status.FAILED for r in items)
        out["results"].append({
            "name": test, "number": number, "message": "", "failed": failed,
            "arch": arch, "target": target, "file": file,
            "subtests": [_subtest_json(r, i) for i, r in enumerate(items, 1)],
        })
    out.update(schema=SCHEMA, complete=complete, meta=meta or {})
    return out


def to_json(results: Sequence[ItemResult], *, complete: bool = True, meta: dict[str, Any] | None = None) -> str:
    return json.dumps(to_json_obj(results, complete=complete, meta=meta), indent=2) + "\n"


@dataclass(frozen=True)
class Report:
    results: list[ItemResult]
    complete: bool = True
    meta: dict[str, Any] = field(default_factory=dict)


def _need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise ReportError(f"missing '{key}'", place=where)
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ReportError(f"'{key}' is {type(value).__name__}, not {getattr(kind, '__name__', kind)}", place=where)
    return value


def _stats(obj: Any, where: str) -> VerifierStats | None:
    if obj is None:
        return None
    names = {f.name for f in fields(VerifierStats)}
    if not isinstance(obj, dict) or not set(obj) <= names or not isinstance(obj.get("processed_insns"), int) or \
            not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in obj.values()):
        raise ReportError("'stats' is not verifier statistics", place=where)
    return VerifierStats(**obj)


def _durations(obj: Any, where: str) -> Durations:
    names = {f.name for f in fields(Durations)}
    if not isinstance(obj, dict) or not set(obj) <= names or \
            not all(v is None or isinstance(v, int | float) for v in obj.values()):
        raise ReportError("'durations' is not compile/verify/run seconds", place=where)
    return Durations(**obj)


def _item(sub: Any, test: dict[str, Any], where: str) -> ItemResult:
    try:
        status = Status(_need(sub, "status", str, where))
    except ValueError:
        raise ReportError(f"unknown status {sub['status']!r}", place=where) from None
    description = sub.get("description")
    if description is not None and not isinstance(description, str):
        raise ReportError("'description' is not a string", place=where)
    return ItemResult(
        file=_need(test, "file", str, where), program=_need(sub, "program", str, where),
        arch=_need(test, "arch", str, where), target=_need(test, "target", str, where), status=status,
        unpriv=_need(sub, "unpriv", bool, where), reason=_need(sub, "reason", str, where),
        node_id=_need(sub, "node_id", str, where), description=description,
        stats=_stats(sub.get("stats"), where), durations=_durations(sub.get("durations", {}), where),
        log=_need(sub, "log", str, where))


def from_json(text: str, *, file: str | None = None) -> Report:
    """A report ``to_json`` wrote; ReportError (naming ``file`` and the place) for anything else."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise ReportError(f"not JSON: {err.msg}", file=file, place=f"line {err.lineno} column {err.colno}") from None
    try:
        if _need(obj, "schema", str, "top level") != SCHEMA:
            raise ReportError(f"schema is {obj['schema']!r}, not {SCHEMA!r}", place="top level")
        results = []
        for i, test in enumerate(_need(obj, "results", list, "top level")):
            for j, sub in enumerate(_need(test, "subtests", list, f"results[{i}]")):
                results.append(_item(sub, test, f"results[{i}].subtests[{j}]"))
        meta = obj.get("meta") or {}
        return Report(results, bool(_need(obj, "complete", bool, "top level")), meta if isinstance(meta, dict) else {})
    except ReportError as err:
        raise err.located(file=file) from None


def read_report(path: str | Path) -> Report:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ReportError(f"cannot read: {getattr(err, 'strerror', None) or err}", file=str(path)) from None
    return from_json(text, file=str(path))


def write_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_json(path: str | Path, results: Sequence[ItemResult], *, complete: bool = True,
               meta: dict[str, Any] | None = None) -> Path:
    return write_atomically(path, to_json(results, complete=complete, meta=meta))
