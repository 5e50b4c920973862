"""compile_bpf: the object clang makes, the flags it gets, and how failures reach the user."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _toolchain_helpers import EM_BPF, read_object
from pybpf.errors import InputError
from pybpf.isa.insn import decode_program
from pybpf.toolchain import CompileError, compile_bpf, compile_bpf_result

PROGRAM = """\
#define SEC(name) __attribute__((section(name), used))
struct pair { int a; long b; };
struct pair seen SEC(".data") = { 1, 2 };

SEC("xdp")
int prog(void *ctx)
{
    return seen.a + (int)seen.b;
}

char _license[] SEC("license") = "GPL";
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _section_insns(path: Path, section: str):
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        return decode_program(ELFFile(f).get_section_by_name(section).data())


def test_object_is_bpf_elf_with_btf_and_the_program_section(tmp_path, compiler, cache):
    src = _write(tmp_path, "prog.bpf.c", PROGRAM)
    obj = compile_bpf(src, compiler=compiler, cache=cache)
    facts = read_object(obj)
    assert facts.machine == EM_BPF
    assert facts.elfclass == 64
    assert facts.little_endian
    assert {".BTF", ".BTF.ext", "xdp", ".data", "license"} <= facts.sections
    assert facts.functions == {"prog": "xdp"}


def test_program_using_kernel_uapi_headers(tmp_path, compiler, cache):
    if not Path("/usr/include/linux/bpf.h").exists():
        pytest.skip("no /usr/include/linux/bpf.h (linux-libc-dev) here")
    src = _write(tmp_path, "uapi.c", '#include <linux/bpf.h>\n'
                 '__attribute__((section("xdp"), used)) int prog(struct xdp_md *ctx)\n'
                 "{ return ctx->ingress_ifindex ? XDP_PASS : XDP_DROP; }\n")
    assert "xdp" in read_object(compile_bpf(src, compiler=compiler, cache=cache)).sections


@pytest.mark.parametrize(("arch", "spelling", "little"), [
    ("x86_64", "x86", True), ("aarch64", "arm64", True), ("arm64", "arm64", True),
    ("s390x", "s390", False), ("riscv64", "riscv", True),
])
def test_target_arch_define_and_byte_order(tmp_path, compiler, cache, arch, spelling, little):
    src = _write(tmp_path, "arch.c", f"#ifndef __TARGET_ARCH_{spelling}\n#error wrong arch\n#endif\n"
                 '__attribute__((section("tc"), used)) int prog(void *ctx) { return 7; }\n')
    obj = compile_bpf(src, arch=arch, compiler=compiler, cache=cache)
    assert read_object(obj).little_endian is little


def test_unknown_arch_is_an_input_error(tmp_path, compiler, cache):
    src = _write(tmp_path, "p.c", PROGRAM)
    with pytest.raises(InputError, match=r"unknown target architecture 'vax'.*x86_64"):
        compile_bpf(src, arch="vax", compiler=compiler, cache=cache)


def test_include_dirs_and_defines_reach_clang(tmp_path, compiler, cache):
    _write(tmp_path / "inc", "answer.h", "#define ANSWER (BASE + 2)\n")
    src = _write(tmp_path / "src", "p.c", '#include "answer.h"\n'
                 '__attribute__((section("tc"), used)) int prog(void *ctx) { return ANSWER; }\n')
    obj = compile_bpf(src, include_dirs=[tmp_path / "inc"], defines=["BASE=40"], compiler=compiler, cache=cache)
    insns = _section_insns(obj, "tc")
    assert any(i.imm == 42 for i in insns)
    assert insns[-1].code == 0x95  # BPF_JMP | BPF_EXIT


@pytest.mark.parametrize("define", ["", "=1", "-DX", "A B=1"])
def test_bad_define_is_an_input_error(tmp_path, compiler, cache, define):
    src = _write(tmp_path, "p.c", PROGRAM)
    with pytest.raises(InputError, match="bad preprocessor define"):
        compile_bpf(src, defines=[define], compiler=compiler, cache=cache)


def test_syntax_error_reports_clang_text_verbatim(tmp_path, compiler, cache):
    lines = ["int f(void)", "{", "    return 1 +;", "}", "int g(void) { return undeclared; }"]
    src = _write(tmp_path, "broken.c", "\n".join(lines) + "\n")
    with pytest.raises(CompileError) as info:
        compile_bpf(src, compiler=compiler, cache=cache)
    err = info.value
    assert isinstance(err, InputError)
    assert err.file == str(src)
    first = f"broken.c:3:{lines[2].index(';') + 1}: error:"
    second = f"broken.c:5:{lines[4].index('undeclared') + 1}: error:"
    assert first in err.message and second in err.message
    assert "2 errors generated." in err.message
    assert str(err) == err.message
    assert err.compiler == compiler.describe()
    assert cache.stats().objects == 0  # failures are not cached


def test_unsupported_cpu_is_reported_by_clang(tmp_path, compiler, cache):
    src = _write(tmp_path, "p.c", PROGRAM)
    with pytest.raises(CompileError, match="v99"):
        compile_bpf(src, cpu="v99", compiler=compiler, cache=cache)


def test_warnings_are_kept_and_replayed_from_the_cache(tmp_path, compiler, cache):
    src = _write(tmp_path, "warn.c", '__attribute__((section("tc"), used)) int prog(void *ctx)\n'
                 "{ int unused_thing; return 0; }\n")
    first = compile_bpf_result(src, compiler=compiler, cache=cache)
    again = compile_bpf_result(src, compiler=compiler, cache=cache)
    assert "warn.c:2:7: warning: unused variable 'unused_thing'" in first.diagnostics
    assert (first.cache_hit, again.cache_hit) == (False, True)
    assert again.diagnostics == first.diagnostics


def test_missing_source_names_the_file(tmp_path, compiler, cache):
    with pytest.raises(InputError) as info:
        compile_bpf(tmp_path / "nope.c", compiler=compiler, cache=cache)
    assert info.value.file == str(tmp_path / "nope.c")
    assert "No such file" in str(info.value)


def test_without_cache_the_object_goes_beside_the_source(tmp_path, compiler):
    src = _write(tmp_path, "thing.bpf.c", PROGRAM)
    obj = compile_bpf(src, compiler=compiler, cache=None)
    assert obj == tmp_path / "thing.bpf.o"
    assert "xdp" in read_object(obj).sections
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing.bpf.c", "thing.bpf.o"]


def test_output_gets_a_copy_of_the_cached_object(tmp_path, compiler, cache):
    src = _write(tmp_path, "p.c", PROGRAM)
    out = tmp_path / "out" / "p.o"
    out.parent.mkdir()
    got = compile_bpf(src, output=out, compiler=compiler, cache=cache)
    assert got == out
    cached = compile_bpf_result(src, compiler=compiler, cache=cache)
    assert cached.cache_hit
    assert out.read_bytes() == cached.object.read_bytes()


def test_default_cache_is_the_user_cache_dir(tmp_path, compiler):
    src = _write(tmp_path, "p.c", PROGRAM)
    obj = compile_bpf(src, compiler=compiler)
    assert Path(os.environ["PYBPF_CACHE_DIR"]) in obj.parents


def test_argv_has_the_selftests_flags(tmp_path, compiler, cache):
    src = _write(tmp_path, "p.c", PROGRAM)
    argv = compile_bpf_result(src, compiler=compiler, cache=cache, arch="x86_64").argv
    for flag in ("-O2", "-g", "-mcpu=v3", "-D__TARGET_ARCH_x86", "-Wall", "-Wno-compare-distinct-pointer-types"):
        assert flag in argv
