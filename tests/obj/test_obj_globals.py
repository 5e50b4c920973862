"""Global data as one-element ARRAY maps: names, contents, flags, DATASEC fixups, private .bss sections."""

from __future__ import annotations

import struct

import pytest
from _obj_helpers import INCLUDE, bpftool_json, loaded_with_libbpf, readelf_sections, readelf_symbols
from pybpf.abi.uapi import MapFlags, MapType
from pybpf.btf.types import Datasec, Var
from pybpf.btf.uapi import Kind, VarLinkage
from pybpf.obj import MapKind, RelocKind, open_object
from pybpf.obj.maps import internal_map_name


@pytest.fixture(scope="module")
def globals_obj(compile_prog):
    path = compile_prog("globals")
    return path, open_object(path)


@pytest.mark.parametrize(("obj_name", "section", "expected"), [
    ("my_object_name", ".rodata", "my_objec.rodata"),  # libbpf's own examples (internal_map_name)
    ("my_object_name", ".bss", "my_objec.bss"),
    ("my_object_name", ".kconfig", "my_obje.kconfig"),
    ("my_object_name", ".rodata.abracadabra", ".rodata.abracad"),
    ("linked_list", ".bss", "linked_l.bss"),
    ("linked_list", ".bss.private", ".bss.private"),
    ("a-b", ".data", "a_b.data"),
])
def test_internal_map_names(obj_name, section, expected):
    assert internal_map_name(obj_name, section) == expected


def test_maps_and_contents(globals_obj):
    path, obj = globals_obj
    sizes = readelf_sections(path)
    kinds = {m.real_name: m.kind for m in obj.maps.values()}
    assert kinds == {".data": MapKind.DATA, ".rodata": MapKind.RODATA, ".bss": MapKind.BSS,
                     ".data.custom": MapKind.DATA, ".rodata.custom": MapKind.RODATA, ".data.hidden": MapKind.DATA,
                     ".bss.locked": MapKind.PRIVATE_BSS}
    for m in obj.maps.values():
        assert (m.map_type, m.key_size, m.max_entries) == (MapType.ARRAY, 4, 1)
        assert m.value_size == sizes[m.real_name]
        assert m.name == internal_map_name("globals", m.real_name)
    data = obj.maps["globals.data"].initial
    syms = readelf_symbols(path)
    assert struct.unpack_from("<i", data, syms["data_a"][0])[0] == 0x11111111
    assert struct.unpack_from("<Q", data, syms["data_b"][0])[0] == 0x2222222222222222
    assert struct.unpack_from("<I", obj.maps["globals.rodata"].initial, syms["ro_a"][0])[0] == 0x33333333
    assert obj.maps["globals.bss"].initial == bytes(sizes[".bss"])


def test_flags_and_private_sections(globals_obj):
    _, obj = globals_obj
    m = {mm.real_name: mm for mm in obj.maps.values()}
    assert m[".rodata"].map_flags == MapFlags.RDONLY_PROG | MapFlags.MMAPABLE and m[".rodata"].frozen
    assert m[".data"].map_flags == MapFlags.MMAPABLE and not m[".data"].frozen
    # every variable of .bss.locked and .data.hidden is hidden: not mmap()able, no skeleton
    for name in (".bss.locked", ".data.hidden"):
        assert not m[name].mmapable and m[name].map_flags == 0
    assert m[".bss"].mmapable


def test_datasec_fixups(globals_obj):
    """Clang leaves DATASEC sizes/offsets 0; they now match the ELF sections and symbols."""
    path, obj = globals_obj
    btf, syms, sizes = obj.btf, readelf_symbols(path), readelf_sections(path)
    for name in (".data", ".rodata", ".bss", ".bss.locked", ".data.custom"):
        sec = btf.types[btf.find(name, Kind.DATASEC)]
        assert isinstance(sec, Datasec) and sec.size == sizes[name]
        for vi in sec.vars:
            var = btf.types[vi.type]
            var_name = btf.name_of(var)
            if var_name in syms:
                assert vi.offset == syms[var_name][0]
            if syms.get(var_name, (0, 0, "", ""))[3] == "HIDDEN":
                assert isinstance(var, Var) and var.linkage == VarLinkage.STATIC
        assert [v.offset for v in sec.vars] == sorted(v.offset for v in sec.vars)


def test_value_relocations(globals_obj):
    path, obj = globals_obj
    syms = readelf_symbols(path)
    prog = obj.programs["touch"]
    by_target = {}
    for r in prog.relocs:
        assert r.kind is RelocKind.MAP_VALUE
        insn, second = prog.insns[r.insn_idx], prog.insns[r.insn_idx + 1]
        assert insn.src == 2 and insn.imm == 0 and second.imm == r.offset
        by_target.setdefault(r.target, set()).add(r.offset)
    assert syms["data_b"][0] in by_target["globals.data"]
    assert syms["guarded"][0] in by_target[".bss.locked"]
    assert syms["bss_b"][0] in by_target["globals.bss"]


def test_same_names_as_libbpf_in_the_kernel(tmp_path, obj_cache):
    from pybpf.toolchain import compile_bpf

    src = tmp_path / "glob_basic.c"
    src.write_text('#include <linux/bpf.h>\n#include "bpf_helpers.h"\nint d = 1; const volatile int r = 2; int b;\n'
                   'SEC("tc") int f(void *c) { b = d + r; return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n')
    path = compile_bpf(src, include_dirs=[INCLUDE], cache=obj_cache, output=tmp_path / "glob_basic.o")
    obj = open_object(path)
    with loaded_with_libbpf(path) as pin:
        prog = bpftool_json("prog", "show", "pinned", str(pin / "f"))
        shown = {m["name"]: m for m in (bpftool_json("map", "show", "id", str(i)) for i in prog["map_ids"])}
    assert set(shown) == set(obj.maps) == {"glob_bas.data", "glob_bas.rodata", "glob_bas.bss"}
    for name, m in obj.maps.items():
        assert (shown[name]["bytes_value"], shown[name]["flags"]) == (m.value_size, m.map_flags)
