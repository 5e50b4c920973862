"""The kfunc arguments a parameter's name suffix or pointee type makes special (beyond local kptrs and graphs).

``check_kfunc_args`` in the kernel reads each BTF parameter: a memory buffer
followed by its size (``buf, buf__sz``; ``buf__szk``: the size must also be a
known constant, and ``buf__opt`` may be NULL), a constant string in a frozen
read-only map (``fmt__str``), the program's context (a pointer to its ctx
struct, ``struct __sk_buff *`` for an skb program), a dynptr on the stack
(``struct bpf_dynptr *``, to be initialised when the name ends in
``__uninit``), and parameters the verifier fills in (``__ign``, ``__prog``).
"""

from __future__ import annotations

from pybpf.abi.uapi import ProgType
from pybpf.btf.graph import Btf
from pybpf.btf.types import Param
from pybpf.btf.uapi import Kind
from pybpf.verifier.backtrack import mark_chain_precision
from pybpf.verifier.env import Env
from pybpf.verifier.messages import Rejection
from pybpf.verifier.regs import RegState, RegType, TypeFlag, reg_type_str

BPF_MAX_VAR_SIZ = 1 << 29

# the uapi context struct of each program type (the kernel's bpf_ctx_convert): a pointer to it is the ctx
CTX_STRUCTS = {
    ProgType.SOCKET_FILTER: "__sk_buff", ProgType.SCHED_CLS: "__sk_buff", ProgType.SCHED_ACT: "__sk_buff",
    ProgType.CGROUP_SKB: "__sk_buff", ProgType.XDP: "xdp_md", ProgType.PERF_EVENT: "bpf_perf_event_data",
}  # fmt: skip
IGNORED_SUFFIXES = ("__ign", "__prog")  # the verifier fills these in (the struct meta, the calling program)
SIZE_SUFFIXES = ("__sz", "__szk")


def _pointee(btf: Btf, p: Param):
    t = btf.type_by_id(btf.resolve(p.type))
    return btf.type_by_id(btf.resolve(t.type)) if t.kind == Kind.PTR else None


def is_ctx_arg(btf: Btf, p: Param, prog_type: int) -> bool:
    """btf_is_prog_ctx_type: the parameter points to the program type's context struct."""
    pointee = _pointee(btf, p)
    want = CTX_STRUCTS.get(prog_type)
    return want is not None and pointee is not None and pointee.kind == Kind.STRUCT and btf.name_of(pointee) == want


def is_dynptr_arg(btf: Btf, p: Param) -> bool:
    pointee = _pointee(btf, p)
    return pointee is not None and pointee.kind == Kind.STRUCT and btf.name_of(pointee) == "bpf_dynptr"


def is_iter_arg(btf: Btf, p: Param) -> bool:
    """is_kfunc_arg_iter's type half: a pointer to a ``struct bpf_iter_<type>``."""
    pointee = _pointee(btf, p)
    return pointee is not None and pointee.kind == Kind.STRUCT and btf.name_of(pointee).startswith("bpf_iter_")


def check_mem_pointee(env: Env, btf: Btf, p: Param, i: int, sized: bool, scalar_struct) -> None:
    """get_kfunc_ptr_arg_type's catch-all: plain memory points to a scalar or a struct of scalars (``void`` too
    when a size follows).  ``scalar_struct(btf, id)`` is __btf_type_is_scalar_struct."""
    ptr = btf.type_by_id(btf.resolve(p.type))
    tid = btf.resolve(ptr.type)
    if tid == 0:
        if sized:
            return
        raise env.reject("kfunc_mem_type", i=i, kind="UNKN", name="", unsized="")
    t = btf.type_by_id(tid)
    if t.kind in (Kind.INT, Kind.ENUM, Kind.ENUM64) or (t.kind == Kind.STRUCT and scalar_struct(btf, tid)):
        return
    raise env.reject("kfunc_mem_type", i=i, kind=t.kind.name, name=btf.name_of(t), unsized="void, " if sized else "")


def is_size_arg(btf: Btf, p: Param, name: str, reg: RegState) -> bool:
    """is_kfunc_arg_mem_size / is_kfunc_arg_const_mem_size: a scalar ``__sz``/``__szk`` parameter given a scalar."""
    t = btf.type_by_id(btf.resolve(p.type))
    return t.kind in (Kind.INT, Kind.ENUM, Kind.ENUM64) and reg.type == RegType.SCALAR_VALUE and \
        name.endswith(SIZE_SUFFIXES)


def check_ctx_arg(env: Env, i: int, reg: RegState) -> None:
    if reg.type != RegType.PTR_TO_CTX:
        raise env.reject("kfunc_ctx", i=i, type=reg_type_str(reg.type))


def check_mem_size_pair(env: Env, i: int, regno: int, optional: bool, const: bool, check_mem) -> int | None:
    """KF_ARG_PTR_TO_MEM_SIZE: the buffer in ``regno`` holds as many bytes as the next register says
    (check_kfunc_mem_size_reg); ``__szk``: a known constant, returned.  ``check_mem`` is the helpers'
    check_helper_mem_access."""
    regs = env.regs()
    buf, size_regno = regs[regno], regno + 1
    size = regs[size_regno]
    null = buf.is_const() and buf.s.var_off.value == 0
    if not (null and optional):
        try:
            _check_size_reg(env, size_regno, size, buf, check_mem)
        except Rejection as inner:
            err = env.reject("kfunc_mem_len", i=i, j=i + 1)
            err.errno = inner.errno
            raise err from None
    if not const:
        return None
    if size.s.var_off.mask:
        raise env.reject("kfunc_not_const", reg=size_regno)
    return size.s.var_off.value


def _check_size_reg(env: Env, regno: int, size: RegState, buf: RegState, check_mem) -> None:
    """check_kfunc_mem_size_reg: check_mem_size_reg as a read, then as a write (the kfunc may write the
    buffer: its stack bytes are initialised, then become STACK_MISC), the size made precise each time."""
    s = size.s
    if s.smin < 0:
        raise env.reject("min_neg_size", reg=regno)
    if s.umax >= BPF_MAX_VAR_SIZ:
        raise env.reject("unbounded_size", reg=regno)
    mem = buf
    if buf.type & TypeFlag.PTR_MAYBE_NULL:  # checked as if not NULL: the trusted-argument rule covers NULL
        mem = buf.clone()
        mem.type &= ~TypeFlag.PTR_MAYBE_NULL
    for access in ("read", "clobber"):
        check_mem(env, regno - 1, mem, s.umax, access, True)
        mark_chain_precision(env, regno)


def check_const_str(env: Env, regno: int, reg: RegState) -> None:
    """check_reg_const_str: a NUL-terminated string at a constant offset into a frozen read-only map."""
    m = reg.map
    if m is None or not m.is_rdonly:
        raise env.reject("const_str_not_rdonly", reg=regno)
    if reg.s.var_off.mask:
        raise env.reject("const_str_not_const", reg=regno)
    off = reg.off + reg.s.var_off.value
    data = m.frozen_data
    if not 0 <= off < m.value_size or b"\0" not in data[off:m.value_size]:
        raise env.reject("const_str_unterminated")


def check_const_str_arg(env: Env, i: int, regno: int, reg: RegState) -> None:
    """KF_ARG_PTR_TO_CONST_STR (``__str``)."""
    if reg.type != RegType.PTR_TO_MAP_VALUE:
        raise env.reject("kfunc_const_str", i=i)
    check_const_str(env, regno, reg)


__all__ = ["CTX_STRUCTS", "IGNORED_SUFFIXES", "SIZE_SUFFIXES", "check_const_str", "check_const_str_arg",
           "check_ctx_arg", "check_mem_pointee", "check_mem_size_pair", "is_ctx_arg", "is_dynptr_arg", "is_iter_arg",
           "is_size_arg"]
