"""check_helper_call and check_func_call: helpers by prototype, BPF-to-BPF calls with frames."""

from __future__ import annotations

from pybpf.abi.uapi import MapType, ProgType
from pybpf.errors import InternalError
from pybpf.isa.helper_names import HELPER_NAMES
from pybpf.isa.insn import Insn
from pybpf.verifier.alu import check_reg_read
from pybpf.verifier.backtrack import mark_chain_precision, mark_stack_precise
from pybpf.verifier.callbacks import callback_exit, push_callback_call
from pybpf.verifier.env import Env
from pybpf.verifier.fields import check_map_value_fields
from pybpf.verifier.globalfunc import check_global_call
from pybpf.verifier.helper_protos import (
    MAP_LOOKUP_ELEM,
    MEM_ARGS,
    NULLABLE,
    PROBED_TYPES,
    PROTOS,
    TAIL_CALL,
    UNINIT_ARGS,
    Arg,
    Ret,
    helper_allowed,
)
from pybpf.verifier.kfunc_args import BPF_MAX_VAR_SIZ, check_const_str
from pybpf.verifier.kptrs import XCHG_DEST_EXPECTED, check_kptr_xchg_src, kptr_xchg_result, process_kptr_xchg_dest
from pybpf.verifier.locks import check_call_while_locked, is_spin_lock_holder
from pybpf.verifier.mem import (
    READ,
    WRITE,
    check_map_access_type,
    check_mem_access,
    check_packet_access,
    map_value_access,
    mem_access,
    note_stack_read,
    stack_bounds,
)
from pybpf.verifier.messages import rejection, text
from pybpf.verifier.regs import MapDesc, RegState, RegType, TypeFlag, mark_reg_not_init, mark_reg_unknown, reg_type_str
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.stack import SlotType, slot_index
from pybpf.verifier.state import MAX_CALL_FRAMES, FuncState, Reference

GET_FUNC_IP = 173
MAX_ERRNO = 4095
# get_stack, probe_read_str, probe_read_user_str, probe_read_kernel_str, get_task_stack: r0 <= the size argument
_SIZE_BOUNDED_RET = frozenset({67, 45, 114, 115, 141})
CALLER_SAVED = (0, 1, 2, 3, 4, 5)

_MEM_TYPES = (RegType.PTR_TO_STACK, RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META, RegType.PTR_TO_MAP_KEY,
              RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MEM, RegType.PTR_TO_MEM | TypeFlag.MEM_RINGBUF,
              RegType.PTR_TO_BUF)
_MEM_EXPECTED = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"

# helpers that only accept some map types, and map types only some helpers accept
_QUEUES = frozenset({MapType.QUEUE, MapType.STACK})
_DEVMAPS = frozenset({MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP})
_MAP_FUNCS = {
    MapType.PROG_ARRAY: frozenset({TAIL_CALL}),
    MapType.RINGBUF: frozenset({130, 131, 132, 133, 134}),
    MapType.QUEUE: frozenset({87, 88, 89}),
    MapType.STACK: frozenset({87, 88, 89}),
    MapType.PERF_EVENT_ARRAY: frozenset({22, 25, 55, 111, 121}),
    MapType.STACK_TRACE: frozenset({27}),
}
_FUNC_MAPS = {TAIL_CALL: frozenset({MapType.PROG_ARRAY}), 130: frozenset({MapType.RINGBUF}),
              131: frozenset({MapType.RINGBUF}), 134: frozenset({MapType.RINGBUF}),
              87: _QUEUES | {MapType.BLOOM_FILTER}, 88: _QUEUES | {MapType.BLOOM_FILTER},
              89: _QUEUES | {MapType.BLOOM_FILTER}, 25: frozenset({MapType.PERF_EVENT_ARRAY}),
              27: frozenset({MapType.STACK_TRACE}), 51: _DEVMAPS}
# for the expected= list of a refused argument: compatible_reg_types' names
_EXPECTED = {Arg.PTR_TO_FUNC: "func", Arg.PTR_TO_STACK_OR_NULL: "fp", Arg.PTR_TO_CONST_STR: "map_value",
             Arg.PTR_TO_TIMER: "map_value", Arg.PTR_TO_SPIN_LOCK: "map_value, ptr_"}


_KPTR_DEST_TYPES = (RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_BTF_ID | TypeFlag.MEM_ALLOC)
_ELIDE_NULL = frozenset({MapType.ARRAY, MapType.PERCPU_ARRAY})


def _constant_key(env: Env, reg: RegState, size: int) -> int | None:
    """get_constant_map_key: the key on the stack is known.

    Either the bytes from the key's first one to the top of its slot are zeroed, at least ``size`` of
    them; or they are a spilled constant exactly ``size`` bytes long (an 8-byte spill read as a 4-byte
    key is not one), whose value, made precise, is the key.
    """
    if reg.type != RegType.PTR_TO_STACK or reg.s.var_off.mask:
        return None
    spi, k = slot_index(reg.const_off())
    slot = env.func(reg).stack[spi]
    types = slot.slot_type[k::-1]  # the key's first byte, then up to the slot's top
    if _run(types, SlotType.STACK_ZERO) >= size:
        return 0
    if not slot.is_spilled_scalar() or _run(types, SlotType.STACK_SPILL) != size or slot.spilled_ptr.s.var_off.mask:
        return None
    mark_stack_precise(env, reg.frameno, spi)  # the verdict now rests on that value: no pruning over it
    return slot.spilled_ptr.s.var_off.value


def _run(types, kind: SlotType) -> int:
    """How many of ``types``, from the first, are ``kind``."""
    n = 0
    for t in types:
        if t != kind:
            break
        n += 1
    return n


def _helper_name(func_id: int) -> str:
    return HELPER_NAMES[func_id]


CLOBBER = "clobber"  # a write to memory already checked as read: a kfunc's buffer (check_kfunc_mem_size_reg)


def _check_mem_arg(env: Env, regno: int, reg: RegState, size: int, access: str, zero_ok: bool) -> None:
    """check_helper_mem_access: the memory ``reg`` points to holds ``size`` bytes the helper may read/write
    (``CLOBBER``: write bytes already checked as read)."""
    base = reg.type & 0xFF
    if size == 0 and not zero_ok:
        raise env.reject("zero_sized_read")
    if base == RegType.PTR_TO_STACK and access == CLOBBER:
        if size and not reg.s.var_off.mask:
            _clobber_stack(env, reg, size)
        return
    if access == CLOBBER:
        access = WRITE
    if base == RegType.PTR_TO_STACK:
        if size == 0:
            return
        off = reg.off
        stack_bounds(env, regno, reg, off, size, access)
        if reg.s.var_off.mask:
            if access == READ:
                note_stack_read(env, reg, 0, 0)
            return
        off = reg.const_off()
        frame = env.func(reg)
        if access == READ:
            note_stack_read(env, reg, off, off + size)
        for i in range(size):
            spi, k = slot_index(off + i)
            slot = frame.stack[spi]
            if access == WRITE:
                env.log.scratch_stack(spi)
                continue
            t = slot.slot_type[k]
            if (t == SlotType.STACK_INVALID and not env.allow_uninit_stack) or (
                    t == SlotType.STACK_SPILL and not slot.is_spilled_scalar() and not env.allow_ptr_leaks):
                raise env.reject("indirect_uninit", reg=regno, off=off, i=i, size=size)
            if t == SlotType.STACK_DYNPTR:
                raise env.reject("stack_read_special", reg=regno, off=off, i=i, size=size)
        if access == WRITE:
            for i in range(size):
                spi, k = slot_index(off + i)
                slot = frame.stack[spi]
                if slot.is_spilled_reg():
                    slot.slot_type = [SlotType.STACK_MISC] * 8
                    slot.spilled_ptr = RegState()
                slot.slot_type[k] = SlotType.STACK_MISC
        return
    if base in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        check_packet_access(env, regno, reg, 0, size)
        return
    if base == RegType.PTR_TO_MAP_VALUE:
        check_map_access_type(env, reg, reg.off, size, access)
        map_value_access(env, regno, reg, reg.off, size, reg.map.value_size if reg.map else 0)
        check_map_value_fields(env, regno, reg, reg.off, size, helper=True)
        return
    if base == RegType.PTR_TO_MEM:
        if access == WRITE and reg.type & TypeFlag.MEM_RDONLY:
            raise env.reject("cannot_write_rdonly", reg=regno, type=reg_type_str(reg.type))
        mem_access(env, regno, reg, reg.off, size, reg.mem_size)
        return


def _clobber_stack(env: Env, reg: RegState, size: int) -> None:
    """check_stack_range_initialized's clobber: what the callee may write is some value (STACK_MISC), a
    spilled scalar among it scrubbed (its bytes MISC, the never-written ones left INVALID)."""
    off = reg.const_off()
    frame = env.func(reg)
    for i in range(size):
        spi, k = slot_index(off + i)
        slot = frame.stack[spi]
        if slot.is_spilled_reg():
            slot.slot_type = [SlotType.STACK_INVALID if t == SlotType.STACK_INVALID else SlotType.STACK_MISC
                              for t in slot.slot_type]
            slot.spilled_ptr = RegState()
        elif slot.slot_type[k] in (SlotType.STACK_ZERO, SlotType.STACK_INVALID):
            slot.slot_type[k] = SlotType.STACK_MISC


def _expect(env: Env, regno: int, reg: RegState, ok: bool, expected: str) -> None:
    if not ok:
        raise env.reject("arg_type", reg=regno, type=reg_type_str(reg.type), expected=expected)


def check_helper_call(env: Env, ins: Insn) -> None:
    func_id = ins.imm
    check_call_while_locked(env, func_id)
    if not 0 <= func_id < len(HELPER_NAMES):
        raise env.reject("invalid_func", id=func_id)
    name = _helper_name(func_id)
    proto = PROTOS.get(func_id)
    if not helper_allowed(func_id, env.prog_type, env.unpriv):
        raise env.reject("helper_not_allowed", name=name, id=func_id)
    if proto is None:
        raise InternalError(f"helper {name}#{func_id} is not modelled by pybpf's verifier")
    regs = env.regs()
    the_map: MapDesc | None = None
    mem_reg: tuple[int, RegState, str] | None = None
    release_ref = 0
    const_key: int | None = None
    alloc_size = 0
    kptr_dest = None  # bpf_kptr_xchg's kptr field and the BTF it is in
    msize_max = 0  # the largest size a CONST_SIZE argument may have
    callback = -1
    for i, arg in enumerate(proto.args):
        regno = i + 1
        reg = check_reg_read(env, regno)
        t = reg.type
        if arg is Arg.ANYTHING:
            if reg.is_pointer() and not env.allow_ptr_leaks:
                raise env.reject("leaks_addr", reg=regno, what="helper function")
            continue
        if arg in NULLABLE and reg.is_const() and reg.s.var_off.value == 0:
            if arg in MEM_ARGS:
                mem_reg = (regno, reg, READ)
            continue
        if arg in _EXPECTED:
            ok = {Arg.PTR_TO_FUNC: RegType.PTR_TO_FUNC, Arg.PTR_TO_STACK_OR_NULL: RegType.PTR_TO_STACK}.get(
                arg, RegType.PTR_TO_MAP_VALUE)
            # a lock may also live in an object the program allocated (V2a's PTR_TO_BTF_ID | MEM_ALLOC)
            alloc_lock = arg is Arg.PTR_TO_SPIN_LOCK and t == RegType.PTR_TO_BTF_ID | TypeFlag.MEM_ALLOC
            _expect(env, regno, reg, t == ok or alloc_lock, _EXPECTED[arg])
            if arg is Arg.PTR_TO_FUNC:
                callback = reg.mem_size  # the callback's first instruction (callbacks.ld_imm64_func)
            elif arg is Arg.PTR_TO_CONST_STR:
                check_const_str(env, regno, reg)  # shared with the kfuncs' __str arguments
            elif arg is Arg.PTR_TO_TIMER:
                _check_timer(env, regno, reg)
            elif arg is Arg.PTR_TO_SPIN_LOCK:
                from pybpf.verifier.locks import process_spin_lock

                process_spin_lock(env, regno, reg, is_lock=(func_id == 93))
            continue
        if arg is Arg.KPTR_XCHG_DEST:
            _expect(env, regno, reg, t in _KPTR_DEST_TYPES, XCHG_DEST_EXPECTED)
            kptr_dest = process_kptr_xchg_dest(env, regno, reg)
            continue
        if arg is Arg.PTR_TO_BTF_ID_OR_NULL_RELEASE:
            release_ref = check_kptr_xchg_src(env, regno, reg, kptr_dest)
            continue
        if arg is Arg.CONST_MAP_PTR:
            _expect(env, regno, reg, t == RegType.CONST_PTR_TO_MAP, "map_ptr")
            if proto.args[0] is Arg.PTR_TO_TIMER and regs[1].map is not reg.map:  # bpf_timer_init
                raise env.reject("timer_map_mismatch", uid1=0, uid2=0)
            the_map = reg.map
        elif arg is Arg.PTR_TO_CTX:
            _expect(env, regno, reg, t == RegType.PTR_TO_CTX, "ctx")
        elif arg in (Arg.PTR_TO_MAP_KEY, Arg.PTR_TO_MAP_VALUE, Arg.PTR_TO_UNINIT_MAP_VALUE):
            _expect(env, regno, reg, t in _MEM_TYPES, _MEM_EXPECTED)
            assert the_map is not None
            size = the_map.key_size if arg is Arg.PTR_TO_MAP_KEY else the_map.value_size
            _check_mem_arg(env, regno, reg, size, WRITE if arg is Arg.PTR_TO_UNINIT_MAP_VALUE else READ, False)
            if arg is Arg.PTR_TO_MAP_KEY and the_map.map_type in _ELIDE_NULL and not env.unpriv:
                # get_constant_map_key (bpf_capable) for every helper with a key: its spill is made precise
                const_key = _constant_key(env, reg, size)
        elif arg in MEM_ARGS:
            _expect(env, regno, reg, t in _MEM_TYPES, _MEM_EXPECTED)
            mem_reg = (regno, reg, WRITE if arg in UNINIT_ARGS else READ)
        elif arg in (Arg.CONST_SIZE, Arg.CONST_SIZE_OR_ZERO):
            _expect(env, regno, reg, reg.is_scalar(), "scalar")
            s = reg.s
            msize_max = s.umax
            if s.smin < 0:
                raise env.reject("min_neg_size", reg=regno)
            if s.umin == 0 and arg is Arg.CONST_SIZE:
                raise env.reject("zero_size", reg=regno, umin=s.umin, umax=s.umax)
            if s.umax >= BPF_MAX_VAR_SIZ:
                raise env.reject("unbounded_size", reg=regno)
            assert mem_reg is not None
            if mem_reg[1].is_scalar():  # a NULL buffer: only a size of zero goes with it
                if s.umax:
                    _expect(env, mem_reg[0], mem_reg[1], False, "fp")  # check_helper_mem_access's default
            else:
                _check_mem_arg(env, mem_reg[0], mem_reg[1], s.umax, mem_reg[2], arg is Arg.CONST_SIZE_OR_ZERO)
            mark_chain_precision(env, regno)
        elif arg is Arg.CONST_ALLOC_SIZE_OR_ZERO:
            _expect(env, regno, reg, reg.is_scalar(), "scalar")
            if not reg.is_const():
                raise env.reject("not_const", reg=regno)
            alloc_size = reg.s.var_off.value
            mark_chain_precision(env, regno)
        elif arg is Arg.PTR_TO_RINGBUF_MEM_RELEASE:
            _expect(env, regno, reg, t == RegType.PTR_TO_MEM | TypeFlag.MEM_RINGBUF, "ringbuf_mem")
            if not reg.ref_obj_id:
                raise env.reject("release_bad", reg=regno)
            release_ref = reg.ref_obj_id
    if func_id == TAIL_CALL and the_map is not None and the_map.map_type == MapType.PROG_ARRAY:
        _record_func_key(env, regs[3], the_map)
    if callback >= 0:
        push_callback_call(env, func_id, callback, the_map)
    if func_id == GET_FUNC_IP and env.prog_type in PROBED_TYPES - {ProgType.KPROBE}:  # tracing types: V2a
        raise env.reject("func_not_supported", name=name, id=func_id, prog_type=env.prog_type)
    if the_map is not None:
        ok_funcs = _MAP_FUNCS.get(the_map.map_type)
        ok_maps = _FUNC_MAPS.get(func_id)
        bad_func = ok_funcs is not None and func_id not in ok_funcs
        if bad_func or (ok_maps is not None and the_map.map_type not in ok_maps):
            if func_id == TAIL_CALL:
                # the kernel's line has no newline: the log runs on into the next line
                env.log.write(text("tail_call_map"))
                raise rejection("tail_call_map", env.insn_idx)
            raise env.reject("map_func_compat", map_type=the_map.map_type, name=name, id=func_id)
    if release_ref:
        env.cur.refs = [r for r in env.cur.refs if r.id != release_ref]
        for f in env.cur.frames:
            for r in f.regs:
                if r.ref_obj_id == release_ref:
                    mark_reg_unknown(env, r)
    for r in CALLER_SAVED:
        mark_reg_not_init(env, regs[r])
        env.log.scratch_reg(r)
    r0 = regs[0]
    if proto.ret is Ret.INTEGER:
        mark_reg_unknown(env, r0)
        if func_id == 8:  # get_smp_processor_id
            r0.s = Scalar.range(smin=0, smax=env.nr_cpu_ids - 1, umax=env.nr_cpu_ids - 1,
                                s32_min=0, s32_max=env.nr_cpu_ids - 1, u32_max=env.nr_cpu_ids - 1)
        elif func_id in _SIZE_BOUNDED_RET:  # do_refine_retval_range: -errno, or at most the buffer's size
            r0.s = Scalar.range(smin=-MAX_ERRNO, smax=msize_max, s32_min=-MAX_ERRNO, s32_max=msize_max)
    elif proto.ret is Ret.PTR_TO_MAP_VALUE_OR_NULL:
        in_bounds = const_key is not None and the_map is not None and 0 <= const_key < the_map.max_entries
        if func_id == MAP_LOOKUP_ELEM and in_bounds:
            r0.set_ptr(RegType.PTR_TO_MAP_VALUE, map=the_map)  # an array slot that exists: never NULL
            if is_spin_lock_holder(r0):
                r0.id = env.new_id()  # the lock in it is named by the value's id
        else:
            r0.set_ptr(RegType.PTR_TO_MAP_VALUE | TypeFlag.PTR_MAYBE_NULL, map=the_map, id=env.new_id())
    elif proto.ret is Ret.PTR_TO_BTF_ID_OR_NULL:
        assert kptr_dest is not None
        kptr_xchg_result(env, kptr_dest)
    elif proto.ret is Ret.PTR_TO_RINGBUF_MEM_OR_NULL:
        env.new_id()  # the kernel numbers the returned pointer's id first, then the reference
        rid = env.new_id()
        env.cur.refs.append(Reference(rid, env.insn_idx))
        r0.set_ptr(RegType.PTR_TO_MEM | TypeFlag.MEM_RINGBUF | TypeFlag.PTR_MAYBE_NULL, id=rid, ref_obj_id=rid,
                   mem_size=alloc_size)


def _record_func_key(env: Env, r3: RegState, the_map: MapDesc) -> None:
    """record_func_key: a constant index inside the prog array is relied on, so it must be precise."""
    if r3.is_const() and r3.s.var_off.value < the_map.max_entries:
        mark_chain_precision(env, 3)


def _check_timer(env: Env, regno: int, reg: RegState) -> None:
    """process_timer_func: a constant offset onto the map value's one bpf_timer."""
    if reg.s.var_off.mask:
        raise env.reject("timer_var_off", reg=regno)
    m = reg.map
    assert m is not None
    if not getattr(m, "btf_value_type_id", 0):
        raise env.reject("timer_map_no_btf", name=m.name)
    rec = getattr(m, "record", None)
    if rec is None or rec.timer_off < 0:
        raise env.reject("timer_no_field", name=m.name)
    off = reg.s.var_off.value + reg.off
    if off != rec.timer_off:
        raise env.reject("timer_wrong_off", off=off, timer_off=rec.timer_off)


def check_func_call(env: Env, ins: Insn) -> int:
    """A BPF-to-BPF call: a new frame whose r1-r5 are the caller's; returns the callee's first insn."""
    st = env.cur
    if st.curframe + 1 >= MAX_CALL_FRAMES:
        raise env.reject("call_stack_too_deep", n=st.curframe + 2)
    target = env.insn_idx + ins.imm + 1
    fn = env.globals.get(target)
    if fn is not None:
        return check_global_call(env, fn, _check_mem_arg)
    caller = st.cur
    callee = FuncState(frameno=st.curframe + 1, callsite=env.insn_idx, subprogno=target)
    callee.init_regs(env.unpriv)
    for r in range(1, 6):
        callee.regs[r] = caller.regs[r].clone()
    st.frames.append(callee)
    for r in CALLER_SAVED:
        mark_reg_not_init(env, caller.regs[r])
    log = env.log
    if log.level:
        log.write("caller:\n")
        log.write(log.frame_line(st, caller) + "\n")
        log.write("callee:\n")
        log.write(log.frame_line(st, callee) + "\n")
    log.clean()
    return target


def prepare_func_exit(env: Env) -> int:
    """Return from a subprogram: r0 goes to the caller, whose next instruction is returned."""
    st = env.cur
    if st.cur.regs[0].type == RegType.PTR_TO_STACK:
        raise env.reject("return_stack_ptr")
    if st.cur.in_callback_fn:
        return callback_exit(env)
    callee = st.frames.pop()
    caller = st.cur
    # r0 goes back as it is, even unwritten: the caller's use of it is what gets checked
    caller.regs[0] = callee.regs[0].clone()
    log = env.log
    if log.level:
        log.write("returning from callee:\n")
        log.write(log.frame_line(st, callee) + "\n")
        log.write(f"to caller at {callee.callsite + 1}:\n")
        log.write(log.frame_line(st, caller) + "\n")
    log.clean()
    return callee.callsite + 1


check_helper_mem_access = _check_mem_arg  # kfunc memory arguments are checked as helpers' are

__all__ = ["check_func_call", "check_helper_call", "check_helper_mem_access", "check_mem_access",
           "prepare_func_exit"]
