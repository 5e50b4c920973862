"""Loops as strongly connected components, and the back-edges of an SCC visit (Linux 6.17+).

A checkpoint inside a loop may be matched by a path before every path from it has been explored,
so the precision marks it gives are incomplete.  Like the kernel, each loop (SCC of the control-flow
graph, within a subprogram) visited along a call chain gets a *visit*: its entry checkpoint, and a
copy of the current state for each loop hit (a *back-edge*), kept until the entry checkpoint is
fully explored.  Then the marks are pushed through the back-edges to a fixed point and they are
freed.  The back-edges count in ``peak_states``, and checkpoints of a visit that still has
back-edges compare their scalars by range and stay alive (``incomplete_read_marks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pybpf.isa.opcodes import Kind, OpSpec
from pybpf.verifier.env import Env
from pybpf.verifier.log import LOG_LEVEL2
from pybpf.verifier.regs import RegType
from pybpf.verifier.state import VerifierState

MAX_BACKEDGE_ITERS = 64


def scc_ids(specs: Sequence[OpSpec | None], succ: Sequence[Sequence[int]]) -> list[int]:
    """compute_scc: each instruction's loop (1, 2, ...), 0 for one in no loop (iterative Tarjan).

    Calls are stepped over (the SCCs are intraprocedural); a single instruction is a loop only if it
    jumps to itself.  A call that runs a callback is not one in 6.18 (the live kernel's log shows no
    SCC number on ``call bpf_loop``): its callback's own loops are.
    """
    n = len(specs)
    flow = [[pc + 1] if s is not None and s.kind is Kind.CALL_LOCAL else [w for w in succ[pc] if w < n]
            for pc, s in enumerate(specs)]
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    ids = [0] * n
    counter = 0
    next_id = 1
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, k = work[-1]
            if k < len(flow[v]):
                work[-1] = (v, k + 1)
                w = flow[v][k]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] != index[v]:
                continue
            members = []
            while True:
                w = stack.pop()
                on_stack[w] = False
                members.append(w)
                if w == v:
                    break
            if len(members) > 1 or v in flow[v]:
                for w in members:
                    ids[w] = next_id
                next_id += 1
    return ids


@dataclass
class SccVisit:
    """bpf_scc_visit: one loop reached along one call chain."""

    entry: VerifierState | None = None
    backedges: list[tuple[VerifierState, VerifierState]] = field(default_factory=list)  # (copy of cur, old)
    held: list[VerifierState] = field(default_factory=list)  # finished checkpoints kept for the back-edges


def scc_of(env: Env) -> list[int]:
    """Each instruction's loop number (0: in none), computed once."""
    if env.scc_of is None:
        env.scc_of = scc_ids(env.specs, env.succ)
    return env.scc_of


def callchain(env: Env, st: VerifierState) -> tuple[int, ...] | None:
    """compute_scc_callchain: the call sites down to the outermost frame standing in a loop, then that loop."""
    scc = scc_of(env)
    sites: list[int] = []
    for i in range(len(st.frames)):
        at = st.frame_insn_idx(i, st.insn_idx)
        if scc[at]:
            return (*sites, scc[at])
        sites.append(at)
    return None


def format_callchain(chain: tuple[int, ...]) -> str:
    """``(5,1)``: the call sites, then the loop's number."""
    return "(" + "".join(f"{site}," for site in chain[:-1]) + f"{chain[-1]})"


def _log2(env: Env, what: str, chain: tuple[int, ...]) -> None:
    if env.log.level & LOG_LEVEL2:
        env.log.write(f"SCC {what} {format_callchain(chain)}\n")


def _visit(env: Env, st: VerifierState) -> SccVisit | None:
    chain = callchain(env, st)
    return None if chain is None else env.scc_visits.get(chain)


def maybe_enter_scc(env: Env, st: VerifierState) -> None:
    """A new checkpoint: the first one of a visit (while none is open) is its entry."""
    chain = callchain(env, st)
    if chain is None:
        return
    visit = env.scc_visits.setdefault(chain, SccVisit())
    if visit.entry is None:
        visit.entry = st
        _log2(env, "enter", chain)


def incomplete_read_marks(env: Env, st: VerifierState) -> bool:
    if not env.scc_visits:
        return False
    visit = _visit(env, st)
    return visit is not None and bool(visit.backedges)


def add_scc_backedge(env: Env, old: VerifierState, cur: VerifierState, insn_idx: int) -> None:
    """A loop hit on ``old``: its marks may still grow, so a copy of ``cur`` waits for them."""
    chain = callchain(env, old)
    visit = None if chain is None else env.scc_visits.get(chain)
    if visit is None:
        return  # not in a loop (the kernel reports a verifier bug): nothing to wait for
    _log2(env, "backedge", chain)
    copy = cur.clone()
    copy.insn_idx = insn_idx
    visit.backedges.append((copy, old))
    env.num_backedges += 1
    env.update_peak_states()


def hold(env: Env, st: VerifierState) -> bool:
    """Whether finished checkpoint ``st`` must keep its parent and history for a pending back-edge."""
    visit = _visit(env, st) if env.scc_visits else None
    if visit is None or not visit.backedges:
        return False
    visit.held.append(st)
    return True


def maybe_exit_scc(env: Env, st: VerifierState, propagate) -> None:
    """``st`` is fully explored: if it entered a visit, the visit's marks are final; push them through."""
    if not env.scc_visits:
        return
    chain = callchain(env, st)
    visit = None if chain is None else env.scc_visits.get(chain)
    if visit is None or visit.entry is not st:
        return
    _log2(env, "exit", chain)
    visit.entry = None
    env.num_backedges -= len(visit.backedges)
    env.update_peak_states()
    _propagate_backedges(env, visit, propagate)
    for held in visit.held:
        if not held.branches:
            held.parent = None
            held.history = []
    visit.held.clear()
    visit.backedges.clear()


def _precise_marks(states: list[VerifierState]) -> int:
    n = 0
    for st in states:
        p: VerifierState | None = st
        while p is not None:
            for f in p.frames:
                n += sum(1 for r in f.regs if r.precise and r.type == RegType.SCALAR_VALUE)
                n += sum(1 for s in f.stack if s.spilled_ptr.precise)
            p = p.parent
    return n


def _propagate_backedges(env: Env, visit: SccVisit, propagate) -> None:
    """propagate_backedges: each back-edge's old state's precise marks go up the back-edge's path, to a fixed point."""
    if not visit.backedges:
        return
    saved = env.cur, env.insn_idx
    copies = [b for b, _ in visit.backedges]
    try:
        before = _precise_marks(copies)
        for _ in range(MAX_BACKEDGE_ITERS):
            for copy, old in visit.backedges:
                env.cur, env.insn_idx = copy, copy.insn_idx
                propagate(env, old)
            after = _precise_marks(copies)
            if after == before:
                return
            before = after
    finally:
        env.cur, env.insn_idx = saved
