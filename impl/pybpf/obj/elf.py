"""Reading a clang-built BPF ELF object into ``model.Object``, in the order libbpf's open does it.

``elf_collect`` (sections, license, version, BTF) -> ``collect_externs`` ->
``fixup_btf`` -> maps (``.maps``, global data, KCONFIG) -> relocations ->
linking each entry program with its subprograms.
"""

from __future__ import annotations

import os
import struct

from pybpf.btf.graph import Btf
from pybpf.obj.btfext import SECTION as BTF_EXT_SECTION
from pybpf.obj.btfext import BtfExt, parse_btf_ext
from pybpf.obj.btfload import SECTION as BTF_SECTION
from pybpf.obj.btfload import load_object_btf
from pybpf.obj.elffile import ElfObject, read_elf
from pybpf.obj.errors import ObjectError, at
from pybpf.obj.externs import ExternDesc, collect_externs
from pybpf.obj.fixup import fixup_datasecs, mark_hidden_funcs_static
from pybpf.obj.kconfig import resolve_kconfig
from pybpf.obj.link import LinkContext, link_program
from pybpf.obj.maps import MAPS_SECTION, data_maps, internal_map, map_init_slots, user_maps
from pybpf.obj.model import Extern, ExternKind, MapKind, MapSpec, Object, Program
from pybpf.obj.progs import TEXT, FuncIndex, RelocContext, collect_functions, record_relocations
from pybpf.obj.sections import section_info

LICENSE_SECTION = "license"
VERSION_SECTION = "version"
LEGACY_MAPS_SECTION = "maps"
KCONFIG_MAP = ".kconfig"
LICENSE_MAX = 128  # libbpf's obj->license buffer, NUL included


def object_name(path: str) -> str:
    """libbpf's object name: the file's base name up to its first '.', at most 15 characters."""
    return os.path.basename(path)[:15].split(".", 1)[0]


def _license(elf: ElfObject) -> str:
    sec = elf.section_by_name(LICENSE_SECTION)
    if sec is None:
        return ""
    raw = sec.data[:LICENSE_MAX - 1]
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _kern_version(elf: ElfObject) -> int:
    sec = elf.section_by_name(VERSION_SECTION)
    if sec is None:
        return 0
    if len(sec.data) != 4:
        raise ObjectError(f"invalid kernel version section ({len(sec.data)} bytes, want 4)", file=elf.path,
                          place=at(VERSION_SECTION))
    return struct.unpack("<I" if elf.little_endian else ">I", sec.data)[0]


def _btf(elf: ElfObject) -> tuple[Btf | None, BtfExt | None]:
    btf = ext = None
    sec = elf.section_by_name(BTF_SECTION)
    if sec is not None:
        if sec.type != "SHT_PROGBITS":
            raise ObjectError(f"{BTF_SECTION} is {sec.type}, not SHT_PROGBITS", file=elf.path, place=at(sec.name))
        btf = load_object_btf(sec.data, elf.path)
    sec = elf.section_by_name(BTF_EXT_SECTION)
    if sec is not None and btf is not None:
        if sec.type != "SHT_PROGBITS":
            raise ObjectError(f"{BTF_EXT_SECTION} is {sec.type}, not SHT_PROGBITS", file=elf.path,
                              place=at(sec.name))
        ext = parse_btf_ext(sec.data, btf, elf.path)
    return btf, ext


def _extern(ext: ExternDesc, values: dict) -> Extern:
    return Extern(ext.name, ext.kind, ext.btf_id, ext.typeless, ext.weak, ext.type_id, ext.offset, ext.size,
                  values.get(ext.name))


def read_object(data: bytes, path: str, *, kconfig: str | None = None) -> Object:
    """Parse, link and relocate the object in ``data`` (read from ``path``)."""
    file = path
    elf = read_elf(data, file)
    if elf.section_by_name(LEGACY_MAPS_SECTION) is not None:
        raise ObjectError("legacy 'maps' section is not supported; use BTF-defined maps in .maps", file=file,
                          place=at(LEGACY_MAPS_SECTION))
    license_, kern_version = _license(elf), _kern_version(elf)
    btf, ext = _btf(elf)
    externs = collect_externs(elf, btf)
    text = elf.section_by_name(TEXT)
    text_index = text.index if text is not None else -1
    if btf is not None:
        fixup_datasecs(elf, btf)
        mark_hidden_funcs_static(elf, btf, text_index)

    name = object_name(path)
    maps: list[MapSpec] = []
    maps_sec = elf.section_by_name(MAPS_SECTION)
    if maps_sec is not None:
        maps += user_maps(elf, btf, maps_sec)
    maps += data_maps(elf, btf, name)
    kcfg = resolve_kconfig(externs, file, kconfig)
    if any(e.kind is ExternKind.KCONFIG for e in externs):
        maps.append(internal_map(name, KCONFIG_MAP, MapKind.KCONFIG, len(kcfg.data), kcfg.data, btf, KCONFIG_MAP))

    funcs = collect_functions(elf)
    ctx = RelocContext(elf, text_index, maps_sec.index if maps_sec is not None else -1, maps,
                       {e.sym_idx: e for e in externs})
    record_relocations(ctx, funcs)
    entries = [f for f in funcs if not f.is_subprog]
    if maps_sec is not None and maps_sec.index in elf.rels:
        map_init_slots(elf, btf, maps, {f.name: (f.sec_index, f.sec_insn_off * 8) for f in entries}, maps_sec)

    link_ctx = LinkContext(file, text_index, FuncIndex(funcs), {e.name: e for e in externs}, btf, ext)
    programs: dict[str, Program] = {}
    for func in entries:
        info = section_info(func.sec_name)
        if info is None:
            raise ObjectError(f"unknown program section '{func.sec_name}' (program '{func.name}'): no SEC() "
                              f"definition matches it", file=file, place=at(func.sec_name, func.sec_insn_off * 8))
        linked = link_program(link_ctx, func)
        programs[func.name] = Program(
            name=func.name, section=info.name, prog_type=info.prog_type,
            expected_attach_type=info.expected_attach_type, attach_to=info.attach_to, sleepable=info.sleepable,
            autoload=info.autoload, insns=linked.insns, relocs=linked.relocs, func_info=linked.func_info,
            line_info=linked.line_info, core_relos=linked.core_relos, sec_insn_off=func.sec_insn_off,
            sec_insn_cnt=func.sec_insn_cnt, subprogs=linked.subprogs, prog_flags=info.prog_flags)
    return Object(path=path, name=name, programs=programs, maps={m.name: m for m in maps},
                  externs={e.name: _extern(e, kcfg.values) for e in externs}, btf=btf, license=license_,
                  kern_version=kern_version, endian="little" if elf.little_endian else "big")
