#!/usr/bin/env python3
"""Write the malformed-report corpus for ``pybpf gate`` from ``good.json`` (a real ``report.json``).

    python tests/badinput/gate/make_corpus.py

Each file breaks one thing a report must have (``results.py`` reads schema
``pybpf-selftest-report/1``); ``cases.json`` maps each file to the words
its one error line must hold: [message part, place part] (``cases.json``, beside the corpus).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good.json"
CORPUS = HERE / "corpus"


def edited(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], bytes]:
    def make(good: dict[str, Any]) -> bytes:
        report = copy.deepcopy(good)
        change(report)
        return json.dumps(report, indent=1).encode()

    return make


def _sub(report: dict[str, Any]) -> dict[str, Any]:
    return report["results"][0]["subtests"][0]


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda r: _sub(r).__setitem__(key, value)


# file -> (its bytes from the good report, part of the message, part of the place)
CASES: dict[str, tuple[Callable[[dict[str, Any]], bytes], str, str]] = {
    "empty.json": (lambda g: b"", "not JSON", "line 1 column 1"),
    "truncated.json": (lambda g: json.dumps(g, indent=1).encode()[:200], "not JSON", "line "),
    "not_utf8.json": (lambda g: b"\xff\xfe{}", "cannot read", ""),
    "top_level_list.json": (lambda g: b"[1, 2, 3]\n", "missing 'schema'", "top level"),
    "wrong_schema.json": (edited(lambda r: r.__setitem__("schema", "pybpf-selftest-report/999")), "schema is",
                          "top level"),
    "results_not_a_list.json": (edited(lambda r: r.__setitem__("results", {"a": 1})), "'results' is dict",
                                "top level"),
    "no_complete.json": (edited(lambda r: r.pop("complete")), "missing 'complete'", "top level"),
    "no_subtests.json": (edited(lambda r: r["results"][0].pop("subtests")), "missing 'subtests'", "results[0]"),
    "unknown_status.json": (edited(_set("status", "exploded")), "unknown status 'exploded'",
                            "results[0].subtests[0]"),
    "program_not_a_string.json": (edited(_set("program", 7)), "'program' is int", "results[0].subtests[0]"),
    "stats_not_stats.json": (edited(_set("stats", [1, 2])), "'stats' is not verifier statistics",
                             "results[0].subtests[0]"),
    "stats_strings.json": (edited(_set("stats", {"processed_insns": 3, "total_states": "many"})),
                           "'stats' is not verifier statistics", "results[0].subtests[0]"),
    "durations_strings.json": (edited(_set("durations", {"compile_s": "slow"})), "'durations'",
                               "results[0].subtests[0]"),
    "subtest_not_an_object.json": (edited(lambda r: r["results"][0]["subtests"].__setitem__(0, "x")),
                                   "missing 'status'", "results[0].subtests[0]"),
}


def main() -> int:
    good = json.loads(GOOD.read_text())
    CORPUS.mkdir(exist_ok=True)
    index = {}
    for name, (make, message, place) in CASES.items():
        (CORPUS / name).write_bytes(make(good))
        index[name] = [message, place]
    (CORPUS.parent / "cases.json").write_text(json.dumps(index, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
