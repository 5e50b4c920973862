"""Callbacks: a subprogram's address (``ld_imm64`` src=4, BPF_PSEUDO_FUNC) given to a helper that calls it.

Linux accepts a function pointer only from a program whose BTF func_info declares
its subprograms (check_ld_imm).  A helper that calls back before returning
(``bpf_loop``, ``bpf_for_each_map_elem``) is modelled as 6.18 does it
(push_callback_call): the callback's first instruction is queued as a new frame
whose arguments the helper sets; when the callback exits, verification goes
back to the helper call itself, which runs again until its state at the call
converges (is_state_visited compares it, range-within, with the checkpoint of
the earlier visit) or, for ``bpf_loop``, the iteration count is exhausted.

``bpf_timer_set_callback``'s callback runs later, when the timer fires: it is
verified asynchronously (push_async_cb), as frame 0 of a state of its own with
``(map, key, value)`` of the timer's map element as arguments, and must return 0.
"""

from __future__ import annotations

from pybpf.abi.uapi import MapType
from pybpf.errors import InternalError
from pybpf.verifier.backtrack import mark_chain_precision
from pybpf.verifier.bounds import S64_MAX, S64_MIN
from pybpf.verifier.env import Env
from pybpf.verifier.helper_protos import FOR_EACH_MAP_ELEM, LOOP, TIMER_SET_CALLBACK
from pybpf.verifier.jmp import find_prev_entry, widen_imprecise_scalars
from pybpf.verifier.log import LOG_LEVEL2
from pybpf.verifier.regs import MapDesc, RegState, RegType, mark_reg_unknown, reg_type_str
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.state import MAX_CALL_FRAMES, FuncState, VerifierState

CALLBACK_RETVAL = (0, 1)  # what bpf_loop and bpf_for_each_map_elem callbacks may return
ASYNC_RETVAL = (0, 0)  # what a timer callback may return
# maps whose ops have map_for_each_callback
_FOR_EACH_MAPS = frozenset({MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH,
                            MapType.ARRAY, MapType.PERCPU_ARRAY})


def ld_imm64_func(env: Env, dst: int, pc: int) -> None:
    """``dst = &subprog``: a PTR_TO_FUNC whose ``mem_size`` is the callback's first insn (the kernel's subprogno)."""
    if not env.func_info:
        raise env.reject("missing_func_info")
    target = pc + 1 + env.insns[pc].imm
    env.regs()[dst].set_ptr(RegType.PTR_TO_FUNC, mem_size=target)


def _set_loop_args(env: Env, caller: FuncState, callee: FuncState, the_map: MapDesc | None) -> None:
    """callback(u32 index, void *ctx): the index is unknown, the context is bpf_loop's third argument."""
    mark_reg_unknown(env, callee.regs[1])
    callee.regs[2] = caller.regs[3].clone()


def _set_map_elem_args(env: Env, caller: FuncState, callee: FuncState, the_map: MapDesc | None) -> None:
    """callback(map, key, value, ctx): pointers to one element of the map, and the helper's third argument."""
    callee.regs[1] = caller.regs[1].clone()
    callee.regs[2].set_ptr(RegType.PTR_TO_MAP_KEY, map=the_map)
    callee.regs[3].set_ptr(RegType.PTR_TO_MAP_VALUE, map=the_map)
    callee.regs[4] = caller.regs[3].clone()


def _set_timer_args(env: Env, caller: FuncState, callee: FuncState, the_map: MapDesc | None) -> None:
    """callback(map, key, value): the map the timer is in, and pointers to the element holding it."""
    callee.regs[1].set_ptr(RegType.CONST_PTR_TO_MAP, map=the_map)
    callee.regs[2].set_ptr(RegType.PTR_TO_MAP_KEY, map=the_map)
    callee.regs[3].set_ptr(RegType.PTR_TO_MAP_VALUE, map=the_map)


def push_async_cb(env: Env, start: int, the_map: MapDesc | None) -> None:
    """Queue the timer callback as a fresh state: only its own frame, nothing of the caller's."""
    from pybpf.verifier.core import push_stack

    st = VerifierState()
    callee = FuncState(frameno=0, callsite=-1, subprogno=start)
    callee.init_regs(env.unpriv)
    _set_timer_args(env, env.cur.cur, callee, the_map)
    callee.in_async_callback_fn = True
    st.frames.append(callee)
    st.branches = 1
    push_stack(env, st, start)
    env.log.mark_all_scratched()  # 6.18 prints the whole caller state after the call


def check_async_return(env: Env) -> None:
    """A timer callback's exit (check_return_code): R0 a scalar that is precisely 0."""
    r0 = env.regs()[0]
    if r0.type != RegType.SCALAR_VALUE:
        raise env.reject("async_retval_type", type=reg_type_str(r0.type))
    mark_chain_precision(env, 0)
    lo, hi = ASYNC_RETVAL
    if not (lo <= r0.s.smin and r0.s.smax <= hi):
        raise env.reject("async_retval", have=_have(r0.s), lo=lo, hi=hi)


def _update_loop_inline_state(env: Env, start: int) -> None:
    """update_loop_inline_state: a bpf_loop call stays fit for inlining while every visit has flags 0 (made
    precise then) and the same callback; once unfit, its flags are no longer looked at."""
    aux = env.aux[env.insn_idx]
    if aux.loop_inline is not None and not aux.loop_inline[0]:
        return
    fit = _loop_flags_zero(env) and (aux.loop_inline is None or aux.loop_inline[1] == start)
    aux.loop_inline = (fit, start)


def _loop_flags_zero(env: Env) -> bool:
    """loop_flag_is_zero: R4 known to be 0, and then precise."""
    r4 = env.regs()[4]
    if r4.type == RegType.SCALAR_VALUE and r4.is_const() and r4.s.var_off.value == 0:
        mark_chain_precision(env, 4)
        return True
    return False


def push_callback_call(env: Env, func_id: int, start: int, the_map: MapDesc | None) -> None:
    """Queue the callback's first instruction with a new frame; the current path goes on after the call."""
    from pybpf.verifier.core import push_stack

    if func_id == TIMER_SET_CALLBACK:
        push_async_cb(env, start, env.regs()[1].map)  # the map of the timer in R1
        return
    if func_id == LOOP:
        _update_loop_inline_state(env, start)
        mark_chain_precision(env, 1)  # the iteration count ends the unrolling
        caller = env.cur.cur
        if caller.callback_depth >= env.regs()[1].s.umax:
            caller.callback_depth = 0
            if env.log.level & LOG_LEVEL2:
                env.log.write(f"frame{env.cur.curframe} bpf_loop iteration limit reached\n")
            return
        set_args = _set_loop_args
    elif func_id == FOR_EACH_MAP_ELEM:
        if the_map is None or the_map.map_type not in _FOR_EACH_MAPS:
            raise env.reject("callback_map")
        set_args = _set_map_elem_args
    else:
        raise InternalError(f"helper #{func_id} calls back asynchronously: not modelled by pybpf's verifier")
    st = env.cur.clone()
    if st.curframe + 1 >= MAX_CALL_FRAMES:
        raise env.reject("call_stack_too_deep", n=st.curframe + 2)
    caller = st.cur
    callee = FuncState(frameno=st.curframe + 1, callsite=env.insn_idx, subprogno=start)
    callee.init_regs(env.unpriv)
    set_args(env, caller, callee, the_map)
    callee.in_callback_fn = True
    st.frames.append(callee)
    caller.callback_depth += 1
    env.cur.cur.callback_depth = 0
    push_stack(env, st, start)
    env.log.mark_all_scratched()  # 6.18 prints the caller's whole state after the call


def callback_exit(env: Env) -> int:
    """A callback's exit: R0 checked against [0, 1]; the path goes back to the helper call (returned)."""
    st = env.cur
    r0 = env.regs()[0]
    if r0.type != RegType.SCALAR_VALUE:
        raise env.reject("callback_r0_type")
    mark_chain_precision(env, 0)  # the return value is relied on: where it came from must be precise
    lo, hi = CALLBACK_RETVAL
    s = r0.s
    if not (lo <= s.smin and s.smax <= hi):
        raise env.reject("callback_retval", have=_have(s), lo=lo, hi=hi)
    callee = st.frames.pop()
    log = env.log
    if log.level:
        log.write("returning from callee:\n")
        log.write(log.frame_line(st, callee) + "\n")
        log.write(f"to caller at {callee.callsite}:\n")
        log.write(log.frame_line(st, st.cur) + "\n")
    log.clean()
    prev = find_prev_entry(env, callee.callsite)
    if prev is not None:
        widen_imprecise_scalars(prev, st)
    return callee.callsite


def _have(s) -> str:
    """verbose_invalid_scalar's bounds: what is known of R0's range."""
    have = ""
    if s.smin > S64_MIN:
        have += f" smin={s.smin}"
    if s.smax < S64_MAX:
        have += f" smax={s.smax}"
    return have or " unknown scalar value"


def check_map_key_access(env: Env, regno: int, reg: RegState, off: int, size: int, write: bool,
                         value_regno: int) -> None:
    """A load through a PTR_TO_MAP_KEY: read only, inside the key (check_mem_region_access)."""
    if write:
        raise env.reject("map_key_write", reg=regno)
    ks = reg.map.key_size if reg.map is not None else 0
    s = reg.s
    off += reg.off
    if s.smin < 0 and (s.smin == S64_MIN or s.smin + off < 0):
        raise env.reject("min_negative", reg=regno)
    for bound, key in ((off + s.smin, "map_min_oob"), (off + s.umax, "map_max_oob")):
        if bound < 0 or size > ks or bound > ks - size:
            line = f"invalid access to map key, key_size={ks} off={bound} size={size}"
            raise env.reject(key, line, reg=regno)
    dst = env.regs()[value_regno]
    mark_reg_unknown(env, dst)
    if size < 8:
        dst.s = Scalar.unknown().coerce(size)
