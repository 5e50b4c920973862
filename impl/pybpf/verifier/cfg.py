"""check_subprogs and check_cfg: the program's shape before any state is explored.

Finds subprograms (targets of local calls), checks jumps stay inside their
subprogram and each subprogram ends in exit or jump, runs the depth-first walk
that finds unreachable instructions and (where loops are not allowed)
back-edges, and marks prune points and jump points as the kernel's visit_insn
does.  Also computes which registers are live before each instruction
(compute_live_registers), for state cleaning and the level-2 log.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AtomicOp, Kind, OpSpec, Pseudo, Src
from pybpf.isa.validate import jump_target
from pybpf.verifier.env import Env
from pybpf.verifier.helper_protos import CALLBACK_CALLERS, TIMER_SET_CALLBACK
from pybpf.verifier.messages import Rejection, rejection
from pybpf.verifier.regs import mark_reg_not_init
from pybpf.verifier.state import InsnAux, VerifierState

_JUMPS = (Kind.JA, Kind.JCOND, Kind.MAY_GOTO)
_CALLER_SAVED = 0b111111  # r0..r5
_ARGS = 0b111110
_LD_ABS_USES = 0b1111111111  # r0..r9


def subprog_starts(insns: Sequence[Insn], specs: Sequence[OpSpec | None]) -> list[int]:
    starts = {0}
    for pc, spec in enumerate(specs):
        if spec is None:
            continue
        if spec.kind is Kind.CALL_LOCAL or (spec.kind is Kind.LD_IMM64 and insns[pc].src == Pseudo.FUNC):
            starts.add(pc + 1 + insns[pc].imm)
    return sorted(starts)


def check_subprogs(insns: Sequence[Insn], specs: Sequence[OpSpec | None], starts: list[int]) -> None:
    """Jumps stay in their subprogram; each subprogram's last instruction is an exit or a jump."""
    n = len(insns)
    bounds = [*starts, n]
    for k in range(len(starts)):
        lo, hi = bounds[k], bounds[k + 1]
        for pc in range(lo, hi):
            spec = specs[pc]
            if spec is None or spec.kind not in _JUMPS:
                continue
            to = jump_target(spec, insns[pc], pc)
            if to is None or to < lo or to >= hi:
                raise rejection("jump_out_of_range", pc, frm=pc, to=to)
        last = hi - 1
        spec = specs[last]
        if spec is None or spec.kind not in (Kind.EXIT, Kind.JA):
            raise rejection("last_insn", last)


def check_opcodes(insns: Sequence[Insn], specs: Sequence[OpSpec | None]) -> None:
    """Every instruction (but an ld_imm64's second slot) must be one the kernel knows."""
    pc = 0
    while pc < len(insns):
        spec = specs[pc]
        if spec is None:
            raise rejection("unknown_opcode", pc, code=insns[pc].code)
        pc += 2 if spec.kind is Kind.LD_IMM64 else 1


_BRANCHING = frozenset({Kind.EXIT, Kind.JA, Kind.JCOND, Kind.MAY_GOTO, Kind.CALL_LOCAL, Kind.LD_IMM64})


def successors(insns: Sequence[Insn], specs: Sequence[OpSpec | None], pc: int) -> list[int]:
    spec = specs[pc]
    if spec is None:
        return [pc + 1]
    match spec.kind:
        case Kind.EXIT:
            return []
        case Kind.JA:
            return [jump_target(spec, insns[pc], pc)]
        case Kind.JCOND | Kind.MAY_GOTO:
            return [pc + 1, jump_target(spec, insns[pc], pc)]
        case Kind.CALL_LOCAL:
            return [pc + 1, pc + 1 + insns[pc].imm]
        case Kind.LD_IMM64:
            return [pc + 2]
    return [pc + 1]


def successor_lists(insns: Sequence[Insn], specs: Sequence[OpSpec | None]) -> list[list[int]]:
    """``successors`` of every instruction, computed once for the passes that walk the graph."""
    return [[pc + 1] if spec is None or spec.kind not in _BRANCHING else successors(insns, specs, pc)
            for pc, spec in enumerate(specs)]


_MARKING = frozenset({Kind.JCOND, Kind.MAY_GOTO, Kind.JA, Kind.CALL, Kind.CALL_LOCAL, Kind.CALL_KFUNC, Kind.LD_IMM64})


def _all_reached(specs: Sequence[OpSpec | None], succ: Sequence[Sequence[int]],
                 func_edges: dict[int, list[int]]) -> bool:
    """Every edge from the entry stays in the program and reaches every instruction (loops allowed)."""
    n = len(specs)
    if func_edges:
        succ = [func_edges.get(pc) or out for pc, out in enumerate(succ)]
    seen = bytearray(n)
    seen[0] = 1
    todo = [0]
    pop, push = todo.pop, todo.append
    while todo:
        for w in succ[pop()]:
            if not 0 <= w < n:
                return False
            if not seen[w]:
                seen[w] = 1
                push(w)
    # every instruction reached, and nothing else (the second slots of ld_imm64)
    second_slots = [pc for pc, spec in enumerate(specs) if spec is None]
    return seen.count(0) == len(second_slots) and not any(seen[pc] for pc in second_slots)


def check_cfg(insns: Sequence[Insn], specs: Sequence[OpSpec | None], aux: list[InsnAux], *,
              allow_loops: bool, succ: Sequence[Sequence[int]] | None = None) -> None:
    """The depth-first walk; marks prune/jump points in ``aux``; raises on unreachable code and back-edges."""
    n = len(insns)
    if succ is None:
        succ = successor_lists(insns, specs)
    state = [0] * n  # 0 undiscovered, 1 on the walk's stack, 2 done
    func_edges: dict[int, list[int]] = {}
    for pc, spec in enumerate(specs):
        if spec is None or spec.kind not in _MARKING:
            continue
        i = insns[pc]
        if spec.kind in (Kind.JCOND, Kind.MAY_GOTO):
            aux[pc].prune_point = True
            # push_insn marks the target of every BRANCH edge
            to = jump_target(spec, i, pc)
            if 0 <= to < n:
                aux[to].prune_point = aux[to].jmp_point = True
            if spec.kind is Kind.MAY_GOTO:
                aux[pc].force_checkpoint = True
        elif spec.kind is Kind.JA:
            to = jump_target(spec, i, pc)
            aux[to].prune_point = aux[to].jmp_point = True
        elif spec.kind in (Kind.CALL, Kind.CALL_LOCAL, Kind.CALL_KFUNC) and pc + 1 < n:
            aux[pc + 1].prune_point = aux[pc + 1].jmp_point = True
            if spec.kind is Kind.CALL_LOCAL:
                aux[pc].prune_point = True
                to = pc + 1 + i.imm
                if 0 <= to < n:
                    aux[to].prune_point = aux[to].jmp_point = True
            elif i.src == 0 and i.imm == TIMER_SET_CALLBACK:
                aux[pc].prune_point = True  # checked before the call pushes the async callback's state
            elif i.src == 0 and i.imm in CALLBACK_CALLERS:
                # the callback's return comes back to the call: a loop head for is_state_visited
                aux[pc].calls_callback = aux[pc].force_checkpoint = True
                aux[pc].prune_point = aux[pc].jmp_point = True
        elif spec.kind is Kind.LD_IMM64 and i.src == Pseudo.FUNC:
            # visit_func_call_insn: the walk goes on into the callback, as into a called subprogram
            func_edges[pc] = [pc + 2, pc + 1 + i.imm]
            aux[pc].prune_point = True
            for to in func_edges[pc]:
                if 0 <= to < n:
                    aux[to].prune_point = aux[to].jmp_point = True
    if allow_loops and _all_reached(specs, succ, func_edges):
        return  # the walk below would find nothing to refuse (it tells which error first when there is one)
    state[0] = 1
    stack = [0]
    edge = [0] * n  # how many of its successors each instruction on the walk has explored
    while stack:
        t = stack[-1]
        out = func_edges.get(t) or succ[t]
        k = edge[t]
        if k == len(out):
            state[t] = 2
            stack.pop()
            continue
        edge[t] = k + 1
        w = out[k]
        if w < 0 or w >= n:
            raise rejection("jump_out_of_range", t, frm=t, to=w)
        if state[w] == 0:
            state[w] = 1
            stack.append(w)
        elif state[w] == 1 and not allow_loops:
            raise rejection("back_edge", t, frm=t, to=w)
    for pc in range(n):
        if state[pc] == 0 and specs[pc] is not None:
            raise rejection("unreachable", pc, insn=pc)


def _use_def(insns: Sequence[Insn], spec: OpSpec, pc: int) -> tuple[int, int]:
    i = insns[pc]
    d, s = 1 << i.dst, 1 << i.src
    x = bool(i.code & Src.X)
    match spec.kind:
        case Kind.ALU:
            return d | (s if x else 0), d
        case Kind.NEG | Kind.END | Kind.BSWAP:
            return d, d
        case Kind.MOV | Kind.MOVSX | Kind.ADDR_SPACE_CAST:
            return (s if x else 0), d
        case Kind.LD_IMM64:
            return 0, d
        case Kind.LDX | Kind.LDXSX | Kind.LOAD_ACQ:
            return s, d
        case Kind.ST:
            return d, 0
        case Kind.STX | Kind.STORE_REL:
            return d | s, 0
        case Kind.ATOMIC:
            if i.imm == AtomicOp.CMPXCHG:
                return d | s | 1, 1
            return d | s, (s if i.imm & 1 else 0)
        case Kind.JCOND:
            return d | (s if x else 0), 0
        case Kind.EXIT:
            return 1, 0
        case Kind.CALL | Kind.CALL_KFUNC | Kind.CALL_LOCAL | Kind.CALLX:
            return _ARGS, _CALLER_SAVED
        case Kind.LD_ABS | Kind.LD_IND:
            return _LD_ABS_USES, _CALLER_SAVED  # 6.18 counts r0-r9 as read: the skb access may end the program
    return 0, 0


def compute_live_registers(insns: Sequence[Insn], specs: Sequence[OpSpec | None], aux: list[InsnAux],
                           call_uses: dict[int, int], succ: Sequence[Sequence[int]] | None = None) -> None:
    """Backward may-live analysis to a fixpoint; ``call_uses`` overrides a call's argument registers.

    One backward sweep settles every instruction whose successors all come after it; a second and further
    sweeps are made only when some edge goes back (a loop).
    """
    n = len(insns)
    if succ is None:
        succ = successor_lists(insns, specs)
    flow: list[Sequence[int]] = [()] * n
    uses = [0] * n
    keeps = [-1] * n
    live = [0] * n
    by_shape: dict[int, tuple[int, int]] = {}  # (use, def) by code, dst and src: all they depend on but atomics'
    loops = False
    for pc in range(n - 1, -1, -1):
        spec = specs[pc]
        if spec is None:
            continue
        kind = spec.kind
        if kind is Kind.ATOMIC:
            use, dfn = _use_def(insns, spec, pc)
        else:
            ins = insns[pc]
            shape = ins.code | ins.dst << 8 | ins.src << 12
            ud = by_shape.get(shape)
            if ud is None:
                ud = by_shape[shape] = _use_def(insns, spec, pc)
            use, dfn = ud
        if call_uses and pc in call_uses:
            use = call_uses[pc]
        nxt = (pc + 1,) if kind is Kind.CALL_LOCAL else succ[pc]
        out = 0
        inside = True
        for w in nxt:
            if 0 <= w < n:
                out |= live[w]
                if w <= pc:
                    loops = True
            else:
                inside = False
        flow[pc] = nxt if inside else tuple(w for w in nxt if 0 <= w < n)
        uses[pc] = use
        keeps[pc] = ~dfn
        live[pc] = use | (out & ~dfn)
    changed = loops
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            out = 0
            for w in flow[pc]:
                out |= live[w]
            new = uses[pc] | (out & keeps[pc])
            if new != live[pc]:
                live[pc] = new
                changed = True
    for a, v in zip(aux, live, strict=True):
        a.live_regs_before = v


def forget_dead_regs(env: Env, st: VerifierState, insn_idx: int) -> None:
    """clean_func_state's registers: in each frame of ``st``, those not live where the frame stands (``insn_idx``
    for the innermost, the call for the others) become NOT_INIT, as comparisons ignore them anyway."""
    for fr, f in enumerate(st.frames):
        live = env.aux[st.frame_insn_idx(fr, insn_idx)].live_regs_before
        for r in range(10):
            if not live >> r & 1:
                mark_reg_not_init(env, f.regs[r])


__all__ = [
    "Rejection",
    "check_cfg",
    "check_opcodes",
    "check_subprogs",
    "compute_live_registers",
    "forget_dead_regs",
    "subprog_starts",
    "successor_lists",
    "successors",
]

