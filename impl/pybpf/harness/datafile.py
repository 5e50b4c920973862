"""The bpf_conformance ``.data`` test file: parsing into a ``ConformanceTest``.

A file is a sequence of sections, each opened by a line ``-- NAME``; ``#``
starts a comment anywhere on a line and blank lines mean nothing (the format is
described in ``shared/bpf_conformance/FORMAT.md``).  Every malformation raises
``DataFileError`` naming the file and the line, so a broken test is one line
of output, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pybpf.errors import DataFileError

WORD_BITS = 64
_U64 = (1 << WORD_BITS) - 1

_HEX_BYTE = re.compile(r"[0-9a-fA-F]{1,2}")
_HEX_WORD = re.compile(r"0[xX][0-9a-fA-F]+")
_HEADER = re.compile(r"--(?:\s+(.*))?$")  # at column 0, so C code like "--i;" in -- c is no header
_NUMBER = re.compile(r"-?(0[xX][0-9a-fA-F]+|[0-9]+)")


@dataclass(frozen=True)
class ConformanceTest:
    """One parsed ``.data`` file.

    ``asm`` keeps its line structure (comments blanked) from the line after
    the ``-- asm`` header, so assembler errors can name the file's lines.
    ``raw`` holds the ``-- raw`` slots as 64-bit little-endian words.
    ``result`` is the expected r0 as an unsigned 64-bit value.
    """

    path: Path
    name: str
    asm: str | None = None
    raw: tuple[int, ...] | None = None
    mem: bytes = b""
    result: int | None = None
    error: str | None = None
    asm_line: int = 0  # line number of the ``-- asm`` header
    raw_line: int = 0  # line number of the ``-- raw`` header
    notes: tuple[str, ...] = field(default=())  # the ``-- no register offset`` text, if any

    @property
    def has_mem(self) -> bool:
        return bool(self.mem)

    @property
    def asm_first_line(self) -> int:
        """The file's line number of the first line of ``asm`` (for the assembler's messages)."""
        return self.asm_line + 1

    def expectation(self) -> str:
        """What the test expects, as a report shows it."""
        if self.error is not None:
            return f"error: {self.error}" if self.error else "error"
        return f"{self.result:#x}" if self.result is not None else "-"


@dataclass(frozen=True)
class _Section:
    name: str
    line: int  # the header line
    body: tuple[tuple[int, str], ...]  # (line number, text without comment), non-blank only


def _fail(path: Path, line: int, message: str) -> DataFileError:
    return DataFileError(message, file=str(path), place=f"line {line}")


def _split_sections(path: Path, text: str) -> list[_Section]:
    sections: list[_Section] = []
    name: str | None = None
    header = 0
    body: list[tuple[int, str]] = []
    for number, full in enumerate(text.splitlines(), start=1):
        line = full.split("#", 1)[0].strip()
        opened = _HEADER.match(full)
        if opened:
            if name is not None:
                sections.append(_Section(name, header, tuple(body)))
            name, header, body = " ".join((opened.group(1) or "").split("#", 1)[0].split()), number, []
            continue
        if not line:
            continue
        if name is None:
            raise _fail(path, number, f"text outside any section: {line!r} (a section starts with '-- NAME')")
        body.append((number, line))
    if name is not None:
        sections.append(_Section(name, header, tuple(body)))
    return sections


def _parse_mem(path: Path, section: _Section) -> bytes:
    out = bytearray()
    for number, line in section.body:
        for token in line.split():
            if not _HEX_BYTE.fullmatch(token):
                raise _fail(path, number, f"-- mem: {token!r} is not a hex byte")
            out.append(int(token, 16))
    return bytes(out)


def _parse_raw(path: Path, section: _Section) -> tuple[int, ...]:
    words: list[int] = []
    for number, line in section.body:
        tokens = line.split()
        if len(tokens) == 1 and _HEX_WORD.fullmatch(tokens[0]):
            value = int(tokens[0], 16)
            if value > _U64:
                raise _fail(path, number, f"-- raw: {tokens[0]} does not fit in a 64-bit instruction word")
            words.append(value)
        elif len(tokens) == 8 and all(_HEX_BYTE.fullmatch(t) for t in tokens):
            words.append(int.from_bytes(bytes(int(t, 16) for t in tokens), "little"))
        else:
            raise _fail(path, number, f"-- raw: {line!r} is neither a 0x... 64-bit word nor 8 hex bytes")
    if not words:
        raise _fail(path, section.line, "-- raw section holds no instruction words")
    return tuple(words)


def _parse_result(path: Path, section: _Section) -> int:
    if not section.body:
        raise _fail(path, section.line, "-- result section is empty")
    if len(section.body) > 1 or len(section.body[0][1].split()) != 1:
        number = section.body[1][0] if len(section.body) > 1 else section.body[0][0]
        raise _fail(path, number, "-- result must be a single number")
    number, token = section.body[0]
    if not _NUMBER.fullmatch(token):
        raise _fail(path, number, f"-- result: {token!r} is not a number (hex 0x... or decimal)")
    value = int(token, 0) if not token.lstrip("-").isdigit() else int(token, 10)
    if not -(1 << 63) <= value <= _U64:
        raise _fail(path, number, f"-- result: {token} does not fit in 64 bits")
    return value & _U64


def _keep_lines(section: _Section) -> str:
    """The section's text with its original line layout (blank where a comment or nothing was)."""
    lines: dict[int, str] = dict(section.body)
    last = max(lines, default=section.line)
    return "\n".join(lines.get(n, "") for n in range(section.line + 1, last + 1))


_IGNORED = ("c", "no register offset")
_PARSERS: dict[str, Callable[[Path, _Section], object]] = {
    "asm": lambda _path, s: _keep_lines(s),
    "raw": _parse_raw,
    "mem": _parse_mem,
    "result": _parse_result,
    "error": lambda _path, s: " ".join(text for _, text in s.body),
}


def parse(text: str, path: Path | str) -> ConformanceTest:
    """Parse the text of a ``.data`` file; raises ``DataFileError`` naming file:line."""
    path = Path(path)
    found: dict[str, object] = {}
    lines: dict[str, int] = {}
    notes: list[str] = []
    for section in _split_sections(path, text):
        if section.name in lines:
            raise _fail(path, section.line, f"duplicate section '-- {section.name}' (first at line "
                                            f"{lines[section.name]})")
        lines[section.name] = section.line
        if section.name in _IGNORED:
            notes.extend(t for _, t in section.body)
            continue
        parser = _PARSERS.get(section.name)
        if parser is None:
            known = ", ".join(f"-- {n}" for n in (*_PARSERS, *_IGNORED))
            raise _fail(path, section.line, f"unknown section '-- {section.name}' (known: {known})")
        found[section.name] = parser(path, section)
    last_line = max(len(text.splitlines()), 1)
    asm = found.get("asm")
    if (asm is None or not str(asm).strip()) and "raw" not in found:
        raise _fail(path, lines.get("asm", last_line), "nothing to run: no instructions in an -- asm or -- raw section")
    if "result" in found and "error" in found:
        raise _fail(path, lines["error"], "a test expects either a -- result or an -- error, not both")
    if "result" not in found and "error" not in found:
        raise _fail(path, last_line, "nothing to check: no -- result or -- error section")
    return ConformanceTest(
        path=path,
        name=path.stem,
        asm=str(asm) if asm is not None and str(asm).strip() else None,
        raw=found.get("raw"),  # type: ignore[arg-type]
        mem=found.get("mem", b""),  # type: ignore[arg-type]
        result=found.get("result"),  # type: ignore[arg-type]
        error=found.get("error"),  # type: ignore[arg-type]
        asm_line=lines.get("asm", 0),
        raw_line=lines.get("raw", 0),
        notes=tuple(notes),
    )


def load(path: Path | str) -> ConformanceTest:
    """Read and parse one ``.data`` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataFileError(f"not UTF-8 text: {err.reason} at byte {err.start}", file=str(path)) from None
    except OSError as err:
        raise DataFileError(f"cannot read: {err.strerror}", file=str(path)) from None
    return parse(text, path)
