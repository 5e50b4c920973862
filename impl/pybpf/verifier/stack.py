"""Stack slots (bpf_stack_state): per byte STACK_INVALID/SPILL/MISC/ZERO, and the spilled register.

Byte ``k`` of slot ``spi`` is the byte at ``fp - (spi * 8 + k + 1)``, as in the
kernel's ``slot_type[]``; printing keeps that order (``fp-8=????mmmm`` after a
4-byte write at ``fp-8``).
"""

from __future__ import annotations

from enum import IntEnum

from pybpf.verifier.regs import BPF_REG_SIZE, RegState

MAX_BPF_STACK = 512


class SlotType(IntEnum):
    STACK_INVALID = 0
    STACK_SPILL = 1
    STACK_MISC = 2
    STACK_ZERO = 3


SLOT_CHARS = "?rm0"
_INVALID = (SlotType.STACK_INVALID,) * BPF_REG_SIZE


class StackSlot:
    __slots__ = ("slot_type", "spilled_ptr")

    def __init__(self, slot_type: list[int] | None = None, spilled_ptr: RegState | None = None) -> None:
        self.slot_type = slot_type if slot_type is not None else list(_INVALID)
        self.spilled_ptr = spilled_ptr if spilled_ptr is not None else RegState()

    def clone(self) -> StackSlot:
        return StackSlot(self.slot_type[:], self.spilled_ptr.clone())

    def is_spilled_reg(self) -> bool:
        return self.slot_type[BPF_REG_SIZE - 1] == SlotType.STACK_SPILL

    def is_spilled_scalar(self) -> bool:
        return self.is_spilled_reg() and self.spilled_ptr.is_scalar()

    def all_invalid(self) -> bool:
        return all(t == SlotType.STACK_INVALID for t in self.slot_type)

    def types_str(self) -> str:
        return "".join(SLOT_CHARS[t] for t in self.slot_type)


def slot_index(off: int) -> tuple[int, int]:
    """(spi, byte index) of the stack byte at ``fp + off`` (off < 0)."""
    slot = -off - 1
    return slot // BPF_REG_SIZE, slot % BPF_REG_SIZE
