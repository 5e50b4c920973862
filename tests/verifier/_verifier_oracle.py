"""Replay a level-2 verifier log against our scalar domain, instruction by instruction.

The log shows, after every processed instruction, the registers it touched; at
each popped branch ("from X to Y:") the whole state.  Following the log path by
path (the kernel explores depth-first, so pending branches form a stack), we know
each instruction's input registers as the kernel had them, predict its outputs
with ``Scalar`` and compare the printed texts.  Expectations are the kernel's
own lines; our code only predicts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, Kind, OpSpec, Src, lookup
from pybpf.verifier.scalar import BranchStates, Scalar
from pybpf.verifier.scalar_fmt import format_scalar, parse_scalar

_INSN_LINE = re.compile(r"^(\d+): \(([0-9a-f]{2})\) (.*?)(?:\s+; (.*))?$")
_STATE_LINE = re.compile(r"^(\d+): (R\d+.*)$")
_SAFE_LINE = re.compile(r"^(\d+): safe$")
_FROM_LINE = re.compile(r"^from (\d+) to (\d+): (?:(safe)|(.*))$")
_BUG_LINE = re.compile(r"^verifier bug: .*$")
_REG = re.compile(r"(R\d+|fp-\d+)(?:_\w+)?=(\S+?(?:\([^)]*(?:\([^)]*\)[^)]*)*\))?)(?=\s|$)")
_SCALAR_TEXT = re.compile(r"P?(?:scalar\(.*\)|-?(?:0x[0-9a-f]+|\d+))")


def parse_regs(text: str) -> dict[int | str, str]:
    """Registers by number, spilled stack slots by name ("fp-8")."""
    return {int(m.group(1)[1:]) if m.group(1)[0] == "R" else m.group(1): m.group(2) for m in _REG.finditer(text)}


def _is_scalar(text: str | None) -> bool:
    return text is not None and _SCALAR_TEXT.fullmatch(text) is not None


def _bare(text: str) -> str:
    """A printed scalar without what the state layer adds (P, id)."""
    return format_scalar(parse_scalar(text).scalar)


@dataclass
class Outcome:
    """One comparison of something the kernel printed with our prediction."""

    category: str
    pc: int
    kernel: str
    ours: str
    inputs: str = ""  # the operands as the kernel printed them, for reports

    @property
    def agrees(self) -> bool:
        return self.kernel == self.ours


@dataclass
class Replay:
    outcomes: list[Outcome] = field(default_factory=list)
    unchecked: Counter = field(default_factory=Counter)

    def by_category(self) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = {}
        for o in self.outcomes:
            c = out.setdefault(o.category, [0, 0])
            c[0] += 1
            c[1] += o.agrees
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def disagreements(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.agrees]


@dataclass
class _Pending:
    """A state the kernel may have pushed: a two-way jump, or a fork of AND/OR."""

    pc: int
    kind: str  # "jmp" or "fork"
    regs: dict[int, str]
    predicted: Scalar | BranchStates | None = None


@dataclass
class _Step:
    """A processed instruction whose printed result may come on a later line."""

    pc: int
    ins: Insn
    spec: OpSpec
    pre: dict[int, str]
    post: dict[int, str] = field(default_factory=dict)
    bugs: list[str] = field(default_factory=list)


def _suffix(ins: Insn) -> str:
    return "" if ins.code & Src.X else " K"


def _inputs(ins: Insn, pre: dict[int, str]) -> str:
    text = f"dst R{ins.dst}={pre.get(ins.dst)}"
    return text + (f" src R{ins.src}={pre.get(ins.src)}" if ins.code & Src.X else f" imm={ins.imm}")


def _operand(pre: dict[int | str, str], reg: int | str) -> Scalar | None:
    text = pre.get(reg)
    return parse_scalar(text).scalar if _is_scalar(text) else None


def _source(ins: Insn, pre: dict[int, str]) -> Scalar | None:
    return _operand(pre, ins.src) if ins.code & Src.X else Scalar.const(ins.imm)


class _Replayer:
    def __init__(self, prog: list[Insn]) -> None:
        self.prog = prog
        self.res = Replay()
        self.regs: dict[int, str] = {}
        self.pending: list[_Pending] = []
        self.step: _Step | None = None
        self.jump: tuple[int, dict[int, str], BranchStates | None] | None = None  # awaiting its successor

    # ---------------------------------------------------------------- recording

    def compare(self, category: str, pc: int, kernel: str | None, ours: Scalar, pre: dict[int, str]) -> None:
        if not _is_scalar(kernel):
            self.res.unchecked[category + " (not printed)"] += 1
            return
        self.res.outcomes.append(Outcome(category, pc, _bare(kernel), format_scalar(ours),
                                         _inputs(self.prog[pc], pre)))

    def decided(self, pc: int, pre: dict[int, str], kernel: bool | None) -> None:
        ins = self.prog[pc]
        spec = lookup(ins.code, ins.off, ins.imm, ins.src)
        a, b = _operand(pre, ins.dst), _source(ins, pre)
        if a is None or b is None:
            return
        ours = a.is_branch_taken(spec.op, spec.is64, b)
        self.res.outcomes.append(Outcome(f"taken {spec.name}{_suffix(ins)}", pc, str(kernel), str(ours),
                                         _inputs(ins, pre)))

    # ---------------------------------------------------------------- the path

    def successor(self, pc: int) -> None:
        """The path reached ``pc`` right after a jump: a jump straight to its target was decided taken."""
        if self.jump is None:
            return
        jpc, pre, states = self.jump
        self.jump = None
        if pc == jpc + self.prog[jpc].off + 1 and self.prog[jpc].off != 0:
            self.decided(jpc, pre, True)
        else:
            self.pending.append(_Pending(jpc, "jmp", pre, states))

    def finish_step(self) -> None:
        st, self.step = self.step, None
        if st is None:
            return
        self.check_step(st)
        self.regs.update(st.post)
        if st.spec.kind == Kind.CALL:
            for r in range(1, 6):
                self.regs.pop(r, None)

    def pop(self, src_pc: int, state: dict[int, str]) -> None:
        while self.pending:
            p = self.pending.pop()
            if p.pc != src_pc:  # the kernel never pushed it: it decided "not taken"
                if p.kind == "jmp":
                    self.decided(p.pc, p.regs, False)
                continue
            ins = self.prog[p.pc]
            spec = lookup(ins.code, ins.off, ins.imm, ins.src)
            if p.kind == "fork":
                self.compare(f"fork {spec.name}", p.pc, state.get(ins.dst), p.predicted, p.regs)
                return
            self.decided(p.pc, p.regs, None)
            if state and p.predicted is not None:
                cat = f"refine {spec.name}{_suffix(ins)} taken"
                self.compare(cat, p.pc, state.get(ins.dst), p.predicted.taken_dst, p.regs)
                if ins.code & Src.X and ins.src != ins.dst:
                    self.compare(cat, p.pc, state.get(ins.src), p.predicted.taken_src, p.regs)
            return

    def run(self, log: str) -> Replay:
        for line in log.splitlines():
            m = _INSN_LINE.match(line)
            if m:
                self.finish_step()
                pc = int(m.group(1))
                self.successor(pc)
                ins = self.prog[pc]
                spec = lookup(ins.code, ins.off, ins.imm, ins.src)
                if spec is not None:
                    self.step = _Step(pc, ins, spec, dict(self.regs), parse_regs(m.group(4) or ""))
                continue
            m = _BUG_LINE.match(line)
            if m:
                if self.step is not None:
                    self.step.bugs.append(line)
                continue
            m = _STATE_LINE.match(line)
            if m:
                regs = parse_regs(m.group(2))
                if self.step is not None and self.step.pc == int(m.group(1)) and not self.step.post:
                    self.step.post = regs  # the result printed after messages broke the insn line
                    self.finish_step()
                else:
                    self.finish_step()
                    self.regs.update(regs)
                continue
            m = _SAFE_LINE.match(line)
            if m:
                self.finish_step()
                self.successor(int(m.group(1)))
                continue
            m = _FROM_LINE.match(line)
            if m:
                self.finish_step()
                if self.jump is not None:
                    self.pending.append(_Pending(self.jump[0], "jmp", self.jump[1], self.jump[2]))
                    self.jump = None
                state = parse_regs(m.group(4) or "")
                self.pop(int(m.group(1)), state)
                if state:
                    self.regs = state
        self.finish_step()
        if self.jump is not None:
            self.pending.append(_Pending(self.jump[0], "jmp", self.jump[1], self.jump[2]))
        for p in self.pending:  # never popped: the kernel did not push them
            if p.kind == "jmp":
                self.decided(p.pc, p.regs, False)
        return self.res

    # ---------------------------------------------------------------- one instruction

    def check_step(self, st: _Step) -> None:
        ins, spec, pre, post = st.ins, st.spec, st.pre, st.post
        kind = spec.kind
        raw: Scalar | None = None
        name = f"alu {spec.name}"
        if kind == Kind.ALU:
            d, s = _operand(pre, ins.dst), _source(ins, pre)
            if d is None or s is None:
                self.res.unchecked[f"{name} (pointer)"] += 1
                return
            if spec.op in (AluOp.AND, AluOp.OR):
                pair = d.fork_split(spec.op, s)
                if pair is not None:
                    d = pair[0]
                    self.pending.append(_Pending(st.pc, "fork", pre, pair[1]))
            raw = d.alu(spec.op, spec.is64, s, check=False)
            name += " X" if ins.code & Src.X else " K"
        elif kind == Kind.NEG:
            d = _operand(pre, ins.dst)
            raw = d.neg(spec.is64, check=False) if d is not None else None
        elif kind in (Kind.END, Kind.BSWAP):
            d = _operand(pre, ins.dst)
            if d is not None:
                raw = (d.bswap(spec.ext_bits, check=False) if kind == Kind.BSWAP
                       else d.end(bool(ins.code & Src.X), spec.ext_bits, check=False))
        elif kind == Kind.MOV:
            if ins.code & Src.X:
                s = _operand(pre, ins.src)
                raw = None if s is None else s if spec.is64 else s.zext32()
                name += " X"
            else:
                raw = Scalar.const(ins.imm if spec.is64 else ins.imm & 0xFFFFFFFF)
                name += " K"
        elif kind == Kind.MOVSX:
            s = _operand(pre, ins.src)
            raw = s.movsx(spec.ext_bits, spec.is64) if s is not None else None
        elif kind == Kind.JCOND:
            self.check_jump(st)
            return
        elif kind in (Kind.LDX, Kind.LDXSX) and ins.src == 10 and ins.off % 8 == 0:
            # a fill from a slot holding a spilled scalar (little-endian: the low bytes)
            spilled = _operand(pre, f"fp{ins.off}")
            if spilled is not None:
                if spec.size == 8:
                    raw = spilled
                else:
                    raw = spilled.coerce_sx(spec.size) if kind == Kind.LDXSX else spilled.coerce(spec.size)
            name = f"load {spec.name}"
        if raw is None:
            return
        result, msg = raw.checked("alu")
        self.compare(name, st.pc, post.get(ins.dst), result, pre)
        self.compare_bugs(st, [msg] if msg else [])

    def check_jump(self, st: _Step) -> None:
        ins, spec, pre = st.ins, st.spec, st.pre
        a, b = _operand(pre, ins.dst), _source(ins, pre)
        states = None
        if a is not None and b is not None and a.is_branch_taken(spec.op, spec.is64, b) is None:
            same = bool(ins.code & Src.X) and ins.src == ins.dst
            states = a.branch_states(spec.op, spec.is64, b, same_reg=same)
            cat = f"refine {spec.name}{_suffix(ins)} not taken"
            self.compare(cat, st.pc, st.post.get(ins.dst), states.fall_dst, pre)
            if ins.code & Src.X and not same:
                self.compare(cat, st.pc, st.post.get(ins.src), states.fall_src, pre)
            self.compare_bugs(st, list(states.log))
        self.jump = (st.pc, pre, states)

    def compare_bugs(self, st: _Step, ours: list[str]) -> None:
        if st.bugs or ours:
            self.res.outcomes.append(Outcome("invariant violation log", st.pc, "\n".join(st.bugs), "\n".join(ours),
                                             _inputs(st.ins, st.pre)))


def replay(prog: list[Insn], log: str) -> Replay:
    return _Replayer(prog).run(log)
