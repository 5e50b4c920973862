"""``available()``: None here (root, bpf() allowed), a reason where bpf() is refused."""

from __future__ import annotations

import errno

import pytest
from pybpf.kernel import available, syscall
from pybpf.kernel.probe import Circumstances, probe, reason

ROOT = Circumstances(privileged=True, unprivileged_bpf_disabled=2, seccomp=0)
USER = Circumstances(privileged=False, unprivileged_bpf_disabled=2, seccomp=0)
SANDBOXED = Circumstances(privileged=True, unprivileged_bpf_disabled=0, seccomp=2)


def test_available_here_as_root():
    if probe() is not None:
        pytest.skip(f"bpf() is not usable here: {probe()}")
    assert available() is None
    assert available() is available()  # asked once per process


@pytest.mark.parametrize("err", [errno.EPERM, errno.ENOSYS])
def test_refused_syscall_gives_a_reason(monkeypatch, err):
    monkeypatch.setattr(syscall, "sys_bpf", lambda cmd, attr, size: (-1, err))
    why = probe()
    assert isinstance(why, str) and why


@pytest.mark.parametrize(
    ("err", "seen", "why"),
    [
        (errno.EPERM, USER, "not root and no CAP_BPF (kernel.unprivileged_bpf_disabled=2)"),
        (errno.EPERM, Circumstances(False, 0, 0), "not root and no CAP_BPF"),
        (errno.EPERM, SANDBOXED, "bpf() is blocked by seccomp (ENOSYS/EPERM)"),
        (errno.ENOSYS, SANDBOXED, "bpf() is blocked by seccomp (ENOSYS/EPERM)"),
        (errno.ENOSYS, ROOT, "the kernel has no bpf() syscall (ENOSYS)"),
        (errno.EPERM, ROOT, "bpf() is refused to a privileged process (EPERM: LSM or lockdown?)"),
        (errno.ENOMEM, ROOT, "bpf() probe failed: Cannot allocate memory (ENOMEM)"),
    ],
)
def test_reasons(err, seen, why):
    assert reason(err, seen) == why


def test_not_linux(monkeypatch):
    monkeypatch.setattr("sys.platform", "darwin")
    assert probe() == "not Linux"


def test_unknown_machine(monkeypatch):
    monkeypatch.setattr(syscall, "machine", lambda: "vax")
    assert probe() == "no bpf() syscall number known for machine vax"
