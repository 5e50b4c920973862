"""bpf_spin_lock (93) and bpf_spin_unlock (94), over ``locks.SpinLocks``."""

from __future__ import annotations

from pybpf.runtime.context import ExecEnv
from pybpf.vm.helpers import HelperContext


def spin_lock(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    env.locks.acquire(ctx.memory, env.state.lock, r1)
    return 0


def spin_unlock(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    env.locks.release(ctx.memory, env.state.lock, r1)
    return 0
