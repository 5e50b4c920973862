"""The C dump compiles with clang, CO-RE programs build on it, and clang lays every struct out as BTF says."""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

import pytest
from _btf_helpers import PROGS, need_tool, pahole_encode, run
from pybpf.btf.dump_c import dump_c
from pybpf.btf.graph import Btf
from pybpf.btf.load import btf_section, load, read_bytes
from pybpf.btf.uapi import Kind
from pybpf.cli.main import main

CORE_PROG = r"""
#include "vmlinux.h"

#define READ(x) __builtin_preserve_access_index(x)

__attribute__((section("tracepoint/sched/sched_switch"), used))
int read_task(struct task_struct *task)
{
	int pid = READ(task->pid);
	int tgid = READ(task->tgid);
	int ppid = READ(task->real_parent->tgid);
	unsigned int flags = READ(task->flags);
	return pid + tgid + ppid + (int)flags + (int)sizeof(struct task_struct);
}

char _license[] __attribute__((section("license"), used)) = "GPL";
"""


def compile_c(src: Path, out: Path, *extra: str) -> Path:
    run([need_tool("clang"), "-target", "bpf", "-g", "-O2", "-Wall", "-Werror", "-Wno-unused-variable",
         *extra, "-c", str(src), "-o", str(out)])
    return out


def core_relo_len(obj: Path) -> int:
    """struct btf_ext_header's core_relo_len: how many bytes of CO-RE relocations clang recorded."""
    from elftools.elf.elffile import ELFFile

    with obj.open("rb") as f:
        ext = ELFFile(f).get_section_by_name(".BTF.ext").data()
    hdr_len = struct.unpack_from("<I", ext, 4)[0]
    return struct.unpack_from("<I", ext, 28)[0] if hdr_len >= 32 else 0


def layout_mismatches(btf: Btf, header: Path, work: Path) -> tuple[int, list[str]]:
    """Declare one variable of every uniquely named struct/union, let clang emit BTF, compare layouts.

    The expected sizes, member bit offsets and bitfield widths are the input BTF's (the compiler that
    built it); the actual ones are clang's after reading our header.
    """
    tags = Counter(btf.name_of(t) for t in btf.types if t.kind in (Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64))
    want, decls = {}, [f'#include "{header}"']
    for tid in range(btf.start_id, len(btf.types)):
        t = btf.types[tid]
        if t.kind in (Kind.STRUCT, Kind.UNION) and t.name_off and tags[btf.name_of(t)] == 1:
            name = btf.name_of(t)
            want[name] = tid
            decls.append(f"{'struct' if t.kind == Kind.STRUCT else 'union'} {name} __v{tid};")
    src = work / "layout.c"
    src.write_text("\n".join(decls) + "\n")
    got = load(compile_c(src, work / "layout.o", "-O0"))
    bad = []
    for tid in range(1, len(got.types)):
        t = got.types[tid]
        name = got.name_of(t)
        if t.kind not in (Kind.STRUCT, Kind.UNION) or name not in want:
            continue
        ref = want.pop(name)
        expect = [(m.name, m.bit_offset, m.bitfield_size) for m in btf.members(ref)]
        actual = [(m.name, m.bit_offset, m.bitfield_size) for m in got.members(tid)]
        if btf.size_of(ref) != t.size or expect != actual:
            bad.append(f"{name}: size {btf.size_of(ref)} vs {t.size}, members {expect} vs {actual}")
    assert not want, f"clang emitted no BTF for {sorted(want)[:5]}"
    return len(decls) - 1, bad


def test_vmlinux_header_builds_a_core_program(vmlinux, tmp_path):
    header = tmp_path / "vmlinux.h"
    header.write_text(dump_c(vmlinux))
    text = header.read_text()
    assert text.startswith("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n")
    assert "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)" in text
    assert "#pragma clang attribute pop" in text and text.endswith("#endif /* __VMLINUX_H__ */\n")
    src = tmp_path / "core.c"
    src.write_text(CORE_PROG)
    obj = compile_c(src, tmp_path / "core.o")
    assert core_relo_len(obj) > 0, "clang recorded no CO-RE relocation"
    task = load(obj).find("task_struct", Kind.STRUCT)
    assert task is not None


@pytest.mark.slow
def test_vmlinux_header_layouts(vmlinux, tmp_path):
    header = tmp_path / "vmlinux.h"
    header.write_text(dump_c(vmlinux))
    checked, bad = layout_mismatches(vmlinux, header, tmp_path)
    assert checked > 5000 and bad == []


@pytest.mark.parametrize("fixture", ["kinds_obj", "kinds_pahole"])
def test_object_header_layouts(fixture, request, tmp_path):
    btf = load(request.getfixturevalue(fixture))
    header = tmp_path / "kinds.h"
    header.write_text(dump_c(btf))
    checked, bad = layout_mismatches(btf, header, tmp_path)
    assert checked >= 9 and bad == []


def test_object_header_shapes(kinds_obj):
    text = dump_c(load(kinds_obj))
    assert "struct pk {\n\tchar a;\n\tint b;\n} __attribute__((packed));" in text
    assert "\tunsigned int a: 3;\n\tunsigned int b: 5;\n\tint c: 10;\n" in text
    assert "\tunion {\n\t\tint x;\n\t\tfloat y;\n\t} u;\n\tstruct {\n\t\tchar z;\n\t\tshort w;\n\t};\n" in text
    assert "typedef enum {\n\tANON_A = 1,\n\tANON_B = 2,\n} anon_enum_t;" in text
    assert "typedef int (*callback_t)(struct fwd_s *, union fwd_u *, ...);" in text
    assert "typedef const volatile int cv_int;" in text and "typedef int *restrict rptr;" in text
    assert "struct fwd_s;\n" in text and "union fwd_u;\n" in text
    assert text.index("struct inner {") < text.index("struct bits {")  # by-value member first


def test_split_header_pulls_what_it_needs_from_base(build_dir, vmlinux_path, vmlinux, tmp_path):
    btf = load(pahole_encode(PROGS / "mod_a.c", build_dir / "mod_a.btf", base=vmlinux_path), base=vmlinux)
    text = dump_c(btf)
    assert "struct task_struct;\n" in text and "struct task_struct {" not in text  # only behind a pointer
    assert "struct list_head {" in text  # a by-value member: the base's definition comes along
    header = tmp_path / "mod_a.h"
    header.write_text(text)
    checked, bad = layout_mismatches(btf, header, tmp_path)
    assert checked == 1 and bad == []


def test_cli_c_format(kinds_obj, capfd, tmp_path):
    assert main(["btf", "dump", str(kinds_obj), "--format", "c"]) == 0
    out = capfd.readouterr().out
    header = tmp_path / "cli.h"
    header.write_text(out)
    src = tmp_path / "use.c"
    src.write_text('#include "cli.h"\nint f(bits_t *b) { return b->in[1].i + b->w; }\n')
    compile_c(src, tmp_path / "use.o")
    assert btf_section(read_bytes(tmp_path / "use.o"))
