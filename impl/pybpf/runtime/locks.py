"""bpf_spin_lock: a real lock per lock word address, with the misuses that hang a kernel made faults.

The kernel's verifier proves statically that a program takes at most one lock
at a time and releases it before it exits; a program run here has had no such
proof, so the same rules are checked as it runs: taking a lock while holding
one (the same one: a deadlock), unlocking a lock it does not hold, and exiting
with a lock held are faults.  The lock word (4 bytes, 4-aligned, inside a
writable map value) reads 1 while held and 0 otherwise, and each word has its
own ``threading.Lock``, so that runs in other threads sharing the runtime wait
for each other as CPUs would; ``contended`` counts the times one did.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
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

    acquisitions: int = 0  # bpf_spin_lock calls that took a lock
    contended: int = 0  # of those, the ones that found it held by another run and waited
    _locks: dict[int, threading.Lock] = field(default_factory=dict)
    _holders: dict[int, int] = field(default_factory=dict)  # lock address -> the thread holding it
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
        lock = self._lock_of(addr)
        waited = not lock.acquire(blocking=False)
        if waited and not lock.acquire(timeout=WAIT_SECONDS):
            raise VmFault(f"bpf_spin_lock at {addr:#x}: held elsewhere for {WAIT_SECONDS} s (deadlock?)")
        with self._guard:
            self.acquisitions += 1
            self.contended += waited
            self._holders[addr] = threading.get_ident()
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
        self._let_go(memory, addr)

    def _let_go(self, memory: Memory, addr: int) -> None:
        with contextlib.suppress(VmFault):  # the map value may have gone away; the lock must still be freed
            memory.store(addr, LOCK_SIZE, 0)
        with self._guard:
            self._holders.pop(addr, None)
        self._lock_of(addr).release()

    @contextlib.contextmanager
    def holding(self, memory: Memory, addr: int, why: str = "freeing the collections guarded by") -> Iterator[None]:
        """The lock at ``addr`` held by the runtime itself, as the kernel holds a value's lock to drain its lists
        or to copy it (BPF_F_LOCK); ``why`` words the faults."""
        with self._guard:
            mine = self._holders.get(addr) == threading.get_ident()
        if mine:
            raise VmFault(f"{why} the bpf_spin_lock at {addr:#x}, which this program holds: deadlock")
        if not self._lock_of(addr).acquire(timeout=WAIT_SECONDS):
            raise VmFault(f"{why} the bpf_spin_lock at {addr:#x}: held elsewhere for {WAIT_SECONDS} s (deadlock?)")
        with self._guard:
            self._holders[addr] = threading.get_ident()
        try:
            with contextlib.suppress(VmFault):
                memory.store(addr, LOCK_SIZE, 1)
            yield
        finally:
            self._let_go(memory, addr)
