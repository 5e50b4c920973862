"""The live kernel as an unprivileged loader: ``BPF_PROG_LOAD`` from a child that gave up root.

The kernel verifies a program differently when its loader lacks CAP_BPF and
CAP_PERFMON (no pointer leaks, Spectre v1/v4 restrictions, speculative paths).
To ask it, a forked child drops to uid/gid ``nobody`` with no supplementary
groups and no capabilities (or only those asked for, as the kernel's
``__caps_unpriv`` does), loads the program, and sends verdict, errno and log
back through a socket, with the program's fd if asked (SCM_RIGHTS).  For
``prog_load_unpriv`` the maps are created by the parent, as root: the child
inherits their descriptors, and the kernel lets it use them.
``load_object_unpriv`` loads a whole object in the child, as the kernel's
test_loader does for its unprivileged runs.

That only works while ``kernel.unprivileged_bpf_disabled`` is 0.  pybpf never
changes the sysctl; ``unpriv_available()`` says why an unprivileged load is not
possible here.
"""

from __future__ import annotations

import ctypes
import errno as errnos
import json
import operator
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import SupportsIndex

from pybpf.abi.uapi import ProgType
from pybpf.errors import KernelError
from pybpf.isa.insn import Insn
from pybpf.kernel.fd import Fd
from pybpf.kernel.objload import LoadedProgram, load_object
from pybpf.kernel.objload_btf import probe_btf_features
from pybpf.kernel.vlog import MAX_LOG_SIZE
from pybpf.obj.model import Object

UNPRIV_SYSCTL = Path("/proc/sys/kernel/unprivileged_bpf_disabled")
NOBODY = 65534
_SETUP = "setup"  # the key of the child's answer when it could not drop its privileges or fn raised
_MAX_FDS = 253  # SCM_MAX_FD: what one message may carry
_PR_SET_KEEPCAPS = 8
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_PROBE_PROG = (Insn(0xB7, 0, 0, 0, 0), Insn(0x95))  # r0 = 0; exit


@dataclass(frozen=True)
class UnprivResult:
    """What the kernel said to the unprivileged child."""

    ok: bool
    errno: int
    log: str
    fd: Fd | None = None  # the accepted program, when asked for (``keep_fd``)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def read_sysctl() -> int | None:
    try:
        return int(UNPRIV_SYSCTL.read_text())
    except (OSError, ValueError):
        return None


def _set_caps(libc: ctypes.CDLL, caps: int) -> None:
    """capset(2): effective = permitted = ``caps``, nothing inheritable."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in range(2):
        word = (caps >> (32 * i)) & 0xFFFFFFFF
        data[i].effective = data[i].permitted = word
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), f"capset: {os.strerror(ctypes.get_errno())}")


def drop_privileges(caps: int = 0) -> None:
    """Become ``nobody`` (no groups) with only the capabilities in the mask ``caps`` (in this process!)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if caps and libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS)")
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    _set_caps(libc, caps)


def _send(sock: socket.socket, out: dict, fds: Sequence[SupportsIndex]) -> None:
    """The child's answer: JSON, with ``fds`` attached (SCM_RIGHTS) to its first byte."""
    data = json.dumps(out).encode()
    socket.send_fds(sock, [data[:1]], [operator.index(f) for f in fds])
    sock.sendall(data[1:])


def _receive(sock: socket.socket) -> tuple[dict, list[int]]:
    chunks, fds = [], []
    while True:
        data, got, _, _ = socket.recv_fds(sock, 1 << 20, _MAX_FDS)
        fds.extend(got)
        if not data:
            break
        chunks.append(data)
    try:
        out = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        out = {}
    return out, fds


def run_unprivileged(fn: Callable[[], tuple[dict, Sequence[SupportsIndex]]], *,
                     caps: int = 0) -> tuple[dict, list[int]]:
    """Run ``fn`` in a forked child that dropped to ``nobody`` (keeping only ``caps``).

    ``fn`` returns (a JSON-able dict, file descriptors to hand over: ints or
    ``Fd``s, kept open until sent); this process receives the dict and its own
    copies of the descriptors.  Raises
    KernelError when the child could not drop its privileges or died.
    """
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:  # the child never returns into the caller's code
        status = 1
        try:
            parent.close()
            try:
                drop_privileges(caps)
            except OSError as e:
                _send(child, {_SETUP: f"cannot drop privileges: {e}"}, ())
            else:
                try:
                    out, fds = fn()
                except Exception as e:
                    out, fds = {_SETUP: f"the unprivileged load failed: {type(e).__name__}: {e}"}, ()
                _send(child, out, fds)
                status = 0
        finally:
            os._exit(status)
    child.close()
    with parent:
        out, fds = _receive(parent)
    _, status = os.waitpid(pid, 0)
    if _SETUP in out:
        raise KernelError(out[_SETUP], errno=errnos.EPERM)
    if not out:
        raise KernelError(f"the unprivileged child died (wait status {status:#x})")
    return out, fds


def prog_load_unpriv(
    insns: bytes | Sequence[Insn],
    *,
    prog_type: int = ProgType.SOCKET_FILTER,
    log_level: int = 1,
    log_size: int = MAX_LOG_SIZE,
    prog_flags: int = 0,
    caps: int = 0,
    keep_fd: bool = False,
    **load_kw,
) -> UnprivResult:
    """Load ``insns`` as an unprivileged process; map fds in the program must be open in this one.

    ``caps`` is a mask of capabilities the child keeps (``1 << CAP_NET_ADMIN``...).
    ``keep_fd``: an accepted program's fd comes back in ``UnprivResult.fd``
    (to run it, as root).  Further keywords go to ``prog_load``
    (``prog_btf_fd``, ``func_info``...).  Raises KernelError when the child
    could not be set up (not root...).
    """
    from pybpf.kernel.prog import prog_load

    kw = {"prog_type": prog_type, "log_level": log_level, "log_size": log_size, "prog_flags": prog_flags, **load_kw}

    def load() -> tuple[dict, Sequence[SupportsIndex]]:
        try:
            loaded = prog_load(insns, **kw)
        except KernelError as e:
            return {"ok": False, "errno": e.errno, "log": e.log}, ()
        return {"ok": True, "errno": 0, "log": loaded.log}, [loaded.fd] if keep_fd else ()

    out, fds = run_unprivileged(load, caps=caps)
    fd = Fd(fds.pop(0)) if fds else None
    for extra in fds:
        os.close(extra)
    return UnprivResult(bool(out["ok"]), int(out["errno"]), str(out["log"]), fd)


def unpriv_available() -> str | None:
    """None when this process can load programs as an unprivileged one, else why not (not cached)."""
    from pybpf.kernel.probe import available

    why = available()
    if why is not None:
        return f"bpf() is not usable here: {why}"
    if os.geteuid() != 0:
        return "only root can drop to an unprivileged uid to load as one"
    sysctl = read_sysctl()
    if sysctl is None:
        return f"{UNPRIV_SYSCTL} is unreadable"
    if sysctl != 0:
        return f"kernel.unprivileged_bpf_disabled={sysctl}: the kernel refuses unprivileged loads"
    try:
        res = prog_load_unpriv(_PROBE_PROG, log_level=0)
    except KernelError as e:
        return str(e)
    if not res.ok:
        return f"an unprivileged load of 'r0 = 0; exit' failed: {os.strerror(res.errno)}"
    return None


@dataclass
class UnprivObject:
    """An object loaded by an unprivileged child: its programs' fates and, kept open here, every fd it made.

    It stands where ``load_object``'s ``KernelObject`` would (``programs``, ``with``).
    """

    programs: dict[str, LoadedProgram]
    fds: list[Fd] = field(default_factory=list)  # programs, maps and BTF: prog arrays stay filled while open

    def close(self) -> None:
        for fd in self.fds:
            fd.close()

    def __enter__(self) -> UnprivObject:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_object_unpriv(obj: Object, programs: Sequence[str], *, log_level: int = 1, caps: int = 0) -> UnprivObject:
    """``load_object`` of ``programs`` (names) done whole by an unprivileged child, as the kernel's test_loader
    does for its unprivileged runs: BTF, maps and programs are created without capabilities.

    The BTF features are probed here, as root (the probes are refused without
    CAP_BPF); the child's own BTF load is refused too, and the object goes on
    without BTF, as libbpf does.  Raises KernelError, as ``load_object`` does,
    for what fails the whole object.
    """
    features = probe_btf_features()

    def load() -> tuple[dict, Sequence[SupportsIndex]]:
        try:
            loaded = load_object(obj, programs=list(programs), log_level=log_level, btf_features=features)
        except KernelError as e:
            return {"error": e.message, "errno": e.errno, "log": e.log}, ()
        fds: list[SupportsIndex] = []
        out = {}
        for name, lp in loaded.programs.items():
            out[name] = {"section": lp.section, "prog_type": lp.prog_type, "insn_cnt": lp.insn_cnt, "log": lp.log,
                         "errno": lp.errno, "message": lp.message, "verified_insns": lp.verified_insns,
                         "fd": len(fds) if lp.fd is not None else None}
            if lp.fd is not None:
                fds.append(lp.fd)
        fds.extend(loaded.maps.values())
        if loaded.btf_fd is not None:
            fds.append(loaded.btf_fd)
        return {"programs": out}, fds

    out, raw = run_unprivileged(load, caps=caps)
    fds = [Fd(f) for f in raw]
    if "error" in out:
        for fd in fds:
            fd.close()
        raise KernelError(out["error"], errno=out["errno"], log=out["log"])
    progs = {name: LoadedProgram(name, p["section"], p["prog_type"], None if p["fd"] is None else fds[p["fd"]],
                                 p["insn_cnt"], p["log"], p["errno"], p["message"], p["verified_insns"])
             for name, p in out["programs"].items()}
    return UnprivObject(progs, fds)
