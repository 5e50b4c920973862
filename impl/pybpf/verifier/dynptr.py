"""Dynptrs on the stack: the two STACK_DYNPTR slots of a ``struct bpf_dynptr``, as kfunc arguments.

A dynptr is 16 bytes of the program's stack that only kfuncs (and helpers)
touch.  ``ptr__uninit`` arguments (``bpf_dynptr_from_skb/xdp``,
``bpf_dynptr_clone``'s clone) make one: both slots become STACK_DYNPTR, the
first (lower address, higher slot index) marked as such, both with the
dynptr's id and type.  Every other ``struct bpf_dynptr *`` argument must point
at an initialised one.  A store into either slot destroys it; a load of its
bytes is refused.  pybpf models the unreferenced kinds the packet kfuncs make
(skb, xdp, and their clones); the ringbuf kind, which holds a reference, and
the slices' invalidation when their dynptr dies are not modelled.

The spilled register of each slot carries the dynptr: type
``CONST_PTR_TO_DYNPTR``, ``mem_size`` its ``DynptrType``, ``range`` 1 on the
first slot (the kernel's ``dynptr.first_slot``), ``id`` the dynptr's id.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.abi.uapi import DynptrType
from pybpf.verifier.env import Env
from pybpf.verifier.liveness import note_slots_read, note_slots_written
from pybpf.verifier.mem import WRITE, check_mem_access
from pybpf.verifier.regs import BPF_REG_SIZE, RegState, RegType
from pybpf.verifier.stack import SlotType, StackSlot, destroy_dynptr, slot_index
from pybpf.verifier.state import FuncState

BPF_DYNPTR_SIZE = 16
BPF_DYNPTR_NR_SLOTS = BPF_DYNPTR_SIZE // BPF_REG_SIZE
_DYNPTR_BYTES = [SlotType.STACK_DYNPTR] * BPF_REG_SIZE


@dataclass(frozen=True)
class Dynptr:
    """What an initialised dynptr argument is (the kernel's ``meta->initialized_dynptr``)."""

    id: int
    type: DynptrType


def _spi(env: Env, reg: RegState, log: list[str]) -> int | None:
    """dynptr_get_spi: the first slot's index; None (with the kernel's line in ``log``) when it cannot be one."""
    if reg.s.var_off.mask:
        log.append("dynptr has to be at a constant offset")
        return None
    off = reg.const_off()
    if off % BPF_REG_SIZE or off >= 0:
        log.append(f"cannot pass in dynptr at an offset={off}")
        return None
    spi = slot_index(off)[0]
    if spi < 1:
        log.append(f"cannot pass in dynptr at an offset={off}")
        return None
    return spi


def _is_init(frame: FuncState, spi: int) -> bool:
    """is_dynptr_reg_valid_init's slot test: a first slot and its second, every byte STACK_DYNPTR."""
    if spi >= len(frame.stack) or frame.stack[spi].spilled_ptr.range != 1:
        return False
    return all(frame.stack[spi - k].slot_type == _DYNPTR_BYTES for k in range(BPF_DYNPTR_NR_SLOTS))


def _expected_stack(env: Env, regno: int, reg: RegState) -> None:
    if reg.type not in (RegType.PTR_TO_STACK, RegType.CONST_PTR_TO_DYNPTR):
        raise env.reject("dynptr_not_stack", i=regno - 1)


def init_dynptr_arg(env: Env, regno: int, reg: RegState, kind: DynptrType) -> None:
    """process_dynptr_func for a ``__uninit`` argument: 16 bytes of stack become a dynptr of ``kind``."""
    _expected_stack(env, regno, reg)
    if reg.type == RegType.CONST_PTR_TO_DYNPTR:
        raise env.reject("dynptr_const_uninit")
    log: list[str] = []
    spi = _spi(env, reg, log)
    if spi is None:
        raise env.reject("dynptr_uninit_expected", *log)
    frame = env.func(reg)
    for k in range(BPF_DYNPTR_NR_SLOTS):
        note_slots_written(env, reg.frameno, destroy_dynptr(frame.stack, spi - k))
    for k in range(0, BPF_DYNPTR_SIZE, BPF_REG_SIZE):
        check_mem_access(env, regno, k, BPF_REG_SIZE, WRITE, -1)
    dynptr_id = env.new_id()
    for k in range(BPF_DYNPTR_NR_SLOTS):
        mark = RegState(RegType.CONST_PTR_TO_DYNPTR, id=dynptr_id)
        mark.mem_size, mark.range = kind, int(k == 0)
        frame.stack[spi - k] = StackSlot(list(_DYNPTR_BYTES), mark)
        env.log.scratch_stack(spi - k)
    note_slots_written(env, reg.frameno, (spi, spi - 1))


def dynptr_arg(env: Env, regno: int, reg: RegState) -> Dynptr:
    """process_dynptr_func for an initialised argument: the dynptr it points at."""
    _expected_stack(env, regno, reg)
    if reg.type == RegType.CONST_PTR_TO_DYNPTR:
        return Dynptr(reg.id, DynptrType(reg.mem_size))
    log: list[str] = []
    spi = _spi(env, reg, log)
    frame = env.func(reg)
    if spi is None or not _is_init(frame, spi):
        raise env.reject("dynptr_init_expected", *log, i=regno - 1)
    for k in range(BPF_DYNPTR_NR_SLOTS):
        env.log.scratch_stack(spi - k)  # the kernel's log shows the dynptr after the call
    note_slots_read(env, reg.frameno, (spi, spi - 1))
    first = frame.stack[spi].spilled_ptr
    return Dynptr(first.id, DynptrType(first.mem_size))


__all__ = ["BPF_DYNPTR_SIZE", "Dynptr", "DynptrType", "dynptr_arg", "init_dynptr_arg"]
