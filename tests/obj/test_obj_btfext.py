"""``.BTF.ext`` func/line info, moved to each linked program's instruction indexes."""

from __future__ import annotations

import struct

from _obj_helpers import PROGS, need_bpf
from pybpf.btf.types import Func
from pybpf.obj import open_object


def test_line_info_names_the_source(compile_prog):
    obj = open_object(compile_prog("subprogs"))
    source = (PROGS / "subprogs.c").read_text().splitlines()
    for prog in obj.programs.values():
        assert prog.line_info, prog.name
        offs = [li.insn_off for li in prog.line_info]
        assert offs == sorted(offs) and offs[0] == 0
        assert all(0 <= off < len(prog.insns) for off in offs)
        for li in prog.line_info:
            assert li.file_name.endswith("subprogs.c")
            if li.line:
                assert li.line_text == source[li.line - 1]
                assert li.col <= len(li.line_text) + 1
            assert obj.btf.str_at(li.line_off) == li.line_text
            assert obj.btf.str_at(li.file_name_off) == li.file_name


def test_line_info_of_appended_subprograms(compile_prog):
    """A subprogram's lines follow it: the first line record at its offset is inside its body."""
    obj = open_object(compile_prog("subprogs"))
    source = (PROGS / "subprogs.c").read_text().splitlines()
    decl = {name: next(i for i, line in enumerate(source, 1) if f" {name}(int x)" in line)
            for name in ("leaf", "mid", "global_sub", "only_b")}
    for prog in obj.programs.values():
        for name, off in prog.subprogs:
            first = next(li for li in prog.line_info if li.insn_off >= off)
            assert first.insn_off == off
            assert decl[name] <= first.line <= decl[name] + 4


def test_func_info(compile_prog):
    obj = open_object(compile_prog("subprogs"))
    for prog in obj.programs.values():
        assert [fi.insn_off for fi in prog.func_info] == [0] + [off for _, off in prog.subprogs]
        for fi in prog.func_info:
            assert isinstance(obj.btf.types[fi.type_id], Func)


def _records(obj, prog) -> tuple[bytes, bytes]:
    funcs = b"".join(struct.pack("<II", fi.insn_off, fi.type_id) for fi in prog.func_info)
    lines = b"".join(struct.pack("<IIII", li.insn_off, li.file_name_off, li.line_off, li.line_col)
                     for li in prog.line_info)
    return funcs, lines


def test_kernel_accepts_func_and_line_info(compile_prog):
    """BPF_PROG_LOAD checks func/line info against the instructions and the BTF."""
    need_bpf()
    from pybpf.abi.uapi import ProgType
    from pybpf.btf import write
    from pybpf.kernel import btf_load
    from pybpf.kernel.prog import prog_load

    obj = open_object(compile_prog("btfinfo"))
    prog = obj.programs["sock"]
    assert [obj.btf.name_of(fi.type_id) for fi in prog.func_info] == ["sock", "twice"]
    funcs, lines = _records(obj, prog)
    with btf_load(write(obj.btf)) as btf_fd:
        loaded = prog_load(prog.insns, prog_type=ProgType.SOCKET_FILTER, name="sock", prog_btf_fd=btf_fd,
                           func_info=funcs, func_info_rec_size=8, line_info=lines, line_info_rec_size=16)
        loaded.close()
