#!/usr/bin/env python3
"""Write the broken raw-BTF corpus: a small valid BTF blob with one defect put in per file.

    python tests/badinput/btf/make_corpus.py

The blob is built here with ``struct`` from the layouts of ``include/uapi/linux/btf.h``
(never with pybpf's BTF code): ``[1] INT 'int'``, ``[2] PTR -> [1]``,
``[3] STRUCT 's' { p: [2] }``, ``[4] TYPEDEF 't' -> [3]``.  ``good.btf`` is the
blob itself; ``corpus/cases.json`` maps each broken file to the words its one
error line must hold: [message part, place part].
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

MAGIC, VERSION, HDR_LEN = 0xEB9F, 1, 24
HEADER = struct.Struct("<HBBIIIII")  # magic version flags hdr_len type_off type_len str_off str_len
KIND_INT, KIND_PTR, KIND_STRUCT, KIND_TYPEDEF = 1, 2, 4, 8
STRINGS = b"\0int\0s\0p\0t\0"
NAME = {s.decode(): STRINGS.index(b"\0" + s + b"\0") + 1 for s in (b"int", b"s", b"p", b"t")}


def btf_type(name_off: int, kind: int, vlen: int, size_or_type: int) -> bytes:
    return struct.pack("<III", name_off, kind << 24 | vlen, size_or_type)


def types(*, ptr_to: int = 1, typedef_to: int = 3, int_name: int = NAME["int"], int_kind: int = KIND_INT,
          struct_vlen: int = 1) -> bytes:
    return b"".join((
        btf_type(int_name, int_kind, 0, 4), struct.pack("<I", 1 << 24 | 32),  # signed, 32 bits
        btf_type(0, KIND_PTR, 0, ptr_to),
        btf_type(NAME["s"], KIND_STRUCT, struct_vlen, 8), struct.pack("<III", NAME["p"], 2, 0),
        btf_type(NAME["t"], KIND_TYPEDEF, 0, typedef_to),
    ))


def blob(type_data: bytes | None = None, strings: bytes = STRINGS, **header: int) -> bytes:
    type_data = types() if type_data is None else type_data
    fields = {"magic": MAGIC, "version": VERSION, "flags": 0, "hdr_len": HDR_LEN, "type_off": 0,
              "type_len": len(type_data), "str_off": len(type_data), "str_len": len(strings)}
    fields.update(header)
    return HEADER.pack(*fields.values()) + type_data + strings


# file -> (its bytes, part of the message, part of the place)
CASES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "empty": (lambda: b"", "neither raw BTF", ""),
    "truncated_header": (lambda: blob()[:10], "truncated header", "header"),
    "bad_magic": (lambda: blob(magic=0x9FEB), "hdr_len", "header"),  # byte-swapped: read as big-endian
    "bad_version": (lambda: blob(version=2), "version 2", "header"),
    "hdr_len_small": (lambda: blob(hdr_len=8), "hdr_len 8", "header"),
    "hdr_len_huge": (lambda: blob(hdr_len=0xFFFFFFF0), "hdr_len", "header"),
    "type_len_past_end": (lambda: blob(type_len=0x10000), "runs past the data", "header"),
    "str_off_past_end": (lambda: blob(str_off=0x7FFFFFF0), "runs past the data", "header"),
    "type_len_unaligned": (lambda: blob(type_len=len(types()) - 2), "not a multiple of 4", "header"),
    "strings_no_leading_nul": (lambda: blob(strings=b"x" + STRINGS[1:]), "empty string", "string section"),
    "strings_no_trailing_nul": (lambda: blob(strings=STRINGS[:-1] + b"x"), "does not end with a NUL",
                                "string section"),
    "unknown_kind": (lambda: blob(types(int_kind=31)), "unknown kind 31", "type [1]"),
    "bad_name_offset": (lambda: blob(types(int_name=0xFFFF)), "string offset 0xffff", "type [1]"),
    "type_out_of_range": (lambda: blob(types(ptr_to=99)), "99 out of range", "type [2]"),
    "typedef_loop": (lambda: blob(types(typedef_to=4)), "loop", "type"),
    "pointer_loop": (lambda: blob(types(ptr_to=2)), "loop", "type"),
    "vlen_huge": (lambda: blob(types(struct_vlen=0xFFFF)), "vlen 65535", "type [3]"),
}


def main() -> int:
    CORPUS.mkdir(exist_ok=True)
    (HERE / "good.btf").write_bytes(blob())
    index = {}
    for name, (make, message, place) in CASES.items():
        (CORPUS / f"{name}.btf").write_bytes(make())
        index[f"{name}.btf"] = [message, place]
    (CORPUS / "cases.json").write_text(json.dumps(index, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
