"""Creating an object's maps in the kernel, as libbpf's ``bpf_object__create_maps`` does.

For each ``MapSpec`` in the object's order: the inner map's template first
(map-in-map; it lives only until the outer map exists), then
``BPF_MAP_CREATE`` with the map's name, flags and BTF key/value type ids,
retried without BTF if the kernel refuses the BTF; then global data is written
(key 0 = ``initial``) and ``.rodata``/KCONFIG maps are frozen; last, the
``values = {...}`` slots of map-in-map maps are filled.
"""

from __future__ import annotations

import errno as errnos
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import SupportsIndex

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.btf.graph import Btf
from pybpf.errors import KernelError
from pybpf.kernel.fd import Fd
from pybpf.kernel.info import map_info
from pybpf.kernel.maps import map_create, map_freeze, map_update, possible_cpus
from pybpf.kernel.pin import obj_get, obj_pin
from pybpf.obj.model import MapKind, MapSpec, Pinning

# Map types the kernel takes no BTF key/value types for: libbpf leaves BTF off for them.
NO_BTF_TYPES = frozenset({
    MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.STACK_TRACE, MapType.ARRAY_OF_MAPS,
    MapType.HASH_OF_MAPS, MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP,
    MapType.SOCKMAP, MapType.SOCKHASH, MapType.QUEUE, MapType.STACK, MapType.RINGBUF, MapType.USER_RINGBUF,
})
MAP_IN_MAP = frozenset({MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS})
FROZEN_KINDS = frozenset({MapKind.RODATA, MapKind.KCONFIG})
READONLY_PROG_KINDS = FROZEN_KINDS
STRUCT_OPS_PREFIX = "bpf_struct_ops_"  # the kernel's wrapper of a struct_ops value type


@dataclass(frozen=True)
class MapCreateArgs:
    """Everything ``map_create`` is given for one spec (kept for messages and tests)."""

    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int
    name: str
    key_type_id: int
    value_type_id: int
    vmlinux_value_type_id: int = 0
    numa_node: int | None = None
    map_extra: int = 0


def create_args(spec: MapSpec, *, btf: bool, vmlinux: Callable[[], Btf] | None = None,
                obj_btf: Btf | None = None) -> MapCreateArgs:
    """What to ask ``BPF_MAP_CREATE`` for ``spec`` (``btf``: whether the object's BTF was loaded)."""
    flags = spec.map_flags
    if spec.kind in READONLY_PROG_KINDS:
        flags |= MapFlags.RDONLY_PROG
    if spec.mmapable:
        flags |= MapFlags.MMAPABLE
    max_entries = spec.max_entries
    if spec.map_type == MapType.PERF_EVENT_ARRAY and not max_entries:
        max_entries = possible_cpus()  # libbpf's default: one slot per CPU
    with_btf = btf and spec.map_type not in NO_BTF_TYPES
    key_id, value_id = (spec.key_type_id, spec.value_type_id or spec.btf_value_type) if with_btf else (0, 0)
    vmlinux_id, key_size, value_size = 0, spec.key_size, spec.value_size
    if spec.map_type == MapType.STRUCT_OPS:
        key_id, value_id = 0, 0
        vmlinux_id, value_size = _struct_ops_value(spec, vmlinux, obj_btf)
        key_size = 4
    name = spec.name[:15]
    return MapCreateArgs(spec.map_type, key_size, value_size, max_entries, flags, name, key_id, value_id, vmlinux_id,
                         spec.numa_node if spec.map_flags & MapFlags.NUMA_NODE else None, spec.map_extra)


def _struct_ops_value(spec: MapSpec, vmlinux: Callable[[], Btf] | None, obj_btf: Btf | None) -> tuple[int, int]:
    """The kernel's ``bpf_struct_ops_<type>`` id and size for a struct_ops map."""
    if vmlinux is None or obj_btf is None or not spec.value_type_id:
        raise KernelError(f"map '{spec.name}': a struct_ops map needs the object's BTF and vmlinux BTF",
                          errno=errnos.EINVAL)
    type_name = obj_btf.name_of(obj_btf.resolve(spec.value_type_id))
    kernel = vmlinux()
    wrapper = kernel.find(STRUCT_OPS_PREFIX + type_name)
    if wrapper is None:
        raise KernelError(f"map '{spec.name}': struct_ops type '{type_name}' is not in vmlinux BTF "
                          f"(no {STRUCT_OPS_PREFIX}{type_name})", errno=errnos.ENOTSUP)
    return wrapper, kernel.size_of(wrapper)


def create_one(args: MapCreateArgs, *, btf_fd: SupportsIndex | None, inner_fd: SupportsIndex | None) -> Fd:
    return map_create(
        args.map_type, args.key_size, args.value_size, args.max_entries, map_flags=args.map_flags, name=args.name,
        btf_fd=btf_fd if (args.key_type_id or args.value_type_id or args.vmlinux_value_type_id) else None,
        btf_key_type_id=args.key_type_id, btf_value_type_id=args.value_type_id,
        btf_vmlinux_value_type_id=args.vmlinux_value_type_id, inner_map_fd=inner_fd, numa_node=args.numa_node,
        map_extra=args.map_extra,
    )


def create_map(spec: MapSpec, *, btf_fd: Fd | None, warnings: list[str], obj_btf: Btf | None = None,
               vmlinux: Callable[[], Btf] | None = None) -> Fd:
    """Create ``spec`` (and its inner template, closed again); global data is written and frozen here."""
    inner: Fd | None = None
    try:
        if spec.inner is not None:
            inner_spec = spec.inner
            if not inner_spec.name:
                inner_spec = _named(inner_spec, f"{spec.name}.inner")
            inner = create_map(inner_spec, btf_fd=btf_fd, warnings=warnings, obj_btf=obj_btf, vmlinux=vmlinux)
        elif spec.map_type in MAP_IN_MAP:
            raise KernelError(f"map '{spec.name}': a map-in-map definition without an inner map (__array(values, ...))",
                              errno=errnos.EINVAL)
        args = create_args(spec, btf=btf_fd is not None, vmlinux=vmlinux, obj_btf=obj_btf)
        try:
            fd = create_one(args, btf_fd=btf_fd, inner_fd=inner)
        except KernelError as err:
            if not (args.key_type_id or args.value_type_id):
                raise _named_error(spec, err) from None
            warnings.append(f"map '{spec.name}': BPF_MAP_CREATE with BTF failed ({err}); retried without BTF")
            plain = create_args(spec, btf=False, vmlinux=vmlinux, obj_btf=obj_btf)
            try:
                fd = create_one(plain, btf_fd=None, inner_fd=inner)
            except KernelError as err2:
                raise _named_error(spec, err2) from None
    finally:
        if inner is not None:
            inner.close()
    try:
        _init_global_data(spec, fd)
    except KernelError as err:
        fd.close()
        raise _named_error(spec, err) from None
    return fd


def _named(spec: MapSpec, name: str) -> MapSpec:
    return replace(spec, name=name)


def _named_error(spec: MapSpec, err: KernelError) -> KernelError:
    return KernelError(f"map '{spec.name}': {err.message}", errno=err.errno, log=err.log)


def _init_global_data(spec: MapSpec, fd: Fd) -> None:
    """Write a global-data map's contents and freeze the read-only ones (``.bss`` is already zero)."""
    if not spec.kind.internal:
        return
    if spec.initial and (spec.kind is not MapKind.BSS or any(spec.initial)):
        value = spec.initial.ljust(spec.value_size, b"\0")[: spec.value_size]
        map_update(fd, bytes(4), value)
    if spec.frozen or spec.kind in FROZEN_KINDS:
        map_freeze(fd)


def pinned_or_created(spec: MapSpec, pin_root: Path | None, create: Callable[[], Fd], warnings: list[str]) -> Fd:
    """A ``pinning = LIBBPF_PIN_BY_NAME`` map: reuse ``pin_root/<name>`` if pinned and alike, else create and pin.

    Without a ``pin_root`` the map is created and not pinned (a warning says
    so); libbpf's default root is ``/sys/fs/bpf``.  A pinned map of other
    attributes is refused (EINVAL), as libbpf refuses it.
    """
    if spec.pinning != Pinning.BY_NAME:
        return create()
    if pin_root is None:
        warnings.append(f"map '{spec.name}': pinned by name, but no pin root was given: created, not pinned")
        return create()
    path = Path(pin_root) / spec.name
    if path.exists():
        fd = obj_get(path)
        info, want = map_info(fd), create_args(spec, btf=False)
        same = (info.type, info.key_size, info.value_size, info.max_entries, info.map_flags) == (
            want.map_type, want.key_size, want.value_size, want.max_entries, want.map_flags)
        if not same:
            fd.close()
            raise KernelError(f"map '{spec.name}': the map pinned at {path} has other attributes", errno=errnos.EINVAL)
        return fd
    fd = create()
    try:
        obj_pin(fd, path)
    except KernelError as err:
        fd.close()
        raise _named_error(spec, err) from None
    return fd


def fill_slots(spec: MapSpec, fd: SupportsIndex, slot_fds: dict[int, SupportsIndex]) -> None:
    """Put map or program fds in the ``values = {...}`` slots of a map-in-map or prog array."""
    key_size = spec.key_size or 4
    for index, target_fd in slot_fds.items():
        try:
            map_update(fd, index.to_bytes(key_size, "little"), int(target_fd).to_bytes(4, "little"))
        except KernelError as err:
            raise KernelError(f"map '{spec.name}': filling slot [{index}]: {err.message}", errno=err.errno) from None
