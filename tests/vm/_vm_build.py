"""Building test programs straight from the opcode table (no assembler needed).

``I("add32", 1, imm=5)``, ``I("add", 1, src=2)``, ``I("ldxdw", 0, src=1, off=8)``,
``I("lock fetch_add", 10, src=1, off=-8)``, ``I("jeq", 1, imm=5, off=1)``: the
mnemonic is the table's ``OpSpec.name``; where a name has an immediate and a
register form, giving ``src`` picks the register form.  Discriminator fields
(``off`` of sdiv/movsx, ``imm`` of byte swaps and atomics, ``src`` of calls)
come from the table.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import OPCODES, Src
from pybpf.vm import HelperTable, Interpreter, Memory, Outcome, RegionKind

_BY_NAME: dict[str, list] = {}
for _spec in OPCODES:
    _BY_NAME.setdefault(_spec.name, []).append(_spec)

U64 = (1 << 64) - 1


def I(name: str, dst: int = 0, *, src: int | None = None, off: int = 0, imm: int = 0) -> Insn:  # noqa: E743
    specs = _BY_NAME[name]
    if len(specs) > 1:
        specs = [s for s in specs if bool(s.code & Src.X) == (src is not None)]
    (spec,) = specs
    fields = {"dst": dst, "src": src or 0, "off": off, "imm": imm}
    fields.update({name: int(value) for name, value in spec.fixed})
    return Insn(spec.code, fields["dst"], fields["src"], fields["off"], fields["imm"])


def lddw(dst: int, value: int) -> list[Insn]:
    return list(ld_imm64(dst, value & U64))


EXIT = I("exit")


def prog(*parts: Insn | Sequence[Insn]) -> list[Insn]:
    """Flatten instructions and lists of instructions (ld_imm64 pairs) into slots."""
    out: list[Insn] = []
    for part in parts:
        if isinstance(part, Insn):
            out.append(part)
        else:
            out.extend(part)
    return out


def run(
    insns: Sequence[Insn],
    mem: bytes | bytearray | None = None,
    *,
    args: Sequence[int] | None = None,
    helpers: HelperTable | None = None,
    strict_alignment: bool = False,
    **kw,
) -> Outcome:
    """Run with r1 = input memory and r2 = its length when ``mem`` is given."""
    memory = Memory(strict_alignment=strict_alignment)
    if mem is not None:
        region = memory.add(RegionKind.INPUT, mem if isinstance(mem, bytearray) else bytearray(mem))
        if args is None:
            args = (region.base, len(mem))
    return Interpreter(insns, helpers=helpers, **kw).run(memory, args or ())


def r0_of(*parts: Insn | Sequence[Insn], **kw) -> int:
    """r0 after running the program; fails the test if it faulted."""
    outcome = run(prog(*parts), **kw)
    assert outcome.fault is None, str(outcome.fault)
    return outcome.r0


def fault_of(*parts: Insn | Sequence[Insn], **kw) -> str:
    """The text of the fault the program must end with."""
    outcome = run(prog(*parts), **kw)
    assert outcome.fault is not None, f"no fault; r0 = {outcome.r0:#x}"
    return str(outcome.fault)
