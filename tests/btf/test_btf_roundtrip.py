"""parse -> write gives back the very bytes: vmlinux, module (split) BTF, clang objects of both byte orders."""

from __future__ import annotations

from pathlib import Path

import pytest
from _btf_helpers import PROGS, module_btf_paths, pahole_encode
from pybpf.btf.graph import Btf
from pybpf.btf.load import btf_section, default_base, load, read_bytes
from pybpf.btf.parse import parse
from pybpf.btf.types import Enum64, EnumValue, Int, Member, Ptr, Struct
from pybpf.btf.uapi import BIG, LITTLE, IntEncoding, Kind
from pybpf.btf.write import write


def test_vmlinux_round_trip(vmlinux_path):
    data = vmlinux_path.read_bytes()
    btf = parse(data, file=str(vmlinux_path))
    assert write(btf) == data
    assert btf.types[0].kind == Kind.UNKN
    assert btf.header.hdr_len == 24 and btf.header.type_off == 0


@pytest.mark.parametrize("path", module_btf_paths() or [pytest.param(None, marks=pytest.mark.skip(
    reason="this kernel has no module BTF under /sys/kernel/btf (the pahole-built split BTF tests cover it)"))])
def test_kernel_module_round_trip(path, vmlinux):
    btf = parse(read_bytes(path), base=vmlinux, file=path)
    assert default_base(path) is not None
    assert write(btf) == read_bytes(path)
    assert btf.start_id == len(vmlinux.types)


def test_split_round_trip(split_btf, vmlinux):
    data = split_btf.read_bytes()
    btf = parse(data, base=vmlinux, file=str(split_btf))
    assert write(btf) == data
    # ids continue after the base's last id, string offsets after the base's string section
    assert btf.start_id == len(vmlinux.types)
    assert btf.str_start == len(vmlinux.strings)
    assert any(t.name_off >= btf.str_start for t in btf.own_types)
    assert btf.type_by_id(1) is vmlinux.types[1]


def test_split_refers_to_base_types(build_dir, vmlinux_path, vmlinux):
    btf = load(pahole_encode(PROGS / "mod_a.c", build_dir / "mod_a.btf", base=vmlinux_path), base=vmlinux)
    dev = btf.find("mod_a_dev", Kind.STRUCT)
    assert dev >= btf.start_id
    members = {m.name: m for m in btf.members(dev)}
    # struct list_head is vmlinux's own: pahole deduplicates it against the base
    assert members["node"].type == vmlinux.find("list_head", Kind.STRUCT)
    owner = btf.types[members["owner"].type]
    assert isinstance(owner, Ptr) and owner.type == vmlinux.find("task_struct", Kind.STRUCT)
    assert (members["flags"].bit_offset, members["flags"].bitfield_size) == (192, 3)
    assert (members["refs"].bit_offset, members["refs"].bitfield_size) == (195, 61)
    assert btf.size_of(dev) == 48


@pytest.mark.parametrize("fixture", ["kinds_obj", "kinds_obj_be"])
def test_object_round_trip(fixture, request):
    path: Path = request.getfixturevalue(fixture)
    raw = btf_section(read_bytes(path))
    btf = load(path)
    assert btf.byte_order == (BIG if fixture.endswith("_be") else LITTLE)
    assert write(btf) == raw


def test_byte_order_is_only_the_encoding(kinds_obj, kinds_obj_be):
    little, big = load(kinds_obj), load(kinds_obj_be)
    assert big.types == little.types
    assert write(big, LITTLE) == btf_section(read_bytes(kinds_obj))
    assert write(little, BIG) == btf_section(read_bytes(kinds_obj_be))


def test_pahole_round_trip(kinds_pahole):
    data = kinds_pahole.read_bytes()
    btf = parse(data)
    assert write(btf) == data
    assert any(isinstance(t, Enum64) for t in btf.types)


def test_built_btf_parses_back():
    btf = Btf()
    i = btf.add_type(Int(btf.add_string("int"), 4, IntEncoding.SIGNED, 0, 32))
    s = btf.add_type(Struct(btf.add_string("s"), 8, (Member(btf.add_string("a"), i, 0),
                                                     Member(btf.add_string("b"), i, 35, 3)), kind_flag=True))
    e = btf.add_type(Enum64(btf.add_string("e"), 8, (EnumValue(btf.add_string("NEG"), -(1 << 63)),), signed=True))
    again = parse(write(btf))
    assert again.types == btf.types
    assert again.name_of(s) == "s" and again.members(s)[1].bitfield_size == 3
    assert again.types[e].values[0].val == -(1 << 63)
    assert write(again) == write(btf)
