"""Stack slots (bpf_stack_state): per byte STACK_INVALID/SPILL/MISC/ZERO, and the spilled register.

Byte ``k`` of slot ``spi`` is the byte at ``fp - (spi * 8 + k + 1)``, as in the
kernel's ``slot_type[]``; printing keeps that order (``fp-8=????mmmm`` after a
4-byte write at ``fp-8``).
"""

from __future__ import annotations

from enum import IntEnum

from pybpf.abi.uapi import DynptrType
from pybpf.verifier.regs import BPF_REG_SIZE, RegState

MAX_BPF_STACK = 512


class SlotType(IntEnum):
    STACK_INVALID = 0
    STACK_SPILL = 1
    STACK_MISC = 2
    STACK_ZERO = 3
    STACK_DYNPTR = 4  # one of the two slots of a struct bpf_dynptr (verifier/dynptr.py)
    STACK_ITER = 5  # a slot of an open-coded iterator's state (verifier/iters.py)


SLOT_CHARS = "?rm0di"
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


def dynptr_str(first: RegState) -> str:
    """A dynptr as print_verifier_state shows it at its first slot: ``dynptr_skb(id=1,dynptr_id=1)``."""
    ids = [f"id={first.id}"] if first.id else []
    if first.ref_obj_id:
        ids.append(f"ref_id={first.ref_obj_id}")
    # the kernel prints the slot's dynptr_id, which shares its bytes with the dynptr's first_slot flag: the
    # slot shown is the first one, so it reads 1 whatever the id (a clone, a re-initialised dynptr)
    ids.append("dynptr_id=1")
    return f"dynptr_{DynptrType(first.mem_size).name.lower()}({','.join(ids)})"


def iter_type_str(btf, btf_id: int) -> str:
    """iter_type_str: ``task`` for ``struct bpf_iter_task``."""
    return btf.name_of(btf.types[btf_id]).removeprefix("bpf_iter_")


def iter_str(first: RegState) -> str:
    """An iterator as print_verifier_state shows it at its first slot (verifier/iters.py; always active: no
    ``_next`` is modelled)."""
    return f"iter_{iter_type_str(first.btf, first.btf_id)}(ref_id={first.ref_obj_id},state=active,depth=0)"


def destroy_dynptr(stack: list[StackSlot], spi: int) -> tuple[int, ...]:
    """A store reached slot ``spi``: if it holds half of a dynptr, both halves become STACK_INVALID (an
    unreferenced dynptr is simply forgotten; ``spilled_ptr.range`` marks its first slot, verifier/dynptr.py).
    Returns the slots it cleared."""
    if spi >= len(stack) or SlotType.STACK_DYNPTR not in stack[spi].slot_type:
        return ()
    first = spi if stack[spi].spilled_ptr.range == 1 else spi + 1
    cleared = tuple(s for s in (first, first - 1) if 0 <= s < len(stack))
    for s in cleared:
        stack[s] = StackSlot()
    return cleared


def readable(t: int, allow_uninit: bool) -> bool:
    """Whether a load may read a stack byte of type ``t`` (a dynptr's bytes never, uninitialised ones as root)."""
    return t in (SlotType.STACK_MISC, SlotType.STACK_ZERO, SlotType.STACK_SPILL) or (
        t == SlotType.STACK_INVALID and allow_uninit)


def fmt_stack_mask(mask: int) -> str:
    """``-8,-16``: the stack slots of a mask (bit i: fp-8*(i+1)), as the precision and liveness lines show them."""
    return ",".join(str(-(i + 1) * BPF_REG_SIZE) for i in range(64) if mask >> i & 1)


def slot_index(off: int) -> tuple[int, int]:
    """(spi, byte index) of the stack byte at ``fp + off`` (off < 0)."""
    slot = -off - 1
    return slot // BPF_REG_SIZE, slot % BPF_REG_SIZE
