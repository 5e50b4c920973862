"""Where bpf_ktime_get_ns and bpf_ktime_get_boot_ns read the time."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def monotonic_ns(self) -> int:
        """CLOCK_MONOTONIC in ns (bpf_ktime_get_ns)."""
        ...

    def boot_ns(self) -> int:
        """CLOCK_BOOTTIME in ns: monotonic, counting suspend too (bpf_ktime_get_boot_ns)."""
        ...


class SystemClock:
    """The host's clocks."""

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def boot_ns(self) -> int:
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


@dataclass
class SteppingClock:
    """A reproducible clock: starts at ``start`` and moves ``step`` ns at every reading."""

    start: int = 0
    step: int = 1000
    _now: int | None = None

    def monotonic_ns(self) -> int:
        self._now = self.start if self._now is None else self._now + self.step
        return self._now

    def boot_ns(self) -> int:
        return self.monotonic_ns()
