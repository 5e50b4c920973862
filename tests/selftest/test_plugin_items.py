"""The selftest plugin end to end on small C programs: collection, node ids, each annotation, both targets.

Expected verifier messages are Linux 6.18's (taken from the live kernel); expected return
values are what the programs compute.  Kernel-target runs skip, saying why, where bpf() is
not usable.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pytest
from pybpf.harness.selftest import arch as arches
from pybpf.harness.selftest.execute import Attempt, TargetName, differential
from pybpf.harness.selftest.results import Status

pytest_plugins = ["pytester"]

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
HOST = arches.canonical(platform.machine())
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
HEADER = '#include <linux/bpf.h>\n#include "bpf_helpers.h"\n#include "bpf_misc.h"\n\n'
LICENSE = '\nchar LICENSE[] SEC("license") = "GPL";\n'


def naked(name: str, tags: str, asm: str, section: str = "socket") -> str:
    return (f'SEC("{section}")\n{tags}\n__naked void {name}(void)\n'
            f'{{\n\tasm volatile ("{asm}" ::: __clobber_all);\n}}\n\n')


BASIC = HEADER + naked("ret3", "__success __retval(3)", "r0 = 3; exit;") + \
    naked("no_r0", '__failure __msg("R0 !read_ok")', "exit;") + LICENSE

# Each annotation once, passing and failing; the comments say what the run must report.
ANNOTATED = HEADER + "".join([
    naked("retval_ok", '__description("three") __success __retval(3)', "r0 = 3; exit;"),
    naked("retval_wrong", "__success __retval(4)", "r0 = 3; exit;"),  # Unexpected retval: 3 != 4
    naked("msg_ok", '__failure __msg("R0 !read_ok")', "exit;"),
    naked("msg_wrong", '__failure __msg("no such text")', "exit;"),  # EXPECTED   SUBSTR: 'no such text'
    naked("not_msg_hit", '__failure __msg("R0 !read_ok") __not_msg("processed")', "exit;"),  # UNEXPECTED
    naked("load_unexpected", "__failure", "r0 = 0; exit;"),  # unexpected_load_success
    naked("level2", '__success __log_level(2) __msg("0: (b7) r0 = 3") __msg("R0=3")', "r0 = 3; exit;"),
    naked("xlated_ok", '__success __xlated("0: r0 = 3") __xlated("1: exit")', "r0 = 3; exit;"),
    naked("xlated_wrong", '__success __xlated("0: r0 = 4")', "r0 = 3; exit;"),  # EXPECTED on the XLATED dump
    naked("stack_above", '__failure __msg("invalid read from stack R10 off=8 size=8")',
          "r0 = *(u64 *)(r10 + 8); exit;"),
]) + LICENSE
ANNOTATED_STATUS = {
    "retval_ok": "passed", "retval_wrong": "failed", "msg_ok": "passed", "msg_wrong": "failed",
    "not_msg_hit": "failed", "load_unexpected": "failed", "level2": "passed", "xlated_ok": "passed",
    "xlated_wrong": "failed", "stack_above": "passed",
}

# A packet read at offset 1: fine on this machine's default, refused with BPF_F_STRICT_ALIGNMENT.
_UNALIGNED = ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 8; if r4 > r3 goto l0_%=;"
              "r0 = *(u32 *)(r2 + 1); l0_%=: r0 = 2; exit;")
FLAGS = HEADER + naked("strict", '__failure __flag(BPF_F_STRICT_ALIGNMENT) '
                                 '__msg("misaligned packet access off 2+0+0+1 size 4")', _UNALIGNED, "xdp") + \
    naked("loose", "__success __retval(2)", _UNALIGNED, "xdp") + LICENSE


@pytest.fixture(autouse=True)
def _shared_cache(monkeypatch, tmp_path_factory):
    """One compile cache for every inner run (pytester gives each its own HOME)."""
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pybpf-cache"))


@pytest.fixture
def repo(pytester):
    pytester.makeini("[pytest]\n")
    (pytester.path / "selftests" / "progs").mkdir(parents=True)
    return pytester


def write(pytester, name: str, text: str) -> Path:
    path = pytester.path / "selftests" / "progs" / name
    path.write_text(text)
    return path


def run(pytester, *args: str):
    return pytester.runpytest("selftests", f"--bpf-include={INCLUDE}", *QUIET, *args)


def statuses(pytester) -> dict[str, dict]:
    report = json.loads((pytester.path / "reports" / "report.json").read_text())
    return {s["kernel_name"]: s for t in report["results"] for s in t["subtests"]}


def kernel_or_skip() -> None:
    from pybpf.kernel import available

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")


# ------------------------------------------------------------------ collection

def test_node_ids_kernel_names_unpriv_and_auxiliary(repo):
    write(repo, "basic.c", HEADER + naked("ret3", "__success __retval(3)", "r0 = 3; exit;")
          + naked("both_modes", "__success __success_unpriv __retval(0)", "r0 = 0; exit;")
          + naked("helper", "__auxiliary", "r0 = 0; exit;") + LICENSE)
    result = run(repo, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["selftests/progs/basic.c::ret3", "selftests/progs/basic.c::both_modes",
                                 "selftests/progs/basic.c::both_modes[unpriv]", "3 tests collected*"])
    assert "helper" not in result.stdout.str()
    run(repo)
    names = statuses(repo)
    assert set(names) == {"basic/ret3", "basic/both_modes", "basic/both_modes @unpriv"}
    assert names["basic/both_modes @unpriv"]["node_id"] == "selftests/progs/basic.c::both_modes[unpriv]"


def test_several_arches_parametrize_the_ids(repo):
    write(repo, "basic.c", BASIC)
    result = run(repo, "--collect-only", "-q", "--bpf-arch=x86_64", "--bpf-arch=s390x")
    result.stdout.fnmatch_lines(["selftests/progs/basic.c::ret3[[]x86_64]", "selftests/progs/basic.c::ret3[[]s390x]",
                                 "4 tests collected*"])


def test_only_progs_under_selftests_or_given_are_collected(repo):
    other = repo.path / "tests" / "progs"
    other.mkdir(parents=True)
    (other / "fixture.c").write_text("this is not C\n")
    write(repo, "basic.c", BASIC)
    write(repo, "plain.c", HEADER + naked("no_tags", "", "r0 = 0; exit;") + LICENSE)  # a C test's object
    result = repo.runpytest("--collect-only", "-q", *QUIET, f"--bpf-include={INCLUDE}")
    result.stdout.fnmatch_lines(["2 tests collected*"])
    result = repo.runpytest("--collect-only", "-q", *QUIET, f"--bpf-include={INCLUDE}", "tests/progs")
    result.stdout.fnmatch_lines(["tests/progs/fixture.c::(compile)", "1 test collected*"])


def test_a_compile_error_is_one_failed_item_and_the_rest_runs(repo):
    write(repo, "basic.c", BASIC)
    write(repo, "broken.c", HEADER + "int oops(void) { return undeclared_thing; }\n")
    result = run(repo)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*broken.c:5:*error: use of undeclared identifier 'undeclared_thing'*",
                                 "FAILED selftests/progs/broken.c::(compile)*"])
    assert statuses(repo)["broken/(compile)"]["status"] == "failed"


def test_a_malformed_annotation_fails_its_program_only(repo):
    write(repo, "basic.c", HEADER + naked("bad", "__success __retval(XDP_PASS)", "r0 = 2; exit;")
          + naked("good", "__success __retval(0)", "r0 = 0; exit;") + LICENSE)
    result = run(repo)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*program 'bad': bad __retval: 'XDP_PASS' is not a decimal number*"])


# ------------------------------------------------------------------ the annotations, on each target

@pytest.mark.parametrize("target", ["pybpf", "kernel"])
def test_each_annotation_end_to_end(repo, target):
    if target == "kernel":
        kernel_or_skip()
    write(repo, "annotated.c", ANNOTATED)
    result = run(repo, f"--bpf-target={target}")
    failed = sum(s == "failed" for s in ANNOTATED_STATUS.values())
    result.assert_outcomes(passed=len(ANNOTATED_STATUS) - failed, failed=failed)
    got = statuses(repo)
    assert {k.split("/")[1]: v["status"] for k, v in got.items()} == ANNOTATED_STATUS
    reasons = {k.split("/")[1]: v["reason"] for k, v in got.items()}
    assert reasons["retval_wrong"] == "Unexpected retval: 3 != 4"
    assert "EXPECTED   SUBSTR: 'no such text'" in reasons["msg_wrong"]
    assert "MATCHED    SUBSTR: 'R0 !read_ok'\nUNEXPECTED SUBSTR: 'processed'" in reasons["not_msg_hit"]
    assert reasons["load_unexpected"] == "unexpected_load_success"
    assert reasons["xlated_wrong"].startswith("XLATED:\n=============\n0: r0 = 3\n1: exit\n")
    assert got["annotated/retval_ok"]["description"] == "three"
    assert got["annotated/stack_above"]["stats"]["processed_insns"] == 1
    # the failure report is test_progs' text, the verifier log a section of its own
    result.stdout.fnmatch_lines(["*EXPECTED   SUBSTR: 'no such text'", "*verifier log*"])


def test_flag_changes_the_load(repo):
    kernel_or_skip()
    write(repo, "flags.c", FLAGS)
    run(repo, "--bpf-target=kernel").assert_outcomes(passed=2)


def test_differential_run_passes_where_both_agree(repo):
    kernel_or_skip()
    write(repo, "basic.c", BASIC)
    run(repo, "--bpf-target=both").assert_outcomes(passed=2)
    assert {v["status"] for v in statuses(repo).values()} == {"passed"}


def test_differential_fails_on_disagreement():
    kernel = Attempt(TargetName.KERNEL, Status.PASSED, loaded=True, retval=0)
    ours = Attempt(TargetName.PYBPF, Status.FAILED, "unexpected_load_failure: R0 invalid mem access "
                   "'map_value_or_null'", loaded=False, first_error="R0 invalid mem access 'map_value_or_null'")
    got = differential(kernel, ours)
    assert got.status is Status.FAILED
    assert "verdicts differ: the kernel loaded it, pybpf refused it (R0 invalid mem access" in got.reason
    same = differential(kernel, Attempt(TargetName.PYBPF, Status.PASSED, loaded=True, retval=1))
    assert same.status is Status.FAILED and same.reason == "return values differ: kernel 0, pybpf 1"


def test_non_host_arch_on_the_kernel_skips(repo):
    kernel_or_skip()
    other = "s390x" if HOST != "s390x" else "x86_64"
    write(repo, "basic.c", BASIC)
    result = run(repo, "--bpf-target=kernel", f"--bpf-arch={other}", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines([f"SKIPPED*the live kernel runs {HOST}, not {other}"])


def test_vmlinux_h_is_generated_from_the_kernel_btf(repo, tmp_path):
    if not Path("/sys/kernel/btf/vmlinux").is_file():
        pytest.skip("this kernel has no /sys/kernel/btf/vmlinux")
    write(repo, "core.c", '#include "vmlinux.h"\n#include "bpf_helpers.h"\n#include "bpf_misc.h"\n\n'
          'SEC("xdp") __success __retval(64)\nint pkt_len(struct xdp_md *ctx)\n'
          "{\n\treturn ctx->data_end - ctx->data;\n}\n" + LICENSE)
    run(repo).assert_outcomes(passed=1)  # the packet is test_loader's 64 bytes
    cache = Path(os.environ["PYBPF_CACHE_DIR"])
    assert list(cache.glob("vmlinux/*/vmlinux.h"))


def test_an_error_of_the_runner_is_a_failed_result(repo, monkeypatch):
    from pybpf.harness.selftest import plugin_items

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the runner")

    monkeypatch.setattr(plugin_items, "attempt", broken)
    write(repo, "basic.c", BASIC)
    run(repo).assert_outcomes(failed=2)
    got = statuses(repo)
    assert {v["status"] for v in got.values()} == {"failed"}
    assert "RuntimeError: a bug in the runner" in got["basic/ret3"]["reason"]


def test_arch_annotation_skips_other_architectures(repo):
    other, spelling = ("s390x", "__arch_s390x") if HOST != "s390x" else ("x86_64", "__arch_x86_64")
    write(repo, "arch.c", HEADER + naked("elsewhere", f"{spelling} __success __retval(0)", "r0 = 0; exit;")
          + naked("here", "__success __retval(0)", "r0 = 0; exit;") + LICENSE)
    result = run(repo, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([f"SKIPPED*__arch_*: for {other} only, not {HOST}"])
    run(repo, f"--bpf-arch={other}").assert_outcomes(passed=2)


@pytest.mark.parametrize("arch", ["x86_64", "arm64", "s390x"])
def test_each_arch_runs_its_programs_on_that_arch_jit(repo, monkeypatch, arch):
    """Per-arch results are only honest if that arch's back-end ran the program (the report says which)."""
    pytest.importorskip("unicorn", reason="unicorn is not installed (pip install 'pybpf[jit]')")
    from pybpf.jit import tiers

    ran: list[str] = []
    real = tiers.EmulatedExecutor.run

    def counting(self, memory, args=()):
        ran.append(self.program.backend.arch)
        return real(self, memory, args)

    monkeypatch.setattr(tiers.EmulatedExecutor, "run", counting)
    write(repo, "basic.c", BASIC)
    result = run(repo, "--bpf-target=pybpf", f"--bpf-arch={arch}", "-p", "no:xdist")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("passed", 0) >= 1
    assert ran and set(ran) == {arch}
    meta = json.loads((repo.path / "reports" / "report.json").read_text())["meta"]
    assert meta["tier"] == {arches.canonical(arch): f"jit-{arch}"}
