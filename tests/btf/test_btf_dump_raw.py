"""The raw dump is bpftool's, line for line: vmlinux, clang objects, pahole BTF, split BTF, odd corners."""

from __future__ import annotations

import pytest
from _btf_helpers import bpftool_dump
from pybpf.btf.dump_raw import dump_raw
from pybpf.btf.graph import Btf
from pybpf.btf.load import load
from pybpf.btf.types import (
    DeclTag,
    Enum,
    Enum64,
    EnumValue,
    Func,
    Fwd,
    Int,
    Member,
    Struct,
    TypeTag,
    Union,
    Var,
)
from pybpf.btf.uapi import IntEncoding
from pybpf.btf.write import write
from pybpf.cli.main import main


def test_vmlinux_matches_bpftool(vmlinux_path, vmlinux):
    assert dump_raw(vmlinux) == bpftool_dump(vmlinux_path)


@pytest.mark.parametrize("fixture", ["kinds_obj", "kinds_obj_be", "kinds_pahole"])
def test_objects_match_bpftool(fixture, request):
    path = request.getfixturevalue(fixture)
    assert dump_raw(load(path)) == bpftool_dump(path)


def test_split_matches_bpftool(split_btf, vmlinux_path, vmlinux):
    ours = dump_raw(load(split_btf, base=vmlinux))
    assert ours == bpftool_dump(split_btf, base=vmlinux_path)
    assert ours.startswith(f"[{len(vmlinux.types)}] ")  # a split dump starts after the base's last id


def test_every_kind_is_dumped(kinds_obj, kinds_pahole):
    kinds = {line.split()[1] for path in (kinds_obj, kinds_pahole)
             for line in dump_raw(load(path)).splitlines() if line.startswith("[")}
    assert kinds == {"INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "ENUM64", "FWD", "TYPEDEF", "VOLATILE",
                     "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG"}


def test_struct_lines_follow_the_source(kinds_obj):
    text = dump_raw(load(kinds_obj))
    assert "STRUCT 'bits' size=48 vlen=8\n\t'a' type_id=" in text
    assert " bits_offset=3 bitfield_size=5\n\t'c' type_id=" in text
    assert "STRUCT 'pk' size=5 vlen=2" in text
    assert "DECL_TAG 'member_tag' type_id=" in text and " component_idx=1\n" in text


def _corners(tmp_path):
    """What compilers rarely emit: odd INT encodings, signed 64-bit enumerators, unknown linkages."""
    btf = Btf()
    s = btf.add_string
    char = btf.add_type(Int(s("char"), 1, IntEncoding.CHAR, 0, 8))
    btf.add_type(Int(s("_Bool"), 1, IntEncoding.BOOL, 0, 1))
    btf.add_type(Int(s("odd"), 4, IntEncoding.SIGNED | IntEncoding.CHAR, 0, 32))
    bf = btf.add_type(Int(s("bf"), 4, IntEncoding(0), 3, 5))
    btf.add_type(Enum64(s("s64"), 8, (EnumValue(s("MINUS"), -5), EnumValue(s("HUGE"), 1 << 62)), signed=True))
    btf.add_type(Enum64(s("u64"), 8, (EnumValue(s("TOP"), (1 << 64) - 1),)))
    btf.add_type(Enum(s("s32"), 4, (EnumValue(s("LOW"), -(1 << 31)),), signed=True))
    btf.add_type(Enum(s("u32"), 4, (EnumValue(s("HIGH"), (1 << 32) - 1),)))
    btf.add_type(Func(s("odd_fn"), 0, 3))
    btf.add_type(Var(s("odd_var"), char, 7))
    empty = btf.add_type(Struct(s("empty"), 0, ()))
    btf.add_type(Union(0, 4, (Member(s("x"), bf, 0),)))
    btf.add_type(Fwd(s("later"), union=True))
    btf.add_type(DeclTag(s("tag"), empty, -1))
    btf.add_type(TypeTag(s("tt"), char))
    path = tmp_path / "corners.btf"
    path.write_bytes(write(btf))
    return path


def test_corners_match_bpftool(tmp_path):
    path = _corners(tmp_path)
    assert dump_raw(load(path)) == bpftool_dump(path)


def test_cli_dump_matches_bpftool(kinds_obj, capfd):
    expected = bpftool_dump(kinds_obj)
    assert main(["btf", "dump", str(kinds_obj)]) == 0
    out, err = capfd.readouterr()
    assert out == expected and err == ""


def test_cli_split_with_base(split_btf, vmlinux_path, capfd):
    expected = bpftool_dump(split_btf, base=vmlinux_path)
    assert main(["btf", "dump", str(split_btf), "--base", str(vmlinux_path)]) == 0
    assert capfd.readouterr().out == expected
