"""Tracing programs (tp_btf, fentry, fexit, fmod_ret): the context typed by the attach target's BTF.

The tp_btf expectations are what Linux 6.18 answered on the machine these tests
were written on (its reason lines, copied); where ``bpf()`` works each program is
also loaded into the live kernel and pybpf's whole log (level 2) must be the
kernel's.  fentry/fexit cannot be loaded there (no BPF trampolines: EPERM, no
log): their expectations follow the kernel's documented rules (arguments are
untrusted pointers, fexit sees the return value after the last argument,
fentry/fexit must return 0), and the kernel side is skipped only after checking
that it really answers EPERM.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pybpf.abi.kernel_btf import VMLINUX, kernel_btf
from pybpf.abi.uapi import AttachType, ProgType
from pybpf.btf.uapi import Kind
from pybpf.errors import KernelError, PybpfError
from pybpf.isa.asmsyntax import assemble
from pybpf.verifier import verify

NO_TRAMPOLINES = "this kernel has no BPF trampolines (fentry load gives EPERM)"
TP, FENTRY, FEXIT, FMOD_RET = (AttachType.TRACE_RAW_TP, AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT,
                               AttachType.MODIFY_RETURN)


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # the tracepoint (tp_btf) or kernel function
    asm: str
    error: str | None  # the reason line; None: accepted
    attach: int = TP
    log_has: str = ""  # a line the log must also hold


def _btf():
    if not VMLINUX.exists():
        pytest.skip("needs the live kernel BTF (/sys/kernel/btf/vmlinux): tracepoints are not in the bundled subset")
    return kernel_btf()


def target_id(case: Case) -> int:
    btf = _btf()
    if case.attach == TP:
        found = btf.find("btf_trace_" + case.target, Kind.TYPEDEF)
    else:
        found = btf.find(case.target, Kind.FUNC)
    if found is None:
        pytest.skip(f"{case.target} is not in this kernel's BTF")
    return found


@cache
def task_off(member: str) -> int:
    btf = kernel_btf()
    task = btf.find("task_struct", Kind.STRUCT)
    return next(m.bit_offset // 8 for m in btf.members(task) if m.name == member)


def _task(member: str) -> str:
    return _member("task_struct", member)


def _member(struct: str, member: str) -> str:
    """The byte offset of ``struct``'s ``member`` in the live kernel BTF (0 without it: those cases skip)."""
    if not VMLINUX.exists():
        return "0"
    btf = kernel_btf()
    return str(next(m.bit_offset // 8 for m in btf.members(btf.find(struct, Kind.STRUCT)) if m.name == member))


EXIT0 = "mov %r0, 0\nexit"
# sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, unsigned int prev_state)
TP_CASES = [
    Case("args_read", "sched_switch", f"ldxdw %r2, [%r1+8]\nldxdw %r3, [%r1+16]\nldxdw %r4, [%r1+0]\n"
         f"ldxw %r5, [%r2+0]\n{EXIT0}", None, log_has="R2=trusted_ptr_task_struct()"),
    Case("arg_field", "sched_switch", f"ldxdw %r2, [%r1+8]\nldxw %r0, [%r2+{_task('pid')}]\nexit", None),
    Case("narrow_bool", "sched_switch", f"ldxb %r2, [%r1+0]\n{EXIT0}", None),
    Case("narrow_uint", "sched_switch", f"ldxh %r2, [%r1+24]\n{EXIT0}", None),
    Case("return_ctx", "sched_switch", "mov %r0, %r1\nexit", None),  # tp_btf programs may return anything
    Case("return_5", "sched_switch", "mov %r0, 5\nexit", None),
    Case("helper_call", "sched_switch", f"call 14\n{EXIT0}", None),
    Case("void_ptr_scalar", "kfree", f"ldxdw %r2, [%r1+8]\n{EXIT0}", None, log_has="R2=scalar()"),
    Case("union_by_value", "tmigr_group_set_cpu_inactive", f"ldxdw %r2, [%r1+8]\n{EXIT0}", None),
    Case("enum_narrow", "sched_skip_vma_numa", f"ldxb %r2, [%r1+16]\n{EXIT0}", None),
    Case("null_checked_member", "sched_switch", f"ldxdw %r2, [%r1+8]\nldxdw %r3, [%r2+{_task('mm')}]\n"
         f"jeq %r3, 0, +1\nldxw %r0, [%r3+0]\n{EXIT0}", None),
    Case("rcu_member", "sched_switch", f"ldxdw %r2, [%r1+8]\nldxdw %r3, [%r2+{_task('real_parent')}]\n"
         f"ldxw %r0, [%r3+{_task('pid')}]\nexit", None, log_has="R3=rcu_ptr_task_struct()"),  # BTF_TYPE_SAFE_RCU
    Case("trusted_member", "sched_process_exec",
         f"ldxdw %r2, [%r1+16]\nldxdw %r3, [%r2+{_member('linux_binprm', 'file')}]\n{EXIT0}", None,
         log_has="R3=trusted_ptr_file()"),  # BTF_TYPE_SAFE_TRUSTED
    Case("no_5th_arg", "sched_switch", f"ldxdw %r2, [%r1+32]\n{EXIT0}", "invalid bpf_context access off=32 size=8",
         log_has="func 'sched_switch' doesn't have 5-th argument"),
    Case("no_7th_arg", "sched_switch", f"ldxdw %r2, [%r1+88]\n{EXIT0}", "invalid bpf_context access off=88 size=8",
         log_has="func 'sched_switch' doesn't have 7-th argument"),
    Case("ptr_narrow", "sched_switch", f"ldxw %r2, [%r1+8]\n{EXIT0}", "invalid bpf_context access off=8 size=4",
         log_has="func 'sched_switch' size 4 must be 8"),
    Case("off_not_8", "sched_switch", f"ldxw %r2, [%r1+12]\n{EXIT0}", "invalid bpf_context access off=12 size=4",
         log_has="func 'sched_switch' offset 12 is not multiple of 8"),
    Case("misaligned", "sched_switch", f"ldxdw %r2, [%r1+4]\n{EXIT0}", "invalid bpf_context access off=4 size=8"),
    Case("negative", "sched_switch", f"ldxdw %r2, [%r1-8]\n{EXIT0}", "invalid bpf_context access off=-8 size=8"),
    Case("past_12_args", "sched_switch", f"ldxdw %r2, [%r1+96]\n{EXIT0}", "invalid bpf_context access off=96 size=8"),
    Case("ctx_write", "sched_switch", f"stdw [%r1+0], 0\n{EXIT0}", "invalid bpf_context access off=0 size=8"),
    Case("modified_ctx", "sched_switch", f"add %r1, 8\nldxdw %r2, [%r1+0]\n{EXIT0}",
         "dereference of modified ctx ptr R1 off=8 disallowed"),
    Case("no_r0", "sched_switch", "exit", "R0 !read_ok"),
    Case("func_ptr_arg", "initcall_start", f"ldxdw %r2, [%r1+0]\n{EXIT0}", "invalid bpf_context access off=0 size=8",
         log_has="func 'initcall_start' arg0 type FUNC_PROTO is not a struct"),
    Case("char_ptr_narrow", "console", f"ldxb %r2, [%r1+0]\n{EXIT0}", "invalid bpf_context access off=0 size=1",
         log_has="func 'console' size 1 must be 8"),
    Case("char_ptr_is_scalar", "console", "ldxdw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit",
         "R2 invalid mem access 'scalar'"),
    Case("beyond_struct", "sched_process_exec", "ldxdw %r2, [%r1+0]\nldxdw %r0, [%r2+9000]\nexit",
         "access beyond struct task_struct at off 9000 size 8",
         log_has="func 'sched_process_exec' arg0 has btf_id"),
    Case("btf_store", "sched_process_exec", f"ldxdw %r2, [%r1+0]\nstw [%r2+0], 1\n{EXIT0}", "only read is supported"),
    Case("member_end", "sched_switch", f"ldxdw %r2, [%r1+8]\nldxdw %r3, [%r2+{_task('pid')}]\n{EXIT0}",
         f"access beyond the end of member pid (mend:{task_off('pid') + 4 if VMLINUX.exists() else 4}) in struct "
         f"task_struct with off {_task('pid')} size 8"),
]

# do_unlinkat(int dfd, struct filename *name) returns int
FN_CASES = [
    Case("fentry_args", "do_unlinkat", f"ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nldxdw %r4, [%r3+0]\n{EXIT0}",
         None, FENTRY, "R3=ptr_filename()"),  # not trusted: prog_args_trusted is tp_btf/iter only
    Case("fentry_narrow_int", "do_unlinkat", f"ldxw %r2, [%r1+0]\n{EXIT0}", None, FENTRY),
    Case("fentry_no_retval", "do_unlinkat", f"ldxdw %r2, [%r1+16]\n{EXIT0}",
         "invalid bpf_context access off=16 size=8", FENTRY, "func 'do_unlinkat' doesn't have 3-th argument"),
    Case("fentry_return_1", "do_unlinkat", "mov %r0, 1\nexit",
         "At program exit the register R0 has smin=1 smax=1 should have been in [0, 0]", FENTRY),
    Case("fentry_ptr_narrow", "do_unlinkat", f"ldxw %r2, [%r1+8]\n{EXIT0}",
         "invalid bpf_context access off=8 size=4", FENTRY, "func 'do_unlinkat' size 4 must be 8"),
    Case("fentry_store", "do_unlinkat", f"stdw [%r1+0], 0\n{EXIT0}", "invalid bpf_context access off=0 size=8",
         FENTRY),
    Case("fexit_retval", "do_unlinkat", f"ldxdw %r2, [%r1+16]\n{EXIT0}", None, FEXIT, "R2=scalar()"),
    Case("fexit_past_retval", "do_unlinkat", f"ldxdw %r2, [%r1+24]\n{EXIT0}",
         "invalid bpf_context access off=24 size=8", FEXIT, "func 'do_unlinkat' doesn't have 4-th argument"),
    Case("fexit_return_ctx", "do_unlinkat", "mov %r0, %r1\nexit",
         "At program exit the register R0 is not a known value (ctx)", FEXIT),
    Case("fmod_ret_any", "do_unlinkat", "ldxdw %r0, [%r1+16]\nexit", None, FMOD_RET),
]


def pybpf_verdict(case: Case, level: int = 2):
    return verify(assemble(case.asm), prog_type=ProgType.TRACING, attach_btf_id=target_id(case),
                  expected_attach_type=case.attach, kernel_btf=_btf(), log_level=level)


def kernel_load(case: Case, level: int = 2) -> tuple[bool, int, str]:
    from pybpf.kernel.prog import prog_load

    try:
        loaded = prog_load(assemble(case.asm), prog_type=ProgType.TRACING, expected_attach_type=case.attach,
                           attach_btf_id=target_id(case), log_level=level)
    except KernelError as err:
        return False, err.errno or 0, err.log or ""
    with loaded.fd:
        return True, 0, loaded.log


def check_expectation(case: Case) -> None:
    v = pybpf_verdict(case)
    if case.error is None:
        assert v.ok, v.log
    else:
        assert not v.ok and v.first_error == case.error, v.log
    if case.log_has:
        assert case.log_has in v.log.splitlines() or case.log_has in v.log, v.log


def test_tp_btf_cases_are_enough():
    assert len(TP_CASES) >= 12
    assert {c.error is None for c in TP_CASES} == {True, False}


@pytest.mark.parametrize("case", TP_CASES, ids=[c.name for c in TP_CASES])
def test_tp_btf_expectation(case: Case):
    check_expectation(case)


@pytest.mark.kernel
@pytest.mark.parametrize("case", TP_CASES, ids=[c.name for c in TP_CASES])
def test_tp_btf_log_is_the_kernels(case: Case, live: None):
    ok, err, log = kernel_load(case)
    v = pybpf_verdict(case)
    assert (v.ok, v.errno) == (ok, err)
    assert v.log == log


@pytest.mark.parametrize("case", FN_CASES, ids=[c.name for c in FN_CASES])
def test_fentry_fexit_expectation(case: Case):
    check_expectation(case)


@pytest.mark.kernel
@pytest.mark.parametrize("case", FN_CASES, ids=[c.name for c in FN_CASES])
def test_fentry_fexit_kernel(case: Case, live: None):
    ok, err, log = kernel_load(case)
    if not ok and err == errno.EPERM and not log:
        pytest.skip(NO_TRAMPOLINES)
    v = pybpf_verdict(case)
    assert (v.ok, v.errno) == (ok, err)
    assert v.log == log


# check_attach_btf_id: the target must be a typedef btf_trace_* (tp_btf) and be given at all
def _attach_verdict(btf_id: int):
    return verify(assemble(EXIT0), prog_type=ProgType.TRACING, attach_btf_id=btf_id,
                  expected_attach_type=TP, kernel_btf=_btf())


def _attach_ids() -> dict[str, int]:
    btf = _btf()
    return {"none": 0, "struct": btf.find("task_struct", Kind.STRUCT), "func": btf.find("do_unlinkat", Kind.FUNC),
            "past_last": len(btf.types) + 1000, "past_max": 1 << 20}


ATTACH_ERRORS = {
    "none": (errno.EINVAL, "Tracing programs must provide btf_id"),
    "struct": (errno.EINVAL, "attach_btf_id {id} is not a typedef"),
    "func": (errno.EINVAL, "attach_btf_id {id} is not a typedef"),
    "past_last": (errno.EINVAL, "attach_btf_id {id} is invalid"),
    "past_max": (errno.EINVAL, ""),  # above BTF_MAX_TYPE: bpf_prog_load refuses it before the verifier, no log
}


@pytest.mark.parametrize("what", list(ATTACH_ERRORS))
def test_attach_target_errors(what: str):
    btf_id = _attach_ids()[what]
    err, msg = ATTACH_ERRORS[what]
    v = _attach_verdict(btf_id)
    assert not v.ok and v.errno == err
    assert v.first_error == msg.format(id=btf_id)


@pytest.mark.kernel
@pytest.mark.parametrize("what", list(ATTACH_ERRORS))
def test_attach_target_errors_kernel(what: str, live: None):
    from pybpf.kernel.prog import prog_load

    btf_id = _attach_ids()[what]
    with pytest.raises(KernelError) as info:
        prog_load(assemble(EXIT0), prog_type=ProgType.TRACING, expected_attach_type=TP, attach_btf_id=btf_id)
    v = _attach_verdict(btf_id)
    assert info.value.errno == v.errno
    assert (info.value.log or "") == v.log


# C programs through the object model and the harness (the section names the target)
C_SOURCE = """\
#include "vmlinux.h"
#include "bpf_helpers.h"

SEC("tp_btf/sched_switch")
int switch_pids(u64 *ctx)
{
\tstruct task_struct *prev = (void *)ctx[1], *next = (void *)ctx[2];

\treturn prev->pid + next->tgid;
}

SEC("tp_btf/sched_switch")
int switch_write_ctx(u64 *ctx)
{
\tctx[1] = 0;
\treturn 0;
}

SEC("tp_btf/sched_process_exec")
int exec_task_write(u64 *ctx)
{
\tstruct task_struct *task = (void *)ctx[0];

\ttask->pid = 1;
\treturn 0;
}

SEC("fentry/do_unlinkat")
int unlinkat_entry(u64 *ctx)
{
\treturn (int)ctx[0] == -100 ? 0 : 0;
}

SEC("fexit/do_unlinkat")
int unlinkat_exit(u64 *ctx)
{
\treturn ctx[2] ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
"""
C_EXPECT = {
    "switch_pids": None,
    "switch_write_ctx": "invalid bpf_context access off=8 size=8",
    "exec_task_write": "only read is supported",
    "unlinkat_entry": None,
    # the branch returning 1 is the one refused
    "unlinkat_exit": "At program exit the register R0 has smin=1 smax=1 should have been in [0, 0]",
}
KERNEL_TARGETS = {"switch_pids", "switch_write_ctx", "exec_task_write"}  # tp_btf: the live kernel can judge them


@pytest.fixture(scope="module")
def c_object(tmp_path_factory):
    _btf()
    from pybpf.harness.selftest.build import KERNEL_BTF, compile_source, vmlinux_h_dir
    from pybpf.obj import open_object

    root = Path(__file__).resolve().parents[2]
    src = tmp_path_factory.mktemp("tracing") / "tracing.bpf.c"
    src.write_text(C_SOURCE)
    try:
        built = compile_source(src, [root / "selftests" / "include"], vmlinux_dir=vmlinux_h_dir(KERNEL_BTF))
    except PybpfError as err:
        pytest.skip(f"cannot compile the tracing programs: {err}")
    return open_object(built.object)


@pytest.mark.parametrize("name", list(C_EXPECT))
def test_c_program_through_the_harness(c_object, name: str):
    from pybpf.harness.verify import verify_with_pybpf

    v = verify_with_pybpf(c_object, name)
    want = C_EXPECT[name]
    assert v.verdict == ("success" if want is None else "failure"), v.first_error + "\n" + v.log
    if want is not None:
        assert v.first_error == want, v.log


@pytest.mark.kernel
@pytest.mark.parametrize("name", sorted(KERNEL_TARGETS))
def test_c_program_agrees_with_the_kernel(c_object, name: str, live: None):
    from pybpf.harness.verify import verify_with_kernel, verify_with_pybpf

    k = verify_with_kernel(c_object, name)
    v = verify_with_pybpf(c_object, name)
    assert (v.verdict, v.first_error) == (k.verdict, k.first_error), k.log


def test_unknown_tracepoint_is_a_clear_input_error(c_object):
    from pybpf.harness.verify import attach_context

    prog = c_object.programs["switch_pids"]
    bogus = type(prog)(**{**prog.__dict__, "attach_to": "no_such_tracepoint"})
    with pytest.raises(PybpfError, match="btf_trace_no_such_tracepoint' is not in kernel BTF"):
        attach_context(c_object, bogus)
