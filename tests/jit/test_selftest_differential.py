"""Every selftest program that runs (``selftests/progs/*.c`` with ``__retval``), on every tier.

Each program is built and instantiated as the selftest runner does, then run
on the interpreter, pyjit and each machine-code back-end under unicorn: the
return value must be the one the annotation asks for (the kernel's expectation),
and every tier must agree with the interpreter on r0, the fault and the number
of instructions executed — except where the interpreter refuses to read a
register that holds no value (a check no machine makes): there machine code
must return the annotation's value, as the kernel does.  The verifier is not involved: these are programs the
kernel accepts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.api import open_object
from pybpf.errors import PybpfError
from pybpf.harness.selftest import build
from pybpf.harness.selftest.annotations import test_spec
from pybpf.harness.selftest.execute import run_input
from pybpf.harness.selftest.plugin_items import is_annotated
from pybpf.jit.tiers import executor_factory
from pybpf.runtime import Runtime
from pybpf.runtime.instantiate import instantiate

pytest.importorskip("unicorn")

PROGS = Path(__file__).resolve().parents[2] / "selftests" / "progs"
VMLINUX = Path("/sys/kernel/btf/vmlinux")
TIERS = ["pyjit", "x86_64", "arm64", "s390x"]


def _sources() -> list[Path]:
    return sorted(p for p in PROGS.glob("*.c") if "__retval" in p.read_text())


@pytest.fixture(scope="module")
def objects():
    """source -> its opened object (None when it cannot be built here, with the reason)."""
    built: dict[Path, object] = {}
    for source in _sources():
        includes = build.default_include_dirs(source)
        vmlinux = None
        if build.needs_vmlinux_h(source, includes):
            if not VMLINUX.exists():
                built[source] = f"{source.name} needs vmlinux.h and {VMLINUX} does not exist"
                continue
            vmlinux = build.vmlinux_h_dir(VMLINUX)
        try:
            built[source] = open_object(build.compile_source(source, includes, vmlinux_dir=vmlinux).object).object
        except PybpfError as err:
            built[source] = f"{source.name} does not build: {err}"
    return built


def _cases(obj) -> list[tuple[str, list[str]]]:
    """(program, the file's auxiliary programs) for each program whose privileged run has a __retval."""
    runs, auxiliary = [], []
    for name, prog in obj.programs.items():
        spec = test_spec(obj.btf, name, arch="x86_64", prog_type=prog.prog_type)
        if spec.auxiliary:
            auxiliary.append(name)
        elif spec.priv is not None and spec.priv.execute and not spec.priv.expect_failure:
            runs.append((name, spec.priv))
    return [(name, run, auxiliary) for name, run in runs]


def _run(obj, program: str, auxiliary: list[str], factory) -> tuple:
    with instantiate(obj, programs=[program, *auxiliary], runtime=Runtime(executor=factory)) as inst:
        made = inst.programs[program]
        if not made.ok:
            return ("not loaded", made.message)
        try:
            out = made.run(run_input(obj.programs[program].prog_type))
        except PybpfError as err:
            return ("fault", str(err))
        return (out.retval, out.insns_executed)


@pytest.mark.parametrize("source", _sources(), ids=lambda p: p.stem)
def test_selftest_programs_agree_on_every_tier(objects, source):
    obj = objects[source]
    if isinstance(obj, str):
        pytest.skip(obj)
    if not is_annotated(obj):
        pytest.skip(f"{source.name} is no declarative selftest")
    cases = _cases(obj)
    assert cases, f"{source.name} has __retval but no program runs"
    ran = 0
    for program, spec, auxiliary in cases:
        expected = _run(obj, program, auxiliary, executor_factory("interp"))
        if expected[0] == "not loaded":
            continue  # the runtime cannot instantiate it (the selftest runner reports that itself)
        ran += 1
        if isinstance(expected[0], int):
            assert spec.retval_matches(expected[0]), (program, expected)
        # the interpreter (and pyjit, its contract) refuses to read a register that holds no value; a machine
        # has no such thing and returns what the register holds, as the kernel does: then the annotation decides
        empty_read = expected[0] == "fault" and "holds no value" in expected[1]
        for tier in TIERS:
            factory = executor_factory(tier) if tier == "pyjit" else executor_factory("jit", tier, count_insns=True)
            got = _run(obj, program, auxiliary, factory)
            if empty_read and tier != "pyjit":
                assert isinstance(got[0], int) and spec.retval_matches(got[0]), (program, tier, got)
            else:
                assert got == expected, (program, tier)
    assert ran, f"none of {source.name}'s programs could be instantiated"
