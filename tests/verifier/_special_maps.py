"""Maps whose values hold special fields, for pybpf's verifier and the live kernel alike.

The value types are compiled from C (the BTF a program's object would carry);
clang-14 drops ``btf_type_tag``, so kptr members are tagged by hand as a newer
clang writes ``__kptr``.  ``judge`` gives one program (conformance asm, map i
named by ``lddw %rN, i, map_fd``) to both verifiers: pybpf sees ``MapDesc``s with
the values' btf_records, the kernel maps created with the same BTF.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pybpf.abi.uapi import MapType, ProgType
from pybpf.btf.graph import Btf
from pybpf.btf.load import load
from pybpf.btf.record import btf_record
from pybpf.btf.types import Ptr, TypeTag
from pybpf.btf.uapi import Kind
from pybpf.btf.write import write
from pybpf.errors import KernelError
from pybpf.harness.asmprog import with_map_fds
from pybpf.isa.asmsyntax import assemble
from pybpf.toolchain import compile_bpf
from pybpf.verifier import MapDesc, verify

TYPES = """
#include <linux/bpf.h>
struct task_struct { int pid; };
struct kptrs { struct task_struct *untrusted; struct task_struct *ref; long data; };
struct locked { struct bpf_spin_lock lock; __u32 pad; __u64 count; };
struct lock_second { __u64 count; struct bpf_spin_lock lock; __u32 pad; };
struct timed { __u64 count; struct bpf_timer timer; };
struct plain { __u64 a; __u64 b; };
struct lockptr { struct bpf_spin_lock lock; __u32 pad; struct task_struct *ref; };
/* a parameter each: clang writes their BTF in full (task_struct first, or it stays a FWD) */
int g(struct task_struct *t) { return 0; }
int f(struct kptrs *a, struct locked *b, struct lock_second *c, struct timed *d, struct plain *e) { return 0; }
int h(struct lockptr *a) { return 0; }
"""
KPTR_TAGS = {"untrusted": "kptr_untrusted", "ref": "kptr"}


@dataclass(frozen=True)
class MapDef:
    """A map of the test: its value is struct ``value`` of ``TYPES``."""

    name: str
    value: str
    map_type: int = MapType.ARRAY
    max_entries: int = 1
    flags: int = 0
    with_btf: bool = True  # False: created without BTF (no record at all)


@dataclass(frozen=True)
class Judged:
    ok: bool
    first_error: str
    log: str


def types_btf(tmp_path: Path) -> Btf:
    src = tmp_path / "types.c"
    src.write_text(TYPES)
    btf = load(compile_bpf(src, output=tmp_path / "types.o", cache=None))
    for struct in ("kptrs", "lockptr"):
        value = btf.find(struct, Kind.STRUCT)
        t = btf.types[value]
        members = list(t.members)
        for i, m in enumerate(members):
            tag = KPTR_TAGS.get(btf.str_at(m.name_off))
            if tag is not None:
                pointee = btf.types[m.type].type
                tagged = btf.add_type(TypeTag(btf.add_string(tag), pointee))
                members[i] = replace(m, type=btf.add_type(Ptr(0, tagged)))
        btf.set_type(value, replace(t, members=tuple(members)))
    return btf


def descs(btf: Btf, maps: list[MapDef]) -> list[MapDesc]:
    out = []
    for m in maps:
        vid = btf.find(m.value, Kind.STRUCT)
        if not m.with_btf:
            out.append(MapDesc(m.map_type, 4, btf.size_of(vid), m.max_entries, m.flags, m.name))
            continue
        record = btf_record(btf, vid)
        out.append(MapDesc(m.map_type, 4, btf.size_of(vid), m.max_entries, m.flags, m.name,
                           record if record.fields else None, vid, btf))
    return out


def pybpf_judge(btf: Btf, maps: list[MapDef], asm: str, prog_type: int = ProgType.SCHED_CLS,
                log_level: int = 1) -> Judged:
    v = verify(assemble(asm), prog_type=prog_type, maps=descs(btf, maps), log_level=log_level)
    return Judged(v.ok, v.first_error, v.log)


def kernel_judge(btf: Btf, maps: list[MapDef], asm: str, prog_type: int = ProgType.SCHED_CLS,
                 log_level: int = 1) -> Judged:
    from pybpf.kernel import btf_load, map_create, prog_load
    from pybpf.kernel.vlog import verdict

    fds = []
    with btf_load(write(btf), log_level=0) as btf_fd:
        try:
            for m in maps:
                vid = btf.find(m.value, Kind.STRUCT)
                typed = {"btf_fd": btf_fd, "btf_key_type_id": btf.find("int"), "btf_value_type_id": vid}
                fds.append(map_create(m.map_type, 4, btf.size_of(vid), m.max_entries, map_flags=m.flags,
                                      name=m.name, **(typed if m.with_btf else {})))
            insns = with_map_fds(assemble(asm), [int(fd) for fd in fds])
            try:
                with prog_load(insns, prog_type=prog_type, log_level=log_level) as prog:
                    return Judged(True, "", prog.log)
            except KernelError as err:
                return Judged(False, verdict(err.log), err.log)
        finally:
            for fd in fds:
                fd.close()


def map_create_errno(btf: Btf, m: MapDef) -> int:
    """0 when the kernel creates ``m`` with its BTF value type, else the errno it refuses with."""
    from pybpf.kernel import btf_load, map_create

    with btf_load(write(btf), log_level=0) as btf_fd:
        vid = btf.find(m.value, Kind.STRUCT)
        try:
            fd = map_create(m.map_type, 4, btf.size_of(vid), m.max_entries, map_flags=m.flags, name=m.name,
                            btf_fd=btf_fd, btf_key_type_id=btf.find("int"), btf_value_type_id=vid)
        except KernelError as err:
            return err.errno
        fd.close()
        return 0


LOOKUP = """
mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, {map}, map_fd
call 1
"""


def lookup(map_index: int = 0, dst: int = 0) -> str:
    """Asm: the value at key 0 of map ``map_index`` in ``%r{dst}`` (may be NULL: check it)."""
    text = LOOKUP.format(map=map_index)
    return text if dst == 0 else text + f"mov %r{dst}, %r0\n"
