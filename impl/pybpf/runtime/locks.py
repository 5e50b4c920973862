"""bpf_spin_lock: a real lock per lock word address, with the misuses that hang a kernel made faults.

The kernel's verifier proves statically that a program takes at most one lock
at a time and releases it before it exits; a program run here has had no such
proof, so the same rules are checked as it runs: taking a lock while holding
one (the same one: a deadlock), unlocking a lock it does not hold, and exiting
with a lock held are faults.  The lock word (4 bytes, 4-aligned, inside a
writable map value) reads 1 while held and 0 otherwise, and each word has its
own ``threading.Lock``, so that runs in other threads sharing the runtime wait
for each other as CPUs would.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

from pybpf.errors import VmFault
from pybpf.vm.memory import Memory, RegionKind

LOCK_SIZE = 4  # sizeof(struct bpf_spin_lock)
WAIT_SECONDS = 5.0  # how long another run may hold a lock before we call it a deadlock
_LOCKABLE = (RegionKind.MAP_VALUE, RegionKind.HEAP)  # map values and allocated objects


@dataclass
class HeldLock:
    """What one run holds (at most one lock, as the verifier allows)."""

    addr: int | None = None


@dataclass
class SpinLocks:
    """Every lock word any run of the runtime has used, by guest address."""

    _locks: dict[int, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def _lock_of(self, addr: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(addr, threading.Lock())

    def acquire(self, memory: Memory, held: HeldLock, addr: int) -> None:
        if held.addr == addr:
            raise VmFault(f"bpf_spin_lock at {addr:#x} is already held by this program: deadlock")
        if held.addr is not None:
            raise VmFault(f"bpf_spin_lock at {addr:#x} while holding the lock at {held.addr:#x} "
                          "(a program may hold one lock at a time)")  # fmt: skip
        memory.check_aligned(addr, LOCK_SIZE, "bpf_spin_lock")
        region = memory.find(addr, LOCK_SIZE, True)
        if region.kind not in _LOCKABLE:
            raise VmFault(f"bpf_spin_lock at {addr:#x}: the lock must be in a map value, not in {region.describe()}")
        if not self._lock_of(addr).acquire(timeout=WAIT_SECONDS):
            raise VmFault(f"bpf_spin_lock at {addr:#x}: held elsewhere for {WAIT_SECONDS} s (deadlock?)")
        memory.store(addr, LOCK_SIZE, 1)
        held.addr = addr

    def release(self, memory: Memory, held: HeldLock, addr: int) -> None:
        if held.addr is None:
            raise VmFault(f"bpf_spin_unlock at {addr:#x}, but this program holds no lock")
        if held.addr != addr:
            raise VmFault(f"bpf_spin_unlock at {addr:#x}, but the lock this program holds is at {held.addr:#x}")
        self.release_held(memory, held)

    def release_held(self, memory: Memory, held: HeldLock) -> None:
        """Let go of whatever ``held`` holds (at the end of a run, after the fault is reported)."""
        if held.addr is None:
            return
        addr, held.addr = held.addr, None
        with contextlib.suppress(VmFault):  # the map value may have gone away; the lock must still be freed
            memory.store(addr, LOCK_SIZE, 0)
        self._lock_of(addr).release()
