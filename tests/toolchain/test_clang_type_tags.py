"""BTF type tags: which compilers keep them, the discovery order that prefers those, and the __kptr guard.

The facts come from the compilers themselves: a struct member's ``btf_type_tag`` either appears
as a TYPE_TAG entry in the object's .BTF (read here with pyelftools and BTF's own layout, not
pybpf's reader) or it does not.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from pybpf.toolchain import CompileError, CompilerKind, compile_bpf, find_compiler
from pybpf.toolchain.typetags import PROBE_SOURCE, uses_kptr

BTF_KIND_TYPE_TAG = 18  # include/uapi/linux/btf.h
# Bytes after the 12-byte struct btf_type: fixed (INT, ARRAY, VAR, DECL_TAG) and per member
# (STRUCT, UNION, ENUM, FUNC_PROTO, DATASEC, ENUM64).
_FIXED = {1: 4, 3: 12, 14: 4, 17: 4}
_PER_VLEN = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}


def _btf_kinds(obj: Path) -> list[int]:
    """The kind of every type in the object's .BTF, walking struct btf_type records."""
    with open(obj, "rb") as f:
        data = ELFFile(f).get_section_by_name(".BTF").data()
    _, _, _, hdr_len, type_off, type_len = struct.unpack_from("<HBBIII", data)
    at, end, kinds = hdr_len + type_off, hdr_len + type_off + type_len, []
    while at < end:
        _, info, _ = struct.unpack_from("<III", data, at)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        kinds.append(kind)
        at += 12 + _FIXED.get(kind, 0) + _PER_VLEN.get(kind, 0) * vlen
    return kinds


def _compile_probe(tmp_path: Path, compiler) -> list[int]:
    src = tmp_path / "probe.c"
    src.write_text(PROBE_SOURCE)
    return _btf_kinds(compile_bpf(src, compiler=compiler, cache=None, output=tmp_path / "probe.o"))


@pytest.mark.skipif(shutil.which("clang-14") is None, reason="no clang-14 on PATH")
def test_clang14_drops_member_type_tags(tmp_path):
    c14 = find_compiler({"PYBPF_CLANG": "clang-14", "PATH": os.environ["PATH"]})
    assert BTF_KIND_TYPE_TAG not in _compile_probe(tmp_path, c14)
    assert not c14.type_tags
    assert c14.describe().endswith(f"[warning: clang {c14.version} drops btf_type_tag; __kptr needs clang >= 15]")


@pytest.mark.skipif(importlib.util.find_spec("ziglang") is None, reason="ziglang not installed")
def test_ziglang_keeps_member_type_tags(tmp_path):
    zig = find_compiler({"PYBPF_CLANG": f"{sys.executable} -m ziglang cc", "PATH": os.environ["PATH"]})
    assert BTF_KIND_TYPE_TAG in _compile_probe(tmp_path, zig)
    assert zig.type_tags
    assert "warning" not in zig.describe()


def test_default_compiler_verdict_matches_its_btf(tmp_path, compiler):
    """Whatever discovery picked here, its type_tags flag says what its objects hold."""
    assert (BTF_KIND_TYPE_TAG in _compile_probe(tmp_path, compiler)) is compiler.type_tags


def _fake_clang(folder: Path, name: str, version: str, tags: bool) -> Path:
    """A clang with the BPF target that writes BTF assembly with or without a TYPE_TAG entry for -S."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    entry = "BTF_KIND_TYPE_TAG(id = 3)" if tags else "BTF_KIND_PTR(id = 3)"
    path.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f'  --version) echo "clang version {version}"; exit 0;;\n'
        '  -print-targets) echo "    bpf        - BPF (host endian)"; exit 0;;\n'
        "esac\n"
        'out=""; prev=""\n'
        'for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done\n'
        f'[ -n "$out" ] && echo "	.long	0	# {entry}" > "$out"\n'
        "exit 0\n"
    )
    path.chmod(0o755)
    return path



def test_newest_clang_that_keeps_tags_wins_over_a_newer_one_that_drops_them(tmp_path, monkeypatch, no_ziglang):
    _fake_clang(tmp_path, "clang-16", "16.0.6", tags=True)
    _fake_clang(tmp_path, "clang-17", "17.0.1", tags=True)
    _fake_clang(tmp_path, "clang-18", "18.1.0", tags=False)  # a broken build: the probe, not the version, decides
    found = find_compiler({"PATH": str(tmp_path)})
    assert (found.kind, found.version, found.type_tags) == (CompilerKind.SYSTEM, "17.0.1", True)


@pytest.mark.skipif(importlib.util.find_spec("ziglang") is None, reason="ziglang not installed")
def test_ziglang_wins_over_a_system_clang_that_drops_tags(tmp_path):
    _fake_clang(tmp_path, "clang-14", "14.0.6", tags=False)
    found = find_compiler({"PATH": str(tmp_path)})
    assert found.kind is CompilerKind.ZIGLANG


def test_old_clang_is_the_last_resort_with_a_warning(tmp_path, monkeypatch, no_ziglang):
    _fake_clang(tmp_path, "clang-13", "13.0.1", tags=False)
    _fake_clang(tmp_path, "clang-14", "14.0.6", tags=False)
    found = find_compiler({"PATH": str(tmp_path)})
    assert (found.version, found.type_tags) == ("14.0.6", False)
    assert found.describe() == (f"clang 14.0.6 ({tmp_path / 'clang-14'}) "
                                "[warning: clang 14.0.6 drops btf_type_tag; __kptr needs clang >= 15]")


def test_kptr_source_with_a_tag_dropping_compiler_is_refused_before_compiling(tmp_path, monkeypatch, no_ziglang):
    _fake_clang(tmp_path / "bin", "clang-14", "14.0.6", tags=False)
    old = find_compiler({"PATH": str(tmp_path / "bin")})
    src = tmp_path / "uses_kptr.c"
    src.write_text("struct obj { long x; };\nstruct val { struct obj __kptr *p; };\n")
    with pytest.raises(CompileError) as info:
        compile_bpf(src, compiler=old, cache=None)
    text = str(info.value)
    assert "clang 14.0.6 drops btf_type_tag; __kptr needs clang >= 15" in text
    assert str(src) in text and "\n" not in text
    assert not (tmp_path / "uses_kptr.o").exists()


@pytest.mark.parametrize(("text", "uses"), [
    (b"struct v { struct o __kptr *p; };", True),
    (b"struct v { struct o __kptr_untrusted *p; };", True),
    (b"/* no __kptr here: clang 14 */ int x;", False),
    (b"// a remark on __kptr\nint x;", False),
    (b'__msg("__kptr") int x;', False),
    (b"int __kptrs_count;", False),
])
def test_what_counts_as_using_kptr(text, uses):
    assert uses_kptr(text) is uses


@pytest.mark.skipif(shutil.which("clang-14") is None, reason="no clang-14 on PATH")
def test_clang14_really_drops_what_the_probe_says(tmp_path):
    """The probe's assembly comment and the object's BTF agree (clang's own -S output)."""
    src = tmp_path / "p.c"
    src.write_text(PROBE_SOURCE)
    asm = subprocess.run(["clang-14", "--target=bpf", "-g", "-O2", "-S", "-o", "-", str(src)],
                         capture_output=True, text=True, check=True).stdout
    assert "BTF_KIND_STRUCT" in asm and "BTF_KIND_TYPE_TAG" not in asm
