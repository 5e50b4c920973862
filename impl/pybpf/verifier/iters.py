"""Open-coded iterators on the stack: the STACK_ITER slots of a ``struct bpf_iter_<type>``.

An iterator kfunc takes the iterator's state as its first argument.  Its
constructor (KF_ITER_NEW) wants stack slots holding no iterator and makes them
one: every slot STACK_ITER, a reference acquired (the first slot carries its
id; destroying the iterator releases it, so one never destroyed leaks it).
Every other iterator kfunc wants an initialised iterator of its type; the
destructor (KF_ITER_DESTROY) turns the slots back into STACK_INVALID.  A load
of the slots' bytes is refused; a store forgets the iterator's slot (its
reference stays held, and a later call finds no initialised iterator).
``bpf_iter_<type>_next`` is not modelled: its loop needs the verifier's
iterator convergence.

The spilled register of each slot records the iterator: ``ref_obj_id`` (first
slot only), ``btf``/``btf_id`` its struct, ``mem_size`` the number of slots.
"""

from __future__ import annotations

from pybpf.btf.graph import Btf
from pybpf.verifier.env import Env
from pybpf.verifier.graph import acquire_reference, release_reference
from pybpf.verifier.liveness import note_slots_read, note_slots_written
from pybpf.verifier.mem import WRITE, check_mem_access
from pybpf.verifier.regs import BPF_REG_SIZE, RegState, RegType
from pybpf.verifier.stack import SlotType, StackSlot, iter_type_str, slot_index
from pybpf.verifier.state import FuncState

_ITER_BYTES = [SlotType.STACK_ITER] * BPF_REG_SIZE


def _spi(env: Env, reg: RegState, nr_slots: int, log: list[str]) -> int | None:
    """stack_slot_obj_get_spi: the first slot's index; None (the kernel's line in ``log``) when it cannot be."""
    if reg.s.var_off.mask:
        log.append("iter has to be at a constant offset")
        return None
    off = reg.const_off()
    spi = slot_index(off)[0] if off < 0 else -1
    if off % BPF_REG_SIZE or spi + 1 < nr_slots:
        log.append(f"cannot pass in iter at an offset={off}")
        return None
    return spi


def _expected_stack(env: Env, regno: int, reg: RegState) -> None:
    if reg.type != RegType.PTR_TO_STACK:
        raise env.reject("iter_not_stack", i=regno - 1)


def new_iter_arg(env: Env, regno: int, reg: RegState, btf: Btf, btf_id: int) -> None:
    """process_iter_arg for a constructor: the slots become an active iterator holding a new reference."""
    _expected_stack(env, regno, reg)
    nr_slots = btf.types[btf_id].size // BPF_REG_SIZE
    log: list[str] = []
    spi = _spi(env, reg, nr_slots, log)
    frame = env.func(reg)
    if spi is None or any(SlotType.STACK_ITER in frame.stack[spi - k].slot_type
                          for k in range(nr_slots) if spi - k < len(frame.stack)):
        raise env.reject("iter_uninit_expected", *log, type=iter_type_str(btf, btf_id), i=regno - 1)
    for k in range(0, nr_slots * BPF_REG_SIZE, BPF_REG_SIZE):
        check_mem_access(env, regno, k, BPF_REG_SIZE, WRITE, -1)
    ref = acquire_reference(env)
    for k in range(nr_slots):
        mark = RegState(RegType.PTR_TO_STACK, ref_obj_id=ref if k == 0 else 0)
        mark.btf, mark.btf_id, mark.mem_size = btf, btf_id, nr_slots
        frame.stack[spi - k] = StackSlot(list(_ITER_BYTES), mark)
        env.log.scratch_stack(spi - k)
    note_slots_written(env, reg.frameno, range(spi, spi - nr_slots, -1))


def iter_arg(env: Env, regno: int, reg: RegState, btf: Btf, btf_id: int, destroy: bool) -> None:
    """process_iter_arg for an initialised iterator of type ``btf_id``; ``destroy``: released and forgotten."""
    _expected_stack(env, regno, reg)
    nr_slots = btf.types[btf_id].size // BPF_REG_SIZE
    spi = _spi(env, reg, nr_slots, [])
    frame = env.func(reg)
    if spi is None or not _is_init(frame, spi, nr_slots, btf_id):
        raise env.reject("iter_init_expected", type=iter_type_str(btf, btf_id), i=regno - 1)
    slots = range(spi, spi - nr_slots, -1)
    note_slots_read(env, reg.frameno, slots)
    if destroy:
        release_reference(env, frame.stack[spi].spilled_ptr.ref_obj_id)
        for k in range(nr_slots):
            frame.stack[spi - k] = StackSlot()
            env.log.scratch_stack(spi - k)
        note_slots_written(env, reg.frameno, slots)


def _is_init(frame: FuncState, spi: int, nr_slots: int, btf_id: int) -> bool:
    """is_iter_reg_valid_init: every slot STACK_ITER of this type, the reference on the first alone."""
    if spi >= len(frame.stack):
        return False
    for k in range(nr_slots):
        slot = frame.stack[spi - k]
        st = slot.spilled_ptr
        if bool(st.ref_obj_id) != (k == 0) or st.btf_id != btf_id or slot.slot_type != _ITER_BYTES:
            return False
    return True


__all__ = ["iter_arg", "new_iter_arg"]
