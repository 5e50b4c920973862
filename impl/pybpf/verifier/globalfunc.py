"""Global functions: subprograms with BTF_FUNC_GLOBAL linkage, checked by their BTF prototype.

Linux verifies a global function once, on its own, with its arguments typed from the prototype
(btf_prepare_func_args): a pointer to the program type's context is PTR_TO_CTX, an integer or
enum is an unknown scalar, a pointer to a sized type is PTR_TO_MEM_OR_NULL of that size.  A call
site only checks the caller's registers against the prototype (btf_check_func_arg_match) and
goes on after the call with R0 an unknown scalar: the body is not walked again per caller.
Global functions are verified after the main program, as long as calls reach new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from pybpf.abi.uapi import ProgType
from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf
from pybpf.btf.uapi import FuncLinkage, Kind
from pybpf.obj.model import FuncInfo
from pybpf.verifier.env import Env
from pybpf.verifier.mem import READ, WRITE
from pybpf.verifier.messages import Rejection
from pybpf.verifier.regs import RegState, RegType, TypeFlag, mark_reg_not_init, mark_reg_unknown, reg_type_str
from pybpf.verifier.state import FuncState, VerifierState

MAX_BPF_FUNC_REG_ARGS = 5
CALLER_SAVED = (0, 1, 2, 3, 4, 5)
ARG_TAG_PREFIX = "arg:"

# the uapi struct a context argument points to (bpf_ctx_convert's user-visible names)
CTX_STRUCTS: dict[int, str] = {
    ProgType.SOCKET_FILTER: "__sk_buff", ProgType.SCHED_CLS: "__sk_buff", ProgType.SCHED_ACT: "__sk_buff",
    ProgType.CGROUP_SKB: "__sk_buff", ProgType.XDP: "xdp_md", ProgType.KPROBE: "pt_regs",
    ProgType.PERF_EVENT: "bpf_perf_event_data", ProgType.RAW_TRACEPOINT: "bpf_raw_tracepoint_args",
}
KPROBE_CTX_TYPEDEF = "bpf_user_pt_regs_t"
# where check_helper_mem_access finds memory of a given size
MEM_ARG_TYPES = frozenset({RegType.PTR_TO_STACK, RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META,
                           RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MEM, RegType.PTR_TO_BUF})


class ArgKind(Enum):
    CTX = "ctx"  # ARG_PTR_TO_CTX
    SCALAR = "scalar"  # ARG_ANYTHING
    MEM = "mem"  # ARG_PTR_TO_MEM, PTR_MAYBE_NULL unless tagged arg:nonnull


@dataclass(frozen=True)
class GlobalArg:
    kind: ArgKind
    mem_size: int = 0
    nullable: bool = False


@dataclass(frozen=True)
class GlobalFunc:
    """A global subprogram: its number (func#N), first instruction, name and typed arguments."""

    subprog: int
    start: int
    name: str
    args: tuple[GlobalArg, ...] | None  # None: the prototype is not one the verifier supports
    error: str = ""  # why ``args`` is None, as the kernel logs it


def global_funcs(env: Env, func_info: Sequence[FuncInfo]) -> dict[int, GlobalFunc]:
    """The global subprograms by first instruction, from func_info records (``insn_off``, ``type_id``)."""
    btf = env.btf
    if btf is None:
        return {}
    out: dict[int, GlobalFunc] = {}
    for rec in func_info:
        start, type_id = rec.insn_off, rec.type_id
        if start == 0 or start not in env.subprog_starts:
            continue
        try:
            t = btf.type_by_id(type_id)
        except BtfError:
            continue
        if t.kind != Kind.FUNC or t.linkage != FuncLinkage.GLOBAL:
            continue
        name = btf.name_of(t)
        args, error = _prepare_args(btf, type_id, name, env.prog_type)
        out[start] = GlobalFunc(env.subprog_starts.index(start), start, name, args, error)
    return out


def main_func_note(env: Env, func_info: Sequence[FuncInfo]) -> str:
    """What btf_prepare_func_args logs for the main program's global FUNC (the kernel then only marks its
    BTF unreliable): a ``void *ctx`` parameter, say, has no size and is not the context."""
    btf = env.btf
    rec = next((r for r in func_info if r.insn_off == 0), None)
    if btf is None or rec is None:
        return ""
    try:
        t = btf.type_by_id(rec.type_id)
    except BtfError:
        return ""
    if t.kind != Kind.FUNC or t.linkage != FuncLinkage.GLOBAL:
        return ""
    return _prepare_args(btf, rec.type_id, btf.name_of(t), env.prog_type)[1]


def _prepare_args(btf: Btf, func_id: int, name: str, prog_type: int) -> tuple[tuple[GlobalArg, ...] | None, str]:
    """btf_prepare_func_args for a global function: each parameter's argument type, or the refusal."""
    proto = btf.func_proto_of(func_id)
    ret = btf.type_by_id(btf.resolve(proto.type)) if proto.type else None
    if ret is None or ret.kind not in (Kind.INT, Kind.ENUM, Kind.ENUM64):  # void is no scalar either
        return None, f"Global function {name}() doesn't return scalar. Only those are supported."
    if len(proto.params) > MAX_BPF_FUNC_REG_ARGS:
        n = len(proto.params)
        return None, f"Global function {name}() with {n} > {MAX_BPF_FUNC_REG_ARGS} args. Buggy compiler."
    args: list[GlobalArg] = []
    for i, p in enumerate(proto.params):
        tags = {tag[len(ARG_TAG_PREFIX):] for tag in btf.decl_tags(func_id, i) if tag.startswith(ARG_TAG_PREFIX)}
        tid = btf.resolve(p.type) if p.type else 0
        t = btf.type_by_id(tid) if tid else None
        if "ctx" in tags or _is_ctx_ptr(btf, p.type, prog_type):
            args.append(GlobalArg(ArgKind.CTX))
            continue
        if t is not None and t.kind == Kind.PTR:
            pointee = btf.resolve(t.type) if t.type else 0
            try:
                size = btf.size_of(pointee) if pointee else None
            except BtfError:
                size = None
            if size is None:
                return None, f"arg#{i} reference type('{_kind_str(btf, pointee)}') size cannot be determined: -22"
            args.append(GlobalArg(ArgKind.MEM, size, nullable="nonnull" not in tags))
            continue
        if tags:
            return None, f"arg#{i} has pointer tag, but is not a pointer type"
        if t is not None and t.kind in (Kind.INT, Kind.ENUM, Kind.ENUM64):
            args.append(GlobalArg(ArgKind.SCALAR))
            continue
        return None, f"Arg#{i} type {_kind_str(btf, tid)} in {name}() is not supported yet."
    return tuple(args), ""


def _kind_str(btf: Btf, tid: int) -> str:
    if not tid:
        return "UNKNOWN "  # btf_kind_str of void
    t = btf.type_by_id(tid)
    return f"{t.kind.name} {btf.name_of(t)}"


def _is_ctx_ptr(btf: Btf, tid: int, prog_type: int) -> bool:
    """btf_is_prog_ctx_type: a pointer to the struct the program type's context is (by name)."""
    if not tid:
        return False
    t = btf.type_by_id(btf.resolve(tid))
    if t.kind != Kind.PTR or not t.type:
        return False
    cur = t.type
    if prog_type == ProgType.KPROBE:  # the typedef counts before it is skipped
        while btf.type_by_id(cur).kind in (Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG):
            cur = btf.type_by_id(cur).type
        pt = btf.type_by_id(cur)
        if pt.kind == Kind.TYPEDEF and btf.name_of(pt) == KPROBE_CTX_TYPEDEF:
            return True
    pointee = btf.type_by_id(btf.resolve(cur))
    return pointee.kind == Kind.STRUCT and btf.name_of(pointee) == CTX_STRUCTS.get(prog_type)


# ------------------------------------------------------------------------------------------- call site

def check_global_call(env: Env, fn: GlobalFunc, check_mem_arg) -> int:
    """check_func_call of a global function: match the arguments, then R0 is an unknown scalar.

    ``check_mem_arg(env, regno, reg, size, access, zero_ok)`` is calls.py's check_helper_mem_access.
    """
    bad = _match_args(env, fn, check_mem_arg)
    if env.cur.active_lock is not None:
        env.log.write("global function calls are not allowed while holding a lock,\n")
        raise env.reject("global_call_locked")
    if bad:
        raise env.reject("global_call_args", n=fn.subprog, name=fn.name)
    env.log.write(f"Func#{fn.subprog} ('{fn.name}') is global and assumed valid.\n")
    env.called_globals.add(fn.start)
    regs = env.regs()
    for r in CALLER_SAVED:
        mark_reg_not_init(env, regs[r])
    mark_reg_unknown(env, regs[0])
    env.log.clean()  # the argument checks touched the caller's stack; Linux shows only R0 after the call
    env.log.scratch_reg(0)
    return env.insn_idx + 1


def _match_args(env: Env, fn: GlobalFunc, check_mem_arg) -> bool:
    """btf_check_func_arg_match: True when an argument does not fit (the reason is logged)."""
    log = env.log
    if fn.args is None:
        log.write(fn.error + "\n")
        return True
    regs = env.regs()
    for i, arg in enumerate(fn.args):
        regno = i + 1
        reg = regs[regno]
        if reg.type == RegType.NOT_INIT:
            log.write(f"R{regno} !read_ok\n")
            return True
        if arg.kind is ArgKind.SCALAR:
            if reg.type != RegType.SCALAR_VALUE:
                log.write(f"R{regno} is not a scalar\n")
                return True
        elif arg.kind is ArgKind.CTX:
            if reg.type != RegType.PTR_TO_CTX:
                log.write(f"arg#{i} expects pointer to ctx\n")
                return True
            if reg.off:
                log.write(f"dereference of modified ctx ptr R{regno} off={reg.off} disallowed\n")
                return True
        elif _bad_mem_arg(env, regno, reg, arg, i, check_mem_arg):
            return True
    return False


def _bad_mem_arg(env: Env, regno: int, reg: RegState, arg: GlobalArg, i: int, check_mem_arg) -> bool:
    """check_mem_reg: ``mem_size`` bytes readable and writable, as a helper's memory argument would be."""
    if reg.is_scalar() and reg.is_const() and reg.s.var_off.value == 0:
        return False  # NULL is what the callee was checked with
    if reg.type & 0xFF not in MEM_ARG_TYPES:
        env.log.write(f"R{regno} type={reg_type_str(reg.type)} expected=fp\n")
        return True
    view = reg.clone()  # the access is checked as if the pointer were not NULL
    view.type &= ~TypeFlag.PTR_MAYBE_NULL
    env.regs()[regno] = view
    try:
        check_mem_arg(env, regno, view, arg.mem_size, READ, True)
        check_mem_arg(env, regno, view, arg.mem_size, WRITE, True)
    except Rejection:
        return True
    finally:
        env.regs()[regno] = reg
    if not arg.nullable and reg.maybe_null():
        env.log.write(f"arg#{i} is expected to be non-NULL\n")
        return True
    return False


# ---------------------------------------------------------------------------------------- the callee

def global_entry_state(env: Env, fn: GlobalFunc) -> VerifierState:
    """The state a global function is verified from: R1-R5 typed by its prototype."""
    st = VerifierState()
    f = FuncState(subprogno=fn.start)
    f.init_regs(env.unpriv)
    for i, arg in enumerate(fn.args or ()):
        reg = f.regs[i + 1]
        if arg.kind is ArgKind.CTX:
            reg.set_ptr(RegType.PTR_TO_CTX)
        elif arg.kind is ArgKind.SCALAR:
            mark_reg_unknown(env, reg)
        else:
            nullable = TypeFlag.PTR_MAYBE_NULL if arg.nullable else 0
            reg.set_ptr(RegType.PTR_TO_MEM | nullable, mem_size=arg.mem_size, id=env.new_id() if nullable else 0)
    st.frames.append(f)
    return st


def globals_to_verify(env: Env) -> list[GlobalFunc]:
    """One pass of do_check_subprogs: the global functions called and not verified yet, in order."""
    return [env.globals[s] for s in sorted(env.globals) if s in env.called_globals and s not in env.verified_globals]
