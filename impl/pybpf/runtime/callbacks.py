"""How helpers call back into the running program, and how a tail call leaves it.

Callbacks.  bpf_loop and bpf_for_each_map_elem call a subprogram of the running
program through ``HelperContext.call_subprog(pc, args) -> r0``, which the
executor provides: the interpreter runs the subprogram in a new frame of the
same run (fresh stack, the caller's r6..r10 untouched, the 8-frame limit and
the instruction budget shared with the caller) over the same guest memory; a
fault inside it is the run's fault, and a helper ending the program from inside
a callback (``ProgramExit``) ends the whole program.

Tail calls.  bpf_tail_call raises ``TailCall`` (a ``ProgramExit``) after
recording it in the run's state: the interpreter ends the current program as
for any ProgramExit, and ``Runtime.run`` then starts the target program with
r1 = the context, as the kernel does (the counter of 33 tail calls per run
included).  A tail call from a subprogram also ends the whole program here,
while in the kernel the target's r0 returns to the subprogram's caller; a
tail call inside a callback is refused.
"""

from __future__ import annotations

from pybpf.vm.helpers import ProgramExit

MAX_TAIL_CALL_CNT = 33  # the kernel's limit of tail calls in one run


class TailCall(ProgramExit):
    """bpf_tail_call succeeded: leave the current program for ``target`` with r1 = ``ctx``."""

    def __init__(self, target: object, ctx: int):
        super().__init__(0)
        self.target = target
        self.ctx = ctx
