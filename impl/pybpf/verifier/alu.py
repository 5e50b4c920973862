"""check_alu_op: ALU instructions on scalars (through ``Scalar``) and pointer arithmetic.

Scalars follow the domain in ``scalar.py`` exactly; pointers follow
adjust_ptr_min_max_vals: which pointer types allow which arithmetic, the
checks of the added offset (check_reg_sane_offset), and the kernel's words
when something is refused.
"""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, Kind, OpSpec, Src
from pybpf.verifier import sanitize
from pybpf.verifier.backtrack import mark_chain_precision
from pybpf.verifier.bounds import S64_MAX, S64_MIN
from pybpf.verifier.env import Env
from pybpf.verifier.linked import assign_scalar_id_before_mov, link_after_alu
from pybpf.verifier.regs import (
    BPF_REG_FP,
    MAX_BPF_REG,
    PKT_TYPES,
    RegState,
    RegType,
    TypeFlag,
    mark_reg_unknown,
    reg_type_str,
)
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.tnum import U32, U64, Tnum

BPF_MAX_VAR_OFF = 1 << 29

ALU_STRING = {
    AluOp.ADD: "+=", AluOp.SUB: "-=", AluOp.MUL: "*=", AluOp.DIV: "/=", AluOp.OR: "|=", AluOp.AND: "&=",
    AluOp.LSH: "<<=", AluOp.RSH: ">>=", AluOp.NEG: "neg", AluOp.MOD: "%=", AluOp.XOR: "^=", AluOp.MOV: "=",
    AluOp.ARSH: "s>>=", AluOp.END: "endian",
}  # fmt: skip

_PTR_ARITH_OK = frozenset({
    RegType.PTR_TO_CTX, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_STACK,
    RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET, RegType.PTR_TO_TP_BUFFER, RegType.PTR_TO_BTF_ID,
    RegType.PTR_TO_MEM, RegType.PTR_TO_BUF, RegType.PTR_TO_FUNC, RegType.CONST_PTR_TO_DYNPTR,
})  # fmt: skip


def check_reg_read(env: Env, regno: int) -> RegState:
    """check_reg_arg(SRC_OP): the register must have been written."""
    if regno >= MAX_BPF_REG:
        raise env.reject("invalid_reg", reg=regno)
    env.log.scratch_reg(regno)
    r = env.regs()[regno]
    if r.type == RegType.NOT_INIT:
        raise env.reject("not_read_ok", reg=regno)
    return r


def check_reg_write(env: Env, regno: int) -> RegState:
    """check_reg_arg(DST_OP): r10 is read only."""
    if regno >= MAX_BPF_REG:
        raise env.reject("invalid_reg", reg=regno)
    env.log.scratch_reg(regno)
    if regno == BPF_REG_FP:
        raise env.reject("fp_read_only")
    return env.regs()[regno]


def _sane_offset(env: Env, reg: RegState, type: int) -> None:
    """check_reg_sane_offset."""
    s = reg.s
    t = reg_type_str(type)
    val = s.var_off.value if not s.var_off.mask else None
    if val is not None:
        sval = val - (1 << 64) if val >> 63 else val
        if sval >= BPF_MAX_VAR_OFF or sval <= -BPF_MAX_VAR_OFF:
            raise env.reject("math_too_large", type=t, val=sval)
    if reg.off >= BPF_MAX_VAR_OFF or reg.off <= -BPF_MAX_VAR_OFF:
        # a pointer's fixed offset, or a linked scalar's delta (``linked.py``)
        raise env.reject("ptr_offset", type=t, off=reg.off)
    if s.smin == S64_MIN:
        raise env.reject("math_unbounded_min", type=t)
    if s.smin >= BPF_MAX_VAR_OFF or s.smin <= -BPF_MAX_VAR_OFF:
        raise env.reject("ptr_oob", val=s.smin, type=t)


def _add_bounds(a: Scalar, b: Scalar, sub: bool) -> Scalar:
    """Pointer variable part +/- scalar: 64-bit bounds with overflow giving unbounded, no 32-bit bounds."""
    if not sub:
        smin, smax = a.smin + b.smin, a.smax + b.smax
        umin, umax = a.umin + b.umin, a.umax + b.umax
        var_off = a.var_off.add(b.var_off)
    else:
        smin, smax = a.smin - b.smax, a.smax - b.smin
        umin, umax = a.umin - b.umax, a.umax - b.umin
        var_off = a.var_off.sub(b.var_off)
    if smin < S64_MIN or smax > S64_MAX:
        smin, smax = S64_MIN, S64_MAX
    if umin < 0 or umax > U64:
        umin, umax = 0, U64
    return Scalar.range(smin=smin, smax=smax, umin=umin, umax=umax, var_off=var_off)


def adjust_ptr_min_max_vals(env: Env, ins: Insn, is64: bool, op: int, ptr: RegState, off_reg: RegState) -> None:
    dst_no = ins.dst
    dst = env.regs()[dst_no]
    if not is64:
        raise env.reject("ptr32", reg=dst_no)
    if ptr.type & TypeFlag.PTR_MAYBE_NULL:
        raise env.reject("ptr_null_arith", reg=dst_no, type=reg_type_str(ptr.type))
    off = off_reg.s
    known = not off.var_off.mask
    sval = off.smin
    base = ptr.type & 0xFF
    if base not in _PTR_ARITH_OK:
        ok = (base == RegType.PTR_TO_FLOW_KEYS and known) or (
            base == RegType.CONST_PTR_TO_MAP and known and sval == 0 and op == AluOp.ADD)
        if not ok:
            raise env.reject("ptr_arith_prohibited", reg=dst_no, type=reg_type_str(ptr.type))
    _sane_offset(env, off_reg, ptr.type)
    _sane_offset(env, ptr, ptr.type)
    ptr_is_dst = ptr is dst
    info = sanitize.before(env, ins, ptr, off_reg, ptr_is_dst) if sanitize.needed(env, ins, op) else None
    res = ptr.clone()
    if op == AluOp.ADD:
        if known and -(1 << 31) <= ptr.off + sval < (1 << 31):
            res.off = ptr.off + sval
        else:
            res.s = _add_bounds(ptr.s, off, False)
            if base in PKT_TYPES:
                res.id = env.new_id()
                res.range = 0
    elif op == AluOp.SUB:
        if dst is off_reg:
            raise env.reject("sub_ptr_from_scalar", reg=dst_no)
        if ptr.type == RegType.PTR_TO_STACK:
            raise env.reject("stack_ptr_sub", reg=dst_no)
        if known and -(1 << 31) <= ptr.off - sval < (1 << 31):
            res.off = ptr.off - sval
        else:
            res.s = _add_bounds(ptr.s, off, True)
            if base in PKT_TYPES:
                res.id = env.new_id()
                res.range = 0
    elif op in (AluOp.AND, AluOp.OR, AluOp.XOR):
        raise env.reject("ptr_bitwise", reg=dst_no, op=ALU_STRING[op])
    else:
        raise env.reject("ptr_op", reg=dst_no, op=ALU_STRING[op])
    _sane_offset(env, res, ptr.type)
    sanitize.check_bounds(env, dst_no, res)
    if info is not None:
        sanitize.after(env, ins, res, info, ptr_is_dst)
    res.precise = False
    env.regs()[dst_no] = res


def _scalar_alu(env: Env, ins: Insn, spec: OpSpec, dst: RegState, src: Scalar) -> None:
    dst_id, dst_umax = dst.id, dst.s.umax
    _scalar_alu_unlinked(env, ins, spec, dst, src)
    same = ins.code & Src.X and ins.src == ins.dst
    link = link_after_alu(env, spec.op, spec.is64, dst_id, dst_umax, dst.s if same else src)
    if link is not None:  # dst stays linked to its id, with a delta (the op cleared both otherwise)
        dst.id, dst.off = link


def _scalar_alu_unlinked(env: Env, ins: Insn, spec: OpSpec, dst: RegState, src: Scalar) -> None:
    pair = dst.s.fork_split(spec.op, src)
    if pair is not None:
        # maybe_fork_scalars: this path goes on with the -1 case, the 0 case is queued after the instruction
        from pybpf.verifier.core import push_stack  # core imports this module

        queued = env.cur.clone()
        other = queued.frames[-1].regs[ins.dst]
        other.set_scalar(pair[1])
        _scalar_op(env, spec, other, src)
        push_stack(env, queued, env.insn_idx + 1)
        dst.set_scalar(pair[0])
    _scalar_op(env, spec, dst, src)


def _scalar_op(env: Env, spec: OpSpec, dst: RegState, src: Scalar) -> None:
    op = spec.op
    s = dst.s.fold(op, spec.is64, src)
    if s is not None:
        dst.set_scalar(s)
        return
    s = dst.s.alu(op, spec.is64, src, check=False)
    msg = s.violation_message("alu")
    if msg is not None:
        env.log.write(msg + "\n")
        s = s.unbounded_ranges()
    dst.set_scalar(s)


def check_alu_op(env: Env, ins: Insn, spec: OpSpec) -> None:
    regs = env.regs()
    x = bool(ins.code & Src.X)
    kind = spec.kind
    if kind in (Kind.NEG, Kind.END, Kind.BSWAP):
        d = check_reg_read(env, ins.dst)
        if d.is_pointer() and not env.allow_ptr_leaks:
            raise env.reject("ptr_arith", reg=ins.dst)
        check_reg_write(env, ins.dst)
        if d.is_pointer():
            mark_reg_unknown(env, d)
            return
        if kind is Kind.NEG:
            d.set_scalar(d.s.neg(spec.is64))
        elif kind is Kind.END:
            d.set_scalar(d.s.end(bool(ins.code & Src.X), ins.imm))
        else:
            d.set_scalar(d.s.bswap(ins.imm))
        return
    if kind in (Kind.MOV, Kind.MOVSX):
        if x:
            src = check_reg_read(env, ins.src)
        check_reg_write(env, ins.dst)
        if not x:  # an unknown first, then known: the precise mark is an unknown's
            mark_reg_unknown(env, regs[ins.dst])
            regs[ins.dst].set_scalar(Scalar.const(ins.imm if spec.is64 else ins.imm & U32))
            return
        if kind is Kind.MOVSX:
            if src.is_pointer():
                mark_reg_unknown(env, regs[ins.dst])
            else:  # a value the sign extension leaves alone stays linked to its source
                linked = src.s.umax < 1 << (spec.ext_bits - 1)
                if linked:
                    assign_scalar_id_before_mov(env, src)
                regs[ins.dst].set_scalar(src.s.movsx(spec.ext_bits, spec.is64), id=src.id if linked else 0)
                regs[ins.dst].precise = src.precise  # a copy of the source (copy_register_state)
            return
        if spec.is64:
            assign_scalar_id_before_mov(env, src)
            regs[ins.dst] = src.clone()
            return
        if src.is_pointer():
            if not env.allow_ptr_leaks:
                raise env.reject("partial_copy", reg=ins.src)
            mark_reg_unknown(env, regs[ins.dst])
            regs[ins.dst].set_scalar(Scalar.range(umax=U32, var_off=Tnum(0, U32)))
            return
        linked = src.s.umax <= U32  # w = w of a value below 2^32 stays linked to its source
        if linked:
            assign_scalar_id_before_mov(env, src)
        regs[ins.dst].set_scalar(src.s.zext32(), id=src.id if linked else 0)
        regs[ins.dst].precise = src.precise  # a copy of the source (copy_register_state)
        return
    # binary ALU
    if x:
        src = check_reg_read(env, ins.src)
    dst = check_reg_read(env, ins.dst)
    check_reg_write(env, ins.dst)
    op = spec.op
    if not x and op in (AluOp.DIV, AluOp.MOD) and ins.imm == 0:
        raise env.reject("div_by_zero")
    if not x and op in (AluOp.LSH, AluOp.RSH, AluOp.ARSH) and not 0 <= ins.imm < (64 if spec.is64 else 32):
        raise env.reject("invalid_shift", shift=ins.imm)
    if x:
        if src.is_pointer():
            if dst.is_pointer():
                if op == AluOp.SUB and env.allow_ptr_leaks:
                    mark_reg_unknown(env, dst)
                    return
                raise env.reject("ptr_ptr", reg=ins.dst, op=ALU_STRING[op])
            mark_chain_precision(env, ins.dst)
            adjust_ptr_min_max_vals(env, ins, spec.is64, op, src, dst)
            return
        if dst.is_pointer():
            mark_chain_precision(env, ins.src)
            adjust_ptr_min_max_vals(env, ins, spec.is64, op, dst, src)
            return
        sanitize.value_alu(env, ins, op)
        _scalar_alu(env, ins, spec, dst, src.s)
        return
    imm = Scalar.const(ins.imm)
    if dst.is_pointer():
        fake = RegState(RegType.SCALAR_VALUE, imm)
        adjust_ptr_min_max_vals(env, ins, spec.is64, op, dst, fake)
        return
    _scalar_alu(env, ins, spec, dst, imm)
