#!/usr/bin/env python3
"""Make the bad-object corpus: each case is a valid object from ``progs/`` with one defect put in.

The ELF is edited with ``struct`` on the raw bytes (not with pybpf's reader),
so the corpus does not depend on the code it tests::

    python tests/obj/bad/make_corpus.py OUT_DIR subprogs.o maps.o externs.o core.o

writes ``OUT_DIR/<case>.o`` and ``OUT_DIR/cases.json`` ({case: [expected message part, place part, needs
target BTF]}).
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from pathlib import Path

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")


class Elf:
    def __init__(self, data: bytes):
        self.data = bytearray(data)
        h = EHDR.unpack_from(self.data, 0)
        self.shoff, self.shnum, self.shstrndx = h[6], h[12], h[13]
        self.shdrs = [list(SHDR.unpack_from(self.data, self.shoff + i * 64)) for i in range(self.shnum)]
        strtab = self.shdrs[self.shstrndx]
        self.names = [self._str(strtab[4], s[0]) for s in self.shdrs]

    def _str(self, base: int, off: int) -> str:
        end = self.data.index(b"\0", base + off)
        return self.data[base + off:end].decode()

    def index(self, name: str) -> int:
        return self.names.index(name)

    def sec(self, name: str) -> tuple[int, int]:
        s = self.shdrs[self.index(name)]
        return s[4], s[5]  # file offset, size

    def set_shdr(self, idx: int, field: int, value: int) -> None:
        self.shdrs[idx][field] = value
        SHDR.pack_into(self.data, self.shoff + idx * 64, *self.shdrs[idx])

    def symbols(self) -> list[tuple[int, str, tuple]]:
        off, size = self.sec(".symtab")
        strtab = self.shdrs[self.shdrs[self.index(".symtab")][6]][4]
        out = []
        for i in range(size // SYM.size):
            entry = SYM.unpack_from(self.data, off + i * SYM.size)
            out.append((off + i * SYM.size, self._str(strtab, entry[0]), entry))
        return out


def btf_first_type_of_kind(e: Elf, kinds: set[int]) -> int:
    """File offset of the first BTF type whose kind is in ``kinds`` (walking the type section)."""
    off, _ = e.sec(".BTF")
    _, _, _, hdr_len, type_off, type_len = struct.unpack_from("<HBBIII", e.data, off)
    pos, end = off + hdr_len + type_off, off + hdr_len + type_off + type_len
    one = {1: 4, 3: 12, 14: 4, 17: 4}
    many = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    while pos < end:
        _, info, _ = struct.unpack_from("<III", e.data, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        if kind in kinds:
            return pos
        pos += 12 + one.get(kind, 0) + many.get(kind, 0) * vlen
    raise SystemExit(f"no BTF type of kinds {kinds}")


Case = Callable[[bytes], bytes]


def truncated_header(d: bytes) -> bytes:
    return d[:40]


def truncated_sections(d: bytes) -> bytes:
    return d[:len(d) // 2]


def wrong_machine(d: bytes) -> bytes:
    e = Elf(d)
    struct.pack_into("<H", e.data, 18, 62)  # EM_X86_64
    return bytes(e.data)


def wrong_endianness(d: bytes) -> bytes:
    e = Elf(d)
    e.data[5] = 2  # ELFDATA2MSB
    return bytes(e.data)


def corrupt_btf_header(d: bytes) -> bytes:
    e = Elf(d)
    off, _ = e.sec(".BTF")
    struct.pack_into("<I", e.data, off + 12, 0x7FFFFFF0)  # type_len far past the section
    return bytes(e.data)


def btf_type_out_of_range(d: bytes) -> bytes:
    e = Elf(d)
    pos = btf_first_type_of_kind(e, {2, 8, 14})  # PTR, TYPEDEF, VAR: size_or_type is a type id
    struct.pack_into("<I", e.data, pos + 8, 0xFFFFF)
    return bytes(e.data)


def btf_bad_string_offset(d: bytes) -> bytes:
    e = Elf(d)
    pos = btf_first_type_of_kind(e, {1})  # an INT's name
    struct.pack_into("<I", e.data, pos, 0xFFFFFF)
    return bytes(e.data)


def maps_without_btf(d: bytes) -> bytes:
    e = Elf(d)
    idx = e.index(".BTF")
    name_at = e.shdrs[e.shstrndx][4] + e.shdrs[idx][0]
    e.data[name_at:name_at + 4] = b".BTX"  # the reader no longer finds .BTF
    return bytes(e.data)


def unknown_section(d: bytes) -> bytes:
    e = Elf(d)
    idx = e.index("xdp")
    name_at = e.shdrs[e.shstrndx][4] + e.shdrs[idx][0]
    e.data[name_at:name_at + 3] = b"xdz"
    return bytes(e.data)


def control_chars_in_name(d: bytes) -> bytes:
    e = Elf(d)
    idx = e.index("xdp")
    name_at = e.shdrs[e.shstrndx][4] + e.shdrs[idx][0]
    e.data[name_at:name_at + 3] = b"x\n\x1b"  # a newline and a terminal escape from the file's own bytes
    return bytes(e.data)


def legacy_maps(d: bytes) -> bytes:
    e = Elf(d)
    idx = e.index(".maps")
    e.set_shdr(idx, 0, e.shdrs[idx][0] + 1)  # ".maps" -> "maps"
    return bytes(e.data)


def reloc_missing_symbol(d: bytes) -> bytes:
    e = Elf(d)
    off, _ = e.sec(".relxdp")
    r_offset, r_info = struct.unpack_from("<QQ", e.data, off)
    struct.pack_into("<QQ", e.data, off, r_offset, (9999 << 32) | (r_info & 0xFFFFFFFF))
    return bytes(e.data)


def reloc_undefined_symbol(d: bytes) -> bytes:
    e = Elf(d)
    for at, name, (st_name, _info, other, _shndx, _value, _size) in e.symbols():
        if name == "counter":
            SYM.pack_into(e.data, at, st_name, 0x10, other, 0, 0, 0)  # GLOBAL NOTYPE, undefined
            return bytes(e.data)
    raise SystemExit("no symbol 'counter'")


def unresolved_kfunc(d: bytes) -> bytes:
    # rename the kfunc everywhere (.strtab and .BTF strings): a consistent object the kernel lacks
    return d.replace(b"bpf_rcu_read_lock\0", b"bpf_rcu_read_lokk\0")


# case -> (source object, make, expected message part, place part, open with the kernel's BTF)
CASES: dict[str, tuple[str, Case, str, str, bool]] = {
    "truncated_header": ("subprogs.o", truncated_header, "truncated ELF header", "ELF header offset", False),
    "truncated_sections": ("subprogs.o", truncated_sections, "runs past the end of the file", "offset", False),
    "wrong_machine": ("subprogs.o", wrong_machine, "not a BPF object (e_machine 62", "ELF header offset 0x12",
                      False),
    "wrong_endianness": ("subprogs.o", wrong_endianness, "endianness mismatch", "ELF header offset 0x5", False),
    "corrupt_btf_header": ("maps.o", corrupt_btf_header, "runs past the data", "section '.BTF' offset 0x0",
                           False),
    "btf_type_out_of_range": ("maps.o", btf_type_out_of_range, "out of range", "section '.BTF' offset", False),
    "btf_bad_string_offset": ("maps.o", btf_bad_string_offset, "string offset", "section '.BTF' offset", False),
    "maps_without_btf": ("maps.o", maps_without_btf, "'.maps' needs BTF", "section '.maps' offset 0x0", False),
    "unknown_section": ("subprogs.o", unknown_section, "unknown program section 'xdz'", "section 'xdz' offset",
                        False),
    "control_chars_in_name": ("subprogs.o", control_chars_in_name, "unknown program section 'x\\n\\x1b'",
                              "section 'x\\n\\x1b' offset", False),
    "legacy_maps": ("maps.o", legacy_maps, "legacy 'maps' section is not supported", "section 'maps'", False),
    "reloc_missing_symbol": ("subprogs.o", reloc_missing_symbol, "symbol #9999", "section '.relxdp' offset 0x0",
                             False),
    "reloc_undefined_symbol": ("subprogs.o", reloc_undefined_symbol, "undefined symbol 'counter'",
                               "section '.text' offset", False),
    "unresolved_kfunc": ("externs.o", unresolved_kfunc, "unresolved kfunc 'bpf_rcu_read_lokk'",
                         "section 'syscall'", True),
}


def main(out_dir: str, *objects: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sources = {Path(o).name: Path(o).read_bytes() for o in objects}
    index = {}
    for case, (source, make, message, place, needs_target) in CASES.items():
        (out / f"{case}.o").write_bytes(make(sources[source]))
        index[case] = [message, place, needs_target]
    (out / "cases.json").write_text(json.dumps(index, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
