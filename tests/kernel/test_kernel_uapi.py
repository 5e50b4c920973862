"""Our ctypes layouts and enums against the running kernel's own BTF description of them.

Each layout is flattened to its leaf fields (dotted path, bit offset, bit size),
anonymous members contributing no path component, exactly like C.
"""

from __future__ import annotations

import ctypes
import json
import platform
import shutil
import subprocess
from enum import IntEnum
from pathlib import Path

import pytest
from pybpf.abi import uapi
from pybpf.kernel import layout

VMLINUX = Path("/sys/kernel/btf/vmlinux")
_QUALIFIERS = {"TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"}


@pytest.fixture(scope="module")
def btf() -> dict:
    """The kernel's BTF types by id, and the named ones by (kind, name)."""
    bpftool = shutil.which("bpftool")
    if not VMLINUX.exists() or bpftool is None:
        pytest.skip("needs /sys/kernel/btf/vmlinux and bpftool")
    dump = subprocess.run(
        [bpftool, "-j", "btf", "dump", "file", str(VMLINUX), "format", "raw"], capture_output=True, check=True
    ).stdout
    types = json.loads(dump)["types"]
    by_id = {t["id"]: t for t in types}
    by_name = {(t["kind"], t["name"]): t for t in types if t.get("name") not in (None, "(anon)")}
    return {"id": by_id, "name": by_name, "types": types}


def _bits(btf: dict, t: dict) -> int:
    while t["kind"] in _QUALIFIERS:
        t = btf["id"][t["type_id"]]
    if t["kind"] == "ARRAY":
        return t["nr_elems"] * _bits(btf, btf["id"][t["type_id"]])
    if t["kind"] == "PTR":
        return 64
    return t["size"] * 8


def btf_leaves(btf: dict, t: dict, prefix: str = "", base: int = 0) -> set[tuple[str, int, int]]:
    while t["kind"] in _QUALIFIERS:
        t = btf["id"][t["type_id"]]
    if t["kind"] not in ("STRUCT", "UNION"):
        return {(prefix, base, _bits(btf, t))}
    leaves = set()
    for m in t["members"]:
        path = prefix if m["name"] == "(anon)" else f"{prefix}.{m['name']}".lstrip(".")
        at = base + m["bits_offset"]
        if m.get("bitfield_size"):
            leaves.add((path, at, m["bitfield_size"]))
        else:
            leaves |= btf_leaves(btf, btf["id"][m["type_id"]], path, at)
    return leaves


def ctypes_leaves(cls: type, prefix: str = "", base: int = 0) -> set[tuple[str, int, int]]:
    leaves = set()
    anonymous = set(getattr(cls, "_anonymous_", ()))
    for name, ctype, *bitfield in cls._fields_:
        field = getattr(cls, name)
        path = prefix if name in anonymous else f"{prefix}.{name}".lstrip(".")
        at = base + field.offset * 8
        if bitfield:
            # CPython < 3.14 packs (bit size << 16 | bit offset) into .size.
            bit_offset = getattr(field, "bit_offset", field.size & 0xFFFF)
            leaves.add((path, at + bit_offset, bitfield[0]))
        elif issubclass(ctype, ctypes.Structure | ctypes.Union):
            leaves |= ctypes_leaves(ctype, path, at)
        else:
            leaves.add((path, at, ctypes.sizeof(ctype) * 8))
    return leaves


@pytest.mark.parametrize(
    ("ours", "kind", "name"),
    [
        (layout.BpfAttr, "UNION", "bpf_attr"),
        (layout.BpfProgInfo, "STRUCT", "bpf_prog_info"),
        (layout.BpfMapInfo, "STRUCT", "bpf_map_info"),
        (layout.BpfBtfInfo, "STRUCT", "bpf_btf_info"),
    ],
)
def test_layout_matches_the_kernel(btf, ours, kind, name):
    theirs = btf["name"][(kind, name)]
    if not platform.release().startswith("6.18"):
        # A newer kernel may have grown the type: ours must be its prefix.
        assert ctypes_leaves(ours) <= btf_leaves(btf, theirs)
        return
    assert ctypes.sizeof(ours) == theirs["size"]
    assert ctypes_leaves(ours) == btf_leaves(btf, theirs)


def _enumerators(btf: dict, t: dict, prefix: str) -> dict[str, int]:
    return {
        v["name"].removeprefix(prefix): v["val"] for v in t["values"] if not v["name"].startswith("__MAX")
    }


def _anonymous_enum_with(btf: dict, enumerator: str) -> dict:
    for t in btf["types"]:
        if t["kind"] == "ENUM" and any(v["name"] == enumerator for v in t["values"]):
            return t
    raise AssertionError(f"no enum holds {enumerator}")


@pytest.mark.parametrize(
    ("ours", "btf_name", "prefix"),
    [
        (uapi.Cmd, "bpf_cmd", "BPF_"),
        (uapi.MapType, "bpf_map_type", "BPF_MAP_TYPE_"),
        (uapi.ProgType, "bpf_prog_type", "BPF_PROG_TYPE_"),
        (uapi.AttachType, "bpf_attach_type", "BPF_"),
        (uapi.LinkType, "bpf_link_type", "BPF_LINK_TYPE_"),
        (uapi.StatsType, "bpf_stats_type", "BPF_STATS_"),
        (uapi.MapFlags, "BPF_F_NO_PREALLOC", "BPF_F_"),
        (uapi.ElemFlags, "BPF_NOEXIST", "BPF_"),
    ],
)
def test_enum_matches_the_kernel(btf, ours: type[IntEnum], btf_name: str, prefix: str):
    found = btf["name"].get(("ENUM", btf_name)) or _anonymous_enum_with(btf, btf_name)
    theirs = _enumerators(btf, found, prefix)
    mine = {name: member.value for name, member in ours.__members__.items()}
    assert {name: theirs.get(name) for name in mine} == mine
    if platform.release().startswith("6.18"):
        assert mine == theirs  # complete for the kernel pybpf targets
