"""Stack liveness as 6.18 logs it at level 2 (kernel/bpf/liveness.c): ``(0) frame 0 insn 5 +live -16``.

Linux 6.18 tracks, per function instance (the call chain: every caller's call
instruction, then the function's first instruction), per frame and per
instruction, the stack slots the instruction may read and the ones it surely
writes (a whole 8-byte slot, on every visit).  When a path ends or a function
returns, the instances that learnt something recompute, over the function's
instructions in CFG postorder until nothing changes, which slots are live before
each instruction and which are written on every path from it, and print each
change at the instructions that touch the stack, start the function or are prune
points.  An inner instance then hands what its entry needs and writes of the
outer frames to its caller's instance, as reads and writes of the call.

pybpf keeps this only to print the same lines: the model exists at log level 2
(``Env.liveness``) and costs nothing below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybpf.isa.opcodes import Kind
from pybpf.isa.validate import jump_target
from pybpf.verifier.regs import BPF_REG_SIZE, RegState
from pybpf.verifier.stack import fmt_stack_mask
from pybpf.verifier.state import VerifierState


def note_slots_read(env, frameno: int, spis) -> None:
    """mark_stack_slot_obj_read: a kfunc or helper used the iterator/dynptr in these slots (level 2 only)."""
    if env.liveness is not None:
        env.liveness.read(frameno, sum(1 << s for s in spis))


def note_slots_written(env, frameno: int, spis) -> None:
    """An iterator or dynptr made, destroyed or overwritten in these slots: whole slots written (level 2 only)."""
    if env.liveness is not None:
        for s in spis:
            env.liveness.write(frameno, s)


@dataclass
class _Masks:
    may_read: int = 0
    must_write: int = 0
    live_before: int = 0
    must_write_acc: int = 0


@dataclass
class _Instance:
    callchain: tuple[int, ...]
    frames: dict[int, dict[int, _Masks]] = field(default_factory=dict)  # frame -> insn -> masks
    must_write_set: set[int] = field(default_factory=set)
    updated: bool = False
    must_write_dropped: bool = False

    @property
    def name(self) -> str:
        return "(" + ",".join(map(str, self.callchain)) + ")"

    def masks(self, frame: int, idx: int) -> _Masks:
        per = self.frames.setdefault(frame, {})
        m = per.get(idx)
        if m is None:
            m = per[idx] = _Masks()
        return m

    def peek(self, frame: int, idx: int) -> _Masks | None:
        per = self.frames.get(frame)
        return per.get(idx) if per is not None else None


def callchain(st: VerifierState, frame: int) -> tuple[int, ...]:
    """The callsites of frames 1..frame, then frame ``frame``'s first instruction."""
    return (*(f.callsite for f in st.frames[1:frame + 1]), st.frames[frame].subprogno)


class StackLiveness:
    """bpf_liveness: the instances, and the writes of the instruction being checked."""

    def __init__(self, env) -> None:
        self.env = env
        self.instances: dict[tuple[int, ...], _Instance] = {}
        self.write_idx = -1
        self.write_acc: dict[int, int] = {}
        self.cur_inst: _Instance | None = None  # the instance of the instruction being checked
        self._postorder: dict[int, list[int]] = {}

    def _instance(self, chain: tuple[int, ...]) -> _Instance:
        inst = self.instances.get(chain)
        if inst is None:
            inst = self.instances[chain] = _Instance(chain)
        return inst

    def _current(self) -> _Instance:
        st = self.env.cur
        return self._instance(callchain(st, st.curframe))

    # ------------------------------------------------------------ marks of one instruction

    def reset_writes(self, idx: int) -> None:
        self.write_idx = idx
        self.write_acc = {}
        self.cur_inst = self._current()

    def read(self, frame: int, mask: int) -> None:
        if mask:
            self._mark_read(self.cur_inst or self._current(), frame, self.env.insn_idx, mask)

    def _mark_read(self, inst: _Instance, frame: int, idx: int, mask: int) -> None:
        m = inst.masks(frame, idx)
        new = m.may_read | mask
        if new != m.may_read and new & ~m.live_before:  # reads of slots already live there change nothing
            inst.updated = True
        m.may_read = new

    def write(self, frame: int, spi: int) -> None:
        self.write_acc[frame] = self.write_acc.get(frame, 0) | 1 << spi

    def commit(self) -> None:
        """The instruction's writes; none for one that entered or left a function (the call chain changed)."""
        if self.cur_inst is not None and self._current() is self.cur_inst:
            self._commit(self.cur_inst, self.write_idx)

    def _commit(self, inst: _Instance, idx: int) -> None:
        for frame in range(len(inst.callchain)):
            mask = self.write_acc.get(frame, 0)
            if not mask and idx not in inst.must_write_set:
                continue
            m = inst.masks(frame, idx)
            old = m.must_write
            if idx in inst.must_write_set:
                mask &= old  # surely written: on every visit
            if old != mask:
                m.must_write = mask
                inst.updated = True
            if old & ~mask:
                inst.must_write_dropped = True
        inst.must_write_set.add(idx)

    def read_range(self, reg: RegState, lo: int, hi: int, var_lo: int | None = None, var_hi: int | None = None) -> None:
        """A read of the stack bytes [lo, hi) below fp (or [var_lo, var_hi) for a variable offset)."""
        if var_lo is not None and var_hi is not None:
            lo, hi = var_lo, var_hi
        mask = 0
        for a in range(lo, hi):
            if a < 0:
                mask |= 1 << ((-a - 1) // BPF_REG_SIZE)
        self.read(reg.frameno, mask)

    # ------------------------------------------------------------ the fixed point

    def update(self, st: VerifierState) -> None:
        """bpf_update_live_stack: recompute the instances of ``st``'s frames that learnt something."""
        for frame in range(st.curframe, -1, -1):
            inst = self._instance(callchain(st, frame))
            if inst.updated:
                self._update_instance(inst)
                inst.updated = inst.must_write_dropped = False
                if frame:
                    self._propagate_to_outer(inst, self._instance(callchain(st, frame - 1)))

    def _successors(self, idx: int) -> list[int]:
        env = self.env
        spec = env.specs[idx]
        if spec is None or spec.kind is Kind.EXIT:
            return []
        nxt = idx + (2 if spec.kind is Kind.LD_IMM64 else 1)
        if spec.kind is Kind.JA:
            return [jump_target(spec, env.insns[idx], idx)]
        if spec.kind in (Kind.JCOND, Kind.MAY_GOTO):
            return [nxt, jump_target(spec, env.insns[idx], idx)]
        return [nxt]

    def _postorder_of(self, start: int) -> list[int]:
        """compute_postorder for the function at ``start``: an iterative DFS pushing all new successors."""
        order = self._postorder.get(start)
        if order is not None:
            return order
        order = []
        state: dict[int, int] = {}
        stack = [start]
        while stack:
            top = stack[-1]
            state[top] = state.get(top, 0) | 1
            if state[top] & 2:
                order.append(top)
                stack.pop()
                continue
            for s in self._successors(top):
                if not state.get(s):
                    stack.append(s)
                    state[s] = 1
            state[top] |= 2
        self._postorder[start] = order
        return order

    def _update_instance(self, inst: _Instance) -> None:
        env = self.env
        start = inst.callchain[-1]
        order = self._postorder_of(start)
        if inst.must_write_dropped:
            for per in inst.frames.values():
                for m in per.values():
                    m.must_write_acc = 0
        log = env.log
        cnt = 0
        changed = True
        while changed:
            cnt += 1
            changed = False
            for frame in range(len(inst.callchain)):
                if frame not in inst.frames:
                    continue
                for idx in order:
                    changed |= self._update_insn(inst, frame, idx, start)
        log.write(f"{inst.name} live stack update done in {cnt} iterations\n")

    def _update_insn(self, inst: _Instance, frame: int, idx: int, start: int) -> bool:
        succ = self._successors(idx)
        if not succ:
            return False
        m = inst.masks(frame, idx)
        after = 0
        acc = -1
        for s in succ:
            sm = inst.peek(frame, s) or _Masks()
            after |= sm.live_before
            acc &= sm.must_write_acc
        acc = (acc | m.must_write) & ((1 << 64) - 1)
        before = (after & ~m.must_write) | m.may_read
        changed = before != m.live_before or acc != m.must_write_acc
        if m.may_read or m.must_write or idx == start or self.env.aux[idx].prune_point:
            self._log_change(inst, "live", frame, idx, m.live_before, before)
            self._log_change(inst, "written", frame, idx, m.must_write_acc, acc)
        m.live_before = before
        m.must_write_acc = acc
        return changed

    def _log_change(self, inst: _Instance, what: str, frame: int, idx: int, old: int, new: int) -> None:
        diff = old ^ new
        if not diff:
            return
        text = f"{inst.name} frame {frame} insn {idx} "
        if new & diff:
            text += f"+{what} {fmt_stack_mask(new & diff)} "
        if ~new & diff:
            text += f"-{what} {fmt_stack_mask(~new & diff)}"
        self.env.log.write(text + "\n")

    def _propagate_to_outer(self, inst: _Instance, outer: _Instance) -> None:
        """What the function's entry needs and surely writes of the outer frames becomes its call's."""
        callsite = inst.callchain[-2]
        saved = self.write_acc
        self.write_acc = {}
        for frame in range(len(inst.callchain) - 1):
            m = inst.peek(frame, inst.callchain[-1])
            if m is None:
                continue
            if m.must_write_acc:
                self.write_acc[frame] = m.must_write_acc
            if m.live_before:
                self._mark_read(outer, frame, callsite, m.live_before)
        self._commit(outer, callsite)
        self.write_acc = saved

