#!/usr/bin/env python3
"""Write the broken-ELF corpus: ``base.o`` with one defect put in per file, by editing raw bytes.

    python tests/badinput/elf/make_corpus.py            # corpus/*.o from the committed base.o
    python tests/badinput/elf/make_corpus.py --rebuild  # first recompile base.o from base.c (needs clang)

The bytes are edited with ``struct`` (ELF64 little-endian layouts from the ELF
specification), never with pybpf's reader, so the corpus does not depend on
the code under test.  ``corpus/cases.json`` maps each file to the words its one
error line must hold: [message part, place part].
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "base.o"
CORPUS = HERE / "corpus"

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr
SHDR = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr: name type flags addr offset size link info addralign entsize
SYM = struct.Struct("<IBBHQQ")  # Elf64_Sym: name info other shndx value size
REL = struct.Struct("<QQ")  # Elf64_Rel: offset info
E_SHOFF, E_SHENTSIZE, E_SHNUM, E_SHSTRNDX = 0x28, 0x3A, 0x3C, 0x3E
SH_NAME, SH_OFFSET, SH_SIZE, SH_LINK = 0, 4, 5, 6  # field indexes in SHDR


class Elf:
    """Just enough of an ELF64 to find sections by name and rewrite header fields."""

    def __init__(self, data: bytes):
        self.data = bytearray(data)
        head = EHDR.unpack_from(self.data)
        self.shoff, self.shnum, self.shstrndx = head[6], head[12], head[13]
        self.shdrs = [list(SHDR.unpack_from(self.data, self.shoff + i * SHDR.size)) for i in range(self.shnum)]
        names = self.shdrs[self.shstrndx][SH_OFFSET]
        self.names = [self.cstr(names + s[SH_NAME]) for s in self.shdrs]

    def cstr(self, at: int) -> str:
        return self.data[at:self.data.index(b"\0", at)].decode()

    def index(self, name: str) -> int:
        return self.names.index(name)

    def shdr_at(self, idx: int) -> int:
        return self.shoff + idx * SHDR.size

    def set(self, idx: int, field: int, value: int) -> bytes:
        self.shdrs[idx][field] = value
        SHDR.pack_into(self.data, self.shdr_at(idx), *self.shdrs[idx])
        return bytes(self.data)

    def body(self, name: str) -> int:
        return self.shdrs[self.index(name)][SH_OFFSET]


def _u16(data: bytes, at: int, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<H", out, at, value)
    return bytes(out)


def _u64(data: bytes, at: int, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<Q", out, at, value)
    return bytes(out)


def first_rel(e: Elf) -> str:
    return next(n for n in e.names if n.startswith(".rel") and not n.startswith(".rel.BTF"))


def bad_reloc_symbol(d: bytes) -> bytes:
    e = Elf(d)
    at = e.body(first_rel(e))
    offset, info = REL.unpack_from(e.data, at)
    REL.pack_into(e.data, at, offset, (0xFFFF << 32) | (info & 0xFFFFFFFF))
    return bytes(e.data)


def bad_reloc_offset(d: bytes) -> bytes:
    e = Elf(d)
    at = e.body(first_rel(e))
    _, info = REL.unpack_from(e.data, at)
    REL.pack_into(e.data, at, 0x7FFF0, info)
    return bytes(e.data)


def bad_symbol_section(d: bytes) -> bytes:
    e = Elf(d)
    at = e.body(".symtab")
    for i in range(1, e.shdrs[e.index(".symtab")][SH_SIZE] // SYM.size):
        name, info, other, _shndx, value, size = SYM.unpack_from(e.data, at + i * SYM.size)
        if e.cstr(e.body(".strtab") + name) == "hits":
            SYM.pack_into(e.data, at + i * SYM.size, name, info, other, 0xFEEE, value, size)
            return bytes(e.data)
    raise SystemExit("base.o has no symbol 'hits'")


def btf_bad_magic(d: bytes) -> bytes:
    e = Elf(d)
    struct.pack_into("<H", e.data, e.body(".BTF"), 0xEB9E)
    return bytes(e.data)


def btf_unknown_kind(d: bytes) -> bytes:
    e = Elf(d)
    at = e.body(".BTF")
    hdr_len, type_off = struct.unpack_from("<II", e.data, at + 4)
    first = at + hdr_len + type_off  # the first struct btf_type: name_off, info, size_or_type
    info, = struct.unpack_from("<I", e.data, first + 4)
    struct.pack_into("<I", e.data, first + 4, (info & ~(0x1F << 24)) | 31 << 24)
    return bytes(e.data)


# file -> (how to break base.o, part of the message, part of the place)
Case = Callable[[bytes], bytes]
CASES: dict[str, tuple[Case, str, str]] = {
    "empty": (lambda d: b"", "ELF header", "ELF header offset 0x0"),
    "text_file": (lambda d: b"this is not an object\n", "ELF header", "ELF header offset 0x0"),
    "truncated_header": (lambda d: d[:52], "ELF header", "ELF header offset 0x0"),
    "truncated_body": (lambda d: d[:len(d) // 3], "past the end", "offset"),
    "bad_magic": (lambda d: b"\x7fELG" + d[4:], "magic", "ELF header offset 0x0"),
    "elf32": (lambda d: d[:4] + b"\x01" + d[5:], "not a 64-bit ELF", "ELF header offset 0x4"),
    "wrong_machine": (lambda d: _u16(d, 18, 183), "e_machine 183", "ELF header offset 0x12"),
    "not_relocatable": (lambda d: _u16(d, 16, 2), "e_type 2", "ELF header offset 0x10"),
    "shoff_past_end": (lambda d: _u64(d, E_SHOFF, 1 << 40), "section header table", "ELF header offset"),
    "shnum_huge": (lambda d: _u16(d, E_SHNUM, 0xFEFF), "section header table", "ELF header offset"),
    "shentsize_wrong": (lambda d: _u16(d, E_SHENTSIZE, 40), "section header", "ELF header offset"),
    "shstrndx_out_of_range": (lambda d: _u16(d, E_SHSTRNDX, 0xFE00), "section name table", "ELF header offset"),
    "huge_section_size": (lambda d: (e := Elf(d)).set(e.index("xdp"), SH_SIZE, 1 << 62), "past the end",
                          "section 'xdp'"),
    "huge_section_offset": (lambda d: (e := Elf(d)).set(e.index(".BTF"), SH_OFFSET, (1 << 63) + 8),
                            "past the end", "section '.BTF'"),
    "bad_section_name": (lambda d: (e := Elf(d)).set(e.index("xdp"), SH_NAME, 0xFFFFFF), "name offset 0xffffff",
                         "section #3 header"),
    "symtab_bad_link": (lambda d: (e := Elf(d)).set(e.index(".symtab"), SH_LINK, 0x7777), "past EOF",
                        "section #"),
    "bad_reloc_symbol": (bad_reloc_symbol, "symbol #65535", "section '.relxdp' offset 0x0"),
    "bad_reloc_offset": (bad_reloc_offset, "offset 0x7fff0", "section '.relxdp'"),
    "bad_symbol_section": (bad_symbol_section, "hits", "section"),
    "btf_bad_magic": (btf_bad_magic, "magic", "section '.BTF'"),
    "btf_unknown_kind": (btf_unknown_kind, "unknown kind 31", "section '.BTF'"),
}


def rebuild_base() -> None:
    from pybpf.toolchain import compile_bpf_result

    # the prefix map keeps this machine's paths out of the committed object's debug info
    compile_bpf_result(HERE / "base.c", cache=None, output=BASE, extra_flags=[f"-fdebug-prefix-map={HERE}=."])


def main(argv: list[str]) -> int:
    if "--rebuild" in argv:
        rebuild_base()
    base = BASE.read_bytes()
    CORPUS.mkdir(exist_ok=True)
    index = {}
    for name, (make, message, place) in CASES.items():
        (CORPUS / f"{name}.o").write_bytes(make(base))
        index[f"{name}.o"] = [message, place]
    (CORPUS / "cases.json").write_text(json.dumps(index, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
