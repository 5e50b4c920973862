"""Relocations a loader finishes, checked without a kernel: kfuncs and ksyms in module BTF, weak externs, maps."""

from __future__ import annotations

import errno

import pytest
from pybpf.btf.uapi import Kind
from pybpf.errors import KernelError
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.kernel.objload_ksyms import KernelType
from pybpf.kernel.objload_relo import FdArray, ResolvedExtern, essential_name, relocate, resolve_externs
from pybpf.obj.model import Extern, ExternKind, Program, Reloc, RelocKind

CALL = Insn(0x85, 0, 2, 0, 0)  # a kfunc call as the object reader leaves it
EXIT = Insn(0x95)


class FakeModuleFd:
    """Stands for a module BTF object's fd (relocate only passes it on)."""

    def __init__(self, number: int):
        self.number = number

    def __index__(self) -> int:
        return self.number

    __int__ = __index__


def _program(insns, relocs) -> Program:
    return Program("p", "syscall", 31, None, None, False, True, list(insns), relocs=relocs)


def test_module_kfuncs_go_through_fd_array():
    mod_a, mod_b = FakeModuleFd(41), FakeModuleFd(42)
    externs = {
        "in_vmlinux": ResolvedExtern(Extern("in_vmlinux", ExternKind.KFUNC, 5), KernelType("in_vmlinux", 100)),
        "in_a": ResolvedExtern(Extern("in_a", ExternKind.KFUNC, 6), KernelType("in_a", 200, "mod_a", mod_a)),
        "in_b": ResolvedExtern(Extern("in_b", ExternKind.KFUNC, 7), KernelType("in_b", 300, "mod_b", mod_b)),
        "in_a_too": ResolvedExtern(Extern("in_a_too", ExternKind.KFUNC, 8), KernelType("in_a_too", 201, "mod_a",
                                                                                       mod_a)),
    }
    names = list(externs)
    prog = _program([CALL] * 4 + [EXIT], [Reloc(i, RelocKind.KFUNC_CALL, n) for i, n in enumerate(names)])
    fd_array = FdArray()
    insns = relocate(prog, {}, externs, fd_array)
    assert [(i.imm, i.off, i.src) for i in insns[:4]] == [(100, 0, 2), (200, 1, 2), (300, 2, 2), (201, 1, 2)]
    assert fd_array.fds[1:] == [mod_a, mod_b]  # index 0 is never used: off 0 means vmlinux


def test_typed_ksym_in_a_module_names_the_modules_btf_fd():
    mod = FakeModuleFd(43)
    ext = ResolvedExtern(Extern("var", ExternKind.KSYM, 5, type_id=1), KernelType("var", 777, "mod", mod))
    prog = _program([*ld_imm64(1, 0, 3), EXIT], [Reloc(0, RelocKind.KSYM, "var")])
    insns = relocate(prog, {}, {"var": ext}, FdArray())
    assert (insns[0].src, insns[0].imm, insns[1].imm) == (3, 777, 43)


def test_weak_externs_that_are_missing_become_zero():
    kfunc = ResolvedExtern(Extern("gone", ExternKind.KFUNC, 5, weak=True))
    var = ResolvedExtern(Extern("gone_var", ExternKind.KSYM, 6, weak=True, type_id=1))
    addr = ResolvedExtern(Extern("gone_sym", ExternKind.KSYM, 7, typeless=True, weak=True))
    prog = _program([CALL, *ld_imm64(1, 0, 3), *ld_imm64(2, 0), EXIT],
                    [Reloc(0, RelocKind.KFUNC_CALL, "gone"), Reloc(1, RelocKind.KSYM, "gone_var"),
                     Reloc(3, RelocKind.KSYM, "gone_sym")])
    insns = relocate(prog, {}, {"gone": kfunc, "gone_var": var, "gone_sym": addr}, FdArray())
    assert (insns[0].src, insns[0].imm, insns[0].off) == (2, 0, 0)  # kfunc id 0: only valid as dead code
    assert (insns[1].src, insns[1].imm, insns[2].imm) == (0, 0, 0)
    assert (insns[3].src, insns[3].imm, insns[4].imm) == (0, 0, 0)


def test_typeless_address_fills_both_halves():
    ext = ResolvedExtern(Extern("sym", ExternKind.KSYM, 5, typeless=True), address=0xFFFFFFFF81F07CF0)
    prog = _program([*ld_imm64(3, 0), EXIT], [Reloc(0, RelocKind.KSYM, "sym")])
    first, second, _ = relocate(prog, {}, {"sym": ext}, FdArray())
    assert first.src == 0 and first.dst == 3
    assert (first.imm & 0xFFFFFFFF, second.imm & 0xFFFFFFFF) == (0x81F07CF0, 0xFFFFFFFF)


def test_map_relocations_take_the_maps_fds():
    prog = _program([*ld_imm64(1, 0, 1), *ld_imm64(2, 16 << 32, 2), *ld_imm64(3, 0, 2), EXIT],
                    [Reloc(0, RelocKind.MAP_FD, "counts"), Reloc(2, RelocKind.MAP_VALUE, "obj.bss", 16),
                     Reloc(4, RelocKind.KCONFIG, "CONFIG_HZ", 8)])
    insns = relocate(prog, {"counts": 7, "obj.bss": 8, "obj.kconfig": 9}, {}, FdArray(), kconfig_map="obj.kconfig")
    assert [(i.src, i.imm) for i in insns[0:6:2]] == [(1, 7), (2, 8), (2, 9)]
    assert insns[3].imm == 16 and insns[5].imm == 8  # the offsets into the values (second slot)
    assert prog.insns[0].imm == 0  # the program itself is left alone


def test_a_reloc_against_a_map_that_was_not_created_is_an_error():
    prog = _program([*ld_imm64(1, 0, 1), EXIT], [Reloc(0, RelocKind.MAP_FD, "missing")])
    with pytest.raises(KernelError, match="map 'missing'") as err:
        relocate(prog, {}, {}, FdArray())
    assert err.value.errno == errno.ENOENT


class FakeKernel:
    """find() answers from a dict; nothing is in modules."""

    def __init__(self, known: dict[tuple[str, Kind], int]):
        self.known = known

    def find(self, name: str, kind: Kind) -> KernelType | None:
        tid = self.known.get((name, kind))
        return None if tid is None else KernelType(name, tid)


def test_strong_missing_externs_fail_weak_ones_do_not():
    kernel = FakeKernel({})
    assert resolve_externs({"w": Extern("w", ExternKind.KFUNC, 1, weak=True)}, kernel, None)["w"].found is None
    with pytest.raises(KernelError, match=r"extern \(func ksym\) 's': not found in kernel or module BTFs") as err:
        resolve_externs({"s": Extern("s", ExternKind.KFUNC, 1)}, kernel, None)
    assert err.value.errno == errno.ESRCH


def test_flavored_names_find_the_kernels_name():
    assert essential_name("bpf_task_from_pid___v2") == "bpf_task_from_pid"
    assert essential_name("___odd") == "___odd"
    kernel = FakeKernel({("bpf_x", Kind.FUNC): 9})
    found = resolve_externs({"bpf_x___new": Extern("bpf_x___new", ExternKind.KFUNC, 1)}, kernel, None)
    assert found["bpf_x___new"].found.btf_id == 9
