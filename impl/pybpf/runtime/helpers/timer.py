"""bpf_timer_init (169), bpf_timer_set_callback (170), bpf_timer_start (171), bpf_timer_cancel (172).

A ``struct bpf_timer`` is 16 opaque bytes of a map value; Linux keeps a pointer to
its hrtimer there.  pybpf keeps the timer's whole state in those bytes instead
(no table on the side): the first word holds ``INITIALIZED``, the clock, and
whether a callback is set and the timer armed; the second the callback (the
``PTR_TO_FUNC`` value the program passed).  The return values and errors are the
kernel's (kernel/bpf/helpers.c).

A timer callback runs when the hrtimer expires, in softirq context, never inside
the program run that armed it: BPF_PROG_TEST_RUN returns before it fires.  pybpf's
runs are the same, so an armed timer stays armed and its callback does not run.
"""

from __future__ import annotations

import errno as errnos

from pybpf.runtime.context import ExecEnv
from pybpf.vm.helpers import HelperContext

MAX_CLOCKS = 16
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME = 0, 1, 7
_CLOCKS = frozenset({CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME})
BPF_F_TIMER_ABS, BPF_F_TIMER_CPU_PIN = 1, 2

# the first word of the bpf_timer
INITIALIZED = 1 << 63
_HAS_CALLBACK = 1 << 9
_ARMED = 1 << 8
_CLOCK_MASK = 0xFF


def _state(ctx: HelperContext, timer: int) -> int:
    return ctx.memory.load(timer, 8)


def _set_state(ctx: HelperContext, timer: int, state: int) -> None:
    ctx.memory.store(timer, 8, state)


def timer_init(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_timer_init(timer, map, flags): flags name the clock; -EBUSY when already initialised."""
    clockid = r3 & (MAX_CLOCKS - 1)
    if r3 >= MAX_CLOCKS or clockid not in _CLOCKS:
        return -errnos.EINVAL
    if _state(ctx, r1) & INITIALIZED:
        return -errnos.EBUSY
    _set_state(ctx, r1, INITIALIZED | clockid)
    ctx.memory.store(r1 + 8, 8, 0)
    return 0


def timer_set_callback(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_timer_set_callback(timer, callback): -EINVAL before bpf_timer_init."""
    state = _state(ctx, r1)
    if not state & INITIALIZED:
        return -errnos.EINVAL
    _set_state(ctx, r1, state | _HAS_CALLBACK)
    ctx.memory.store(r1 + 8, 8, r2)
    return 0


def timer_start(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_timer_start(timer, nsecs, flags): arms it; -EINVAL on unknown flags or without a callback."""
    if r3 & ~(BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN):
        return -errnos.EINVAL
    state = _state(ctx, r1)
    if not state & INITIALIZED or not state & _HAS_CALLBACK:
        return -errnos.EINVAL
    _set_state(ctx, r1, state | _ARMED)
    return 0


def timer_cancel(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_timer_cancel(timer): 1 when it was armed, 0 when not; -EINVAL before bpf_timer_init."""
    state = _state(ctx, r1)
    if not state & INITIALIZED:
        return -errnos.EINVAL
    _set_state(ctx, r1, state & ~_ARMED)
    return 1 if state & _ARMED else 0
