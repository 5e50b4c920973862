"""``__jited``, ``__btf_path`` and ``__stdout`` acting as the kernel's test_loader makes them act.

Each test compiles a small C program, reads its annotations and runs it with
``execute.attempt``.  Expected machine code is what Linux 6.18's x86_64 JIT
emits for ``r0 = 3`` (``mov $3, %eax``, asked of the live kernel); expected
return values are what the programs compute; the CO-RE offset is the one the
rewritten BTF declares.  Kernel-target runs skip, saying why, where bpf() or
the JIT is not usable.
"""

from __future__ import annotations

import os
import platform
from dataclasses import replace
from pathlib import Path

import pytest
from pybpf.btf import Btf, load, write
from pybpf.btf.types import Struct
from pybpf.harness.selftest import arch as arches
from pybpf.harness.selftest.annotations import test_spec as spec_of
from pybpf.harness.selftest.execute import Attempt, Case, TargetName, attempt
from pybpf.harness.selftest.jited import jited_text
from pybpf.harness.selftest.results import Status
from pybpf.obj import open_object
from pybpf.toolchain import ToolchainError, compile_bpf

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
HOST = arches.canonical(platform.machine())
JIT_SYSCTL = Path("/proc/sys/net/core/bpf_jit_enable")
HEADER = ('#include <linux/bpf.h>\n#include "bpf_helpers.h"\n#include "bpf_misc.h"\n\n'
          '#define __stdout(text) __pybpf_text("test_expect_stdout", text)\n'
          '#define __btf_path(path) __pybpf_text("test_btf_path", path)\n\n')
LICENSE = '\nchar LICENSE[] SEC("license") = "GPL";\n'


def naked(name: str, tags: str, asm: str) -> str:
    return f'SEC("socket")\n{tags}\n__naked void {name}(void)\n{{\n\tasm volatile ("{asm}" ::: __clobber_all);\n}}\n\n'


def build(tmp_path: Path, text: str) -> Path:
    source = tmp_path / "prog.c"
    source.write_text(text)
    try:
        return compile_bpf(source, include_dirs=[INCLUDE], cache=None, output=tmp_path / "prog.o")
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler here: {err}")


def run(obj_path: Path, program: str, target: TargetName, *, arch: str = "x86_64") -> Attempt:
    obj = open_object(obj_path)
    spec = spec_of(obj.btf, program, arch=arch, file=str(obj_path), prog_type=obj.programs[program].prog_type)
    return attempt(Case(obj, spec, spec.priv), target, arch=arch, host_arch=HOST)


def kernel_jit_or_skip() -> None:
    from pybpf.kernel import available

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    if HOST != "x86_64":
        pytest.skip(f"the expected JIT text is x86_64's, this machine is {HOST}")
    try:
        if not int(JIT_SYSCTL.read_text()):
            pytest.skip("the kernel's JIT is off (net.core.bpf_jit_enable=0)")
    except (OSError, ValueError) as err:
        pytest.skip(f"cannot read {JIT_SYSCTL}: {err}")


JITED = HEADER + naked("jit_ok", '__success __retval(3) __arch_x86_64 __jited("\\tmovl\\t$0x3, %eax")',
                       "r0 = 3; exit;") + \
    naked("jit_wrong", '__success __retval(3) __arch_x86_64 __jited("\\tmovl\\t$0x4, %eax")', "r0 = 3; exit;") + \
    naked("jit_lines", '__success __arch_x86_64 __jited("\\tmovl\\t$0x3, %eax") __jited("...") __jited("\\tleave")',
          "r0 = 3; exit;") + LICENSE


@pytest.fixture(scope="module")
def jited_obj(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("jited"), JITED)


# ------------------------------------------------------------------ the text format


def test_jited_text_has_test_progs_layout_and_llvm_spelling():
    # endbr64; nopl 0x0(%rax,%rax,1); mov $3,%eax; jmp -7 (back to the mov); ret
    image = bytes.fromhex("f30f1efa" "0f1f440000" "b803000000" "ebf9" "c3")
    lines = jited_text(image).splitlines()
    assert lines[0] == "func #0:"
    assert lines[1] == "0:\tf3 0f 1e fa " + " " * 24 + "\tendbr64"
    assert lines[2].endswith("\tnopl\t(%rax,%rax)")
    assert lines[3].endswith("L0:\tmovl\t$0x3, %eax")  # the jump's target gets a label...
    assert lines[4].endswith("\tjmp\tL0")  # ...which replaces the address in the jump
    assert lines[5].endswith("\tretq")
    assert lines[6] == ""


def test_negative_immediates_and_displacements_are_signed_hex():
    # movq $-0x200, %r11; movq -0x8(%rbp), %rax
    text = jited_text(bytes.fromhex("49c7c300feffff" "488b45f8"))
    assert "\tmovq\t$-0x200, %r11\n" in text
    assert "\tmovq\t-0x8(%rbp), %rax\n" in text


# ------------------------------------------------------------------ __jited


def test_jited_matches_the_kernel_jit(jited_obj):
    kernel_jit_or_skip()
    got = run(jited_obj, "jit_ok", TargetName.KERNEL)
    assert (got.status, got.retval) == (Status.PASSED, 3), got.reason


def test_jited_gap_then_next_line(jited_obj):
    kernel_jit_or_skip()
    got = run(jited_obj, "jit_lines", TargetName.KERNEL)
    assert got.status is Status.PASSED, got.reason


def test_jited_mismatch_fails_on_the_kernel(jited_obj):
    kernel_jit_or_skip()
    got = run(jited_obj, "jit_wrong", TargetName.KERNEL)
    assert got.status is Status.FAILED
    assert "JITED:\n=============\nfunc #0:\n" in got.reason
    assert "EXPECTED   SUBSTR: '\tmovl\t$0x4, %eax'" in got.reason


def test_jited_on_pybpf_checks_our_x86_64_backend(jited_obj):
    pytest.importorskip("capstone")
    got = run(jited_obj, "jit_ok", TargetName.PYBPF)
    assert got.status is Status.PASSED, got.reason
    wrong = run(jited_obj, "jit_wrong", TargetName.PYBPF)
    assert wrong.status is Status.FAILED
    assert "EXPECTED   SUBSTR: '\tmovl\t$0x4, %eax'" in wrong.reason


def test_jited_for_another_arch_is_not_checked(jited_obj):
    # __jited after __arch_x86_64 counts on x86_64 only: on arm64 the program is just run
    got = run(jited_obj, "jit_wrong", TargetName.PYBPF, arch="arm64")
    assert got.status is not Status.FAILED, got.reason


# ------------------------------------------------------------------ __btf_path

CORE = HEADER + """
struct pair { int a; int b; };

SEC("socket")
__success __retval(8) __btf_path("moved.btf")
int b_offset(void *ctx)
{
\tstruct pair *p = 0;
\treturn __builtin_preserve_field_info(p->b, 0 /* BPF_FIELD_BYTE_OFFSET */);
}
""" + LICENSE


def moved_member(btf: Btf, struct: str, member: str, byte_offset: int) -> Btf:
    """``btf`` with ``struct``'s ``member`` moved to ``byte_offset`` (the struct grown to fit)."""
    tid = btf.find(struct)
    t = btf.type_by_id(tid)
    assert isinstance(t, Struct)
    members = tuple(replace(m, bit_offset=byte_offset * 8) if btf.str_at(m.name_off) == member else m
                    for m in t.members)
    btf.set_type(tid, replace(t, members=members, size=max(t.size, byte_offset + 4)))
    return btf


@pytest.mark.parametrize("target", [TargetName.KERNEL, TargetName.PYBPF])
def test_btf_path_relocates_against_the_given_btf(tmp_path, target):
    if target is TargetName.KERNEL:
        from pybpf.kernel import available

        why = available()
        if why is not None:
            pytest.skip(f"bpf() is not usable here: {why}")
    obj_path = build(tmp_path, CORE)
    # the program's own BTF, with pair.b moved from offset 4 to offset 8
    (tmp_path / "moved.btf").write_bytes(write(moved_member(load(obj_path), "pair", "b", 8)))
    got = run(obj_path, "b_offset", target)
    assert (got.status, got.retval) == (Status.PASSED, 8), got.reason


def test_btf_path_missing_file_fails(tmp_path):
    obj_path = build(tmp_path, CORE)
    got = run(obj_path, "b_offset", TargetName.PYBPF)
    assert got.status is Status.FAILED
    assert got.reason.startswith("__btf_path:")


# ------------------------------------------------------------------ __stdout

STREAM = HEADER + """
extern int bpf_stream_vprintk_impl(int stream_id, const char *fmt__str, const void *args, __u32 len__sz,
\t\t\t\t   void *aux__prog) __ksym;

SEC("syscall")
int stream_probe(void *ctx)
{
	static const char fmt[] = "probe %d\\n";
	__u64 args[1] = {1};

	return bpf_stream_vprintk_impl(1 /* BPF_STDOUT */, fmt, args, sizeof(args), 0);
}

SEC("syscall")
__success __retval(0) __stdout("hello 42")
int say_hello(void *ctx)
{
\tstatic const char fmt[] = "hello %d\\n";
\t__u64 args[1] = {42};

\tbpf_stream_vprintk_impl(1 /* BPF_STDOUT */, fmt, args, sizeof(args), 0);
\treturn 0;
}

SEC("syscall")
__success __retval(0) __stdout("goodbye")
int say_other(void *ctx)
{
\tstatic const char fmt[] = "hello %d\\n";
\t__u64 args[1] = {42};

\tbpf_stream_vprintk_impl(1 /* BPF_STDOUT */, fmt, args, sizeof(args), 0);
\treturn 0;
}
""" + LICENSE


@pytest.fixture(scope="module")
def stream_obj(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("stream"), STREAM)


def stream_kernel_or_skip(stream_obj: Path) -> None:
    """Skip unless this kernel has BPF streams and ``bpf_stream_vprintk_impl`` really writes to one."""
    from pybpf.errors import PybpfError
    from pybpf.kernel import available
    from pybpf.kernel.objload import load_object
    from pybpf.kernel.testrun import prog_test_run

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    try:
        obj = open_object(stream_obj, target_btf=load("/sys/kernel/btf/vmlinux"))
        with load_object(obj, programs=["stream_probe"]) as loaded:
            probe = loaded.programs["stream_probe"]
            if not probe.ok:
                pytest.skip(f"this kernel refuses a bpf_stream_vprintk_impl call: {probe.log.strip()[-200:]}")
            ret = prog_test_run(probe.fd, repeat=0).retval
    except PybpfError as err:
        pytest.skip(f"BPF streams are not usable on this kernel: {err}")
    if ret:
        errno = (1 << 32) - ret
        pytest.skip(f"bpf_stream_vprintk_impl fails on this kernel ({-errno}, {os.strerror(errno)}): "
                    "it cannot write to a program's stream")


def test_stdout_matches_the_program_stream(stream_obj):
    stream_kernel_or_skip(stream_obj)
    obj = open_object(stream_obj, target_btf=load("/sys/kernel/btf/vmlinux"))
    spec = spec_of(obj.btf, "say_hello", arch=HOST, file=str(stream_obj), prog_type=obj.programs["say_hello"].prog_type)
    got = attempt(Case(obj, spec, spec.priv), TargetName.KERNEL, arch=HOST, host_arch=HOST)
    assert (got.status, got.retval) == (Status.PASSED, 0), got.reason


def test_stdout_mismatch_fails_with_the_stream_shown(stream_obj):
    stream_kernel_or_skip(stream_obj)
    obj = open_object(stream_obj, target_btf=load("/sys/kernel/btf/vmlinux"))
    spec = spec_of(obj.btf, "say_other", arch=HOST, file=str(stream_obj), prog_type=obj.programs["say_other"].prog_type)
    got = attempt(Case(obj, spec, spec.priv), TargetName.KERNEL, arch=HOST, host_arch=HOST)
    assert got.status is Status.FAILED
    assert "STDOUT:\n=============\nhello 42\n=============\n" in got.reason


def test_stdout_skips_on_pybpf(stream_obj):
    obj = open_object(stream_obj)
    spec = spec_of(obj.btf, "say_hello", arch=HOST, file=str(stream_obj), prog_type=obj.programs["say_hello"].prog_type)
    got = attempt(Case(obj, spec, spec.priv), TargetName.PYBPF, arch=HOST, host_arch=HOST)
    assert got.status is Status.SKIPPED
    assert got.reason in ("pybpf's runtime has no BPF streams yet",
                          "kfunc 'bpf_stream_vprintk_impl' needs the kernel")


def test_prog_stream_read_of_a_silent_program_is_empty_and_an_unknown_stream_is_enoent():
    import errno

    from pybpf.errors import KernelError
    from pybpf.isa.insn import Insn
    from pybpf.kernel import available, prog_load
    from pybpf.kernel.streams import StreamId, prog_stream_read

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    prog = prog_load([Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)])  # r0 = 0; exit
    with prog.fd:
        try:
            assert prog_stream_read(prog.fd, StreamId.STDOUT) == b""
        except KernelError as err:
            pytest.skip(f"this kernel has no BPF streams (Linux 6.17+): {err}")
        assert prog_stream_read(prog.fd, StreamId.STDERR) == b""
        with pytest.raises(KernelError) as bad:
            prog_stream_read(prog.fd, 3)
        assert bad.value.errno == errno.ENOENT  # what Linux 6.18 answers for a stream id it does not know
