"""CO-RE relocations against the running kernel's BTF: values from vmlinux (pybpf.btf, bpftool) and libbpf."""

from __future__ import annotations

import re

import pytest
from _obj_helpers import loaded_with_libbpf, need_tool, run, xlated
from pybpf.btf.uapi import Kind
from pybpf.isa import disassemble
from pybpf.obj import CoreReloKind as K
from pybpf.obj import open_object
from pybpf.obj.core import POISON_IMM, apply_core, essential_name


@pytest.fixture(scope="module")
def core_obj(compile_prog, vmlinux):
    path = compile_prog("core")
    return path, open_object(path, target_btf=vmlinux)


@pytest.fixture(scope="module")
def bpftool_vmlinux() -> str:
    """``bpftool btf dump`` of vmlinux: an independent reading of the kernel's BTF."""
    return run([need_tool("bpftool"), "btf", "dump", "file", "/sys/kernel/btf/vmlinux"]).stdout


def _bpftool_member(dump: str, struct: str, member: str) -> tuple[int, int]:
    """(bits_offset, bitfield_size) of ``struct.member`` in bpftool's raw dump."""
    block = re.search(rf"^\[\d+\] STRUCT '{struct}' size=\d+ vlen=\d+\n((?:\t.*\n)+)", dump, re.M).group(1)
    line = re.search(rf"^\t'{member}' type_id=\d+ bits_offset=(\d+)(?: bitfield_size=(\d+))?", block, re.M)
    return int(line.group(1)), int(line.group(2) or 0)


def _results(obj):
    return {(r.relo.kind, r.relo.access_str, r.relo.insn_idx): r for r in obj.programs["core_prog"].core_results}


def test_essential_name():
    assert essential_name("task_struct___local") == "task_struct"
    assert essential_name("a___b___c") == "a___b"
    assert essential_name("___x") == "___x" and essential_name("plain") == "plain"


def test_field_values(core_obj, vmlinux, bpftool_vmlinux):
    _, obj = core_obj
    got = [(r.relo.kind, r.new) for r in obj.programs["core_prog"].core_results if r.ok]
    task = vmlinux.find("task_struct", Kind.STRUCT)
    pid_bits, _ = _bpftool_member(bpftool_vmlinux, "task_struct", "pid")
    assert pid_bits == vmlinux.member_offset(task, "pid").bit_offset
    tgid_bits, _ = _bpftool_member(bpftool_vmlinux, "task_struct", "tgid")
    assert (K.FIELD_BYTE_OFFSET, pid_bits // 8) in got
    assert (K.FIELD_BYTE_OFFSET, tgid_bits // 8) in got  # the ldx of t->tgid
    assert (K.FIELD_BYTE_SIZE, 4) in got and (K.FIELD_SIGNED, 1) in got and (K.FIELD_EXISTS, 1) in got
    pkt_type = vmlinux.member_offset(vmlinux.find("sk_buff", Kind.STRUCT), "pkt_type")  # in an anonymous struct
    bit_off, bit_sz = pkt_type.bit_offset, pkt_type.bitfield_size
    assert bit_sz == 3
    byte_off = bit_off // 8  # a 1-byte load holds the 3 bits
    assert (K.FIELD_BYTE_OFFSET, byte_off) in got
    assert (K.FIELD_LSHIFT_U64, 64 - (bit_off + bit_sz - byte_off * 8)) in got
    assert (K.FIELD_RSHIFT_U64, 64 - bit_sz) in got


def test_type_and_enum_values(core_obj, vmlinux):
    _, obj = core_obj
    res = obj.programs["core_prog"].core_results
    task = vmlinux.find("task_struct", Kind.STRUCT)
    by_kind = {}
    for r in res:
        by_kind.setdefault(r.relo.kind, []).append(r)
    assert by_kind[K.TYPE_ID_TARGET][0].new == task
    assert by_kind[K.TYPE_ID_LOCAL][0].new == by_kind[K.TYPE_ID_LOCAL][0].old  # the object's own id
    assert by_kind[K.TYPE_SIZE][0].new == vmlinux.size_of(task)
    ringbuf = next(v.val for v in vmlinux.types[vmlinux.find("bpf_map_type", Kind.ENUM)].values
                   if vmlinux.str_at(v.name_off) == "BPF_MAP_TYPE_RINGBUF")
    assert by_kind[K.ENUMVAL_VALUE][0].new == ringbuf
    assert by_kind[K.ENUMVAL_EXISTS][0].new == 1
    assert sorted(r.new for r in by_kind[K.TYPE_EXISTS]) == [0, 1]  # task_struct yes, not_in_kernel no


def test_missing_type_poisons(core_obj):
    _, obj = core_obj
    prog = obj.programs["core_prog"]
    failed = [r for r in prog.core_results if not r.ok]
    assert len(failed) == 1 and failed[0].relo.kind is K.FIELD_BYTE_OFFSET
    insn = prog.insns[failed[0].relo.insn_idx]
    assert (insn.code, insn.imm) == (0x85, POISON_IMM)
    exists = [r for r in prog.core_results if r.relo.kind is K.FIELD_EXISTS and r.new == 0]
    assert exists and all(r.ok for r in exists)  # asking whether it exists is answered, not poisoned


def test_same_as_libbpf_in_the_kernel(core_obj, compile_prog):
    """bpftool (libbpf) relocates the same object; the kernel's xlated code holds the same patched values."""
    path, obj = core_obj
    prog = obj.programs["core_prog"]
    ours = disassemble(prog.insns)
    with loaded_with_libbpf(path) as pin:
        theirs = [line["disasm"].split(") ", 1)[1] for line in xlated(pin, "core_prog")]
    guard = max(r.relo.insn_idx for r in prog.core_results if r.relo.kind is K.TYPE_EXISTS and r.new == 0)
    index = {int(text.split(":")[0]): n for n, text in enumerate(ours)}
    for r in prog.core_results:
        if r.relo.insn_idx <= guard:
            n = index[r.relo.insn_idx]
            assert ours[n].split(") ", 1)[1] == theirs[n], r


def test_apply_core_is_idempotent_on_a_fresh_copy(compile_prog, vmlinux):
    obj = open_object(compile_prog("core"))
    prog = obj.programs["core_prog"]
    before = list(prog.insns)
    results = apply_core(prog, obj.btf, vmlinux)
    assert len(results) == len(prog.core_relos) and prog.insns != before
    again = open_object(compile_prog("core"), target_btf=vmlinux).programs["core_prog"]
    assert again.insns == prog.insns
