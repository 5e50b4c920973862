"""The BTF id a program is verified against: ``attach_btf_id`` (and ``attach_btf_obj_fd``).

Tracing, LSM and iterator programs are checked against the kernel function or
tracepoint they will attach to, named by the section (``fentry/do_unlinkat``).
libbpf looks the name up in kernel BTF with a prefix per kind of target; the
table below is that naming, as data.  struct_ops programs are checked against
the struct their map implements, at the member (``expected_attach_type``)
that points at them.
"""

from __future__ import annotations

import errno as errnos
from dataclasses import dataclass

from pybpf.abi.uapi import AttachType, MapType, ProgType
from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.errors import KernelError
from pybpf.kernel.objload_ksyms import KernelBtf, KernelType
from pybpf.obj.model import MapSpec, Program


@dataclass(frozen=True)
class AttachName:
    """How a target name becomes a kernel BTF type: ``prefix + name`` of ``kind``."""

    prefix: str
    kind: Kind


ATTACH_NAMES: dict[tuple[ProgType, AttachType], AttachName] = {
    (ProgType.TRACING, AttachType.TRACE_FENTRY): AttachName("", Kind.FUNC),
    (ProgType.TRACING, AttachType.TRACE_FEXIT): AttachName("", Kind.FUNC),
    (ProgType.TRACING, AttachType.MODIFY_RETURN): AttachName("", Kind.FUNC),
    (ProgType.TRACING, AttachType.TRACE_RAW_TP): AttachName("btf_trace_", Kind.TYPEDEF),
    (ProgType.TRACING, AttachType.TRACE_ITER): AttachName("bpf_iter_", Kind.FUNC),
    (ProgType.LSM, AttachType.LSM_MAC): AttachName("bpf_lsm_", Kind.FUNC),
    (ProgType.LSM, AttachType.LSM_CGROUP): AttachName("bpf_lsm_", Kind.FUNC),
}


@dataclass(frozen=True)
class AttachTarget:
    """``attach_btf_id`` and the module BTF fd it is in (None: vmlinux); ``expected_attach_type`` for struct_ops."""

    btf_id: int
    target: KernelType | None = None
    expected_attach_type: int | None = None


def needs_attach_btf(program: Program) -> bool:
    key = (program.prog_type, program.expected_attach_type)
    return key in ATTACH_NAMES or program.prog_type in (ProgType.STRUCT_OPS, ProgType.EXT)


def attach_target(program: Program, kernel: KernelBtf, struct_ops: dict[str, tuple[MapSpec, int]],
                  obj_btf: Btf | None) -> AttachTarget | None:
    """The attach target of ``program``, None when it needs none; KernelError when it cannot be found.

    ``struct_ops`` maps a program name to the struct_ops map that uses it and the member index.
    """
    if program.prog_type == ProgType.EXT:
        raise KernelError(f"prog '{program.name}': freplace needs a target program (not supported by this loader)",
                          errno=errnos.ENOTSUP)
    if program.prog_type == ProgType.STRUCT_OPS:
        return _struct_ops_target(program, kernel, struct_ops, obj_btf)
    naming = ATTACH_NAMES.get((program.prog_type, program.expected_attach_type))
    if naming is None:
        return None
    if not program.attach_to:
        raise KernelError(f"prog '{program.name}': section '{program.section}' names no attach target",
                          errno=errnos.EINVAL)
    name = naming.prefix + program.attach_to
    found = kernel.find(name, naming.kind)
    if found is None:
        raise KernelError(f"prog '{program.name}': attach target {naming.kind.name} '{name}' is not in kernel BTF",
                          errno=errnos.ESRCH)
    return AttachTarget(found.btf_id, found)


def _struct_ops_target(program: Program, kernel: KernelBtf, struct_ops: dict[str, tuple[MapSpec, int]],
                       obj_btf: Btf | None) -> AttachTarget:
    use = struct_ops.get(program.name)
    if use is None or obj_btf is None:
        raise KernelError(f"prog '{program.name}': a struct_ops program used by no struct_ops map",
                          errno=errnos.EINVAL)
    spec, member = use
    type_name = obj_btf.name_of(obj_btf.resolve(spec.value_type_id))
    found = kernel.find(type_name, Kind.STRUCT)
    if found is None:
        raise KernelError(f"prog '{program.name}': struct '{type_name}' is not in kernel BTF", errno=errnos.ESRCH)
    # The slot index is the member's place in the object's struct; the kernel wants its place in its own.
    local = obj_btf.members(spec.value_type_id)
    member_name = local[member].name if 0 <= member < len(local) else ""
    kernel_members = [m.name for m in kernel.btf_of(found).members(found.btf_id)]
    if member_name not in kernel_members:
        raise KernelError(f"prog '{program.name}': struct '{type_name}' has no member '{member_name}' in kernel BTF",
                          errno=errnos.ESRCH)
    return AttachTarget(found.btf_id, found, expected_attach_type=kernel_members.index(member_name))


def struct_ops_users(maps: dict[str, MapSpec]) -> dict[str, tuple[MapSpec, int]]:
    """Program name -> (struct_ops map, member index), from the maps' ``init_slots``."""
    users: dict[str, tuple[MapSpec, int]] = {}
    for spec in maps.values():
        if spec.map_type == MapType.STRUCT_OPS:
            for member, prog_name in spec.init_slots.items():
                users.setdefault(prog_name, (spec, member))
    return users
