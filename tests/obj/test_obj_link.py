"""Subprogram linking: each entry program gets the .text functions it reaches, appended as libbpf does."""

from __future__ import annotations

from _obj_helpers import loaded_with_libbpf, objdump_functions, xlated
from pybpf.isa import disassemble
from pybpf.isa.opcodes import CallSrc, Pseudo
from pybpf.obj import RelocKind, open_object


def _calls(insns) -> list[tuple[int, int]]:
    return [(pc, i.imm) for pc, i in enumerate(insns) if i.code == 0x85 and i.src == CallSrc.LOCAL]


def test_entries_and_appended_subprograms(compile_prog):
    path = compile_prog("subprogs")
    obj = open_object(path)
    funcs = objdump_functions(path)
    assert set(obj.programs) == {"entry_a", "entry_b", "entry_c"}
    size = {name: slots for name, (_, slots) in funcs.items()}
    # entry_a -> global_sub -> mid -> leaf; entry_b -> leaf, only_b, global_sub -> mid
    a, b, c = obj.programs["entry_a"], obj.programs["entry_b"], obj.programs["entry_c"]
    assert [n for n, _ in a.subprogs] == ["global_sub", "mid", "leaf"]
    assert {n for n, _ in b.subprogs} == {"leaf", "only_b", "global_sub", "mid"}
    assert c.subprogs == []
    for prog in (a, b, c):
        assert funcs[prog.name][0] == prog.section
        expected = size[prog.name] + sum(size[n] for n, _ in prog.subprogs)
        assert len(prog.insns) == expected


def test_call_offsets_land_on_subprogram_starts(compile_prog):
    obj = open_object(compile_prog("subprogs"))
    for prog in obj.programs.values():
        starts = {off for _, off in prog.subprogs}
        for pc, imm in _calls(prog.insns):
            assert pc + imm + 1 in starts


def test_func_info_marks_every_appended_function(compile_prog):
    obj = open_object(compile_prog("subprogs"))
    btf = obj.btf
    for prog in obj.programs.values():
        named = {fi.insn_off: btf.name_of(fi.type_id) for fi in prog.func_info}
        assert named == {0: prog.name, **{off: name for name, off in prog.subprogs}}


def test_same_as_libbpf_in_the_kernel(compile_prog):
    """bpftool loads the object with libbpf: the kernel's xlated code has the same length and call targets."""
    path = compile_prog("subprogs")
    obj = open_object(path)
    with loaded_with_libbpf(path) as pin:
        for prog in obj.programs.values():
            theirs = xlated(pin, prog.name)
            assert len(disassemble(prog.insns)) == len(theirs)
            texts = [line["disasm"].split(") ", 1)[1].split("#")[0] for line in theirs]
            kernel_calls = [(i, text) for i, text in enumerate(texts) if text.startswith("call pc")]
            ours = [(pc, f"call pc{imm:+d}") for pc, imm in _calls(prog.insns)]
            lines = disassemble(prog.insns)
            index_of = {int(text.split(":")[0]): n for n, text in enumerate(lines)}
            assert [(index_of[pc], text) for pc, text in ours] == kernel_calls


def test_function_pointer_is_pseudo_func(compile_prog):
    obj = open_object(compile_prog("funcptr"))
    prog = obj.programs["loop"]
    (reloc,) = [r for r in prog.relocs if r.kind is RelocKind.FUNC_PTR]
    insn = prog.insns[reloc.insn_idx]
    assert insn.code == 0x18 and insn.src == Pseudo.FUNC
    assert reloc.target == "step"
    assert dict(prog.subprogs)["step"] == reloc.insn_idx + insn.imm + 1
    assert not reloc.kind.at_load
