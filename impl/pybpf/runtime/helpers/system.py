"""Helpers about the machine: time, randomness, the CPU, the current task."""

from __future__ import annotations

import os
import threading

from pybpf.runtime.context import ExecEnv
from pybpf.vm.helpers import HelperContext


def ktime_get_ns(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return env.clock.monotonic_ns()


def ktime_get_boot_ns(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return env.clock.boot_ns()


def get_prandom_u32(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return env.rng.getrandbits(32)


def get_smp_processor_id(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return env.state.cpu


def get_current_pid_tgid(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """tgid << 32 | pid, the kernel's words for our process and thread."""
    return os.getpid() << 32 | threading.get_native_id()
