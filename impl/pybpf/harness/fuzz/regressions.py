"""Regression cases: minimised programs on which pybpf and the kernel disagreed, with the kernel's verdict.

A case is a corpus block (``program.to_text``) whose header also says
``## kernel: accept|reject``, ``## kernel_errno:``, ``## kernel_error:`` (the
kernel's first error line), what pybpf said when the case was found
(``## pybpf:``, ``## pybpf_error:``), the ``## finding:`` class and, once a
person has looked at it, ``## known:`` -- why the difference is understood and
kept (a replay expects pybpf to differ there).  One case per file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pybpf.errors import InputError
from pybpf.harness.fuzz.oracles import Finding, Judgement
from pybpf.harness.fuzz.program import Case, FuzzProgram, parse_blocks, to_text

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Regression:
    case: Case
    kernel: Judgement
    known: str | None  # why pybpf is expected to differ, or None: pybpf must agree


def _verdict(ok: bool) -> str:
    return "accept" if ok else "reject"


def case_text(prog: FuzzProgram, ours: Judgement, kernel: Judgement, finding: Finding, *, origin: str = "") -> str:
    meta = {"kernel": _verdict(kernel.ok), "kernel_errno": str(kernel.errno), "kernel_error": kernel.first_error,
            "pybpf": _verdict(ours.ok), "pybpf_error": ours.first_error, "finding": finding.kind}
    if origin:
        meta["origin"] = origin
    return to_text(prog, meta)


def case_path(directory: Path, prog: FuzzProgram, finding: Finding) -> Path:
    """A stable file name: the finding's class and a digest of the program."""
    digest = hashlib.sha1(to_text(prog).encode()).hexdigest()[:8]
    slug = _SLUG.sub("_", finding.kind.lower()).strip("_")[:60]
    return directory / f"{slug}_{digest}.s"


def save_case(directory: Path, prog: FuzzProgram, ours: Judgement, kernel: Judgement, finding: Finding, *,
              origin: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = case_path(directory, prog, finding)
    path.write_text(case_text(prog, ours, kernel, finding, origin=origin))
    return path


def load_regressions(directory: Path) -> list[Regression]:
    out = []
    for path in sorted(directory.glob("*.s")):
        for case in parse_blocks(path.read_text(), file=str(path)):
            if case.meta.get("kernel") not in ("accept", "reject"):
                raise InputError("a regression case needs '## kernel: accept' or '## kernel: reject'",
                                 file=str(path), place=f"line {case.line}")
            errno = case.meta.get("kernel_errno", "0")
            if not errno.isdigit():
                raise InputError(f"kernel_errno {errno!r} is not a number", file=str(path), place=f"line {case.line}")
            kernel = Judgement(case.meta["kernel"] == "accept", int(errno), case.meta.get("kernel_error", ""))
            out.append(Regression(case, kernel, case.meta.get("known")))
    return out
