"""The bpf_conformance assembly syntax: ``assemble`` (text -> slots) and ``to_conformance_asm``.

One instruction per line, ``#`` starts a comment, ``name:`` defines a label.
Mnemonics are the ``OpSpec.name`` of the opcode table plus the spellings the
suite uses for them: a ``64`` suffix on 64-bit ALU ops (``add64``), ``swapN`` for
``bswapN``, ``lock fetch add`` for ``lock fetch_add``, ``call %rX`` for ``callx``,
``call helper N`` / ``call runtime N``.  Operands: registers ``%r0``..``%r10``,
memory ``[%rN+off]``, immediates in decimal (signed 32-bit) or hex (up to
``0xffffffff``, read as the unsigned bit pattern), jump targets ``+off``/``-off``
or a label.  As in the suite's own assembler, the label ``exit`` names the first
``exit`` instruction unless the program defines it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pybpf.errors import AsmError
from pybpf.isa.insn import Insn, imm64, ld_imm64
from pybpf.isa.opcodes import DST, IMM, OFF, OPCODES, SRC, Kind, OpSpec, Pseudo
from pybpf.isa.validate import MAX_REG, insn_spec, validate_insn

# ------------------------------------------------------------------ mnemonics


def _aliases(spec: OpSpec) -> list[str]:
    if spec.kind in (Kind.ALU, Kind.MOV, Kind.NEG) and spec.is64:
        return [spec.name + "64"]
    if spec.kind is Kind.BSWAP:
        return [spec.name.removeprefix("b")]
    return []


def _mnemonic_table() -> dict[str, tuple[OpSpec, ...]]:
    table: dict[str, tuple[OpSpec, ...]] = {}
    for spec in OPCODES:
        for name in (spec.name, *_aliases(spec)):
            table[name] = (*table.get(name, ()), spec)
    return table


MNEMONICS: dict[str, tuple[OpSpec, ...]] = _mnemonic_table()

# operand count of each kind in this syntax (lddw and call kfunc take one optional extra)
_ARITY = {
    Kind.ALU: 2, Kind.MOV: 2, Kind.NEG: 1, Kind.MOVSX: 2, Kind.ADDR_SPACE_CAST: 4, Kind.END: 1,
    Kind.BSWAP: 1, Kind.LD_IMM64: 2, Kind.LD_ABS: 1, Kind.LD_IND: 2, Kind.LDX: 2, Kind.LDXSX: 2,
    Kind.ST: 2, Kind.STX: 2, Kind.ATOMIC: 2, Kind.LOAD_ACQ: 2, Kind.STORE_REL: 2, Kind.JA: 1,
    Kind.JCOND: 3, Kind.MAY_GOTO: 1, Kind.CALL: 1, Kind.CALL_LOCAL: 1, Kind.CALL_KFUNC: 1,
    Kind.CALLX: 1, Kind.EXIT: 0,
}  # fmt: skip
_OPTIONAL_EXTRA = frozenset({Kind.LD_IMM64, Kind.CALL_KFUNC})
_CALL_MODES = {"helper": "call", "local": "call local", "kfunc": "call kfunc", "runtime": "call kfunc"}
_PSEUDO_NAMES = {p.name.lower(): p for p in Pseudo if p != Pseudo.NONE}

_LABEL_DEF = re.compile(r"^([A-Za-z_.][\w.]*):\s*(.*)$")
_LABEL = re.compile(r"^[A-Za-z_.][\w.]*$")
_NUMBER = re.compile(r"^([+-]?)\s*(0[xX][0-9a-fA-F]+|[0-9]+)$")
_MEMORY = re.compile(r"^\[\s*([^\]+\-\s]+)\s*(?:([+-])\s*([^\]\s]+)\s*)?\]$")

# ------------------------------------------------------------------ the assembler


@dataclass(frozen=True)
class _Fixup:
    slot: int
    label: str
    field: str  # OFF or IMM
    line: int


@dataclass
class _Assembler:
    file: str | None
    insns: list[Insn]
    labels: dict[str, int]
    fixups: list[_Fixup]
    first_exit: int | None = None
    line: int = 0

    def error(self, message: str, line: int | None = None) -> AsmError:
        return AsmError(message, file=self.file, place=f"line {self.line if line is None else line}")

    # -- operands

    def number(self, text: str, bits: int, what: str, *, pattern: bool = True) -> int:
        """A signed ``bits``-wide field value.

        Decimal must fit the signed range (the suite rejects ``mov32 %r0, 2147483648``);
        with ``pattern`` a hex number may also be the unsigned bit pattern (``0xffffffff``
        is -1), as may a decimal 64-bit immediate.
        """
        m = _NUMBER.match(text.strip())
        if not m:
            raise self.error(f"Invalid {what} '{text.strip()}': expected a decimal or 0x hex number")
        is_hex = m[2][:2].lower() == "0x"
        value = int(m[2], 16 if is_hex else 10) * (-1 if m[1] == "-" else 1)
        unsigned = pattern and (is_hex or bits == 64)
        high = (1 << bits) - 1 if unsigned else (1 << (bits - 1)) - 1
        if not -(1 << (bits - 1)) <= value <= high:
            raise self.error(f"Invalid {what} '{text.strip()}': out of {bits}-bit range")
        return value - (1 << bits) if value >= 1 << (bits - 1) else value

    def unsigned(self, text: str, bits: int, what: str) -> int:
        value = self.number(text, bits + 1, what, pattern=False)
        if value < 0 or value >= 1 << bits:
            raise self.error(f"Invalid {what} '{text.strip()}': out of range 0..{(1 << bits) - 1}")
        return value

    def register(self, text: str) -> int:
        m = re.fullmatch(r"%r(\d+)", text.strip())
        if not m or int(m[1]) > MAX_REG:
            raise self.error(f"Invalid register {text.strip()!r}: expected %r0..%r{MAX_REG}")
        return int(m[1])

    def memory(self, text: str) -> tuple[int, int]:
        m = _MEMORY.match(text.strip())
        if not m:
            raise self.error(f"Invalid memory operand {text.strip()!r}: expected [%rN+offset]")
        off = self.number(m[2] + m[3], 16, "offset", pattern=False) if m[2] else 0
        return self.register(m[1]), off

    def target(self, text: str, field: str, bits: int) -> int:
        """A jump offset (``+3``/``-2``/``3``) or a label resolved once every line is read."""
        text = text.strip()
        if _LABEL.match(text):
            self.fixups.append(_Fixup(len(self.insns), text, field, self.line))
            return 0
        return self.number(text, bits, "jump offset", pattern=False)

    # -- one instruction

    def split(self, text: str) -> tuple[str, list[str]]:
        """Mnemonic (``lock``/``call`` take their sub-operation word) and comma-separated operands."""
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if word == "lock":
            m = re.match(r"^((?:fetch[\s_]+)?[a-z0-9_]+)\s*(.*)$", rest)
            if not m:
                raise self.error("Invalid number of operands for lock: expected 'lock <op> [%rD+off], %rS'")
            word, rest = "lock " + re.sub(r"fetch\s+", "fetch_", m[1]), m[2]
        elif word == "call":
            mode, _, after = rest.partition(" ")
            if mode in _CALL_MODES:
                word, rest = _CALL_MODES[mode], after.strip()
        operands = [o.strip() for o in rest.split(",")] if rest else []
        if any(not o for o in operands):
            raise self.error(f"Invalid operand list '{rest}': empty operand")
        return word, operands

    def pick(self, mnemonic: str, operands: list[str]) -> OpSpec:
        if mnemonic == "call" and operands and operands[0].startswith("%"):
            mnemonic = "callx"  # the suite writes an indirect call as `call %rX`
        rows = MNEMONICS.get(mnemonic)
        if rows is None:
            raise self.error(f"Invalid mnemonic '{mnemonic}'")
        kind = rows[0].kind
        want = _ARITY[kind]
        if len(operands) != want and not (kind in _OPTIONAL_EXTRA and len(operands) == want + 1):
            who = "lock" if mnemonic.startswith("lock ") else mnemonic
            raise self.error(f"Invalid number of operands for {who}: '{mnemonic}' takes {want}, got {len(operands)}")
        if len(rows) == 1:
            return rows[0]
        # same name, two sources: the register form when the source operand is a register
        source = operands[1].startswith("%")
        return next(r for r in rows if (SRC in r.uses) == source)

    def encode(self, spec: OpSpec, ops: list[str]) -> list[Insn]:
        f = {DST: 0, SRC: 0, OFF: 0, IMM: 0, **dict(spec.fixed)}
        match spec.kind:
            case Kind.ALU | Kind.MOV:
                f[DST] = self.register(ops[0])
                if SRC in spec.uses:
                    f[SRC] = self.register(ops[1])
                else:
                    f[IMM] = self.number(ops[1], 32, "immediate")
            case Kind.NEG | Kind.END | Kind.BSWAP | Kind.CALLX:
                f[DST] = self.register(ops[0])
            case Kind.MOVSX:
                f[DST], f[SRC] = self.register(ops[0]), self.register(ops[1])
            case Kind.ADDR_SPACE_CAST:
                f[DST], f[SRC] = self.register(ops[0]), self.register(ops[1])
                dst_as, src_as = self.unsigned(ops[2], 16, "address space"), self.unsigned(ops[3], 16, "address space")
                f[IMM] = (dst_as << 16 | src_as) - (1 << 32 if dst_as & 0x8000 else 0)
            case Kind.LD_IMM64:
                pseudo = self.pseudo(ops[2]) if len(ops) == 3 else Pseudo.NONE
                value = self.number(ops[1], 64, "64-bit immediate")
                return list(ld_imm64(self.register(ops[0]), value, pseudo))
            case Kind.LD_ABS:
                f[IMM] = self.number(ops[0], 32, "immediate")
            case Kind.LD_IND:
                f[SRC], f[IMM] = self.register(ops[0]), self.number(ops[1], 32, "immediate")
            case Kind.LDX | Kind.LDXSX | Kind.LOAD_ACQ:
                f[DST] = self.register(ops[0])
                f[SRC], f[OFF] = self.memory(ops[1])
            case Kind.ST:
                f[DST], f[OFF] = self.memory(ops[0])
                f[IMM] = self.number(ops[1], 32, "immediate")
            case Kind.STX | Kind.ATOMIC | Kind.STORE_REL:
                f[DST], f[OFF] = self.memory(ops[0])
                f[SRC] = self.register(ops[1])
            case Kind.JA:
                field = IMM if IMM in spec.uses else OFF
                f[field] = self.target(ops[0], field, 32 if field == IMM else 16)
            case Kind.MAY_GOTO:
                f[OFF] = self.target(ops[0], OFF, 16)
            case Kind.JCOND:
                f[DST] = self.register(ops[0])
                if SRC in spec.uses:
                    f[SRC] = self.register(ops[1])
                else:
                    f[IMM] = self.number(ops[1], 32, "immediate")
                f[OFF] = self.target(ops[2], OFF, 16)
            case Kind.CALL:
                f[IMM] = self.number(ops[0], 32, "helper id")
            case Kind.CALL_LOCAL:
                f[IMM] = self.target(ops[0], IMM, 32)
            case Kind.CALL_KFUNC:
                f[IMM] = self.number(ops[0], 32, "kfunc BTF id")
                f[OFF] = self.number(ops[1], 16, "BTF fd index", pattern=False) if len(ops) == 2 else 0
            case Kind.EXIT:
                if self.first_exit is None:
                    self.first_exit = len(self.insns)
        return [Insn(spec.code, f[DST], f[SRC], f[OFF], f[IMM])]

    def pseudo(self, text: str) -> Pseudo:
        name = text.strip().lower()
        if name not in _PSEUDO_NAMES:
            raise self.error(f"Invalid ld_imm64 kind '{text.strip()}': expected one of {', '.join(_PSEUDO_NAMES)}")
        return _PSEUDO_NAMES[name]

    # -- the whole text

    def statement(self, text: str) -> None:
        m = _LABEL_DEF.match(text)
        if m:
            label, text = m[1], m[2]
            if label in self.labels:
                raise self.error(f"Duplicate label '{label}'")
            self.labels[label] = len(self.insns)
            if not text:
                return
        mnemonic, operands = self.split(text)
        spec = self.pick(mnemonic, operands)
        self.insns.extend(self.encode(spec, operands))

    def resolve(self) -> None:
        if self.first_exit is not None:
            self.labels.setdefault("exit", self.first_exit)
        for fix in self.fixups:
            if fix.label not in self.labels:
                raise self.error(f"Invalid label '{fix.label}': not defined", fix.line)
            delta = self.labels[fix.label] - fix.slot - 1
            bits = 16 if fix.field == OFF else 32
            if not -(1 << (bits - 1)) <= delta < 1 << (bits - 1):
                raise self.error(f"Invalid jump to '{fix.label}': offset {delta} out of {bits}-bit range", fix.line)
            old = self.insns[fix.slot]
            self.insns[fix.slot] = Insn(old.code, old.dst, old.src, delta if fix.field == OFF else old.off,
                                        delta if fix.field == IMM else old.imm)


def assemble(text: str, *, file: str | None = None, first_line: int = 1) -> list[Insn]:
    """Assemble conformance-syntax text into slots (lddw gives two).

    Errors are ``AsmError`` with ``place="line N"`` (``first_line`` numbers the
    text's first line, for text cut out of a larger file).
    """
    asm = _Assembler(file, [], {}, [])
    for n, raw in enumerate(text.splitlines(), start=first_line):
        asm.line = n
        stmt = raw.split("#", 1)[0].strip()
        if stmt:
            asm.statement(re.sub(r"\s+", " ", stmt))
    asm.resolve()
    return asm.insns


# ------------------------------------------------------------------ the disassembler


def _imm(value: int) -> str:
    """Small and negative values in decimal, others as the hex bit pattern (as the suite writes them)."""
    if -10 <= value <= 10 or (value < 0 and value != -(1 << 31)):
        return str(value)
    return f"0x{value & 0xFFFFFFFF:x}"


def _mem(reg: int, off: int) -> str:
    return f"[%r{reg}{off:+d}]" if off else f"[%r{reg}]"


def _line(spec: OpSpec, insns: Sequence[Insn], pc: int) -> str:
    i = insns[pc]
    name = spec.name
    match spec.kind:
        case Kind.ALU | Kind.MOV | Kind.JCOND:
            source = f"%r{i.src}" if SRC in spec.uses else _imm(i.imm)
            jump = f", {i.off:+d}" if spec.kind is Kind.JCOND else ""
            return f"{name} %r{i.dst}, {source}{jump}"
        case Kind.NEG | Kind.END | Kind.BSWAP | Kind.CALLX:
            return f"{name} %r{i.dst}"
        case Kind.MOVSX:
            return f"{name} %r{i.dst}, %r{i.src}"
        case Kind.ADDR_SPACE_CAST:
            return f"{name} %r{i.dst}, %r{i.src}, {(i.imm & 0xFFFFFFFF) >> 16}, {i.imm & 0xFFFF}"
        case Kind.LD_IMM64:
            kind = f", {Pseudo(i.src).name.lower()}" if i.src else ""
            return f"{name} %r{i.dst}, 0x{imm64(i, insns[pc + 1]):x}{kind}"
        case Kind.LD_ABS:
            return f"{name} {i.imm}"
        case Kind.LD_IND:
            return f"{name} %r{i.src}, {i.imm}"
        case Kind.LDX | Kind.LDXSX | Kind.LOAD_ACQ:
            return f"{name} %r{i.dst}, {_mem(i.src, i.off)}"
        case Kind.ST:
            return f"{name} {_mem(i.dst, i.off)}, {_imm(i.imm)}"
        case Kind.STX | Kind.STORE_REL:
            return f"{name} {_mem(i.dst, i.off)}, %r{i.src}"
        case Kind.ATOMIC:
            # the suite spells the fetch forms with a space: `lock fetch add`
            return f"{name.replace('fetch_', 'fetch ')} {_mem(i.dst, i.off)}, %r{i.src}"
        case Kind.JA:
            return f"{name} {i.imm if IMM in spec.uses else i.off:+d}"
        case Kind.MAY_GOTO:
            return f"{name} {i.off:+d}"
        case Kind.CALL:
            return f"call {i.imm}"
        case Kind.CALL_LOCAL:
            return f"call local {i.imm:+d}"
        case Kind.CALL_KFUNC:
            return f"call kfunc {i.imm}" + (f", {i.off}" if i.off else "")
        case Kind.EXIT:
            return "exit"
    raise AssertionError(f"no conformance syntax for kind {spec.kind}")


def to_conformance_asm(insns: Sequence[Insn]) -> list[str]:
    """One line per instruction (an ld_imm64 pair is one ``lddw``); jumps keep numeric offsets."""
    lines = []
    pc = 0
    while pc < len(insns):
        spec = insn_spec(insns, pc)
        if spec is None or (spec.kind is Kind.LD_IMM64 and pc + 1 >= len(insns)):
            spec = validate_insn(insns, pc)  # raises the precise DecodeError
        lines.append(_line(spec, insns, pc))
        pc += 2 if spec.kind is Kind.LD_IMM64 else 1
    return lines
