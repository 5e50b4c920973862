"""``pybpf.kernel.unpriv``: loading as a process without capabilities (uid/gid nobody), the live kernel's answer.

These tests never change ``kernel.unprivileged_bpf_disabled``: where it is not
0 (or this process is not root) the loads skip with ``unpriv_available()``'s
reason, and that reason is checked instead.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from pybpf.abi.uapi import MapType, ProgType
from pybpf.errors import KernelError
from pybpf.isa import assemble
from pybpf.kernel import available, map_create, prog_load, prog_test_run
from pybpf.kernel.unpriv import (
    NOBODY,
    prog_load_unpriv,
    read_sysctl,
    run_unprivileged,
    unpriv_available,
)
from pybpf.kernel.vlog import verdict

CAP_PERFMON, CAP_BPF = 38, 39
LEAK = "mov %r0, %r10\nexit"
LOOKUP = ("stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, {fd}, map_fd\ncall 1\njeq %r0, 0, +1\n"
          "ldxw %r0, [%r0+0]\nexit")


@pytest.fixture(autouse=True)
def sysctl_untouched():
    before = read_sysctl()
    yield
    assert read_sysctl() == before


@pytest.fixture
def unpriv() -> None:
    why = unpriv_available()
    if why is not None:
        pytest.skip(f"cannot load as an unprivileged process here: {why}")


def test_reason_when_unavailable() -> None:
    why = unpriv_available()
    sysctl = read_sysctl()
    if why is None:
        assert sysctl == 0 and os.geteuid() == 0
    elif available() is None and os.geteuid() == 0 and sysctl:
        assert why == f"kernel.unprivileged_bpf_disabled={sysctl}: the kernel refuses unprivileged loads"


def test_child_is_nobody_without_capabilities() -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can drop to nobody")

    def who() -> tuple[dict, list[int]]:
        lines = Path("/proc/self/status").read_text().splitlines()
        status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
        return {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
                "cap_eff": int(status["CapEff"], 16), "cap_prm": int(status["CapPrm"], 16)}, []

    out, fds = run_unprivileged(who)
    assert out == {"uid": NOBODY, "gid": NOBODY, "groups": [], "cap_eff": 0, "cap_prm": 0} and fds == []
    out, _ = run_unprivileged(who, caps=1 << CAP_BPF)
    assert (out["uid"], out["cap_eff"], out["cap_prm"]) == (NOBODY, 1 << CAP_BPF, 1 << CAP_BPF)


def test_child_failure_is_reported() -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can drop to nobody")

    def boom() -> tuple[dict, list[int]]:
        raise ValueError("no")

    with pytest.raises(KernelError, match="ValueError: no"):
        run_unprivileged(boom)


def test_pointer_leak_refused_only_when_unprivileged(unpriv) -> None:
    insns = assemble(LEAK)
    res = prog_load_unpriv(insns)
    assert (res.ok, res.errno, verdict(res.log)) == (False, errno.EACCES, "R0 leaks addr as return value")
    with prog_load(insns) as loaded:  # root may leak pointers
        assert loaded.fd.fileno() >= 0


def test_kept_capabilities_count(unpriv) -> None:
    """CAP_BPF and CAP_PERFMON kept: the kernel's checks for an unprivileged loader no longer apply."""
    res = prog_load_unpriv(assemble(LEAK), caps=1 << CAP_BPF | 1 << CAP_PERFMON)
    assert res.ok, res.log


def test_map_created_by_root_is_usable(unpriv) -> None:
    with map_create(MapType.ARRAY, 4, 8, 1) as m:
        res = prog_load_unpriv(assemble(LOOKUP.format(fd=int(m))))
    assert res.ok, res.log
    assert res.fd is None


def test_program_fd_comes_back_to_run(unpriv) -> None:
    res = prog_load_unpriv(assemble("mov %r0, 7\nexit"), keep_fd=True)
    assert res.ok and res.fd is not None
    with res.fd:
        assert prog_test_run(res.fd, bytes(64)).retval == 7


def test_only_socket_filter_and_cgroup_skb(unpriv) -> None:
    insns = assemble("mov %r0, 1\nexit")
    assert prog_load_unpriv(insns, prog_type=ProgType.CGROUP_SKB).ok
    res = prog_load_unpriv(insns, prog_type=ProgType.XDP)
    assert (res.ok, res.errno, res.log) == (False, errno.EPERM, "")
