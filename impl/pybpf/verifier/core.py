"""do_check: the depth-first exploration of every path, instruction by instruction.

The current path continues with the fall-through of each undecided branch; the
other side is pushed and explored after the path ends (at ``exit``, or when a
checkpoint proves it safe).  The statistics line and the exit checks per
program type are here too.
"""

from __future__ import annotations

import gc
import time

from pybpf.abi.profiles import profile
from pybpf.isa.disasm import format_insn_line
from pybpf.isa.opcodes import Kind, Pseudo
from pybpf.isa.validate import jump_target
from pybpf.verifier import speculative
from pybpf.verifier.alu import check_alu_op, check_reg_read, check_reg_write
from pybpf.verifier.backtrack import mark_chain_precision
from pybpf.verifier.bounds import S64_MAX, S64_MIN
from pybpf.verifier.callbacks import check_async_return, ld_imm64_func
from pybpf.verifier.calls import check_func_call, check_helper_call, prepare_func_exit
from pybpf.verifier.env import BPF_COMPLEXITY_LIMIT_INSNS, DEADLINE_CHECK_INSNS, Env, StackElem, VerifierTimeout
from pybpf.verifier.globalfunc import global_entry_state
from pybpf.verifier.jmp import check_cond_jmp_op, check_may_goto
from pybpf.verifier.kfuncs import check_kfunc_call
from pybpf.verifier.liveness import StackLiveness
from pybpf.verifier.locks import check_resource_locked
from pybpf.verifier.log import LOG_LEVEL2
from pybpf.verifier.mem import READ, WRITE, check_mem_access
from pybpf.verifier.messages import template, text
from pybpf.verifier.regs import RegType, mark_reg_not_init, mark_reg_unknown, reg_type_str
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.state import FuncState, VerifierState
from pybpf.verifier.states import is_state_visited, update_branch_counts


def push_stack(env: Env, st: VerifierState, insn_idx: int) -> None:
    if st.parent is not None:
        st.parent.branches += 1
    env.head.append(StackElem(st, insn_idx, env.insn_idx, env.log.end_pos))


def _pop(env: Env) -> bool:
    """pop_stack: continue with the last pushed branch; False when none is left."""
    if not env.head:
        return False
    elem = env.head.pop()
    env.cur = elem.st
    env.insn_idx = elem.insn_idx
    env.prev_insn_idx = elem.prev_insn_idx
    env.log.clean()
    if not env.log.level & LOG_LEVEL2:
        env.log.reset(elem.log_pos)
    return True


def check_return_code(env: Env) -> None:
    if env.cur.active_lock is not None:  # checked before R0, as 6.18 does (check_resource_leak)
        raise env.reject("exit_locked")
    regs = env.regs()
    env.log.scratch_reg(0)
    r0 = regs[0]
    if r0.type == RegType.NOT_INIT:
        raise env.reject("not_read_ok", reg=0)
    if env.cur.refs:
        ref = env.cur.refs[0]
        if template("ref_leak_exit", env.abi) is None:  # the 2022 series: the leak's own line refuses
            raise env.reject("unreleased_ref", id=ref.id, insn=ref.insn_idx)
        env.log.write(text("unreleased_ref", id=ref.id, insn=ref.insn_idx) + "\n")
        raise env.reject("ref_leak_exit")
    if env.cur.frames[0].in_async_callback_fn:  # a timer callback: 0, whatever the program type
        check_async_return(env)
        return
    if env.cur.frames[0].subprogno:  # a global function: any scalar, whatever the program type
        if r0.type != RegType.SCALAR_VALUE:
            raise env.reject("global_exit_not_scalar", type=reg_type_str(r0.type))
        return
    if r0.is_pointer() and env.unpriv:
        raise env.reject("leaks_retval")
    rng = env.info.retval
    if rng is None:
        return
    if r0.type != RegType.SCALAR_VALUE:
        raise env.reject("retval_type", type=reg_type_str(r0.type))
    mark_chain_precision(env, 0)
    s = r0.s
    lo, hi = rng
    if not (lo <= s.smin and s.smax <= hi):
        have = ""
        if s.smin > S64_MIN:
            have += f" smin={s.smin}"
        if s.smax < S64_MAX:
            have += f" smax={s.smax}"
        raise env.reject("retval_range", have=have or " unknown scalar value", lo=lo, hi=hi)


def _ld_imm64(env: Env, pc: int) -> None:
    first, second = env.insns[pc], env.insns[pc + 1]
    check_reg_write(env, first.dst)
    dst = env.regs()[first.dst]
    if first.src == Pseudo.NONE:
        dst.set_scalar(Scalar.const((second.imm & 0xFFFFFFFF) << 32 | first.imm & 0xFFFFFFFF))
        return
    if first.src in (Pseudo.MAP_FD, Pseudo.MAP_IDX, Pseudo.MAP_VALUE, Pseudo.MAP_IDX_VALUE):
        if not 0 <= first.imm < len(env.maps):
            raise env.reject("bad_map_fd", fd=first.imm)
        m = env.maps[first.imm]
        if first.src in (Pseudo.MAP_FD, Pseudo.MAP_IDX):
            dst.set_ptr(RegType.CONST_PTR_TO_MAP, map=m)
        else:
            dst.set_ptr(RegType.PTR_TO_MAP_VALUE, map=m, off=second.imm)
        return
    if first.src == Pseudo.FUNC:
        ld_imm64_func(env, first.dst, pc)
        return
    raise env.reject("bad_ld_imm64")


def _check_insn(env: Env) -> int | None:
    """One instruction of the current path; returns the next index, or None when the path ends."""
    pc = env.insn_idx
    spec = env.specs[pc]
    ins = env.insns[pc]
    if spec is None:
        raise env.reject("unknown_opcode", code=ins.code)
    kind = spec.kind
    if kind in (Kind.ALU, Kind.MOV, Kind.MOVSX, Kind.NEG, Kind.END, Kind.BSWAP):
        check_alu_op(env, ins, spec)
        return pc + 1
    if kind is Kind.LDX or kind is Kind.LDXSX:
        check_reg_read(env, ins.src)
        check_reg_write(env, ins.dst)
        check_mem_access(env, ins.src, ins.off, spec.size, READ, ins.dst, sign_ext=kind is Kind.LDXSX)
        return pc + 1
    if kind is Kind.STX:
        check_reg_read(env, ins.src)
        check_reg_read(env, ins.dst)
        check_mem_access(env, ins.dst, ins.off, spec.size, WRITE, ins.src)
        return pc + 1
    if kind is Kind.ST:
        check_reg_read(env, ins.dst)
        check_mem_access(env, ins.dst, ins.off, spec.size, WRITE, -1, imm=ins.imm)
        return pc + 1
    if kind is Kind.ATOMIC:
        check_reg_read(env, ins.src)
        d = check_reg_read(env, ins.dst)
        if d.type == RegType.PTR_TO_CTX or d.type & 0xFF in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
            what = reg_type_str(d.type)
            raise env.reject("atomic_store", reg=ins.dst, type=what)
        load = (0 if ins.imm == 0xF1 else ins.src) if ins.imm & 1 else -1  # BPF_FETCH: the old value's register
        if load >= 0:
            check_reg_write(env, load)
        check_mem_access(env, ins.dst, ins.off, spec.size, READ, -1)
        if load >= 0:
            # check_atomic_rmw reads a second time into the register: a fill, as a load would be
            check_mem_access(env, ins.dst, ins.off, spec.size, READ, load)
        check_mem_access(env, ins.dst, ins.off, spec.size, WRITE, -1)
        return pc + 1
    if kind is Kind.LD_IMM64:
        _ld_imm64(env, pc)
        return pc + 2
    if kind in (Kind.LD_ABS, Kind.LD_IND):
        if not env.info.ld_abs:
            raise env.reject("ld_abs_prog_type")
        r6 = check_reg_read(env, 6)
        check_resource_locked(env, "BPF_LD_[ABS|IND]")
        if r6.type != RegType.PTR_TO_CTX:
            raise env.reject("ld_abs_r6")
        if kind is Kind.LD_IND:
            check_reg_read(env, ins.src)
        for r in range(6):
            mark_reg_not_init(env, env.regs()[r])
        env.log.scratch_reg(0)
        mark_reg_unknown(env, env.regs()[0])  # check_ld_abs: unknown, not bounded by the load's size
        return pc + 1
    env.jmps_processed += 1
    if kind is Kind.MAY_GOTO:
        return check_may_goto(env, ins, lambda st, idx: push_stack(env, st, idx))
    if kind is Kind.JCOND:
        nxt = check_cond_jmp_op(env, ins, spec, lambda st, idx: push_stack(env, st, idx))
        if env.log.level and env.log.scratched():
            # a conditional jump prints its state itself, after pushing the other side
            env.log.print_insn_state(env.cur, pc)
        env.log.clean()
        return nxt
    if kind is Kind.JA:
        return jump_target(spec, ins, pc)
    if kind is Kind.CALL:
        check_helper_call(env, ins)
        return pc + 1
    if kind is Kind.CALL_KFUNC:
        check_kfunc_call(env, ins)
        return pc + 1
    one_frame = env.cur.active_lock is not None and profile(env.abi).locked_region_in_one_frame
    if kind is Kind.CALL_LOCAL:
        if one_frame:
            raise env.reject("call_while_locked")
        return check_func_call(env, ins)
    if kind is Kind.EXIT:
        if env.cur.curframe:
            if one_frame:
                raise env.reject("exit_locked")
            if env.liveness is not None:
                env.liveness.update(env.cur)
            return prepare_func_exit(env)
        check_return_code(env)
        return None
    raise env.reject("unknown_opcode", code=ins.code)


def do_check_subprogs(env: Env) -> None:
    """After the main program: verify each global function a call reached, until no new one is reached."""
    again = True
    while again:
        again = False
        for start in sorted(env.globals):
            if start not in env.called_globals or start in env.verified_globals:
                continue
            fn = env.globals[start]
            _forget_safe_paths(env)
            _free_states(env)
            env.log.write(f"Validating {fn.name}() func#{fn.subprog}...\n")
            env.insn_idx = start
            env.log.clean()
            do_check(env, global_entry_state(env, fn))
            _forget_safe_paths(env)
            env.log.write(f"Func#{fn.subprog} ('{fn.name}') is safe for any args that match its prototype\n")
            env.verified_globals.add(start)
            again = True


def _free_states(env: Env) -> None:
    """free_states after a function's walk: the next function starts with no checkpoints and no loop visits."""
    for aux in env.aux:
        if aux.explored:
            aux.explored = ()
    env.bucket_sizes.clear()
    env.scc_visits.clear()


def _forget_safe_paths(env: Env) -> None:
    """At level 1 the log keeps only a failing path: a verification that succeeded leaves nothing."""
    if not env.log.level & LOG_LEVEL2:
        env.log.reset(0)


def do_check(env: Env, st: VerifierState | None = None) -> None:
    """Walk every path from ``env.insn_idx`` (the main program's entry, or ``st``'s for a global function)."""
    # The exploration allocates and frees states, scalars and lists at every instruction but makes no
    # reference cycles: the cyclic collector would only walk the live objects again and again (10% of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        _explore(env, st)
    finally:
        if enabled:
            gc.enable()


def _explore(env: Env, st: VerifierState | None) -> None:
    log = env.log
    if st is None:
        st = VerifierState()
        f = FuncState()
        f.init_regs(env.unpriv)
        f.regs[1].set_ptr(RegType.PTR_TO_CTX)
        st.frames.append(f)
    env.cur = st
    log.prev_linfo = None  # do_check_common starts each function's walk afresh
    if log.level & LOG_LEVEL2 and env.liveness is None:
        env.liveness = StackLiveness(env)
    lv = env.liveness
    level = log.level
    specs = env.specs
    do_print_state = True
    popped = False  # the path was just taken from the branch stack ("from X to Y:" at level 2)
    returned = False  # the path just came back from a subprogram or callback (its "from X to Y:" too)
    n = len(env.insns)
    while True:
        pc = env.insn_idx
        if pc >= n:
            raise env.reject("invalid_insn_idx", insn=pc, cnt=n)
        env.insn_processed += 1
        if env.insn_processed > BPF_COMPLEXITY_LIMIT_INSNS:
            raise env.reject("too_large", n=env.insn_processed)
        if (env.deadline is not None and env.insn_processed % DEADLINE_CHECK_INSNS == 0
                and time.monotonic() > env.deadline):
            raise VerifierTimeout(env.insn_processed)
        if env.aux[pc].prune_point and is_state_visited(env, pc):
            if log.level:
                if popped or returned:
                    log.write(f"\nfrom {env.prev_insn_idx} to {pc}{speculative.suffix(env.cur)}: safe\n")
                else:
                    log.write(f"{pc}: safe\n")
            update_branch_counts(env, env.cur.parent)  # before the stack liveness update, as process_bpf_exit
            if lv is not None:
                lv.update(env.cur)
            if not _pop(env):
                return
            do_print_state = popped = True
            continue
        if level:
            if log.scratched():
                # the state an instruction left is printed when the next one is reached (not if it is pruned)
                log.print_insn_state(env.cur, pc)
            log.clean()
            if (popped or returned) and level & LOG_LEVEL2:
                log.write(f"\nfrom {env.prev_insn_idx} to {pc}{speculative.suffix(env.cur)}:")
                log.print_verifier_state(env.cur, True)
            if do_print_state:
                log.write(f"{pc}:")
                log.print_verifier_state(env.cur, True)
                do_print_state = False
            line = env.insn_lines.get(pc)
            if line is None:
                line = env.insn_lines[pc] = format_insn_line(env.insns, pc)
            log.linfo(pc, "; ")
            log.insn_line(line)
        popped = returned = False
        cur = env.cur
        cur.history.append(pc)
        env.prev_insn_idx = pc
        if lv is not None:
            lv.reset_writes(pc)
        # only a speculative path can end early: a real one goes straight to the check
        nxt = speculative.step(env, pc, _check_insn) if cur.speculative else _check_insn(env)
        if lv is not None:
            lv.commit()
        spec = specs[pc]
        kind = spec.kind if spec is not None else None
        if kind is Kind.CALL_LOCAL and pc + 1 + env.insns[pc].imm not in env.globals:
            do_print_state = True
        elif kind is Kind.EXIT and nxt is not None:
            returned = True
            log.clean()
            env.insn_idx = nxt
            continue
        if nxt is None:
            update_branch_counts(env, env.cur.parent)
            if lv is not None:
                lv.update(env.cur)
            if not _pop(env):
                return
            do_print_state = popped = True
            continue
        env.insn_idx = nxt
