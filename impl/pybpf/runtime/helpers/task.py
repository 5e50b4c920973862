"""Helpers about the current task: its ids, name, cgroup, signals, and the attach point it runs at.

The runtime's current task is the Python process running it: ``bpf_get_current_uid_gid`` gives its uid and
gid, ``bpf_get_current_comm`` its ``comm`` (``/proc/self/comm``), ``bpf_get_current_cgroup_id`` the id of its
cgroup v2 directory (the kernel's cgroup id is that directory's inode number).  Signals are recorded in
``ExecEnv.signals``, never sent: the program runs inside the process it would signal.
"""

from __future__ import annotations

import errno as errnos
import os
import sys
from pathlib import Path

from pybpf.runtime.context import ExecEnv
from pybpf.vm.helpers import HelperContext

TASK_COMM_LEN = 16
MAX_SIGNAL = 64  # _NSIG on x86-64: valid_signal() accepts 0..64
CGROUP2_ROOT = Path("/sys/fs/cgroup")
JIFFY_NS = 1_000_000  # the runtime's tick: HZ=1000


def get_current_uid_gid(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """gid << 32 | uid, as the kernel packs them."""
    return os.getgid() << 32 | os.getuid()


def _comm() -> bytes:
    try:
        name = Path("/proc/self/comm").read_bytes().rstrip(b"\n")
    except OSError:
        name = Path(sys.executable).name.encode()
    return name[: TASK_COMM_LEN - 1]


def get_current_comm(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The name, cut to ``size - 1`` bytes, NUL-terminated and zero-padded to ``size``; 0 (even for size 0)."""
    if r2 == 0:
        return 0
    name = _comm()[: r2 - 1]
    ctx.memory.write(r1, name.ljust(r2, b"\0"))
    return 0


def get_numa_node_id(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return 0  # the runtime has one NUMA node


def get_current_cgroup_id(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The inode number of the process's cgroup v2 directory; 0 where there is no cgroup v2 hierarchy."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        path = next(line.split(":", 2)[2] for line in lines if line.startswith("0::"))
        return (CGROUP2_ROOT / path.lstrip("/")).stat().st_ino
    except (OSError, StopIteration, IndexError):
        return 0


def jiffies64(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return env.clock.monotonic_ns() // JIFFY_NS


def ktime_get_coarse_ns(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The monotonic clock as of the last tick."""
    now = env.clock.monotonic_ns()
    return now - now % JIFFY_NS


def _signal(env: ExecEnv, sig: int, thread: bool) -> int:
    sig &= 0xFFFFFFFF  # a u32 argument
    if sig > MAX_SIGNAL:
        return -errnos.EINVAL
    env.signals.append((sig, thread))
    return 0


def send_signal(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return _signal(env, r1, False)


def send_signal_thread(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return _signal(env, r1, True)


def get_attach_cookie(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return 0  # a runtime program is attached nowhere, so with no cookie
