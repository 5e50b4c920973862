"""POSIX extended regular expressions (as glibc's ``regcomp(REG_EXTENDED | REG_NEWLINE)`` reads them) in Python ``re``.

The kernel's test_loader compiles the ``{{...}}`` parts of a pattern as ERE;
Python's syntax differs where it matters: inside a bracket expression a
backslash is a literal and ``[:digit:]`` is a class; a repeated repetition
(``a**``, ``a+?``) repeats again instead of being possessive or lazy; with
REG_NEWLINE a non-matching list (``[^a]``) never matches a newline.  GNU's
``\\w \\W \\s \\S \\b \\B \\< \\>`` are kept; back-references are refused (not ERE).
Matching is leftmost like POSIX, but an alternation takes its first branch
that matches rather than the longest (``a|ab`` on "ab" matches "a").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

# The C locale's character classes, as the members of a Python bracket expression.
_CLASSES = MappingProxyType({
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": "".join("\\" + c if c in "\\]^-[&~|" else c for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "xdigit": "0-9A-Fa-f",
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e",
    "graph": "\\x21-\\x7e",
})

_GNU_ESCAPES = MappingProxyType({
    "w": r"\w", "W": r"\W", "s": r"\s", "S": r"\S", "b": r"\b", "B": r"\B",
    "<": r"\b(?=\w)", ">": r"\b(?<=\w)", "`": r"\A", "'": r"\Z",
})

_INTERVAL = re.compile(r"\{(\d*)(,?)(\d*)\}")
_DUP_MAX = 0x7FFF  # glibc's RE_DUP_MAX


class EreError(ValueError):
    """An ERE glibc would refuse (or one we cannot translate faithfully)."""


def _class_char(c: str) -> str:
    """One literal character inside a Python bracket expression."""
    return "\\" + c if c in "\\]^-[&~|" else c


@dataclass
class _Translator:
    src: str
    pos: int = 0

    def error(self, message: str) -> EreError:
        return EreError(f"{message} at offset {self.pos} of '{self.src}'")

    def peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.src[i] if i < len(self.src) else ""

    # -- bracket expressions -----------------------------------------------------------------------

    def bracket_item(self) -> tuple[str, str | None]:
        """One element of a bracket list: (Python text, the single character it stands for or None)."""
        src = self.src
        if src.startswith("[:", self.pos):
            end = src.find(":]", self.pos + 2)
            if end < 0:
                raise self.error("unterminated character class '[:'")
            name = src[self.pos + 2:end]
            if name not in _CLASSES:
                raise self.error(f"unknown character class '[:{name}:]'")
            self.pos = end + 2
            return _CLASSES[name], None
        if src.startswith("[.", self.pos) or src.startswith("[=", self.pos):
            close = src[self.pos + 1] + "]"
            end = src.find(close, self.pos + 2)
            if end < 0:
                raise self.error(f"unterminated '{src[self.pos:self.pos + 2]}'")
            name = src[self.pos + 2:end]
            if len(name) != 1:
                raise self.error(f"unsupported collating element '{name}' (only single characters)")
            self.pos = end + 2
            return _class_char(name), name
        c = src[self.pos]
        self.pos += 1
        return _class_char(c), c

    def bracket(self) -> str:
        """``[...]`` starting after the ``[``; the Python equivalent."""
        negate = self.peek() == "^"
        if negate:
            self.pos += 1
        parts: list[str] = []
        first = True
        while True:
            c = self.peek()
            if not c:
                raise self.error("unmatched '['")
            if c == "]" and not first:
                self.pos += 1
                break
            first = False
            text, single = self.bracket_item()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                if single is None:
                    raise self.error("a range cannot start with a character class")
                self.pos += 1
                end_text, end_single = self.bracket_item()
                if end_single is None:
                    raise self.error("a range cannot end with a character class")
                if ord(end_single) < ord(single):
                    raise self.error(f"invalid range end '{single}-{end_single}'")
                parts.append(f"{text}-{end_text}")
            else:
                parts.append(text)
        body = "".join(parts)
        # REG_NEWLINE: a non-matching list does not match a newline.
        return f"[^{body}\\n]" if negate else f"[{body}]"

    # -- the rest ----------------------------------------------------------------------------------

    def interval(self) -> str | None:
        match = _INTERVAL.match(self.src, self.pos)
        if not match:
            return None
        low, comma, high = match.groups()
        if not comma and not low:
            return None
        lo = int(low) if low else 0
        hi = int(high) if high else None
        if lo > _DUP_MAX or (hi is not None and (hi > _DUP_MAX or hi < lo)):
            raise self.error(f"invalid interval '{match.group()}'")
        self.pos = match.end()
        return match.group() if low else "{0," + high + "}"

    def sequence(self, depth: int) -> str:
        """Branches up to an unmatched ``)`` (depth > 0) or the end."""
        branches: list[str] = []
        pieces: list[tuple[str, bool]] = []  # (text, already repeated)
        while True:
            c = self.peek()
            if not c or (c == ")" and depth):
                branches.append("".join(p for p, _ in pieces))
                return "|".join(branches)
            self.pos += 1
            if c == "|":
                branches.append("".join(p for p, _ in pieces))
                pieces = []
            elif c in "*+?" or (c == "{" and self._interval_here()):
                quant = c if c != "{" else self._take_interval()
                if not pieces or pieces[-1][0] in ("^", "$"):
                    raise self.error(f"nothing to repeat before '{quant}'")
                text, repeated = pieces[-1]
                pieces[-1] = ((f"(?:{text})" if repeated else text) + quant, True)
            elif c == "{":
                raise self.error("'{' does not start a valid interval")
            elif c == "(":
                inner = self.sequence(depth + 1)
                if self.peek() != ")":
                    raise self.error("unmatched '('")
                self.pos += 1
                pieces.append((f"({inner})", False))
            elif c == ")":  # unmatched at the top level: glibc takes it as a literal
                pieces.append((re.escape(c), False))
            elif c == "[":
                pieces.append((self.bracket(), False))
            elif c == "\\":
                pieces.append((self.escape(), False))
            elif c in "^$.":
                pieces.append((c, False))
            else:
                pieces.append((re.escape(c), False))

    def _interval_here(self) -> bool:
        saved = self.pos
        self.pos -= 1
        found = self.interval() is not None
        self.pos = saved
        return found

    def _take_interval(self) -> str:
        self.pos -= 1
        text = self.interval()
        assert text is not None  # _interval_here said so
        return text

    def escape(self) -> str:
        c = self.peek()
        if not c:
            raise self.error("trailing backslash")
        self.pos += 1
        if c.isdigit() and c != "0":
            raise self.error(f"back-reference '\\{c}' is not part of POSIX extended regular expressions")
        return _GNU_ESCAPES.get(c) or re.escape(c)


def translate(ere: str) -> str:
    """The Python ``re`` source for ``ere`` (compile it with ``re.MULTILINE``)."""
    return _Translator(ere).sequence(0)


def compile_ere(ere: str) -> re.Pattern[str]:
    """``regcomp(ere, REG_EXTENDED | REG_NEWLINE)`` as a Python pattern; EreError when glibc would refuse it."""
    source = translate(ere)
    try:
        return re.compile(source, re.MULTILINE)
    except re.error as err:  # a construct the translation let through but Python refuses
        raise EreError(f"{err} in '{ere}'") from None
