"""Reading the bpf_conformance ``.data`` files (the format in the suite's FORMAT.md), for these tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pybpf.errors import DataFileError

SUITE = Path(__file__).resolve().parents[2] / ".." / "shared" / "bpf_conformance"
KNOWN_SECTIONS = frozenset({"asm", "raw", "mem", "result", "error", "no register offset", "c"})


@dataclass(frozen=True)
class DataFile:
    path: Path
    sections: dict[str, str]
    first_line: dict[str, int]  # line number where each section's text starts


def read_data_file(path: Path) -> DataFile:
    sections: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    current = None
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("-- "):
            current = line[3:].strip()
            if current not in KNOWN_SECTIONS:
                raise DataFileError(f"unknown section '-- {current}'", file=path.name, place=f"line {n}")
            sections[current] = []
            first[current] = n + 1
        elif current is not None:
            sections[current].append(line)
    return DataFile(path, {k: "\n".join(v) for k, v in sections.items()}, first)


def raw_words(text: str) -> list[int]:
    """The ``-- raw`` section as 64-bit little-endian words (``0x...`` lines or 8 hex bytes)."""
    words = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.lower().startswith("0x"):
            words.append(int(line, 16))
        else:
            words.append(int.from_bytes(bytes(int(b, 16) for b in line.split()), "little"))
    return words


def raw_bytes(text: str) -> bytes:
    return b"".join(w.to_bytes(8, "little") for w in raw_words(text))


def suite_files(sub: str = "") -> list[Path]:
    folder = SUITE / sub if sub else SUITE
    return sorted(folder.glob("*.data")) if folder.is_dir() else []
