"""The raw ``bpf(cmd, attr, size)`` system call, through libc's ``syscall()``.

``sys_bpf`` is the only function that enters the kernel; everything else in
``pybpf.kernel`` goes through ``bpf``, which turns a failure into a
``KernelError`` that names the command and the errno.
"""

from __future__ import annotations

import ctypes
import errno as errnos
import os
import platform
import sys
from functools import cache

from pybpf.abi.uapi import Cmd
from pybpf.errors import KernelError, KernelUnavailable
from pybpf.kernel.layout import BpfAttr

# __NR_bpf of each 64-bit machine pybpf runs on (uname -m spelling).  32-bit ABIs
# are left out on purpose: their u64 alignment differs from ctypes' defaults.
SYSCALL_NUMBERS: dict[str, int] = {
    "x86_64": 321,
    "aarch64": 280,
    "arm64": 280,
    "riscv64": 280,
    "loongarch64": 280,
    "s390x": 351,
    "ppc64": 361,
    "ppc64le": 361,
}


def machine() -> str:
    return platform.machine()


def syscall_number() -> int | None:
    """``__NR_bpf`` for the running machine, None where bpf() cannot be reached."""
    if not sys.platform.startswith("linux"):
        return None
    return SYSCALL_NUMBERS.get(machine())


@cache
def _syscall():
    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.syscall
    fn.restype = ctypes.c_long
    return fn


def sys_bpf(cmd: int, attr: ctypes.Array | ctypes.Structure | ctypes.Union, size: int) -> tuple[int, int]:
    """Enter the kernel once: returns (result, errno), errno 0 on success."""
    nr = syscall_number()
    if nr is None:
        raise KernelUnavailable(f"bpf() is not reachable on {sys.platform}/{machine()}", errno=errnos.ENOSYS)
    ctypes.set_errno(0)
    address = ctypes.c_void_p(ctypes.addressof(attr))
    ret = _syscall()(ctypes.c_long(nr), ctypes.c_long(cmd), address, ctypes.c_long(size))
    return ret, (ctypes.get_errno() if ret < 0 else 0)


def errno_text(err: int) -> str:
    """``Permission denied (EACCES)``."""
    return f"{os.strerror(err)} ({errnos.errorcode.get(err, err)})"


def cmd_name(cmd: int) -> str:
    try:
        return f"BPF_{Cmd(cmd).name}"
    except ValueError:
        return f"bpf command {cmd}"


def failure(cmd: int, err: int, *, log: str = "", detail: str = "") -> KernelError:
    """The error for ``cmd`` failing with ``err``; ``detail`` is appended after a colon."""
    message = f"{cmd_name(cmd)} failed: {errno_text(err)}"
    if detail:
        message += f": {detail}"
    return KernelError(message, errno=err, log=log)


def bpf(cmd: int, attr: BpfAttr, *, size: int | None = None) -> int:
    """Run one command; returns the kernel's non-negative result or raises KernelError."""
    ret, err = sys_bpf(cmd, attr, ctypes.sizeof(attr) if size is None else size)
    if ret < 0:
        raise failure(cmd, err)
    return ret
