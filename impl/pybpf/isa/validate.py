"""Strict instruction validation: is this sequence of slots a well-formed program?

Only encoding-level facts are checked here (RFC 9669 and the kernel's
``bpf_check`` pre-passes): a known opcode, zero in every field the form does not
use, registers r0..r10, well-formed ``ld_imm64`` pairs, the ISA level, and jump /
call targets that land on an instruction of the program.  What the program
*does* (types, bounds, r10 being read-only...) is the verifier's job.

Every row comes from ``opcodes.OPCODES``; nothing here lists opcodes.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.errors import DecodeError, InternalError
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import BY_CODE, DST, IMM, MAX_ISA, OFF, SRC, Kind, OpSpec, Pseudo, lookup

MAX_REG = 10
_FIELDS = (DST, SRC, OFF, IMM)
# Pseudo sources whose second-slot imm carries nothing (RFC 9669, 5.4): it must be 0.
_NO_NEXT_IMM = frozenset({Pseudo.MAP_FD, Pseudo.BTF_ID, Pseudo.FUNC, Pseudo.MAP_IDX})
_JUMPS = frozenset({Kind.JA, Kind.JCOND, Kind.MAY_GOTO})
_PSEUDO_SRCS = frozenset(p.value for p in Pseudo)
# addr_space_cast imm is (dst_as << 16) | src_as and only casts between arena (1) and kernel (0) exist
_ADDR_SPACE_CASTS = frozenset({1, 1 << 16})


def form_name(spec: OpSpec) -> str:
    """The mnemonic plus operand source, e.g. ``add imm`` / ``jeq32 reg``: names a row unambiguously."""
    if spec.kind in (Kind.ALU, Kind.MOV, Kind.JCOND):
        return f"{spec.name} {'reg' if SRC in spec.uses else 'imm'}"
    return spec.name


def _field(insn: Insn, field: str) -> int:
    return getattr(insn, field)


def insn_spec(insns: Sequence[Insn], pc: int) -> OpSpec | None:
    """Fast path: the row of ``insns[pc]`` without any checking (None when illegal)."""
    i = insns[pc]
    return lookup(i.code, i.off, i.imm, i.src)


def jump_target(spec: OpSpec, insn: Insn, pc: int) -> int | None:
    """The slot a jump or local call goes to, or None for other instructions."""
    if spec.kind in _JUMPS:
        # ja32 (gotol) keeps its offset in imm, every other jump in off
        return pc + 1 + (insn.imm if spec.kind is Kind.JA and IMM in spec.uses else insn.off)
    if spec.kind is Kind.CALL_LOCAL:
        return pc + 1 + insn.imm
    if spec.kind is Kind.LD_IMM64 and insn.src == Pseudo.FUNC:
        return pc + 1 + insn.imm
    return None


def _err(msg: str, file: str | None) -> DecodeError:
    return DecodeError(msg, file=file)


def _no_row(insn: Insn, pc: int, file: str | None) -> DecodeError:
    """Explain why no row matches an existing opcode: name the discriminating field."""
    rows = BY_CODE[insn.code]
    for field in _FIELDS:
        wanted = {dict(r.fixed)[field]: r for r in rows if field in dict(r.fixed)}
        if wanted and _field(insn, field) not in wanted:
            value = _field(insn, field)
            if len(wanted) == 1 and 0 in wanted:
                return _err(f"insn {pc} ({form_name(rows[0])}): unused field {field} is {value}, must be 0", file)
            allowed = ", ".join(f"{v} ({form_name(r)})" for v, r in wanted.items())
            return _err(f"insn {pc} (code 0x{insn.code:02x}): invalid {field} {value}, expected one of {allowed}", file)
    raise InternalError(f"opcode table: no field explains why code 0x{insn.code:02x} at insn {pc} matches no row")


def _check_second_slot(insns: Sequence[Insn], pc: int, file: str | None) -> None:
    first = insns[pc]
    if first.src not in _PSEUDO_SRCS:
        raise _err(f"insn {pc} (lddw): invalid pseudo src {first.src}", file)
    if pc + 1 >= len(insns):
        raise _err(f"insn {pc} (lddw): missing second slot of ld_imm64 at the end of the program", file)
    second = insns[pc + 1]
    for field, value in (("code", second.code), (DST, second.dst), (SRC, second.src), (OFF, second.off)):
        if value:
            raise _err(f"insn {pc + 1} (second slot of lddw at insn {pc}): field {field} is {value}, must be 0", file)
    if first.src in _NO_NEXT_IMM and second.imm:
        raise _err(f"insn {pc + 1} (second slot of lddw at insn {pc}): imm is {second.imm}, "
                   f"must be 0 for pseudo src {Pseudo(first.src).name.lower()}", file)


def validate_insn(insns: Sequence[Insn], pc: int, *, cpu: int = MAX_ISA, file: str | None = None) -> OpSpec:
    """Check ``insns[pc]`` alone (and its second slot for ld_imm64); returns its row.

    Jump targets are checked against the program length; whether they land in the
    middle of an ld_imm64 needs the whole program (``validate_program``).
    """
    insn = insns[pc]
    if insn.code not in BY_CODE:
        raise _err(f"invalid opcode 0x{insn.code:02x} at insn {pc}", file)
    spec = lookup(insn.code, insn.off, insn.imm, insn.src)
    if spec is None:
        raise _no_row(insn, pc, file)
    fixed = dict(spec.fixed)
    name = form_name(spec)
    for field in _FIELDS:
        value = _field(insn, field)
        if value and field not in spec.uses and field not in fixed:
            raise _err(f"insn {pc} ({name}): unused field {field} is {value}, must be 0", file)
    for field in (DST, SRC):
        value = _field(insn, field)
        if field in spec.uses and value > MAX_REG and not (field == SRC and spec.kind is Kind.LD_IMM64):
            raise _err(f"insn {pc} ({name}): invalid register r{value} in {field}", file)
    if spec.kind is Kind.ADDR_SPACE_CAST and insn.imm not in _ADDR_SPACE_CASTS:
        raise _err(f"insn {pc} ({name}): imm 0x{insn.imm & 0xFFFFFFFF:x} is not a cast between "
                   "address spaces 0 and 1 (0x1 or 0x10000)", file)
    if spec.isa > cpu:
        raise _err(f"insn {pc} ({name}): needs ISA v{spec.isa}, the target is v{cpu}", file)
    if spec.kind is Kind.LD_IMM64:
        _check_second_slot(insns, pc, file)
    target = jump_target(spec, insn, pc)
    if target is not None and not 0 <= target < len(insns):
        what = "jump" if spec.kind in _JUMPS else "call" if spec.kind is Kind.CALL_LOCAL else "function address"
        raise _err(f"insn {pc} ({name}): {what} target {target} is outside the program (0..{len(insns) - 1})", file)
    return spec


def validate_program(insns: Sequence[Insn], *, cpu: int = MAX_ISA, file: str | None = None) -> list[OpSpec | None]:
    """Validate every slot; one entry per slot (None for the second slot of ld_imm64)."""
    if not 1 <= cpu <= MAX_ISA:
        raise ValueError(f"cpu must be 1..{MAX_ISA}, got {cpu}")
    if not insns:
        raise _err("empty program: no instructions", file)
    specs: list[OpSpec | None] = []
    pc = 0
    while pc < len(insns):
        spec = validate_insn(insns, pc, cpu=cpu, file=file)
        specs.append(spec)
        if spec.kind is Kind.LD_IMM64:
            specs.append(None)
            pc += 1
        pc += 1
    for pc, spec in enumerate(specs):
        if spec is None:
            continue
        target = jump_target(spec, insns[pc], pc)
        if target is not None and specs[target] is None:
            raise _err(f"insn {pc} ({form_name(spec)}): target {target} is the second slot of the "
                       f"ld_imm64 at insn {target - 1}", file)
    return specs
