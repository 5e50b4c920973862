"""Which selftests run: DENYLIST/ALLOWLIST files and ``-a``/``-d``/``-t``/``-b`` selections, as test_progs reads them.

A list file holds one entry a line, ``TEST`` or ``TEST/SUBTEST``; ``#`` starts a
comment (our skip reason), leading and trailing blanks go, and a line left
empty is ignored.  Entries are globs: ``*`` any run of characters, ``?`` one
(libbpf's ``glob_match``, which test_progs uses).  A command-line selection is
a comma list of entries or ``@FILE``; ``-t``/``-b`` entries are substrings
(matched as ``*entry*``), ``-a``/``-d`` entries are globs.

Here a TEST is a program file's stem and a SUBTEST one of its programs
(``linked_list/map_list_push_pop``; the unprivileged run is ``map_list_push_pop
@unpriv``, and a program with ``__description`` also answers to it).  A deny
entry wins over an allow entry; with allow entries, what none of them matches
does not run.  Unlike test_progs, where ``foo`` and ``foo/bar`` in one list
merge into "only foo/bar", every entry here keeps its own meaning.  A broken
line (an empty glob, more than one ``/``) is reported with its file and line,
and the rest of the list still applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pybpf.errors import InputError, one_line
from pybpf.harness.selftest.arch import suffixes

DENYLIST, ALLOWLIST = "DENYLIST", "ALLOWLIST"


@lru_cache(maxsize=1024)
def _glob_re(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def glob_match(name: str, pattern: str) -> bool:
    """libbpf's ``glob_match``: ``*`` matches any run of characters, ``?`` exactly one, the rest itself."""
    return _glob_re(pattern).fullmatch(name) is not None


@dataclass(frozen=True)
class Entry:
    """One entry: a glob for the test and, optionally, one for the subtest; ``reason`` is the line's comment."""

    test: str
    subtest: str | None = None
    reason: str = ""
    file: str | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        return ":".join(str(p) for p in (self.file, self.line) if p is not None) or "command line"

    @property
    def text(self) -> str:
        return self.test if self.subtest is None else f"{self.test}/{self.subtest}"

    def matches(self, test: str, subtests: Sequence[str] = ()) -> bool:
        """Whether this entry covers ``test`` (subtests empty: the test as a whole) or one of the
        ``subtests`` names (a program's name and its description) of one of its programs."""
        if not glob_match(test, self.test):
            return False
        if self.subtest is None:
            return True
        return any(glob_match(s, self.subtest) for s in subtests)


@dataclass(frozen=True)
class ListProblem:
    file: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        return one_line(f"{where}: {self.message}" if where else self.message)


@dataclass(frozen=True)
class TestList:
    """The usable entries of a list and the problems of its broken lines."""

    entries: tuple[Entry, ...] = ()
    problems: tuple[ListProblem, ...] = ()

    __test__ = False

    def __add__(self, other: TestList) -> TestList:
        return TestList(self.entries + other.entries, self.problems + other.problems)


def _entry(spec: str, reason: str, file: str | None, line: int | None, *, glob: bool) -> Entry | ListProblem:
    test, slash, subtest = spec.partition("/")
    if "/" in subtest:
        return ListProblem(file, line, f"'{spec}' is too deep: an entry is TEST or TEST/SUBTEST")
    if not test or (slash and not subtest):
        return ListProblem(file, line, f"'{spec}' has an empty {'test' if not test else 'subtest'} name")
    if not glob:
        test, subtest = f"*{test}*", f"*{subtest}*" if slash else None
    return Entry(test, subtest if slash else None, reason, file, line)


def parse_list(text: str, *, file: str | None = None, glob: bool = True) -> TestList:
    """A DENYLIST/ALLOWLIST file's text (``glob=False``: entries are substrings, as ``-t @FILE`` reads them)."""
    entries, problems = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        spec, _, comment = raw.partition("#")
        spec = spec.strip()
        if not spec:
            continue
        got = _entry(spec, " ".join(comment.split()), file, number, glob=glob)
        (problems if isinstance(got, ListProblem) else entries).append(got)
    return TestList(tuple(entries), tuple(problems))


def load_list(path: str | Path, *, glob: bool = True) -> TestList:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", file=str(path)) from None
    return parse_list(text, file=str(path), glob=glob)


def parse_selection(arg: str, *, glob: bool = True) -> TestList:
    """One ``-a``/``-d`` (``glob``) or ``-t``/``-b`` argument: ``a,b/c`` or ``@FILE``."""
    if arg.startswith("@"):
        return load_list(arg[1:], glob=glob)
    entries, problems = [], []
    for spec in (s for s in arg.split(",") if s):
        got = _entry(spec, "", None, None, glob=glob)
        (problems if isinstance(got, ListProblem) else entries).append(got)
    return TestList(tuple(entries), tuple(problems))


class Verdict(StrEnum):
    RUN = "run"
    DENIED = "denied"  # a deny entry covers it: reported, with the entry's comment as the reason
    NOT_SELECTED = "not selected"  # there are allow entries and none covers it


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    entry: Entry | None = None

    @property
    def reason(self) -> str:
        if self.entry is None:
            return ""
        why = self.entry.reason or "no reason given"
        return f"{why} ({self.entry.where}: {self.entry.text})"


@dataclass(frozen=True)
class Selector:
    """Deny entries, then allow entries (none: everything is allowed)."""

    deny: tuple[Entry, ...] = ()
    allow: tuple[Entry, ...] = ()
    problems: tuple[ListProblem, ...] = field(default=())

    @classmethod
    def of(cls, deny: Iterable[TestList] = (), allow: Iterable[TestList] = ()) -> Selector:
        d, a = sum(deny, TestList()), sum(allow, TestList())
        return cls(d.entries, a.entries, d.problems + a.problems)

    def decide(self, test: str, subtests: Sequence[str] = ()) -> Decision:
        """For one program's run: ``test`` its file's stem, ``subtests`` its names (name, description)."""
        for e in self.deny:
            if e.matches(test, subtests):
                return Decision(Verdict.DENIED, e)
        if not self.allow:
            return Decision(Verdict.RUN)
        for e in self.allow:
            if e.matches(test, subtests):
                return Decision(Verdict.RUN, e)
        return Decision(Verdict.NOT_SELECTED)

    def unmatched(self, names: Iterable[tuple[str, Sequence[str]]]) -> list[Entry]:
        """The entries that cover none of ``names`` ((test, subtest names) pairs): worth a warning."""
        names = list(names)
        return [e for e in self.deny + self.allow if not any(e.matches(t, s) for t, s in names)]


def arch_lists(directory: str | Path, arch: str | None) -> tuple[list[TestList], list[TestList]]:
    """(deny lists, allow lists) found in ``directory``: ``DENYLIST``, ``DENYLIST.<arch>``, the same for ALLOWLIST."""
    base = Path(directory)
    out: tuple[list[TestList], list[TestList]] = ([], [])
    for kind, into in ((DENYLIST, out[0]), (ALLOWLIST, out[1])):
        names = [kind] + ([f"{kind}.{s}" for s in suffixes(arch)] if arch else [])
        # exists(), not is_file(): a list that is there but cannot be read must not be skipped silently
        into.extend(load_list(base / n) for n in names if (base / n).exists())
    return out


def selector_for(directory: str | Path, arch: str | None, *, deny_args: Sequence[str] = (),
                 allow_args: Sequence[str] = ()) -> Selector:
    """The lists of ``directory`` for ``arch`` plus ``-d``/``-a`` arguments (globs)."""
    deny, allow = arch_lists(directory, arch)
    deny += [parse_selection(a) for a in deny_args]
    allow += [parse_selection(a) for a in allow_args]
    return Selector.of(deny, allow)
