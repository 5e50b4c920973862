"""Tracing programs (BPF_PROG_TYPE_TRACING): the attach target in kernel BTF and the context it types.

A tp_btf, fentry, fexit or fmod_ret program is verified against one kernel
function or tracepoint, named by ``attach_btf_id`` in kernel BTF: a FUNC for
fentry/fexit/fmod_ret, the ``btf_trace_<name>`` TYPEDEF for tp_btf (a pointer
to the tracepoint's FUNC_PROTO, whose first ``void *`` the program never
sees).  The context is an array of u64 slots, one per argument (fexit and
fmod_ret also get the return value after the last), read only: integers and
enums read as scalars, pointers to structs as PTR_TO_BTF_ID of the pointee,
which tp_btf programs may trust.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pybpf.abi.uapi import AttachType
from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.verifier.env import Env
from pybpf.verifier.messages import rejection, text
from pybpf.verifier.progtypes import MAX_BPF_FUNC_ARGS, ProgTypeInfo
from pybpf.verifier.regs import RegType, TypeFlag, mark_reg_unknown

RAW_TP_PREFIX = "btf_trace_"
CTX_SIZE = 8 * MAX_BPF_FUNC_ARGS  # tracing_prog_is_valid_access's bound, before any BTF is looked at
SLOT = 8
BTF_MAX_TYPE = 0xFFFFF  # type ids above it are refused by bpf_prog_load itself
READ = "read"  # check_mem_access's word for a load

# check_return_code for each attach type: the range R0 must be in at exit, None when anything goes
RETVAL: dict[int, tuple[int, int] | None] = {
    AttachType.TRACE_RAW_TP: None,
    AttachType.TRACE_FENTRY: (0, 0),
    AttachType.TRACE_FEXIT: (0, 0),
    AttachType.MODIFY_RETURN: None,
}
ATTACH_TYPES = frozenset(RETVAL)  # the attach types of tracing programs pybpf models
WITH_RETVAL = frozenset({AttachType.TRACE_FEXIT, AttachType.MODIFY_RETURN})  # the return value follows the args
TRUSTED_ARGS = frozenset({AttachType.TRACE_RAW_TP})  # prog_args_trusted for tracing programs


@dataclass(frozen=True)
class TraceTarget:
    """What a tracing program attaches to: ``name`` as messages say it, the prototype's types in ``btf``."""

    name: str
    btf: Btf
    attach_type: int
    params: tuple[int, ...]  # the whole prototype's parameter types (a tp_btf's first void * included)
    ret: int  # the return type, 0 for void
    names: tuple[str, ...] = ()  # the parameters' names, as ``params``

    @property
    def skip(self) -> int:
        """Prototype parameters the program does not see (the tracepoint's ``void *__data``)."""
        return 1 if self.attach_type == AttachType.TRACE_RAW_TP else 0


@dataclass(frozen=True)
class CtxArg:
    """A valid read of the context: a scalar (``pointee`` 0), else a pointer to struct ``pointee``."""

    arg: int
    pointee: int = 0
    trusted: bool = False


def kind_str(kind: int) -> str:
    """btf_type_str: the kind's name as the kernel prints it."""
    return "UNKNOWN" if kind == Kind.UNKN else Kind(kind).name


def default_attach_type(btf: Btf, btf_id: int) -> int:
    """The attach type a caller that names none means: tp_btf for a typedef, fentry for a function."""
    if 0 < btf_id < len(btf.types) and btf.type_by_id(btf_id).kind == Kind.TYPEDEF:
        return AttachType.TRACE_RAW_TP
    return AttachType.TRACE_FENTRY


def tracing_info(info: ProgTypeInfo, attach_type: int) -> ProgTypeInfo:
    """The program type's data for one attach type (its exit value range)."""
    return dataclasses.replace(info, retval=RETVAL.get(attach_type))


def attach_target(btf: Btf, btf_id: int, attach_type: int) -> TraceTarget:
    """check_attach_btf_id for tracing programs; raises the kernel's Rejection when the target is wrong."""
    if not btf_id:
        raise rejection("trace_no_btf_id", 0)
    if btf_id >= len(btf.types):
        raise rejection("trace_bad_id", 0, id=btf_id)
    t = btf.type_by_id(btf_id)
    name = btf.name_of(t)
    if attach_type == AttachType.TRACE_RAW_TP:
        if t.kind != Kind.TYPEDEF:
            raise rejection("trace_not_typedef", 0, id=btf_id)
        if not name.startswith(RAW_TP_PREFIX):
            raise rejection("trace_bad_name", 0, id=btf_id, name=name)
        ptr = btf.type_by_id(btf.resolve(t.type))
        proto = btf.type_by_id(ptr.type) if ptr.kind == Kind.PTR else ptr
        if proto.kind != Kind.FUNC_PROTO:
            raise rejection("trace_not_typedef", 0, id=btf_id)
        name = name[len(RAW_TP_PREFIX):]
    else:
        if t.kind != Kind.FUNC:
            raise rejection("trace_not_func", 0, id=btf_id)
        proto = btf.func_proto_of(btf_id)
    return TraceTarget(name, btf, attach_type, tuple(p.type for p in proto.params), proto.type,
                       tuple(btf.str_at(p.name_off) if p.name_off else "" for p in proto.params))


def _slot_bytes(btf: Btf, tid: int) -> int:
    """The bytes an argument takes in the context: 8 for a pointer, its size rounded up to 8 otherwise."""
    if not tid:
        return 0
    under = btf.resolve(tid)
    if not under:
        return 0
    if btf.type_by_id(under).kind == Kind.PTR:
        return SLOT
    return -(-btf.size_of(under) // SLOT) * SLOT


def arg_index(target: TraceTarget, off: int) -> int:
    """btf_ctx_arg_idx: the prototype argument that ``off`` falls in, counted over the whole prototype
    (its return value is one past the last; two past it when ``off`` is beyond even that)."""
    end = 0
    for i, tid in enumerate((*target.params, target.ret)):
        end += _slot_bytes(target.btf, tid)
        if off < end:
            return i
    return len(target.params) + 1


def arg_access(target: TraceTarget, off: int, size: int) -> CtxArg | str:
    """btf_ctx_access: what reading ``size`` bytes at ``off`` gives, or the line the kernel refuses it with."""
    func, btf = target.name, target.btf
    if off % SLOT:
        return text("trace_off8", func=func, off=off)
    arg = arg_index(target, off)
    args = target.params[target.skip:]
    nr_args = len(args)
    if arg > nr_args:
        return text("trace_no_arg", func=func, n=arg + 1)
    if arg == nr_args:
        if target.attach_type not in WITH_RETVAL:
            return text("trace_no_arg", func=func, n=arg + 1)
        tid = target.ret
    else:
        tid = args[arg]
    under = btf.resolve(tid) if tid else 0
    t = btf.type_by_id(under)
    if (t.kind == Kind.INT and t.size <= SLOT) or t.kind in (Kind.ENUM, Kind.ENUM64, Kind.STRUCT, Kind.UNION):
        return CtxArg(arg)
    if t.kind != Kind.PTR:
        names = target.names[target.skip:]
        name = names[arg] if arg < len(names) else ""
        return text("trace_not_ptr", func=func, arg=arg, name=name, kind=kind_str(t.kind))
    if size != SLOT:
        return text("trace_size8", func=func, size=size)
    pointee = btf.resolve(t.type) if t.type else 0
    pt = btf.type_by_id(pointee)
    if not pointee or pt.kind == Kind.INT:
        return CtxArg(arg)  # void * and integer pointers are plain numbers to the program
    if pt.kind not in (Kind.STRUCT, Kind.UNION):
        return text("trace_not_struct", func=func, arg=arg, kind=kind_str(pt.kind))
    return CtxArg(arg, pointee, target.attach_type in TRUSTED_ARGS)


def arg_line(target: TraceTarget, got: CtxArg) -> str:
    """The log line the kernel writes when an argument reads as a BTF pointer."""
    t = target.btf.type_by_id(got.pointee)
    return text("trace_arg_btf", func=target.name, arg=got.arg, id=got.pointee, kind=kind_str(t.kind),
                name=target.btf.name_of(t))


def check_btf_ctx_access(env: Env, off: int, size: int, access: str, value_regno: int) -> None:
    """A load or store at ``off`` of a tracing program's context (tracing_prog_is_valid_access)."""
    target = env.trace
    assert target is not None, "verify() resolves the attach target of every tracing program"
    if off < 0 or off >= CTX_SIZE or access != READ or off % size:
        raise env.reject("ctx_access", off=off, size=size)
    got = arg_access(target, off, size)
    if isinstance(got, str):
        raise env.reject("ctx_access", got, off=off, size=size)
    dst = env.regs()[value_regno]
    if not got.pointee:
        mark_reg_unknown(env, dst)
        return
    env.log.write(arg_line(target, got) + "\n")
    flags = TypeFlag.PTR_TRUSTED if got.trusted else 0
    dst.set_btf_ptr(RegType.PTR_TO_BTF_ID | flags, target.btf, got.pointee)


__all__ = ["ATTACH_TYPES", "BTF_MAX_TYPE", "CTX_SIZE", "RETVAL", "CtxArg", "TraceTarget", "arg_access", "arg_index",
           "arg_line", "attach_target", "check_btf_ctx_access", "default_attach_type", "kind_str", "tracing_info"]
