"""check_mem_access: loads and stores through every pointer type, and the stack's slots.

Stack accesses go through check_stack_write/read (spills and fills of
registers, STACK_MISC/ZERO bytes), context accesses through the program
type's field table, map values and packets through their bounds.
"""

from __future__ import annotations

import errno

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.verifier import speculative
from pybpf.verifier.backtrack import mark_chain_precision, stack_access
from pybpf.verifier.bounds import S64_MIN
from pybpf.verifier.btf_ptr import check_ptr_to_btf_access
from pybpf.verifier.env import Env
from pybpf.verifier.fields import check_map_value_fields
from pybpf.verifier.kptrs import check_map_kptr_access
from pybpf.verifier.linked import assign_scalar_id_before_mov
from pybpf.verifier.liveness import note_slots_written
from pybpf.verifier.progtypes import field_at
from pybpf.verifier.regs import (
    BPF_REG_SIZE,
    PKT_TYPES,
    RegState,
    RegType,
    TypeFlag,
    mark_reg_const_zero,
    mark_reg_unknown,
    reg_type_str,
)
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.stack import MAX_BPF_STACK, SlotType, destroy_dynptr, readable, slot_index
from pybpf.verifier.tnum import Tnum
from pybpf.verifier.tracing import check_btf_ctx_access

BPF_MAX_VAR_OFF = 1 << 29
MAX_PACKET_OFF = 0xFFFF
READ, WRITE = "read", "write"


def _tnum_text(reg: RegState) -> str:
    v = reg.s.var_off
    return str(v.value) if not v.mask else str(v)


def _width(s: Scalar) -> int:
    return s.umax.bit_length()


def stack_bounds(env: Env, regno: int, reg: RegState, off: int, size: int, access: str) -> None:
    """check_stack_access_within_bounds."""
    if not reg.s.var_off.mask:
        lo = off + reg.s.var_off.value - (1 << 64 if reg.s.var_off.value >> 63 else 0)
        hi = lo
    else:
        if reg.s.smax >= BPF_MAX_VAR_OFF or reg.s.smin <= -BPF_MAX_VAR_OFF:
            raise env.reject("stack_var_unbounded", access="read from" if access == READ else "write to", reg=regno)
        lo, hi = reg.s.smin + off, reg.s.smax + off
    frame = env.func(reg)
    # without allow_uninit_stack a read must stay inside the stack written so far
    lowest = -frame.allocated_stack if access == READ and not env.allow_uninit_stack else -MAX_BPF_STACK
    if lo < lowest or hi + size > 0:
        where = "read from" if access == READ else "write to"
        if not reg.s.var_off.mask:
            rej = env.reject("stack_write_oob" if access == WRITE else "stack_read_oob", reg=regno, off=lo, size=size)
        else:
            rej = env.reject("stack_var_oob", access=where, reg=regno, var_off=str(reg.s.var_off), off=off, size=size)
        # the lowest byte outside the stack: EACCES; only the end reaching fp or above: EINVAL
        rej.errno = errno.EINVAL if lowest <= lo < 0 else errno.EACCES
        raise rej
    frame.grow_stack(-lo)
    sub = env.subprog_of(env.insn_idx) if reg.frameno == env.cur.curframe else None
    if sub is not None:
        env.stack_depth[sub] = max(env.stack_depth.get(sub, 0), -lo)


def _const_off(reg: RegState) -> int:
    v = reg.s.var_off.value
    return v - (1 << 64) if v >> 63 else v


def check_stack_write(env: Env, regno: int, reg: RegState, off: int, size: int, value: RegState | None,
                      imm: int | None) -> None:
    frame = env.func(reg)
    if reg.s.var_off.mask:
        # variable offset: every byte that may be written becomes STACK_MISC
        lo, hi = reg.s.smin + off, reg.s.smax + off + size
        for a in range(lo, hi):
            spi, k = slot_index(a)
            note_slots_written(env, reg.frameno, destroy_dynptr(frame.stack, spi))
            slot = frame.stack[spi]
            if slot.is_spilled_reg():
                slot.slot_type = [SlotType.STACK_MISC] * BPF_REG_SIZE
                slot.spilled_ptr = RegState()
            slot.slot_type[k] = SlotType.STACK_MISC
            env.log.scratch_stack(spi)
        return
    off += reg.s.var_off.value - (1 << 64 if reg.s.var_off.value >> 63 else 0)
    for touched in {slot_index(off)[0], slot_index(off + size - 1)[0]}:
        # a store into a dynptr's slot forgets the dynptr
        note_slots_written(env, reg.frameno, destroy_dynptr(frame.stack, touched))
    spi, _ = slot_index(off)
    slot = frame.stack[spi]
    if not env.allow_ptr_leaks and slot.is_spilled_reg() and not slot.is_spilled_scalar() and size != BPF_REG_SIZE:
        raise env.reject("corrupt_spilled_ptr")
    speculative.note_stack_write(env, slot, value, size)
    env.log.scratch_stack(spi)
    spill = stack_access(reg.frameno, spi)  # the history names the slot only for a register spill
    if env.liveness is not None and size == BPF_REG_SIZE:
        env.liveness.write(reg.frameno, spi)
    aligned = off % BPF_REG_SIZE == 0
    if aligned and size == BPF_REG_SIZE and not reg.frameno and not env.cur.curframe:
        aux = env.aux[env.insn_idx]
        if not aux.stack_writes >> spi & 1:
            aux.stack_writes |= 1 << spi
            env.stack_seen += 1
    if value is not None and aligned and value.type == RegType.SCALAR_VALUE and env.allow_ptr_leaks:
        assign_scalar_id_before_mov(env, value)  # the spilled copy stays linked to the register
        save_register_state(env, slot, value, size)
        if _width(value.s) > size * 8:
            slot.spilled_ptr.id = 0
        env.cur.history[-1] |= spill
        return
    if value is None and imm is not None and aligned and env.allow_ptr_leaks:
        save_register_state(env, slot, RegState(RegType.SCALAR_VALUE, Scalar.const(imm)), size)
        env.cur.history[-1] |= spill
        return
    if value is not None and value.is_pointer():
        if size != BPF_REG_SIZE:
            raise env.reject("spill_ptr_partial")
        save_register_state(env, slot, value, size)
        env.cur.history[-1] |= spill
        return
    stype = SlotType.STACK_MISC
    if slot.is_spilled_reg():
        slot.slot_type = [SlotType.STACK_MISC if t == SlotType.STACK_SPILL else t for t in slot.slot_type]
    slot.spilled_ptr = RegState()
    if (value is not None and value.is_const() and value.s.var_off.value == 0) or (value is None and imm == 0):
        stype = SlotType.STACK_ZERO
        if value is not None:  # no spill: the register's zero is relied on, so it must be precise (as 6.18)
            mark_chain_precision(env, env.insns[env.insn_idx].src)
    for i in range(size):
        s2, k = slot_index(off + i)
        frame.stack[s2].slot_type[k] = stype


def save_register_state(env: Env, slot, value: RegState, size: int) -> None:
    slot.spilled_ptr = value.clone()
    for k in range(BPF_REG_SIZE - 1, BPF_REG_SIZE - 1 - size, -1):
        slot.slot_type[k] = SlotType.STACK_SPILL
    for k in range(BPF_REG_SIZE - size):
        t = slot.slot_type[k]
        if t == SlotType.STACK_ZERO or (t == SlotType.STACK_INVALID and env.allow_ptr_leaks):
            continue
        slot.slot_type[k] = SlotType.STACK_MISC


def _liveness_read(env: Env, reg: RegState, lo: int, hi: int) -> None:
    """The slots a read of [lo, hi) below fp may touch (every offset a variable one may take)."""
    if reg.s.var_off.mask:
        base = _const_off(reg)
        lo, hi = lo - base + reg.s.smin, hi - base + reg.s.smax
    env.liveness.read_range(reg, lo, hi)


def note_stack_read(env: Env, reg: RegState, lo: int, hi: int) -> None:
    """Remember which frame-0 slots this instruction reads ([lo, hi) below fp), for stack liveness."""
    if env.liveness is not None:
        _liveness_read(env, reg, lo, hi)
    aux = env.aux[env.insn_idx]
    before = aux.stack_reads
    if reg.frameno or env.cur.curframe or reg.s.var_off.mask:
        aux.stack_reads = -1
    else:
        for a in range(lo, hi):
            aux.stack_reads |= 1 << slot_index(a)[0]
    if aux.stack_reads != before:
        env.stack_seen += 1  # stack_live_before's cache is stale


def check_stack_read(env: Env, regno: int, reg: RegState, off: int, size: int, dst: int) -> None:
    frame = env.func(reg)
    note_stack_read(env, reg, off + _const_off(reg), off + _const_off(reg) + size)
    regs = env.regs()
    if reg.s.var_off.mask:
        lo, hi = reg.s.smin + off, reg.s.smax + off + size
        zeros = True
        for a in range(lo, hi):
            spi, k = slot_index(a)
            t = frame.stack[spi].slot_type[k]
            zeros &= t == SlotType.STACK_ZERO
            if not readable(t, env.allow_uninit_stack):
                raise env.reject("stack_uninit_read", off=lo, i=a - lo, size=size)
        if dst >= 0:
            mark_reg_const_zero(env, regs[dst]) if zeros else mark_reg_unknown(env, regs[dst])
        return
    off += reg.s.var_off.value - (1 << 64 if reg.s.var_off.value >> 63 else 0)
    spi, _k0 = slot_index(off)
    slot = frame.stack[spi]
    env.log.scratch_stack(spi)
    # the history names the slot only where a spilled register is restored: precision follows it there
    fill = stack_access(reg.frameno, spi)
    stype = slot.slot_type
    if slot.is_spilled_reg():
        spill_size = 1
        i = BPF_REG_SIZE - 1
        while i > 0 and stype[i - 1] == SlotType.STACK_SPILL:
            spill_size += 1
            i -= 1
        sp = slot.spilled_ptr
        if size != BPF_REG_SIZE or spill_size != BPF_REG_SIZE:
            if sp.type != RegType.SCALAR_VALUE:
                raise env.reject("invalid_fill")
            if dst < 0:
                return
            if size <= spill_size and off % BPF_REG_SIZE == 0:
                regs[dst] = sp.clone()
                if _width(sp.s) > size * 8:
                    regs[dst].id = 0
                env.cur.history[-1] |= fill
                return
            spill_cnt = zero_cnt = 0
            for i in range(size):
                s2, k = slot_index(off + i)
                t = frame.stack[s2].slot_type[k]
                if t == SlotType.STACK_SPILL:
                    spill_cnt += 1
                elif t == SlotType.STACK_ZERO:
                    zero_cnt += 1
                elif not readable(t, env.allow_uninit_stack):
                    raise env.reject("stack_uninit_read", off=off, i=i, size=size)
            if spill_cnt == size and sp.is_const() and sp.s.var_off.value == 0:
                mark_reg_const_zero(env, regs[dst])
                env.cur.history[-1] |= fill  # a fill of the spilled zero
            elif zero_cnt == size:
                mark_reg_const_zero(env, regs[dst])
            else:
                mark_reg_unknown(env, regs[dst])
            return
        env.cur.history[-1] |= fill
        if dst >= 0:
            regs[dst] = sp.clone()
        elif sp.is_pointer() and not env.allow_ptr_leaks:  # an atomic would use it as a number
            raise env.reject("leaking_ptr_stack", off=off)
        return
    zeros = 0
    for i in range(size):
        s2, k = slot_index(off + i)
        t = frame.stack[s2].slot_type[k]
        if t == SlotType.STACK_ZERO:
            zeros += 1
        elif not readable(t, env.allow_uninit_stack):
            raise env.reject("stack_uninit_read", off=off, i=i, size=size)
    if dst >= 0:
        if zeros == size:
            mark_reg_const_zero(env, regs[dst])
        else:
            mark_reg_unknown(env, regs[dst])


def check_ctx_reg(env: Env, regno: int, reg: RegState, off: int, size: int) -> None:
    """The context pointer must be the one the program got: no offset added to it."""
    if reg.off or reg.s.var_off.mask or reg.s.var_off.value:
        if reg.s.var_off.mask:
            raise env.reject("variable_ctx", var_off=str(reg.s.var_off), off=off, size=size)
        raise env.reject("modified_ctx", reg=regno, off=reg.off)


def check_ctx_access(env: Env, regno: int, reg: RegState, off: int, size: int, access: str) -> int:
    """The program type's context: returns the RegType a read yields (SCALAR_VALUE for data)."""
    check_ctx_reg(env, regno, reg, off, size)
    info = env.info
    ok, ptr = _ctx_ok(info, off, size, access, env.unpriv)
    if not ok:
        raise env.reject("ctx_access", off=off, size=size)
    return ptr


def _ctx_ok(info, off: int, size: int, access: str, unpriv: bool) -> tuple[bool, int]:
    if off < 0 or off >= info.ctx_size or off % size:
        return False, 0
    if info.fields is None:  # pt_regs-like: any aligned read
        ok = (access == READ or info.ctx_write) and info.ctx_min <= off and off + size <= info.ctx_size
        return ok, RegType.SCALAR_VALUE
    f = field_at(info, off)
    if f is None or (off + size > f.off + f.size and not f.name.startswith("cb[")):
        return False, 0
    if f.name.startswith("cb["):
        return off + size <= 68 and (access == READ or size <= 8), RegType.SCALAR_VALUE
    if access == WRITE:
        return f.write and not (unpriv and f.write_cap_bpf) and size == f.size, RegType.SCALAR_VALUE
    if not f.read or (unpriv and f.read_cap_bpf):
        return False, 0
    if not f.narrow:
        return size == f.size, f.ptr
    return size <= f.size and size & (size - 1) == 0, f.ptr


def _mem_line(what: str, mem_size: int, off: int, size: int) -> str:
    if what == "map":
        return f"invalid access to map value, value_size={mem_size} off={off} size={size}"
    return f"invalid access to memory, mem_size={mem_size} off={off} size={size}"


def check_mem_access(env: Env, regno: int, off: int, size: int, access: str, value_regno: int,
                     imm: int | None = None, sign_ext: bool = False) -> None:
    """Check one load (value_regno = destination) or store (value_regno = source, -1 for an immediate)."""
    regs = env.regs()
    reg = regs[regno]
    t = reg.type
    base = t & 0xFF
    if base == RegType.PTR_TO_STACK and not (t & TypeFlag.PTR_MAYBE_NULL):
        full = reg.off + off
        # strict for the stack whatever the program's flags: every possible address must be size-aligned
        if not reg.s.var_off.add(Tnum.const(full)).is_aligned(size):
            raise env.reject("misaligned", desc="stack ", var_off=_tnum_text(reg), off=reg.off, ioff=off, size=size)
        stack_bounds(env, regno, reg, full, size, access)
        if access == WRITE:
            value = regs[value_regno] if value_regno >= 0 else None
            check_stack_write(env, regno, reg, full, size, value, imm)
        else:
            check_stack_read(env, regno, reg, full, size, value_regno)
            _coerce(env, value_regno, size, sign_ext)
        return
    if t == RegType.PTR_TO_CTX:
        if access == WRITE and value_regno >= 0 and regs[value_regno].is_pointer() and not env.allow_ptr_leaks:
            raise env.reject("leaks_addr", reg=value_regno, what="ctx")
        if env.info.btf_ctx:
            check_ctx_reg(env, regno, reg, off, size)
            check_btf_ctx_access(env, off, size, access, value_regno)
            _coerce(env, value_regno, size, sign_ext)
            return
        ptr = check_ctx_access(env, regno, reg, off, size, access)
        if access == READ:
            dst = regs[value_regno]
            if ptr == RegType.SCALAR_VALUE:
                mark_reg_unknown(env, dst)
                _coerce(env, value_regno, size, sign_ext)
            elif ptr == RegType.PTR_TO_SOCK_COMMON:
                dst.set_ptr(RegType.PTR_TO_SOCK_COMMON | TypeFlag.PTR_MAYBE_NULL, id=env.new_id())
            else:
                dst.set_ptr(ptr)
        return
    if t == RegType.PTR_TO_MAP_VALUE:
        if access == WRITE and value_regno >= 0 and regs[value_regno].is_pointer() and not env.allow_ptr_leaks:
            raise env.reject("leaks_addr", reg=value_regno, what="map")
        vs = reg.map.value_size if reg.map else 0
        check_map_access_type(env, reg, reg.off + off, size, access)
        map_value_access(env, regno, reg, reg.off + off, size, vs)
        kptr = check_map_value_fields(env, regno, reg, reg.off + off, size)
        if kptr is not None:
            check_map_kptr_access(env, value_regno, reg, kptr)
            return
        if access == READ:
            known = _frozen_value(reg, reg.off + off, size, sign_ext)
            if known is None:
                mark_reg_unknown(env, regs[value_regno])
            else:  # __mark_reg_known: the precise mark stays what it was
                regs[value_regno].set_scalar(Scalar.const(known))
            _coerce(env, value_regno, size, sign_ext)
        return
    if t == RegType.PTR_TO_MAP_KEY:  # a for_each_map_elem callback's key (V1's hook)
        from pybpf.verifier.callbacks import check_map_key_access

        check_map_key_access(env, regno, reg, off, size, access == WRITE, value_regno)
        return
    if base in PKT_TYPES and not (t & TypeFlag.PTR_MAYBE_NULL):
        if access == WRITE and not env.info.pkt_write:
            raise env.reject("cannot_write_pkt")
        check_packet_access(env, regno, reg, off, size)
        if access == READ:
            mark_reg_unknown(env, regs[value_regno])
            _coerce(env, value_regno, size, sign_ext)
        return
    if base == RegType.PTR_TO_MEM and not (t & TypeFlag.PTR_MAYBE_NULL):
        if access == WRITE and t & TypeFlag.MEM_RDONLY:
            raise env.reject("cannot_write_rdonly", reg=regno, type=reg_type_str(t))
        mem_access(env, regno, reg, reg.off + off, size, reg.mem_size)
        if access == READ:
            mark_reg_unknown(env, regs[value_regno])
            _coerce(env, value_regno, size, sign_ext)
        return
    if base == RegType.PTR_TO_BTF_ID and not (t & TypeFlag.PTR_MAYBE_NULL):
        check_ptr_to_btf_access(env, regno, reg, reg.off + off, size, access, value_regno)
        if access == READ:
            _coerce(env, value_regno, size, sign_ext)
        return
    if t == RegType.CONST_PTR_TO_MAP and access == READ and off >= 0:
        # root may read the kernel's struct bpf_map through its BTF description
        mark_reg_unknown(env, regs[value_regno])
        _coerce(env, value_regno, size, sign_ext)
        return
    raise env.reject("invalid_mem_access", reg=regno, type=reg_type_str(t))


def _frozen_value(reg: RegState, off: int, size: int, sign_ext: bool) -> int | None:
    """bpf_map_direct_read: a load at a known offset of a read-only map frozen before the load (.rodata)
    reads what the map holds, as a known scalar."""
    m = reg.map
    if m is None or not m.is_rdonly or reg.s.var_off.mask or m.map_type != MapType.ARRAY or m.max_entries != 1:
        return None
    at = off + reg.s.var_off.value
    raw = m.frozen_data[at:at + size]
    if len(raw) != size:
        return None
    return int.from_bytes(raw, "little", signed=sign_ext) & ((1 << 64) - 1)


def _coerce(env: Env, regno: int, size: int, sign_ext: bool) -> None:
    if regno < 0 or size >= BPF_REG_SIZE:
        return
    r = env.regs()[regno]
    if r.type == RegType.SCALAR_VALUE:
        r.s = r.s.coerce_sx(size) if sign_ext else r.s.coerce(size)


def check_map_access_type(env: Env, reg: RegState, off: int, size: int, access: str) -> None:
    """A map the program may only read (BPF_F_RDONLY_PROG, as .rodata is) or only write."""
    m = reg.map
    flags = m.flags if m is not None else 0
    if access == WRITE and flags & MapFlags.RDONLY_PROG:
        raise env.reject("map_access_forbidden", what="write into", vs=m.value_size, off=off, size=size)
    if access == READ and flags & MapFlags.WRONLY_PROG:
        raise env.reject("map_access_forbidden", what="read from", vs=m.value_size, off=off, size=size)


def map_value_access(env: Env, regno: int, reg: RegState, off: int, size: int, vs: int) -> None:
    s = reg.s
    if s.smin < 0 and (s.smin == S64_MIN or not -(1 << 31) <= off + s.smin < (1 << 31) or s.smin + off < 0):
        raise env.reject("min_negative", reg=regno)
    lo = off + s.smin
    if lo < 0 or size > vs or lo > vs - size:
        raise env.reject("map_min_oob", _mem_line("map", vs, lo, size), reg=regno)
    if s.umax >= BPF_MAX_VAR_OFF:
        raise env.reject("unbounded_access", reg=regno)
    hi = off + s.umax
    if size > vs or hi > vs - size:
        raise env.reject("map_max_oob", _mem_line("map", vs, hi, size), reg=regno)


def mem_access(env: Env, regno: int, reg: RegState, off: int, size: int, mem_size: int) -> None:
    s = reg.s
    if s.smin < 0 and (s.smin == S64_MIN or s.smin + off < 0):
        raise env.reject("min_negative", reg=regno)
    lo = off + s.smin
    if lo < 0 or size > mem_size or lo > mem_size - size:
        raise env.reject("map_min_oob", _mem_line("mem", mem_size, lo, size), reg=regno)
    if s.umax >= BPF_MAX_VAR_OFF:
        raise env.reject("unbounded_access", reg=regno)
    hi = off + s.umax
    if size > mem_size or hi > mem_size - size:
        raise env.reject("map_max_oob", _mem_line("mem", mem_size, hi, size), reg=regno)


def check_packet_access(env: Env, regno: int, reg: RegState, off: int, size: int) -> None:
    s = reg.s
    if s.smin < 0:
        raise env.reject("min_negative", reg=regno)
    full = reg.off + off
    if reg.range < 0 or full < 0 or size > reg.range or full > reg.range - size:
        # the kernel prints the access offset twice (as off= and inside the register's description)
        line = f"invalid access to packet, off={full} size={size}, R{regno}(id={reg.id},off={full},r={reg.range})"
        raise env.reject("pkt_offset", *(() if reg.range < 0 else (line,)), reg=regno)
