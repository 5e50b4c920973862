"""BTF-defined maps in ``.maps``: every attribute, map-in-map, program arrays; checked against libbpf in the kernel."""

from __future__ import annotations

import os

import pytest
from _obj_helpers import bpftool_json, loaded_with_libbpf
from pybpf.abi.uapi import MapFlags, MapType
from pybpf.btf.types import Struct
from pybpf.errors import InputError
from pybpf.obj import MapKind, Pinning, RelocKind, open_object
from pybpf.obj.maps import ringbuf_size


@pytest.fixture(scope="module")
def maps_obj(compile_prog):
    path = compile_prog("maps")
    return path, open_object(path)


def test_attributes(maps_obj):
    _, obj = maps_obj
    typed = obj.maps["typed"]
    assert (typed.kind, typed.map_type, typed.max_entries, typed.map_flags) == (
        MapKind.USER, MapType.HASH, 128, MapFlags.NO_PREALLOC)
    btf = obj.btf
    assert btf.name_of(typed.key_type_id) == "key" and btf.name_of(typed.value_type_id) == "value"
    assert isinstance(btf.types[typed.key_type_id], Struct)
    assert (typed.key_size, typed.value_size) == (8, 24)  # struct key {u32; u16;} is 8 bytes with padding
    sized = obj.maps["sized"]
    assert (sized.key_size, sized.value_size, sized.key_type_id, sized.value_type_id) == (4, 24, 0, 0)
    bloom = obj.maps["bloom"]
    assert (bloom.map_type, bloom.value_size, bloom.map_extra) == (MapType.BLOOM_FILTER, 8, 3)
    assert obj.maps["ring"].max_entries == ringbuf_size(5000, os.sysconf("SC_PAGE_SIZE"))
    assert all(m.pinning is Pinning.NONE for m in obj.maps.values())


def test_ringbuf_size_rule():
    assert ringbuf_size(4096, 4096) == 4096
    assert ringbuf_size(3 * 4096, 4096) == 4 * 4096
    assert ringbuf_size(5000, 4096) == 8192
    assert ringbuf_size(0, 4096) == 0


def test_map_in_map_and_prog_array(maps_obj):
    _, obj = maps_obj
    outer = obj.maps["outer"]
    assert outer.map_type == MapType.HASH_OF_MAPS and outer.value_size == 4
    assert outer.inner is not None and outer.inner.name == "outer.inner"
    assert (outer.inner.map_type, outer.inner.max_entries, outer.inner.key_size, outer.inner.value_size) == (
        MapType.ARRAY, 4, 4, 8)
    assert outer.init_slots == {0: "inner_a", 2: "inner_b"}
    jumps = obj.maps["jumps"]
    assert jumps.map_type == MapType.PROG_ARRAY and jumps.init_slots == {1: "tail_a"}


def test_map_relocations(maps_obj):
    _, obj = maps_obj
    prog = obj.programs["use_maps"]
    used = {r.target for r in prog.relocs if r.kind is RelocKind.MAP_FD}
    assert used == {"typed", "outer", "sized", "ring", "bloom", "jumps"}
    for r in prog.relocs:
        insn = prog.insns[r.insn_idx]
        assert insn.code == 0x18 and insn.src == 1 and insn.imm == 0


def test_pinning(compile_prog):
    obj = open_object(compile_prog("pinned"))
    assert obj.maps["pinned_map"].pinning is Pinning.BY_NAME


def test_same_as_libbpf_in_the_kernel(maps_obj):
    path, obj = maps_obj
    with loaded_with_libbpf(path) as pin:
        prog = bpftool_json("prog", "show", "pinned", str(pin / "use_maps"))
        shown = {m["name"]: m for m in (bpftool_json("map", "show", "id", str(i)) for i in prog["map_ids"])}
    for name in ("typed", "outer", "sized", "ring", "bloom", "jumps"):
        ours, theirs = obj.maps[name], shown[name]
        assert theirs["type"] == MapType(ours.map_type).name.lower()
        assert (theirs["bytes_key"], theirs["bytes_value"], theirs["max_entries"], theirs["flags"]) == (
            ours.key_size, ours.value_size, ours.max_entries, ours.map_flags)


def _write(tmp_path, body: str) -> object:
    src = tmp_path / "bad_map.c"
    src.write_text('#include <linux/bpf.h>\n#include "bpf_helpers.h"\n' + body)
    return src


@pytest.mark.parametrize(("body", "message"), [
    ("struct { __uint(max_entries, 1); } m SEC(\".maps\");", "map type isn't specified"),
    ("struct { __uint(type, 1); __uint(key_size, 4); __type(key, __u64); } m SEC(\".maps\");",
     "conflicting key size 4 != 8"),
    ("struct { __uint(type, 1); __uint(frobnicate, 4); } m SEC(\".maps\");", "unknown field 'frobnicate'"),
    ("struct { __uint(type, 2); __uint(pinning, 7); } m SEC(\".maps\");", "invalid pinning value 7"),
    ("struct in { __uint(type, 2); } a SEC(\".maps\"); struct { __uint(type, 2); __array(values, struct in); } "
     "m SEC(\".maps\");", "should be map-in-map or prog-array"),
])
def test_bad_definitions(tmp_path, obj_cache, body, message):
    from _obj_helpers import INCLUDE
    from pybpf.toolchain import compile_bpf

    path = compile_bpf(_write(tmp_path, body), include_dirs=[INCLUDE], cache=obj_cache, output=tmp_path / "b.o")
    with pytest.raises(InputError) as err:
        open_object(path)
    assert message in str(err.value)
    assert "section '.maps' offset" in str(err.value)
