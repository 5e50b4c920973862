"""The selftest runner's unprivileged runs (``__success_unpriv``, ``__msg_unpriv``, ``__caps_unpriv``) on both targets.

The kernel target loads the object from a child without capabilities (as the
kernel's test_loader does) when ``unpriv_available()`` allows it, and skips
with its reason otherwise.  The expected texts are Linux 6.18's, as its
unprivileged verifier says them (see corpus_unpriv/).  The test never changes
``kernel.unprivileged_bpf_disabled``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pybpf.kernel import available
from pybpf.kernel.unpriv import read_sysctl, unpriv_available

pytest_plugins = ["pytester"]

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
HEADER = '#include <linux/bpf.h>\n#include "bpf_helpers.h"\n#include "bpf_misc.h"\n\n'
LICENSE = '\nchar LICENSE[] SEC("license") = "GPL";\n'


def naked(name: str, tags: str, asm: str) -> str:
    return f'SEC("socket")\n{tags}\n__naked void {name}(void)\n{{\n\tasm volatile ("{asm}" ::: __clobber_all);\n}}\n\n'


PROGS = HEADER + "".join([
    # root may return a pointer; an unprivileged loader may not
    naked("leak", '__success __failure_unpriv __msg_unpriv("R0 leaks addr as return value")', "r0 = r10; exit;"),
    # the load on the never-taken side fails only speculatively: a nospec, and the program is accepted
    naked("spec", "__success __success_unpriv __retval(0) __retval_unpriv(0)",
          "r0 = 0; if r0 == 0 goto l0_%=; r0 = *(u64 *)(r0 + 0); l0_%=: exit;"),
    # CAP_PERFMON raised again for the unprivileged run: pointer leaks are allowed again
    naked("caps", "__success __success_unpriv __caps_unpriv(CAP_BPF | CAP_PERFMON)", "r0 = r10; exit;"),
    # the pointer comparison refusal of an unprivileged loader, and its processed count
    naked("cmp", '__success __failure_unpriv __msg_unpriv("R1 pointer comparison prohibited") __retval(0)',
          "r0 = 0; if r1 == 5 goto l0_%=; l0_%=: exit;"),
]) + LICENSE
UNPRIV = {"unpriv/leak @unpriv", "unpriv/spec @unpriv", "unpriv/caps @unpriv", "unpriv/cmp @unpriv"}


@pytest.fixture(autouse=True)
def _shared_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pybpf-cache"))


def _run(pytester, target: str) -> dict[str, dict]:
    pytester.makeini("[pytest]\n")
    progs = pytester.path / "selftests" / "progs"
    progs.mkdir(parents=True)
    (progs / "unpriv.c").write_text(PROGS)
    pytester.runpytest("selftests", f"--bpf-include={INCLUDE}", f"--bpf-target={target}", *QUIET)
    report = json.loads((pytester.path / "reports" / "report.json").read_text())
    return {s["kernel_name"]: s for t in report["results"] for s in t["subtests"]}


def test_pybpf_target(pytester) -> None:
    got = _run(pytester, "pybpf")
    assert {n: s["status"] for n, s in got.items()} == {n: "passed" for n in {*UNPRIV, *(
        n.removesuffix(" @unpriv") for n in UNPRIV)}}


def test_kernel_target(pytester) -> None:
    if available() is not None:
        pytest.skip(f"bpf() is not usable here: {available()}")
    before = read_sysctl()
    got = _run(pytester, "kernel")
    assert read_sysctl() == before
    why = unpriv_available()
    for name in UNPRIV:
        if why is None:
            assert got[name]["status"] == "passed", got[name]
        else:
            assert got[name]["status"] == "skipped"
            assert "unprivileged" in got[name]["reason"]
    for name in {n.removesuffix(" @unpriv") for n in UNPRIV}:
        assert got[name]["status"] == "passed", got[name]
