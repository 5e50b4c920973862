"""Can this process use ``bpf()``?  ``available()`` answers once per process.

The probe creates and closes a one-slot array map and loads and closes
``r0 = 0; exit``; when that fails, what the process can see of itself
(capabilities, seccomp, the sysctl) turns the errno into a reason.
"""

from __future__ import annotations

import errno as errnos
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pybpf.abi.uapi import MapType, ProgType
from pybpf.errors import KernelError
from pybpf.isa.insn import Insn
from pybpf.kernel import syscall
from pybpf.kernel.maps import map_create
from pybpf.kernel.prog import prog_load

CAP_SYS_ADMIN = 21
CAP_BPF = 39
_PROBE_PROG = (Insn(0xB7, 0, 0, 0, 0), Insn(0x95))  # r0 = 0; exit
_UNPRIV_SYSCTL = Path("/proc/sys/kernel/unprivileged_bpf_disabled")
_STATUS = Path("/proc/self/status")


@dataclass(frozen=True)
class Circumstances:
    """What the process knows about its own standing."""

    privileged: bool  # CAP_BPF or CAP_SYS_ADMIN in the effective set
    unprivileged_bpf_disabled: int | None  # the sysctl, None if unreadable
    seccomp: int | None  # 0 none, 1 strict, 2 filter; None if unknown


def reason(err: int, seen: Circumstances) -> str:
    """Why ``bpf()`` failed with ``err``, in one phrase."""
    if not seen.privileged:
        sysctl = seen.unprivileged_bpf_disabled
        return "not root and no CAP_BPF" + (f" (kernel.unprivileged_bpf_disabled={sysctl})" if sysctl else "")
    if err in (errnos.ENOSYS, errnos.EPERM, errnos.EACCES) and seen.seccomp:
        return "bpf() is blocked by seccomp (ENOSYS/EPERM)"
    if err == errnos.ENOSYS:
        return "the kernel has no bpf() syscall (ENOSYS)"
    if err in (errnos.EPERM, errnos.EACCES):
        return f"bpf() is refused to a privileged process ({errnos.errorcode[err]}: LSM or lockdown?)"
    return f"bpf() probe failed: {syscall.errno_text(err)}"


def _status_fields() -> dict[str, str]:
    try:
        lines = _STATUS.read_text().splitlines()
    except OSError:
        return {}
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def circumstances() -> Circumstances:
    status = _status_fields()
    try:
        caps = int(status.get("CapEff", "0"), 16)
    except ValueError:
        caps = 0
    try:
        sysctl: int | None = int(_UNPRIV_SYSCTL.read_text())
    except (OSError, ValueError):
        sysctl = None
    seccomp = status.get("Seccomp")
    return Circumstances(
        privileged=bool(caps & (1 << CAP_BPF | 1 << CAP_SYS_ADMIN)),
        unprivileged_bpf_disabled=sysctl,
        seccomp=int(seccomp) if seccomp and seccomp.isdigit() else None,
    )


def probe() -> str | None:
    """Try ``bpf()`` now: None if it works, else the reason (not cached; see ``available``)."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if syscall.syscall_number() is None:
        return f"no bpf() syscall number known for machine {syscall.machine()}"
    try:
        with map_create(MapType.ARRAY, 4, 4, 1):
            pass
        prog_load(_PROBE_PROG, prog_type=ProgType.SOCKET_FILTER, log_level=0).close()
    except KernelError as err:
        return reason(err.errno, circumstances())
    seen = circumstances()
    # Unprivileged bpf() runs a different verifier (no pointer leaks, ...): not the oracle we want.
    return None if seen.privileged else reason(errnos.EPERM, seen)


@cache
def available() -> str | None:
    """None when ``bpf()`` is usable by this process, else why not, in one phrase."""
    return probe()
