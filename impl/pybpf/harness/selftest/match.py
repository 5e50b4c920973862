"""Expected-text patterns (``__msg``, ``__not_msg``, ``__xlated``, ``__jited``...) matched as test_loader.c does.

A pattern is literal text in which ``{{...}}`` spans are POSIX extended regular
expressions; the kernel turns the whole into one ERE (the literal parts
escaped), which must fit its 256-byte buffer.  Matching (``match``) follows
Linux 6.18's ``validate_msgs``:

* positive patterns are looked for in order, each from the end of the
  previous one's match; a pattern with ``on_next_line`` (consecutive
  ``__xlated``/``__jited`` lines; ``...`` between two lifts it) must match on
  the line after the previous match;
* a run of negative patterns (``__not_msg``) between two positive ones must not
  match between the end of the first's match and the start of the second's
  (the log's start and end where there is no such neighbour).  Each negative
  pattern is checked on its own; the kernel tests only the first of a run and
  reports the whole run by it;
* the first pattern that fails ends the check, and the report lists every
  pattern up to it (``mismatch_report``), word for word as test_progs prints it.

Regular expressions are searched on the text from the current position, so
``^`` matches there as it does for ``regexec`` on the rest of the log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pybpf.harness.selftest.ere import EreError, compile_ere

# test_loader.c compiles a pattern into a 256-byte buffer; past this the pattern is refused.
_KERNEL_RE_BUF = 256
_ERE_SPECIAL = ".[]\\()*+?{}|^$"


class PatternError(ValueError):
    """A pattern the kernel's test_loader would refuse (open ``{{``, bad regex, too long)."""


@dataclass(frozen=True)
class Pattern:
    """One expected (or, ``negative``, unexpected) piece of text; ``regex`` is None for a plain substring."""

    text: str
    regex: re.Pattern[str] | None = None
    on_next_line: bool = False
    negative: bool = False

    @property
    def is_regex(self) -> bool:
        return self.regex is not None

    def search(self, text: str, pos: int) -> tuple[int, int] | None:
        """(start, end) of the first match at or after ``pos``, or None."""
        if self.regex is None:
            at = text.find(self.text, pos)
            return None if at < 0 else (at, at + len(self.text))
        found = self.regex.search(text[pos:])
        return None if found is None else (pos + found.start(), pos + found.end())


def kernel_ere(pattern: str) -> str:
    """The ERE test_loader.c builds from ``pattern``: literal parts escaped, ``{{...}}`` parts verbatim."""
    out: list[str] = []
    used, i, in_regex = 0, 0, False
    while i < len(pattern) and used < _KERNEL_RE_BUF - 2:
        if not in_regex and pattern.startswith("{{", i):
            in_regex, i = True, i + 2
            continue
        if in_regex and pattern.startswith("}}", i):
            in_regex, i = False, i + 2
            continue
        c = pattern[i]
        piece = "\\" + c if not in_regex and c in _ERE_SPECIAL else c
        out.append(piece)
        used += len(piece.encode())
        i += 1
    if i < len(pattern):
        raise PatternError(f"pattern too long for the kernel's test_loader (its regex buffer is "
                           f"{_KERNEL_RE_BUF} bytes): '{pattern}'")
    if in_regex:
        raise PatternError(f"pattern has an open '{{{{' but no closing '}}}}': '{pattern}'")
    return "".join(out)


def compile_pattern(text: str, *, on_next_line: bool = False, negative: bool = False,
                    whole_regex: bool = False) -> Pattern:
    """A pattern as test_loader reads it: a regex when it contains ``{{``, else a substring.

    ``whole_regex`` is the historic ``__regex`` tag (before ``{{...}}`` in ``__msg`` replaced it): all of
    ``text`` is an ERE.
    """
    if not whole_regex and "{{" not in text:
        return Pattern(text, None, on_next_line, negative)
    ere = text if whole_regex else kernel_ere(text)
    try:
        regex = compile_ere(ere)
    except EreError as err:
        raise PatternError(f"bad regular expression: {err}") from None
    return Pattern(text, regex, on_next_line, negative)


class Outcome(StrEnum):
    """How the first failing pattern failed; the values are test_progs' words."""

    EXPECTED = "EXPECTED"  # a pattern that should have matched did not
    UNEXPECTED = "UNEXPECTED"  # a negative pattern matched
    WRONG_LINE = "WRONG LINE"  # matched, but not on the line after the previous match


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    line: int  # 0-based line of ``start``


@dataclass(frozen=True)
class MatchResult:
    """Where each pattern matched (None: nowhere) and, if the check failed, which pattern and how."""

    patterns: tuple[Pattern, ...]
    spans: tuple[Span | None, ...]
    failed_at: int | None = None
    outcome: Outcome | None = None
    expected_line: int = 0  # for WRONG_LINE: the line the match should have been on
    actual_line: int = 0

    @property
    def ok(self) -> bool:
        return self.failed_at is None


def _span(text: str, found: tuple[int, int]) -> Span:
    return Span(found[0], found[1], text.count("\n", 0, found[0]))


def _match_positive(text: str, patterns: Sequence[Pattern], spans: list[Span | None]) -> None:
    pos = 0
    for i, p in enumerate(patterns):
        if p.negative:
            continue
        found = p.search(text, pos)
        if found is not None:
            spans[i] = _span(text, found)
            pos = found[1]


def _match_negative(text: str, patterns: Sequence[Pattern], spans: list[Span | None]) -> None:
    start, i, n = 0, 0, len(patterns)
    while i < n:
        if not patterns[i].negative:
            span = spans[i]
            start = span.end if span is not None else start
            i += 1
            continue
        j = i
        while j < n and patterns[j].negative:
            j += 1
        nxt = spans[j] if j < n else None
        # A run followed by a positive pattern that did not match is not checked (that pattern fails first).
        end = len(text) if j == n else (nxt.start if nxt is not None else None)
        if end is not None:
            for k in range(i, j):
                found = patterns[k].search(text, start)
                if found is not None and found[1] <= end:
                    spans[k] = _span(text, found)
        i = j


def match(text: str, patterns: Sequence[Pattern]) -> MatchResult:
    """Check ``patterns`` against ``text`` (a verifier log, an xlated or jited listing, a stream)."""
    pats = tuple(patterns)
    spans: list[Span | None] = [None] * len(pats)
    _match_positive(text, pats, spans)
    _match_negative(text, pats, spans)
    prev: Span | None = None
    for i, p in enumerate(pats):
        span = spans[i]
        line = span.line if span is not None else 0  # the kernel compares a missing match as line 0
        no_match = not p.negative and span is None
        wrong_line = not p.negative and p.on_next_line and prev is not None and prev.line + 1 != line
        unexpected = p.negative and span is not None
        if no_match or wrong_line or unexpected:
            outcome = Outcome.WRONG_LINE if wrong_line else Outcome.EXPECTED if no_match else Outcome.UNEXPECTED
            return MatchResult(pats, tuple(spans), i, outcome, prev.line + 1 if prev else 0, line)
        if not p.negative:
            prev = span
    return MatchResult(pats, tuple(spans))


# ------------------------------------------------------------------ the report test_progs prints

class Stream(StrEnum):
    """What a pattern list is matched against, named as test_loader's ``emit_*`` headers name it."""

    VERIFIER_LOG = "VERIFIER LOG"
    XLATED = "XLATED"
    JITED = "JITED"
    STDERR = "STDERR"
    STDOUT = "STDOUT"


def emit(stream: Stream | str, text: str) -> str:
    """The block test_loader prints around a log: ``VERIFIER LOG:``, a rule, the text, a rule."""
    return f"{stream}:\n=============\n{text}=============\n"


def pattern_lines(result: MatchResult) -> str:
    """``MATCHED    SUBSTR: '...'`` for each pattern up to the failing one, then the failing one's status."""
    if result.failed_at is None:
        return ""
    lines = []
    for j in range(result.failed_at + 1):
        p = result.patterns[j]
        status = "MATCHED" if j < result.failed_at else str(result.outcome)
        lines.append(f"{status:<10} {' REGEX' if p.is_regex else 'SUBSTR'}: '{p.text}'\n")
    if result.outcome is Outcome.WRONG_LINE:
        lines.append(f"expecting match at line {result.expected_line}, actual match is at line {result.actual_line}\n")
    return "".join(lines)


def mismatch_report(result: MatchResult, text: str, stream: Stream | str = Stream.VERIFIER_LOG) -> str:
    """The whole text shown on a mismatch: the log block, then the pattern lines ("" when nothing failed)."""
    if result.ok:
        return ""
    return emit(stream, text) + pattern_lines(result)
