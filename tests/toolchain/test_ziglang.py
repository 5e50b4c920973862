"""The ziglang wheel as the compiler of last resort (a dependency of pybpf)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from _toolchain_helpers import EM_BPF, read_object
from pybpf.toolchain import CompileError, CompilerKind, Flavor, compile_bpf, find_compiler

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ziglang") is None,
                                reason="ziglang not installed (pip install ziglang)")

PROGRAM = """\
typedef unsigned long size_t;
void *memset(void *s, int c, size_t n);
struct big { long word[4]; };
struct big seen __attribute__((section(".data"))) = { { 1, 2, 3, 4 } };

__attribute__((section("tc"), used))
int prog(void *ctx)
{
    struct big b;

    memset(&b, 0, sizeof(b));
    return b.word[1] + seen.word[2];
}
"""


@pytest.fixture
def zig(tmp_path):
    """ziglang as discovery finds it when there is no clang on PATH."""
    (tmp_path / "empty-path").mkdir()
    found = find_compiler({"PATH": str(tmp_path / "empty-path")})
    assert found.kind is CompilerKind.ZIGLANG
    return found


def test_discovered_when_no_system_clang(zig):
    assert zig.flavor is Flavor.ZIG
    assert zig.argv == (sys.executable, "-m", "ziglang", "cc")
    assert zig.describe().startswith(f"zig {zig.zig_version} cc, clang {zig.version} (")


def test_named_by_the_environment(tmp_path):
    found = find_compiler({"PYBPF_CLANG": f"{sys.executable} -m ziglang cc", "PATH": str(tmp_path)})
    assert (found.kind, found.flavor) == (CompilerKind.ENV, Flavor.ZIG)


def test_object_matches_what_clang_makes(tmp_path, zig, cache):
    src = tmp_path / "z.c"
    src.write_text(PROGRAM)
    facts = read_object(compile_bpf(src, compiler=zig, cache=cache))
    assert facts.machine == EM_BPF and facts.little_endian
    assert {".BTF", ".BTF.ext", "tc", ".data"} <= facts.sections
    assert facts.functions == {"prog": "tc"}
    assert ".eh_frame" not in facts.sections  # zig's default unwind tables are turned off
    assert "memset" not in facts.undefined  # a builtin, as with clang; BPF cannot call libc


def test_big_endian(tmp_path, zig, cache):
    src = tmp_path / "z.c"
    src.write_text(PROGRAM)
    assert not read_object(compile_bpf(src, arch="s390x", compiler=zig, cache=cache)).little_endian


def test_syntax_error(tmp_path, zig, cache):
    src = tmp_path / "bad.c"
    src.write_text("int f(void)\n{\n    return 1 +;\n}\n")
    with pytest.raises(CompileError) as info:
        compile_bpf(src, compiler=zig, cache=cache)
    assert "bad.c:3:15: error:" in info.value.message
    assert info.value.file == str(src)
