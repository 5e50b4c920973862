"""Maps of an object: BTF-defined ``.maps`` definitions and the global-data sections, as libbpf forms them.

A ``.maps`` variable's type is a struct whose members encode the attributes
(``bpf_helpers.h``): an integer as the element count of a pointed-to array
(``int (*max_entries)[64]``) or as the one value of an anonymous enum
(``__ulong``), a type as a pointer's target (``__type(key, u32)``), and
``values`` as a zero-length array of pointers to the inner map's definition
(map-in-map) or to a function prototype (program array).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.btf.graph import Btf
from pybpf.btf.types import Array, Datasec, Enum, Enum64, Ptr, Struct, Var
from pybpf.btf.uapi import Kind, VarLinkage
from pybpf.obj.btfload import btf_call
from pybpf.obj.elffile import ElfObject, ElfSection
from pybpf.obj.errors import ObjectError, at
from pybpf.obj.model import BPF_OBJ_NAME_LEN, MapKind, MapSpec, Pinning

MAPS_SECTION = ".maps"
_MAP_IN_MAP = frozenset({MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS})
_RINGBUFS = frozenset({MapType.RINGBUF, MapType.USER_RINGBUF})
_INT_ATTRS = ("type", "max_entries", "map_flags", "numa_node", "key_size", "value_size", "pinning", "map_extra")


@dataclass
class _Def:
    """The attributes a definition sets, as parse_btf_map_def collects them."""

    map_type: int = 0
    key_size: int = 0
    value_size: int = 0
    max_entries: int = 0
    map_flags: int = 0
    numa_node: int = 0
    key_type_id: int = 0
    value_type_id: int = 0
    pinning: int = 0
    map_extra: int = 0
    inner: _Def | None = None
    seen: set[str] = field(default_factory=set)


class _MapReader:
    def __init__(self, btf: Btf, file: str, place: str):
        self.btf, self.file, self.place = btf, file, place

    def fail(self, msg: str) -> ObjectError:
        return ObjectError(msg, file=self.file, place=self.place)

    def q(self, fn: Callable, *args):
        return btf_call(self.file, self.place, fn, *args)

    def skip_mods(self, tid: int):
        return self.q(self.btf.type_by_id, self.q(self.btf.resolve, tid))

    def int_attr(self, map_name: str, name: str, tid: int) -> int:
        t = self.skip_mods(tid)
        if isinstance(t, (Enum, Enum64)) and len(t.values) == 1:  # __ulong(name, value)
            return t.values[0].val
        if not isinstance(t, Ptr):
            raise self.fail(f"map '{map_name}': attr '{name}': expected PTR, got {t.kind.name}")
        arr = self.q(self.btf.type_by_id, t.type)
        if not isinstance(arr, Array):
            raise self.fail(f"map '{map_name}': attr '{name}': expected ARRAY, got {arr.kind.name}")
        return arr.nelems

    def typed(self, map_name: str, name: str, tid: int) -> tuple[int, int]:
        """``__type(name, T)``: (T's id, sizeof(T))."""
        t = self.q(self.btf.type_by_id, tid)
        if not isinstance(t, Ptr):
            raise self.fail(f"map '{map_name}': {name} spec is not PTR: {t.kind.name}")
        try:
            size = self.btf.size_of(t.type)
        except ObjectError:
            raise
        except Exception as err:
            raise self.fail(f"map '{map_name}': can't determine {name} size for type [{t.type}]: {err}") from None
        return t.type, size

    def parse_def(self, map_name: str, def_id: int, is_inner: bool) -> _Def:
        d = _Def()
        members = self.q(self.btf.members, def_id)
        for i, m in enumerate(members):
            if not m.name:
                raise self.fail(f"map '{map_name}': invalid field #{i}")
            self._member(map_name, d, m.name, m.type, i == len(members) - 1, is_inner)
            d.seen.add(m.name)
        if d.map_type == MapType.UNSPEC:
            raise self.fail(f"map '{map_name}': map type isn't specified")
        return d

    def _set_size(self, map_name: str, d: _Def, what: str, size: int) -> None:
        old = getattr(d, f"{what}_size")
        if old and old != size:
            raise self.fail(f"map '{map_name}': conflicting {what} size {old} != {size}")
        setattr(d, f"{what}_size", size)

    def _member(self, map_name: str, d: _Def, name: str, tid: int, last: bool, is_inner: bool) -> None:
        if name in ("key_size", "value_size"):
            self._set_size(map_name, d, name[:-5], self.int_attr(map_name, name, tid))
        elif name in ("key", "value"):
            type_id, size = self.typed(map_name, name, tid)
            self._set_size(map_name, d, name, size)
            setattr(d, f"{name}_type_id", type_id)
        elif name == "values":
            self._values(map_name, d, tid, last, is_inner)
        elif name == "pinning":
            if is_inner:
                raise self.fail(f"map '{map_name}': inner def can't be pinned")
            value = self.int_attr(map_name, name, tid)
            if value not in (Pinning.NONE, Pinning.BY_NAME):
                raise self.fail(f"map '{map_name}': invalid pinning value {value}")
            d.pinning = value
        elif name in _INT_ATTRS:
            setattr(d, "map_type" if name == "type" else name, self.int_attr(map_name, name, tid))
        else:
            raise self.fail(f"map '{map_name}': unknown field '{name}'")

    def _values(self, map_name: str, d: _Def, tid: int, last: bool, is_inner: bool) -> None:
        is_map_in_map = d.map_type in _MAP_IN_MAP
        is_prog_array = d.map_type == MapType.PROG_ARRAY
        desc = "map-in-map inner" if is_map_in_map else "prog-array value"
        if is_inner:
            raise self.fail(f"map '{map_name}': multi-level inner maps not supported")
        if not last:
            raise self.fail(f"map '{map_name}': 'values' member should be last")
        if not is_map_in_map and not is_prog_array:
            raise self.fail(f"map '{map_name}': should be map-in-map or prog-array")
        self._set_size(map_name, d, "value", 4)
        arr = self.q(self.btf.type_by_id, tid)
        if not isinstance(arr, Array) or arr.nelems:
            raise self.fail(f"map '{map_name}': {desc} spec is not a zero-sized array")
        ptr = self.skip_mods(arr.type)
        if not isinstance(ptr, Ptr):
            raise self.fail(f"map '{map_name}': {desc} def is of unexpected kind {ptr.kind.name}")
        target_id = self.q(self.btf.resolve, ptr.type)
        target = self.q(self.btf.type_by_id, target_id)
        if is_prog_array:
            if target.kind != Kind.FUNC_PROTO:
                raise self.fail(f"map '{map_name}': prog-array value def is of unexpected kind {target.kind.name}")
            return
        if not isinstance(target, Struct):
            raise self.fail(f"map '{map_name}': map-in-map inner def is of unexpected kind {target.kind.name}")
        d.inner = self.parse_def(f"{map_name}.inner", target_id, True)


def ringbuf_size(size: int, page: int) -> int:
    """libbpf's adjustment: a ring buffer's size rounded up to a power-of-2 number of pages."""
    if size == 0 or (size % page == 0 and ((size // page) & (size // page - 1)) == 0):
        return size
    mul = 1
    while mul * page <= 0xFFFFFFFF:
        if mul * page > size:
            return mul * page
        mul <<= 1
    return size


def _spec(name: str, d: _Def, section: str, sec_offset: int = 0) -> MapSpec:
    max_entries = d.max_entries
    if d.map_type in _RINGBUFS:
        max_entries = ringbuf_size(max_entries, os.sysconf("SC_PAGE_SIZE"))
    inner = _spec(f"{name}.inner", d.inner, section) if d.inner else None
    return MapSpec(name=name, kind=MapKind.USER, map_type=d.map_type, key_size=d.key_size, value_size=d.value_size,
                   max_entries=max_entries, map_flags=d.map_flags, numa_node=d.numa_node,
                   key_type_id=d.key_type_id, value_type_id=d.value_type_id, inner=inner,
                   pinning=Pinning(d.pinning), section=section, map_extra=d.map_extra, sec_offset=sec_offset,
                   real_name=name)


def user_maps(elf: ElfObject, btf: Btf | None, maps_sec: ElfSection) -> list[MapSpec]:
    """The ``.maps`` definitions, in DATASEC order."""
    file = elf.path
    if btf is None:
        raise ObjectError("'.maps' needs BTF, but the object has no .BTF section", file=file, place=at(MAPS_SECTION))
    sec_id = btf.find(MAPS_SECTION, Kind.DATASEC)
    if sec_id is None:
        raise ObjectError(f"DATASEC '{MAPS_SECTION}' not found in .BTF", file=file, place=at(MAPS_SECTION))
    out = []
    sec: Datasec = btf.types[sec_id]
    for idx, vi in enumerate(sec.vars):
        place = at(MAPS_SECTION, vi.offset)
        reader = _MapReader(btf, file, place)
        var = reader.q(btf.type_by_id, vi.type)
        name = btf_call(file, place, btf.name_of, var)
        if not name:
            raise reader.fail(f"map #{idx}: empty name")
        if vi.offset + vi.size > maps_sec.size:
            raise reader.fail(f"map '{name}' BTF data is corrupted (offset {vi.offset:#x} size {vi.size:#x} past "
                              f"the section)")
        if not isinstance(var, Var):
            raise reader.fail(f"map '{name}': unexpected var kind {var.kind.name}")
        if var.linkage != VarLinkage.GLOBAL_ALLOCATED:
            linkage = var.linkage.name.lower() if isinstance(var.linkage, VarLinkage) else var.linkage
            raise reader.fail(f"map '{name}': unsupported map linkage {linkage}")
        def_id = reader.q(btf.resolve, var.type)
        def_t = btf.types[def_id]
        if not isinstance(def_t, Struct):
            raise reader.fail(f"map '{name}': unexpected def kind {def_t.kind.name}")
        if def_t.size > vi.size:
            raise reader.fail(f"map '{name}': invalid def size")
        out.append(_spec(name, reader.parse_def(name, def_id, False), MAPS_SECTION, vi.offset))
    return out


def map_init_slots(elf: ElfObject, btf: Btf, maps: list[MapSpec], entry_programs: dict[str, tuple[int, int]],
                   maps_sec: ElfSection) -> None:
    """Fill ``init_slots`` from ``.rel.maps`` (``.values = { [1] = &inner }``), like collect_map_relos.

    ``entry_programs`` maps a program name to (section index, byte offset) of its entry.
    """
    file = elf.path
    rel_sec, rels = elf.rels[maps_sec.index]
    by_name = {m.name: m for m in maps}
    for rel in rels:
        place = at(rel_sec.name, rel.at)
        if rel.sym >= len(elf.symbols):
            raise ObjectError(f"symbol #{rel.sym} not found", file=file, place=place)
        sym = elf.symbols[rel.sym]
        owner = next((m for m in maps if m.sec_offset <= rel.offset and rel.offset + 8 <= m.sec_offset
                      + _var_size(btf, m)), None)
        if owner is None:
            raise ObjectError(f"cannot find the map holding relocation against '{sym.name}' at {rel.offset:#x}",
                              file=file, place=place)
        if owner.map_type in _MAP_IN_MAP:
            if sym.shndx != maps_sec.index or sym.name not in by_name:
                raise ObjectError(f"'{sym.name}' isn't a BTF-defined map", file=file, place=place)
        elif owner.map_type == MapType.PROG_ARRAY:
            if entry_programs.get(sym.name) != (sym.shndx, sym.value):
                raise ObjectError(f"'{sym.name}' isn't an entry-point program", file=file, place=place)
        else:
            raise ObjectError(f"map '{owner.name}' is not a map-in-map or program array but has initial values",
                              file=file, place=place)
        values_off = _values_offset(btf, owner)
        if values_off is None or rel.offset - owner.sec_offset < values_off or (
                rel.offset - owner.sec_offset - values_off) % 8:
            raise ObjectError(f"relocation at {rel.offset:#x} is not a slot of '{owner.name}'.values", file=file,
                              place=place)
        owner.init_slots[(rel.offset - owner.sec_offset - values_off) // 8] = sym.name


def _def_struct(btf: Btf, spec: MapSpec) -> int:
    sec = btf.types[btf.find(MAPS_SECTION, Kind.DATASEC)]
    vi = next(v for v in sec.vars if v.offset == spec.sec_offset)
    return btf.resolve(btf.types[vi.type].type)


def _var_size(btf: Btf, spec: MapSpec) -> int:
    sec = btf.types[btf.find(MAPS_SECTION, Kind.DATASEC)]
    return next(v.size for v in sec.vars if v.offset == spec.sec_offset)


def _values_offset(btf: Btf, spec: MapSpec) -> int | None:
    members = btf.members(_def_struct(btf, spec))
    if not members or members[-1].name != "values":
        return None
    return members[-1].byte_offset


# -- global data -------------------------------------------------------------------------------------

def data_kind(section: ElfSection) -> MapKind | None:
    """Which global-data map a section makes (libbpf's SEC_DATA/RODATA/BSS), None for any other."""
    name = section.name
    if section.type == "SHT_PROGBITS" and not section.executable:
        if name == ".data" or name.startswith(".data."):
            return MapKind.DATA
        if name == ".rodata" or name.startswith(".rodata."):
            return MapKind.RODATA
    if section.type == "SHT_NOBITS" and (name == ".bss" or name.startswith(".bss.")):
        return MapKind.BSS
    return None


def internal_map_name(obj_name: str, real_name: str) -> str:
    """libbpf's name for a global-data map: as much of the object name as fits before the section name.

    The suffix takes at least 7 characters (so ``.bss`` still leaves only 8 for the object name); a
    section name with a second dot (``.data.custom``, ``.bss.private``) gets no prefix; the result
    is at most 15 characters, anything but ``[A-Za-z0-9_.]`` turned into ``_``.
    """
    limit = BPF_OBJ_NAME_LEN - 1
    sfx_len = min(max(7, len(real_name)), limit)
    pfx_len = 0 if "." in real_name[1:] else min(BPF_OBJ_NAME_LEN - sfx_len - 1, len(obj_name))
    name = (obj_name[:pfx_len] + real_name[:sfx_len])[:limit]
    return "".join(c if c.isascii() and (c.isalnum() or c in "_.") else "_" for c in name)


def is_mmapable(btf: Btf | None, datasec_id: int) -> bool:
    """libbpf's map_is_mmapable: some VAR of the DATASEC is not static (hidden globals were made static)."""
    if btf is None or not datasec_id:
        return False
    sec = btf.types[datasec_id]
    if not isinstance(sec, Datasec):
        return False
    for vi in sec.vars:
        var = btf.types[vi.type] if vi.type < len(btf.types) else None
        if isinstance(var, Var) and var.linkage != VarLinkage.STATIC:
            return True
    return False


def internal_map(obj_name: str, real_name: str, kind: MapKind, size: int, initial: bytes, btf: Btf | None,
                 section: str) -> MapSpec:
    """A global-data (or KCONFIG) map: a one-element ARRAY whose value is the whole section."""
    datasec_id = (btf.find(real_name) or 0) if btf is not None else 0
    mmapable = is_mmapable(btf, datasec_id)
    flags = MapFlags.RDONLY_PROG if kind in (MapKind.RODATA, MapKind.KCONFIG) else 0
    if mmapable:
        flags |= MapFlags.MMAPABLE
    if kind is MapKind.BSS and real_name != ".bss" and not mmapable:
        kind = MapKind.PRIVATE_BSS
    return MapSpec(name=internal_map_name(obj_name, real_name), kind=kind, map_type=MapType.ARRAY, key_size=4,
                   value_size=size, max_entries=1, map_flags=int(flags), key_type_id=0, value_type_id=datasec_id,
                   btf_value_type=datasec_id, initial=initial, section=section, mmapable=mmapable,
                   frozen=kind in (MapKind.RODATA, MapKind.KCONFIG), real_name=real_name)


# No kernel takes a map value above KMALLOC_MAX_SIZE, at most 2**29 (64 KiB pages, MAX_PAGE_ORDER 13).
MAX_VALUE_SIZE = 1 << 29


def data_maps(elf: ElfObject, btf: Btf | None, obj_name: str) -> list[MapSpec]:
    """One map per non-empty ``.data*``/``.rodata*``/``.bss*`` section, in section order."""
    out = []
    for sec in elf.sections:
        kind = data_kind(sec)
        if kind is None or sec.size == 0:
            continue
        if sec.size > MAX_VALUE_SIZE:
            raise ObjectError(f"global data section of {sec.size:#x} bytes: no kernel takes a map value that "
                              f"large", file=elf.path, place=at(sec.name))
        initial = bytes(sec.size) if kind is MapKind.BSS else sec.data
        out.append(internal_map(obj_name, sec.name, kind, sec.size, initial, btf, sec.name))
    return out
