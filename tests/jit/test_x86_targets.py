"""The JIT targets: the registry names, availability reasons, and running through the Target interface."""

from __future__ import annotations

import importlib.util

import pytest
from pybpf.harness.targets import JIT_TARGETS, JitTarget, make_target
from pybpf.harness.targets import jit as jit_module
from pybpf.isa import assemble


def run(target, source: str, data: bytes = b""):
    loaded = target.load(assemble(source), cpu=4, data_len=len(data))
    try:
        return target.run(loaded, data)
    finally:
        target.close(loaded)


def test_the_registry_names_one_target_per_arch_and_the_native_one():
    assert set(JIT_TARGETS) == {"jit-x86_64", "jit-arm64", "jit-s390x", "jit-x86_64-native"}
    for name in JIT_TARGETS:
        target = make_target(name)
        assert isinstance(target, JitTarget) and target.name == name


def test_unicorn_missing_is_a_reason_not_an_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(jit_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "unicorn" else real(name, *a))  # fmt: skip
    assert make_target("jit-x86_64").unavailable() == "unicorn is not installed (pip install 'pybpf[jit]')"


def test_native_needs_an_x86_64_host(monkeypatch):
    monkeypatch.setattr(jit_module.platform, "machine", lambda: "aarch64")
    assert "need an x86_64 host" in make_target("jit-x86_64-native").unavailable()


@pytest.mark.parametrize("name", ["jit-x86_64", "jit-x86_64-native"])
def test_r1_points_to_a_copy_of_the_data_and_r2_is_its_length(name):
    target = make_target(name)
    if target.unavailable():
        pytest.skip(target.unavailable())
    assert run(target, "mov %r0, %r2\nexit", b"\x01\x02\x03").r0 == 3
    assert run(target, "ldxb %r0, [%r1+2]\nexit", b"\x01\x02\x03").r0 == 3
    assert run(target, "mov %r0, %r1\nexit").r0 == 0  # no data: r1 = 0
    outcome = run(target, "stb [%r1+0], 9\nldxb %r0, [%r1+0]\nexit", b"\x01")
    assert outcome.r0 == 9 and outcome.insns_executed is None and outcome.duration_ns is not None


def test_a_fault_is_an_outcome_and_packet_loads_are_a_reasoned_skip():
    target = make_target("jit-x86_64")
    if target.unavailable():
        pytest.skip(target.unavailable())
    outcome = run(target, "ldxb %r0, [%r1+3]\nexit", b"\x01")
    assert outcome.r0 is None and "insn 0 (r0 = *(u8 *)(r1 +3))" in outcome.error
    assert "legacy packet loads" in target.cannot_express(assemble("ldabsb 1\nexit"))


def test_native_without_the_kernels_verifier_is_unavailable(monkeypatch):
    monkeypatch.setattr(jit_module.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(jit_module.KernelTarget, "unavailable", lambda self: "bpf() is not permitted (EPERM)")
    assert make_target("jit-x86_64-native").unavailable() == (
        "native runs need the kernel's verifier to vouch for each program: bpf() is not permitted (EPERM)")
