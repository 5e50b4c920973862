"""``BPF_OBJ_GET_INFO_BY_FD``: what the kernel knows about a program, map or BTF object.

Variable-length parts (instructions, machine code, map ids, BTF data) take two
calls: one to learn the length, one with a buffer that long.
"""

from __future__ import annotations

import ctypes
import operator
import os
from dataclasses import dataclass
from enum import IntEnum
from typing import SupportsIndex

from pybpf.abi.uapi import Cmd, MapType, ProgType
from pybpf.errors import InputError
from pybpf.kernel import syscall
from pybpf.kernel.layout import BpfAttr, BpfBtfInfo, BpfMapInfo, BpfProgInfo

# What /proc/self/fd/N links to for each kind of BPF object.
_ANON_INODES = {"anon_inode:bpf-prog": "prog", "anon_inode:bpf-map": "map", "anon_inode:btf": "btf"}
_BTF_NAME_LEN = 64  # module names are shorter (MODULE_NAME_LEN is 56)


@dataclass(frozen=True)
class ProgInfo:
    type: ProgType | int
    id: int
    name: str
    tag: str  # hex, as bpftool prints it
    jited_prog_len: int
    xlated_prog_len: int
    load_time: int  # ns since boot
    created_by_uid: int
    nr_map_ids: int
    gpl_compatible: bool
    ifindex: int
    netns_dev: int
    netns_ino: int
    nr_jited_ksyms: int
    nr_jited_func_lens: int
    btf_id: int
    nr_func_info: int
    nr_line_info: int
    nr_jited_line_info: int
    nr_prog_tags: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    verified_insns: int
    attach_btf_obj_id: int
    attach_btf_id: int


@dataclass(frozen=True)
class MapInfo:
    type: MapType | int
    id: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int
    name: str
    ifindex: int
    btf_vmlinux_value_type_id: int
    netns_dev: int
    netns_ino: int
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    btf_vmlinux_id: int
    map_extra: int


@dataclass(frozen=True)
class BtfInfo:
    id: int
    btf_size: int
    name: str  # the module's name for kernel BTF, "" for a loaded blob
    kernel_btf: bool


def _known(enum: type[IntEnum], value: int) -> IntEnum | int:
    try:
        return enum(value)
    except ValueError:
        return value  # a newer kernel's type: keep the number


def _get_info(fd: SupportsIndex, info: ctypes.Structure) -> None:
    attr = BpfAttr()
    attr.info.bpf_fd = operator.index(fd)
    attr.info.info_len = ctypes.sizeof(info)
    attr.info.info = ctypes.addressof(info)
    syscall.bpf(Cmd.OBJ_GET_INFO_BY_FD, attr)


def object_kind(fd: SupportsIndex) -> str | None:
    """``prog``, ``map`` or ``btf`` for a BPF object fd, None for anything else."""
    try:
        target = os.readlink(f"/proc/self/fd/{operator.index(fd)}")
    except OSError:
        return None
    return _ANON_INODES.get(target)


def prog_info(fd: SupportsIndex) -> ProgInfo:
    raw = BpfProgInfo()
    _get_info(fd, raw)
    plain = {name: getattr(raw, name) for name, *_ in BpfProgInfo._fields_ if name in ProgInfo.__dataclass_fields__}
    plain.update(
        type=_known(ProgType, raw.type),
        name=raw.name.decode(errors="replace"),
        tag=bytes(raw.tag).hex(),
        gpl_compatible=bool(raw.gpl_compatible),
    )
    return ProgInfo(**plain)


def map_info(fd: SupportsIndex) -> MapInfo:
    raw = BpfMapInfo()
    _get_info(fd, raw)
    plain = {name: getattr(raw, name) for name, *_ in BpfMapInfo._fields_ if name in MapInfo.__dataclass_fields__}
    plain.update(type=_known(MapType, raw.type), name=raw.name.decode(errors="replace"))
    return MapInfo(**plain)


def btf_info(fd: SupportsIndex) -> BtfInfo:
    raw = BpfBtfInfo()
    name = ctypes.create_string_buffer(_BTF_NAME_LEN)
    raw.name = ctypes.addressof(name)
    raw.name_len = _BTF_NAME_LEN
    _get_info(fd, raw)
    return BtfInfo(
        id=raw.id, btf_size=raw.btf_size, name=name.value.decode(errors="replace"), kernel_btf=bool(raw.kernel_btf)
    )


_BY_KIND = {"prog": prog_info, "map": map_info, "btf": btf_info}


def obj_get_info_by_fd(fd: SupportsIndex) -> ProgInfo | MapInfo | BtfInfo:
    """The info record of a program, map or BTF fd (which one is read from /proc/self/fd)."""
    kind = object_kind(fd)
    if kind is None:
        raise InputError(f"fd {operator.index(fd)} is not a BPF program, map or BTF object")
    return _BY_KIND[kind](fd)


def _prog_buffer(fd: SupportsIndex, length_field: str, pointer_field: str, elem_size: int = 1) -> bytes:
    """One variable-length member of bpf_prog_info, by the two-call pattern.

    ``length_field`` counts elements of ``elem_size`` bytes.
    """
    first = BpfProgInfo()
    _get_info(fd, first)
    count = getattr(first, length_field)
    if not count:
        return b""
    buf = ctypes.create_string_buffer(count * elem_size)
    second = BpfProgInfo()
    setattr(second, length_field, count)
    setattr(second, pointer_field, ctypes.addressof(buf))
    _get_info(fd, second)
    return buf.raw[: min(count, getattr(second, length_field)) * elem_size]


def prog_xlated(fd: SupportsIndex) -> bytes:
    """The instructions as the kernel keeps them after verification and rewriting."""
    return _prog_buffer(fd, "xlated_prog_len", "xlated_prog_insns")


def prog_jited(fd: SupportsIndex) -> bytes:
    """The JIT's machine code (empty when the program is interpreted)."""
    return _prog_buffer(fd, "jited_prog_len", "jited_prog_insns")


def prog_map_ids(fd: SupportsIndex) -> list[int]:
    """Ids of the maps the program uses."""
    raw = _prog_buffer(fd, "nr_map_ids", "map_ids", 4)
    return list((ctypes.c_uint32 * (len(raw) // 4)).from_buffer_copy(raw))


def btf_data(fd: SupportsIndex) -> bytes:
    """The raw BTF blob behind a BTF fd."""
    first = BpfBtfInfo()
    _get_info(fd, first)
    buf = ctypes.create_string_buffer(first.btf_size)
    second = BpfBtfInfo()
    second.btf = ctypes.addressof(buf)
    second.btf_size = first.btf_size
    _get_info(fd, second)
    return buf.raw[: second.btf_size]
