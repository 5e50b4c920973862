"""Generated programs' pieces, for the tests that generate them (differential and arm64)."""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import OpSpec


def fill(spec: OpSpec, dst: int, src: int, off: int, imm: int) -> Insn:
    """A slot of row ``spec``: its discriminators set, the fields it does not use zero."""
    fields = {"dst": dst, "src": src, "off": off, "imm": imm}
    for name in ("dst", "src", "off", "imm"):
        if name not in spec.uses:
            fields[name] = 0
    fields.update({name: int(value) for name, value in spec.fixed})
    return Insn(spec.code, fields["dst"], fields["src"], fields["off"], fields["imm"])


def forward_jumps(items: list[tuple[Insn, float | None]]) -> list[Insn]:
    """A body from (slot, fraction) pairs: a jump's fraction of the slots after it becomes its offset,
    so every jump goes forward, at most to the body's end."""
    body = []
    for pc, (insn, frac) in enumerate(items):
        if frac is not None:
            insn = Insn(insn.code, insn.dst, insn.src, int(frac * (len(items) - pc - 1)), insn.imm)
        body.append(insn)
    return body
