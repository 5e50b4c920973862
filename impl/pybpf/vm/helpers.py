"""Helper functions callable from a program with ``call N`` (or ``callx``).

Calling convention: ``fn(ctx, r1, r2, r3, r4, r5) -> int``, the result going
to r0.  ``nargs`` says how many of r1..r5 the helper reads (its prototype's
argument count): reading one of those that was never written is the same fault
as any other read of an uninitialised register; the rest are passed as they are
(0 when unwritten).  After the call r1..r5 hold no value, as the kernel treats
them (caller-saved, clobbered by the call).

A helper ends the whole program early by raising ``ProgramExit(r0)``; it
reports a run-time error by raising ``VmFault``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pybpf.vm.memory import Memory

MAX_ARGS = 5


class ProgramExit(Exception):
    """Raised by a helper to end the program at once with ``r0``."""

    def __init__(self, r0: int):
        super().__init__(r0)
        self.r0 = r0


SubprogCall = Callable[[int, Sequence[int]], int]
"""``call_subprog(pc, args) -> r0``: run the subprogram at slot ``pc`` in a new frame."""


@dataclass
class HelperContext:
    """What a helper sees of the machine: the guest memory of the current run, and a way
    back into the program for helpers that take a callback (bpf_loop, bpf_for_each_map_elem)."""

    memory: Memory
    call_subprog: SubprogCall | None = None


HelperFn = Callable[[HelperContext, int, int, int, int, int], int]


@dataclass(frozen=True)
class Helper:
    id: int
    name: str
    fn: HelperFn
    nargs: int = MAX_ARGS


class HelperTable:
    """Helper id -> ``Helper``; each interpreter run looks helpers up here."""

    def __init__(self) -> None:
        self._by_id: dict[int, Helper] = {}

    def register(self, helper_id: int, name: str, fn: HelperFn, *, nargs: int = MAX_ARGS) -> Helper:
        if not 0 <= nargs <= MAX_ARGS:
            raise ValueError(f"helper {name}: nargs must be 0..{MAX_ARGS}, not {nargs}")
        if helper_id in self._by_id:
            raise ValueError(f"helper {helper_id} is already registered as {self._by_id[helper_id].name}")
        helper = Helper(helper_id, name, fn, nargs)
        self._by_id[helper_id] = helper
        return helper

    def get(self, helper_id: int) -> Helper | None:
        return self._by_id.get(helper_id)

    def __contains__(self, helper_id: int) -> bool:
        return helper_id in self._by_id

    def __iter__(self) -> Iterator[Helper]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


UNWIND = 5  # the bpf_conformance suite's helper number


def _unwind(ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    # bpf_conformance FORMAT: r1 == 0 ends the program with r0 = 0, else returns r1
    if r1 == 0:
        raise ProgramExit(0)
    return r1


def conformance_helpers() -> HelperTable:
    """The helpers the bpf_conformance suite calls: just 5, "unwind"."""
    table = HelperTable()
    table.register(UNWIND, "unwind", _unwind, nargs=1)
    return table
