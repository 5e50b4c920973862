"""Why ``git am -3`` did not apply a patch: the files and the hunks that conflict.

``parse_am`` reads what ``git am`` printed (``Patch failed at NNNN SUBJECT``,
``CONFLICT (content): Merge conflict in PATH``, ``error: patch failed: PATH:LINE``);
``parse_combined_diff`` reads ``git diff`` of the unmerged tree afterwards
(``diff --cc PATH`` / ``@@@ -76,4 -76,4 +76,8 @@@``), whose conflict markers
give each conflicting hunk's two sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

_PATCH_FAILED = re.compile(r"^Patch failed at (\d+) (.*)$", re.MULTILINE)
_CONFLICT = re.compile(r"^CONFLICT \(([^)]*)\): (?:Merge conflict in )?(.*)$", re.MULTILINE)
_ERROR_AT = re.compile(r"^error: patch failed: (.*):(\d+)$", re.MULTILINE)
_ERROR_FILE = re.compile(r"^error: (.*): (patch does not apply|does not exist in index|already exists in "
                         r"working directory|No such file or directory)$", re.MULTILINE)
_DIFF_CC = re.compile(r"^diff --(?:cc|combined) (.*)$")
_HUNK = re.compile(r"^(@{3,}) (.*?) \1(?: (.*))?$")
_TARGET_RANGE = re.compile(r"\+(\d+)(?:,(\d+))?")


@dataclass(frozen=True)
class Hunk:
    """One conflicting region: the combined-diff header, the line it starts at, and both sides."""

    header: str
    line: int | None
    ours: tuple[str, ...] = ()
    theirs: tuple[str, ...] = ()
    ours_label: str = ""
    theirs_label: str = ""


@dataclass(frozen=True)
class Conflict:
    """A file the patch could not be applied to; ``kind`` is git's word (``content``, ``modify/delete``...)."""

    path: str
    kind: str = "content"
    line: int | None = None  # where the patch stopped applying, when git said
    hunks: tuple[Hunk, ...] = ()


@dataclass(frozen=True)
class ApplyFailure:
    """A patch ``git am`` stopped at: its number in the mbox (1-based), subject, conflicts and git's own words."""

    number: int | None
    subject: str
    conflicts: tuple[Conflict, ...] = ()
    output: str = field(default="", repr=False)

    def describe(self) -> str:
        """Several lines for a person: which patch, which files, which hunks and their two sides."""
        head = f"patch {self.number}" if self.number is not None else "the patch"
        out = [f'{head} "{self.subject}" does not apply']
        if not self.conflicts:
            last = [ln for ln in self.output.splitlines() if ln.strip()]
            out.append(f"  git am: {last[-1] if last else 'failed without a message'}")
        for c in self.conflicts:
            at = f" at line {c.line}" if c.line is not None else ""
            out.append(f"  CONFLICT ({c.kind}) in {c.path}{at}")
            for h in c.hunks:
                out.append(f"    {h.header}" + (f" (line {h.line})" if h.line is not None else ""))
                for label, side in ((h.ours_label or "ours", h.ours), (h.theirs_label or "theirs", h.theirs)):
                    out.append(f"      {label}:")
                    out += [f"        {text}" for text in side] or ["        (nothing)"]
        return "\n".join(out)


def parse_am(output: str) -> ApplyFailure:
    """What ``git am``'s stdout and stderr (joined) say about the patch it stopped at."""
    failed = _PATCH_FAILED.search(output)
    conflicts: dict[str, Conflict] = {}
    for kind, path in _CONFLICT.findall(output):
        conflicts.setdefault(path.strip(), Conflict(path.strip(), kind))
    for path, line in _ERROR_AT.findall(output):
        old = conflicts.get(path)
        conflicts[path] = replace(old, line=int(line)) if old else Conflict(path, "patch does not apply", int(line))
    for path, why in _ERROR_FILE.findall(output):
        conflicts.setdefault(path, Conflict(path, why))
    return ApplyFailure(int(failed.group(1)) if failed else None, failed.group(2).strip() if failed else "",
                        tuple(conflicts.values()), output)


def parse_combined_diff(text: str) -> dict[str, tuple[Hunk, ...]]:
    """path -> the hunks of ``git diff``'s combined diff that hold conflict markers."""
    out: dict[str, list[Hunk]] = {}
    path: str | None = None
    header, start, width = "", None, 2
    side: str | None = None
    ours: list[str] = []
    theirs: list[str] = []
    labels = ["", ""]
    for raw in text.splitlines():
        if m := _DIFF_CC.match(raw):
            path, side = m.group(1), None
            continue
        if m := _HUNK.match(raw):
            width = len(m.group(1)) - 1
            header = raw
            target = _TARGET_RANGE.search(m.group(2).split(" ")[-1])
            start = int(target.group(1)) if target else None
            side = None
            continue
        if path is None or not header:
            continue
        body = raw[width:]
        if body.startswith("<<<<<<<"):
            side, ours, theirs, labels = "ours", [], [], [body[7:].strip(), ""]
        elif body.startswith("|||||||") and side == "ours":
            side = "base"
        elif body.startswith("=======") and side in ("ours", "base"):
            side = "theirs"
        elif body.startswith(">>>>>>>") and side == "theirs":
            labels[1] = body[7:].strip()
            out.setdefault(path, []).append(Hunk(header, start, tuple(ours), tuple(theirs), *labels))
            side = None
        elif side == "ours":
            ours.append(body)
        elif side == "theirs":
            theirs.append(body)
    return {p: tuple(h) for p, h in out.items()}


def with_hunks(failure: ApplyFailure, diff: str) -> ApplyFailure:
    """``failure`` with each conflicting file's hunks from ``git diff`` (files only the diff names are added)."""
    hunks = parse_combined_diff(diff)
    conflicts = [replace(c, hunks=hunks.get(c.path, c.hunks)) for c in failure.conflicts]
    known = {c.path for c in conflicts}
    conflicts += [Conflict(p, "content", hunks=h) for p, h in hunks.items() if p not in known]
    return replace(failure, conflicts=tuple(conflicts))
