"""Reading the make-style dependency file clang writes for ``-MD -MF``.

Clang escapes a space or ``#`` in a path with a backslash and writes ``$`` as
``$$``; long lines are continued with a trailing backslash.
"""

from __future__ import annotations

_ESCAPED = {" ": " ", "#": "#", "\\": "\\", "\t": "\t"}


def _logical_lines(text: str) -> list[str]:
    return text.replace("\\\r\n", " ").replace("\\\n", " ").splitlines()


def _words(line: str) -> list[str]:
    words: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        nxt = line[i + 1] if i + 1 < len(line) else ""
        if ch == "\\" and nxt in _ESCAPED:
            cur.append(_ESCAPED[nxt])
            i += 2
            continue
        if ch == "$" and nxt == "$":
            cur.append("$")
            i += 2
            continue
        if ch in " \t":
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
        i += 1
    if cur:
        words.append("".join(cur))
    return words


def _split_rule(line: str) -> str | None:
    """The prerequisites part of ``target: prereq...``, or None if not a rule."""
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == ":" and (i + 1 == len(line) or line[i + 1] in " \t"):
            return line[i + 1:]
        i += 1
    return None


def parse_depfile(text: str) -> list[str]:
    """Every prerequisite named in ``text``, in order, without duplicates."""
    seen: dict[str, None] = {}
    for line in _logical_lines(text):
        if line.lstrip().startswith("#"):
            continue
        prereqs = _split_rule(line)
        if prereqs is not None:
            seen.update(dict.fromkeys(_words(prereqs)))
    return list(seen)
