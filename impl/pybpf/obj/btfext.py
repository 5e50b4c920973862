"""``.BTF.ext``: per-section function info, line info and CO-RE relocation records.

The layout is ``struct btf_ext_header`` followed by up to three blocks, each a
``__u32 rec_size`` and then, per ELF section, ``struct btf_ext_info_sec``
(section name offset, record count) and its records.  Instruction offsets in
the records are in bytes from the start of the ELF section, as clang writes
them; ``link`` turns them into instruction indexes of each linked program.
Strings (section names, file names, source lines, access strings) live in
``.BTF``'s string section.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.btf.graph import Btf
from pybpf.btf.uapi import BTF_MAGIC, Layout
from pybpf.obj.errors import ObjectError, at

SECTION = ".BTF.ext"

BTF_EXT_HEADER = Layout("btf_ext_header", (
    ("magic", "H"), ("version", "B"), ("flags", "B"), ("hdr_len", "I"),
    ("func_info_off", "I"), ("func_info_len", "I"), ("line_info_off", "I"), ("line_info_len", "I"),
))
BTF_EXT_CORE = Layout("btf_ext_header_core", (("core_relo_off", "I"), ("core_relo_len", "I")))
INFO_SEC = Layout("btf_ext_info_sec", (("sec_name_off", "I"), ("num_info", "I")))
FUNC_INFO = Layout("bpf_func_info", (("insn_off", "I"), ("type_id", "I")))
LINE_INFO = Layout("bpf_line_info", (("insn_off", "I"), ("file_name_off", "I"), ("line_off", "I"),
                                     ("line_col", "I")))
CORE_RELO = Layout("bpf_core_relo", (("insn_off", "I"), ("type_id", "I"), ("access_str_off", "I"),
                                     ("kind", "I")))
REC_SIZE = Layout("rec_size", (("rec_size", "I"),))


@dataclass(frozen=True)
class ExtRecord:
    """One record with its fields by name (the leading ones of its layout; extra bytes are ignored)."""

    insn_off: int  # bytes from the start of the ELF section
    fields: tuple[int, ...]  # the layout's fields after insn_off


@dataclass(frozen=True)
class BtfExt:
    """Records by ELF section name, per block."""

    func_info: dict[str, list[ExtRecord]]
    line_info: dict[str, list[ExtRecord]]
    core_relos: dict[str, list[ExtRecord]]


def _block(data: bytes, start: int, length: int, layout: Layout, btf: Btf, file: str, what: str,
           order: str) -> dict[str, list[ExtRecord]]:
    out: dict[str, list[ExtRecord]] = {}
    if not length:
        return out
    end = start + length
    if end > len(data) or length < REC_SIZE.size:
        raise ObjectError(f"{what} block ({length:#x} bytes at {start:#x}) runs past the section", file=file,
                          place=at(SECTION, start))
    (rec_size,) = REC_SIZE.codec(order).unpack_from(data, start)
    if rec_size < layout.size or rec_size % 4:
        raise ObjectError(f"{what} record size {rec_size} (want a multiple of 4, at least {layout.size})",
                          file=file, place=at(SECTION, start))
    pos = start + REC_SIZE.size
    rec_codec, sec_codec = layout.codec(order), INFO_SEC.codec(order)
    while pos < end:
        if pos + INFO_SEC.size > end:
            raise ObjectError(f"truncated {what} section header", file=file, place=at(SECTION, pos))
        name_off, count = sec_codec.unpack_from(data, pos)
        name = _string(btf, name_off, file, pos)
        if not count:
            raise ObjectError(f"{what} for section '{name}' has no records", file=file, place=at(SECTION, pos))
        pos += INFO_SEC.size
        if pos + count * rec_size > end:
            raise ObjectError(f"{count} {what} records of section '{name}' run past the block", file=file,
                              place=at(SECTION, pos))
        recs = out.setdefault(name, [])
        for _ in range(count):
            values = rec_codec.unpack_from(data, pos)
            recs.append(ExtRecord(values[0], tuple(values[1:])))
            pos += rec_size
    return out


def _string(btf: Btf, off: int, file: str, pos: int) -> str:
    try:
        return btf.str_at(off)
    except ObjectError:
        raise
    except Exception as err:  # BtfError: an offset past the string section
        raise ObjectError(f"string offset {off:#x} is not in .BTF's string section ({err})", file=file,
                          place=at(SECTION, pos)) from None


def string_at(btf: Btf, off: int, file: str, pos: int = 0) -> str:
    """A ``.BTF`` string named by a ``.BTF.ext`` record."""
    return _string(btf, off, file, pos)


def parse_btf_ext(data: bytes, btf: Btf, file: str) -> BtfExt:
    order = btf.byte_order
    if len(data) < BTF_EXT_HEADER.size:
        raise ObjectError(f"truncated header ({len(data)} bytes)", file=file, place=at(SECTION, 0))
    hdr = dict(zip(BTF_EXT_HEADER.field_names, BTF_EXT_HEADER.codec(order).unpack_from(data, 0), strict=True))
    if hdr["magic"] != BTF_MAGIC:
        raise ObjectError(f"bad magic {hdr['magic']:#06x} (want {BTF_MAGIC:#06x})", file=file, place=at(SECTION, 0))
    if hdr["version"] != 1:
        raise ObjectError(f"unsupported version {hdr['version']}", file=file, place=at(SECTION, 2))
    hdr_len = hdr["hdr_len"]
    if hdr_len < BTF_EXT_HEADER.size or hdr_len > len(data):
        raise ObjectError(f"hdr_len {hdr_len} out of range", file=file, place=at(SECTION, 4))
    core_off = core_len = 0
    if hdr_len >= BTF_EXT_HEADER.size + BTF_EXT_CORE.size:
        core_off, core_len = BTF_EXT_CORE.codec(order).unpack_from(data, BTF_EXT_HEADER.size)
    return BtfExt(
        func_info=_block(data, hdr_len + hdr["func_info_off"], hdr["func_info_len"], FUNC_INFO, btf, file,
                         "func_info", order),
        line_info=_block(data, hdr_len + hdr["line_info_off"], hdr["line_info_len"], LINE_INFO, btf, file,
                         "line_info", order),
        core_relos=_block(data, hdr_len + core_off, core_len, CORE_RELO, btf, file, "CO-RE relocation", order),
    )
