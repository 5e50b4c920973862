"""Run pybpf's verifier on the corpus and compare with the kernel's recorded (or live) verdicts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from _corpus import Program
from pybpf.errors import InternalError
from pybpf.verifier import verify

# 6.18's stack-liveness and precision-tracking lines, which pybpf does not print
_UNMODELLED = re.compile(r"^(\(\d+\) frame \d+ insn \d+ |\(\d+\) live stack update |mark_precise: )")


@dataclass
class Outcome:
    name: str
    kernel: dict
    ok: bool | None  # None: pybpf could not judge (InternalError)
    errno: int = 0
    first_error: str = ""
    processed: int = 0
    log: str = ""
    note: str = ""

    @property
    def verdict_agrees(self) -> bool:
        return self.ok == self.kernel["ok"]

    @property
    def error_agrees(self) -> bool:
        return self.first_error == self.kernel["first_error"]

    @property
    def processed_close(self) -> bool:
        k = self.kernel["insn_processed"]
        return abs(self.processed - k) <= 0.1 * k


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)

    def figures(self) -> dict[str, tuple[int, int]]:
        o = self.outcomes
        rej = [x for x in o if not x.kernel["ok"]]
        acc = [x for x in o if x.kernel["ok"] and x.ok]
        return {
            "verdict": (sum(x.verdict_agrees for x in o), len(o)),
            "first_error": (sum(x.error_agrees for x in rej), len(rej)),
            "errno": (sum(x.errno == x.kernel["errno"] for x in rej), len(rej)),
            "processed_10pct": (sum(x.processed_close for x in acc), len(acc)),
        }


def run(p: Program, kernel: dict, log_level: int = 1) -> Outcome:
    try:
        v = verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=0 if p.heavy else log_level,
                   func_info=p.func_info)
    except InternalError as e:
        return Outcome(p.name, kernel, None, note=str(e))
    return Outcome(p.name, kernel, v.ok, v.errno, v.first_error, v.insn_processed, v.log)


def comparable_lines(log: str) -> list[str]:
    return [ln for ln in log.splitlines() if not _UNMODELLED.match(ln)]
