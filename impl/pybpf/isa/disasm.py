"""The kernel's instruction syntax, as Linux 6.18 prints it in the verifier log.

``format_insn_line`` gives ``0: (b7) r0 = 0`` exactly as a ``log_level`` 2
verifier log line reads (without the register-state comment); ``bpftool prog
dump xlated`` prints the same text after a ``%4d: `` index.  The formats are
facts of kernel/bpf/disasm.c; notably ALU and store immediates print as signed
decimal, conditional-jump immediates as ``0x%x`` of the unsigned 32-bit value,
and ld_imm64 as ``0x%llx`` (no ``ll`` suffix).

What an instruction alone cannot name (a pseudo ld_imm64's map, a kfunc's BTF
name) comes from ``Symbols`` callbacks, like disasm.c's ``bpf_insn_cbs``.
``callx`` has no kernel syntax (the kernel rejects opcode 0x8d); it prints as
LLVM does, ``callx r2``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pybpf.isa.helper_names import HELPER_NAMES
from pybpf.isa.insn import Insn, imm64
from pybpf.isa.opcodes import FETCH, IMM, SRC, AluOp, AtomicOp, JmpOp, Kind, OpSpec, Pseudo, Src
from pybpf.isa.validate import insn_spec, validate_insn

ImmNamer = Callable[[Insn, Insn], str | None]
KfuncNamer = Callable[[Insn], str | None]


@dataclass(frozen=True)
class Symbols:
    """Naming callbacks; each returns None to fall back to the kernel's default text.

    ``imm64(first, second)`` renders the value of an ld_imm64 (the verifier log
    has no callback and prints ``0x%llx``; bpftool prints ``map[id:N]``: see
    ``bpftool_imm64``).  ``kfunc(insn)`` names a kfunc call from its BTF id
    (without a name the kernel prints ``kernel-function``).
    """

    imm64: ImmNamer | None = None
    kfunc: KfuncNamer | None = None
    helper_names: Sequence[str] = HELPER_NAMES


VERIFIER_LOG = Symbols()


def bpftool_imm64(first: Insn, second: Insn) -> str | None:
    """``bpftool prog dump xlated`` naming of pseudo ld_imm64 values (imm holds a map id there)."""
    if first.src == Pseudo.MAP_FD:
        return f"map[id:{first.imm & 0xFFFFFFFF}]"
    if first.src == Pseudo.MAP_VALUE:
        return f"map[id:{first.imm & 0xFFFFFFFF}][0]+{second.imm & 0xFFFFFFFF}"
    if first.src == Pseudo.FUNC:
        return f"subprog[{first.imm:+d}]"
    return None


BPFTOOL = Symbols(imm64=bpftool_imm64)

_ALU_OPS = {
    AluOp.ADD: "+=", AluOp.SUB: "-=", AluOp.MUL: "*=", AluOp.DIV: "/=", AluOp.OR: "|=",
    AluOp.AND: "&=", AluOp.LSH: "<<=", AluOp.RSH: ">>=", AluOp.MOD: "%=", AluOp.XOR: "^=",
    AluOp.MOV: "=", AluOp.ARSH: "s>>=",
}  # fmt: skip
_SIGNED_ALU_OPS = {AluOp.DIV: "s/=", AluOp.MOD: "s%="}
_JMP_OPS = {
    JmpOp.JEQ: "==", JmpOp.JGT: ">", JmpOp.JGE: ">=", JmpOp.JSET: "&", JmpOp.JNE: "!=",
    JmpOp.JSGT: "s>", JmpOp.JSGE: "s>=", JmpOp.JLT: "<", JmpOp.JLE: "<=", JmpOp.JSLT: "s<",
    JmpOp.JSLE: "s<=",
}  # fmt: skip


def _reg(spec: OpSpec, n: int) -> str:
    return f"{'r' if spec.is64 else 'w'}{n}"


def _mem(size: int, reg: int, off: int, signed: bool = False) -> str:
    return f"*({'s' if signed else 'u'}{size * 8} *)(r{reg} {off:+d})"


def _alu(spec: OpSpec, i: Insn) -> str:
    sym = _SIGNED_ALU_OPS[spec.op] if spec.signed else _ALU_OPS[spec.op]
    operand = _reg(spec, i.src) if SRC in spec.uses else str(i.imm)
    return f"{_reg(spec, i.dst)} {sym} {operand}"


def _atomic(spec: OpSpec, i: Insn) -> str:
    ptr = f"(u{spec.size * 8} *)(r{i.dst} {i.off:+d})"
    width = "64" if spec.is64 else ""
    if spec.op == AtomicOp.CMPXCHG:
        return f"r0 = atomic{width}_cmpxchg({ptr}, r0, r{i.src})"
    if spec.op == AtomicOp.XCHG:
        return f"r{i.src} = atomic{width}_xchg({ptr}, r{i.src})"
    if spec.op & FETCH:
        return f"r{i.src} = atomic{width}_fetch_{AtomicOp(spec.op & ~FETCH).name.lower()}({ptr}, r{i.src})"
    return f"lock *(u{spec.size * 8} *)(r{i.dst} {i.off:+d}) {_ALU_OPS[AluOp(spec.op)]} r{i.src}"


def _jcond(spec: OpSpec, i: Insn) -> str:
    rhs = _reg(spec, i.src) if SRC in spec.uses else f"0x{i.imm & 0xFFFFFFFF:x}"
    return f"if {_reg(spec, i.dst)} {_JMP_OPS[spec.op]} {rhs} goto pc{i.off:+d}"


def _call(i: Insn, symbols: Symbols) -> str:
    names = symbols.helper_names
    name = names[i.imm] if 0 <= i.imm < len(names) and names[i.imm] else "unknown"
    return f"call {name}#{i.imm}"


def _kfunc(i: Insn, symbols: Symbols) -> str:
    name = symbols.kfunc(i) if symbols.kfunc else None
    return f"call {name or 'kernel-function'}#{i.imm}"


def _ld_imm64(insns: Sequence[Insn], pc: int, symbols: Symbols) -> str:
    first, second = insns[pc], insns[pc + 1]
    text = symbols.imm64(first, second) if symbols.imm64 else None
    return f"r{first.dst} = {text or f'0x{imm64(first, second):x}'}"


def _text(spec: OpSpec, insns: Sequence[Insn], pc: int, symbols: Symbols) -> str:
    i = insns[pc]
    match spec.kind:
        case Kind.ALU | Kind.MOV:
            return _alu(spec, i)
        case Kind.NEG:
            return f"{_reg(spec, i.dst)} = -{_reg(spec, i.dst)}"
        case Kind.MOVSX:
            return f"{_reg(spec, i.dst)} = (s{spec.ext_bits}){_reg(spec, i.src)}"
        case Kind.ADDR_SPACE_CAST:
            return f"r{i.dst} = addr_space_cast(r{i.src}, {(i.imm & 0xFFFFFFFF) >> 16}, {i.imm & 0xFFFF})"
        case Kind.END:
            return f"r{i.dst} = {'be' if i.code & Src.X else 'le'}{spec.ext_bits} r{i.dst}"
        case Kind.BSWAP:
            return f"r{i.dst} = bswap{spec.ext_bits} r{i.dst}"
        case Kind.LD_IMM64:
            return _ld_imm64(insns, pc, symbols)
        case Kind.LD_ABS:
            return f"r0 = *(u{spec.size * 8} *)skb[{i.imm}]"
        case Kind.LD_IND:
            return f"r0 = *(u{spec.size * 8} *)skb[r{i.src} + {i.imm}]"
        case Kind.LDX | Kind.LDXSX:
            return f"r{i.dst} = {_mem(spec.size, i.src, i.off, spec.signed)}"
        case Kind.ST:
            return f"{_mem(spec.size, i.dst, i.off)} = {i.imm}"
        case Kind.STX:
            return f"{_mem(spec.size, i.dst, i.off)} = r{i.src}"
        case Kind.ATOMIC:
            return _atomic(spec, i)
        case Kind.LOAD_ACQ:
            return f"r{i.dst} = load_acquire((u{spec.size * 8} *)(r{i.src} {i.off:+d}))"
        case Kind.STORE_REL:
            return f"store_release((u{spec.size * 8} *)(r{i.dst} {i.off:+d}), r{i.src})"
        case Kind.JA:
            return f"gotol pc{i.imm:+d}" if IMM in spec.uses else f"goto pc{i.off:+d}"
        case Kind.MAY_GOTO:
            return f"may_goto pc{i.off:+d}"
        case Kind.JCOND:
            return _jcond(spec, i)
        case Kind.CALL:
            return _call(i, symbols)
        case Kind.CALL_LOCAL:
            return f"call pc{i.imm:+d}"
        case Kind.CALL_KFUNC:
            return _kfunc(i, symbols)
        case Kind.CALLX:
            return f"callx r{i.dst}"
        case Kind.EXIT:
            return "exit"
    raise AssertionError(f"no kernel syntax for kind {spec.kind}")


def _spec(insns: Sequence[Insn], pc: int) -> OpSpec:
    spec = insn_spec(insns, pc)
    if spec is None or (spec.kind is Kind.LD_IMM64 and pc + 1 >= len(insns)):
        # let the validator say precisely what is wrong
        return validate_insn(insns, pc)
    return spec


def format_insn(insns: Sequence[Insn], pc: int, symbols: Symbols = VERIFIER_LOG) -> str:
    """The kernel's text for ``insns[pc]``, e.g. ``r0 = *(u32 *)(r1 +4)``."""
    return _text(_spec(insns, pc), insns, pc, symbols)


def format_insn_line(insns: Sequence[Insn], pc: int, symbols: Symbols = VERIFIER_LOG) -> str:
    """The verifier-log line ``<pc>: (<code as %02x>) <text>``, e.g. ``0: (b7) r0 = 0``."""
    return f"{pc}: ({insns[pc].code:02x}) {format_insn(insns, pc, symbols)}"


def disassemble(insns: Sequence[Insn], symbols: Symbols = VERIFIER_LOG) -> list[str]:
    """One verifier-log line per instruction; the second slot of an ld_imm64 gets none."""
    lines = []
    pc = 0
    while pc < len(insns):
        spec = _spec(insns, pc)
        lines.append(f"{pc}: ({insns[pc].code:02x}) {_text(spec, insns, pc, symbols)}")
        pc += 2 if spec.kind is Kind.LD_IMM64 else 1
    return lines
