"""A program loaded into the runtime, and the loader's resolution of pseudo ``ld_imm64``.

``ld_imm64`` with a pseudo ``src`` becomes, as the kernel's loader makes it:

- BPF_PSEUDO_MAP_FD (imm = map fd) / BPF_PSEUDO_MAP_IDX (imm = index into the
  program's ``fd_array``): the map's handle (see ``objects``);
- BPF_PSEUDO_MAP_VALUE / BPF_PSEUDO_MAP_IDX_VALUE (second imm = offset): the
  guest address ``offset`` bytes into the value of an ARRAY with max_entries
  1, as the kernel allows only for those (its ``map_direct_value_addr``);
- BPF_PSEUDO_FUNC (imm = pc-relative subprogram): a function handle, the
  callback argument of bpf_loop and bpf_for_each_map_elem.

Anything else (BTF ids) cannot be resolved here and is refused at load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybpf.abi.uapi import MapType
from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Pseudo
from pybpf.runtime.maps.array import ArrayMap
from pybpf.runtime.maps.base import BpfMap
from pybpf.runtime.objects import ObjectTable, func_handle
from pybpf.vm.decode import ImmResolver
from pybpf.vm.interp import Interpreter

_VALUE_KINDS = (Pseudo.MAP_VALUE, Pseudo.MAP_IDX_VALUE)
_MAP_KINDS = (Pseudo.MAP_FD, Pseudo.MAP_VALUE, Pseudo.MAP_IDX, Pseudo.MAP_IDX_VALUE)


@dataclass(eq=False)
class Program:
    """Loaded instructions; ``fd``/``id`` come from the runtime's object table."""

    insns: tuple[Insn, ...]
    name: str = ""
    fd_array: tuple[int, ...] = ()
    fd: int = -1
    id: int = 0
    interpreter: Interpreter | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"<Program {self.name!r} id {self.id} fd {self.fd}, {len(self.insns)} slots>"


def _map_of(program: Program, objects: ObjectTable, first: Insn) -> BpfMap:
    kind = Pseudo(first.src)
    if kind in (Pseudo.MAP_IDX, Pseudo.MAP_IDX_VALUE):
        index = first.imm
        if not 0 <= index < len(program.fd_array):
            raise VmFault(f"ld_imm64 BPF_PSEUDO_{kind.name}: index {index} is outside fd_array "
                          f"({len(program.fd_array)} fds)")  # fmt: skip
        fd = program.fd_array[index]
    else:
        fd = first.imm
    found = objects.map_by_fd(fd)
    if found is None:
        raise VmFault(f"ld_imm64 BPF_PSEUDO_{kind.name}: fd {fd} is not a map of this runtime")
    return found


def _direct_value(found: BpfMap, offset: int) -> int:
    if not isinstance(found, ArrayMap) or found.map_type is not MapType.ARRAY or found.max_entries != 1:
        raise VmFault(f"direct value access to map {found.name!r}: only an ARRAY with max_entries 1 allows it")
    if offset >= found.value_size:
        raise VmFault(f"direct value access to map {found.name!r}: offset {offset} is past value_size "
                      f"{found.value_size}")  # fmt: skip
    return found.direct_value_region().base + offset


def make_resolver(program: Program, objects: ObjectTable) -> ImmResolver:
    """The ``resolve_imm64`` hook for ``program``."""
    nslots = len(program.insns)

    def resolve(pc: int, first: Insn, second: Insn) -> int:
        kind = Pseudo(first.src)
        if kind is Pseudo.FUNC:
            target = pc + first.imm + 1
            if not 0 <= target < nslots:
                raise VmFault(f"ld_imm64 BPF_PSEUDO_FUNC: subprogram at insn {target} is outside the program")
            return func_handle(target)
        if kind in _MAP_KINDS:
            found = _map_of(program, objects, first)
            if kind in _VALUE_KINDS:
                return _direct_value(found, second.imm & 0xFFFFFFFF)
            return objects.handle_of(found)
        raise VmFault(f"ld_imm64 BPF_PSEUDO_{kind.name} needs BTF, which the runtime does not resolve")

    return resolve
