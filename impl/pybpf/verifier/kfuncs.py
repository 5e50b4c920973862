"""check_kfunc_call: calls of kernel functions (``call`` with src=2), by their prototype in kernel BTF.

The call's ``imm`` is the id of a FUNC in kernel BTF (``Env.kernel_btf``); the
ABI profile says which FUNCs are kfuncs a program may call and with which
``KF_*`` flags.  Each parameter is classified as the kernel classifies it,
by its type and its name's suffix: ``__k`` (a known constant), ``__ign`` (the
verifier fills it in), ``__alloc`` (an object the program allocated),
``__refcounted_kptr``, a graph root or node by its struct name, a callback by
its function-pointer type; a buffer and its ``__sz``/``__szk`` size, ``__opt``,
``__str``, the ctx, dynptrs (``__uninit`` or initialised) and iterators are
checked in ``kfunc_args``, ``dynptr`` and ``iters``.  KF_SLEEPABLE,
KF_DESTRUCTIVE, KF_TRUSTED_ARGS, KF_RCU_PROTECTED and the program type's kfunc
set come from the profile's table.  Then the special kfuncs do their part: allocate
(``bpf_obj_new_impl``: an owning reference to a type of the program's BTF),
release, push (ownership moves to the collection), pop (ownership comes back).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pybpf.abi.profiles import ArgKind, KfuncFlag, KfuncSpec, Op, profile
from pybpf.abi.uapi import DynptrType
from pybpf.btf.graph import Btf
from pybpf.btf.record import BtfField, FieldType
from pybpf.btf.types import Param
from pybpf.btf.uapi import Kind
from pybpf.errors import InternalError
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import CallSrc
from pybpf.verifier.backtrack import mark_chain_precision
from pybpf.verifier.btf_ptr import is_trusted_reg
from pybpf.verifier.calls import check_helper_mem_access
from pybpf.verifier.dynptr import Dynptr, dynptr_arg, init_dynptr_arg
from pybpf.verifier.env import Env
from pybpf.verifier.graph import (
    ALLOC_OBJ,
    acquire_reference,
    convert_owning_non_owning,
    graph_node_arg,
    graph_node_field,
    graph_node_matches,
    graph_root_arg,
    invalidate_non_owning_refs,
    mark_untrusted,
    push_less_callback,
    release_reference,
    set_non_owning,
)
from pybpf.verifier.iters import iter_arg, new_iter_arg
from pybpf.verifier.kfunc_args import (
    IGNORED_SUFFIXES,
    check_const_str_arg,
    check_ctx_arg,
    check_mem_pointee,
    check_mem_size_pair,
    is_ctx_arg,
    is_dynptr_arg,
    is_iter_arg,
    is_size_arg,
)
from pybpf.verifier.messages import Rejection, rejection
from pybpf.verifier.regs import (
    RegState,
    RegType,
    TypeFlag,
    mark_reg_not_init,
    mark_reg_unknown,
    reg_type_str,
    struct_meta,
)

CALLER_SAVED = (0, 1, 2, 3, 4, 5)
BPF_GLOBAL_PERCPU_MA_MAX_SIZE = 512
U32_MAX = 0xFFFFFFFF


class ArgType(Enum):
    """``enum kfunc_ptr_arg_type`` (the kinds these kfuncs use), plus the scalar and ignored ones."""

    IGNORED = "ignored"
    SCALAR = "scalar"
    NULL = "null"
    ALLOC_BTF_ID = "alloc_btf_id"
    REFCOUNTED_KPTR = "refcounted_kptr"
    LIST_HEAD = "list_head"
    LIST_NODE = "list_node"
    RB_ROOT = "rb_root"
    RB_NODE = "rb_node"
    BTF_ID = "btf_id"
    CALLBACK = "callback"
    MEM = "mem"
    CTX = "ctx"
    ITER = "iter"
    DYNPTR = "dynptr"
    CONST_STR = "const_str"
    MEM_SIZE = "mem_size"
    SIZE = "size"  # the __sz/__szk after a buffer: checked with it, then skipped


_GRAPH_STRUCTS = {"bpf_list_head": ArgType.LIST_HEAD, "bpf_list_node": ArgType.LIST_NODE,
                  "bpf_rb_root": ArgType.RB_ROOT, "bpf_rb_node": ArgType.RB_NODE}
_ROOTS = {ArgType.LIST_HEAD: FieldType.LIST_HEAD, ArgType.RB_ROOT: FieldType.RB_ROOT}
_NODES = {ArgType.LIST_NODE: FieldType.LIST_HEAD, ArgType.RB_NODE: FieldType.RB_ROOT}
_PUSH = frozenset({Op.LIST_PUSH_FRONT, Op.LIST_PUSH_BACK, Op.RBTREE_ADD})
_OBJ_NEW = frozenset({Op.OBJ_NEW, Op.PERCPU_OBJ_NEW})
_DROPS = (Op.OBJ_DROP, Op.PERCPU_OBJ_DROP)
# kfunc_spin_allowed: the graph API may be called with the lock held (bpf_obj_new/drop may not)
_SPIN_ALLOWED = frozenset(set(Op) - {Op.OBJ_NEW, Op.OBJ_DROP, Op.PERCPU_OBJ_NEW, Op.PERCPU_OBJ_DROP})


@dataclass
class KfuncMeta:
    """bpf_kfunc_call_arg_meta: what the arguments told about the call."""

    name: str
    spec: KfuncSpec
    btf: Btf
    ref_obj_id: int = 0
    release_regno: int = 0
    constant: int | None = None
    arg_btf: Btf | None = None
    arg_btf_id: int = 0
    root: BtfField | None = None
    node_regno: int = 0
    arg_owning_ref: bool = False
    callback: int = -1  # bpf_rbtree_add's less(): its first instruction
    dynptr: Dynptr | None = None  # the initialised dynptr argument (meta->initialized_dynptr)
    ret_btf_id: int = 0  # the struct a "kernel_object" kfunc returns a pointer to

    @property
    def ret_null(self) -> bool:
        """KF_RET_NULL, except that bpf_refcount_acquire of an owning reference cannot fail."""
        return self.flag(KfuncFlag.RET_NULL) and not (self.spec.op is Op.REFCOUNT_ACQUIRE and self.arg_owning_ref)

    def flag(self, f: KfuncFlag) -> bool:
        return bool(self.spec.flags & f)

    release_trusted: bool = True  # the profile's release_implies_trusted

    @property
    def trusted_args(self) -> bool:
        """is_kfunc_trusted_args: KF_TRUSTED_ARGS, which every release kfunc implies on 6.18."""
        return self.flag(KfuncFlag.TRUSTED_ARGS) or (self.release_trusted and self.flag(KfuncFlag.RELEASE))


def kernel_btf(env: Env) -> Btf:
    """The kernel BTF kfunc ids point into: the one given to ``verify``, else the default (loaded once)."""
    if env.kernel_btf is None:
        from pybpf.abi.kernel_btf import kernel_btf as default

        env.kernel_btf = default()
    return env.kernel_btf


_SUFFIXES = ("__k", "__ign", "__alloc", "__refcounted_kptr", "__nullable", "__sz", "__szk", "__opt", "__uninit",
             "__str", "__prog")
_KIND_SUFFIX = {ArgKind.TYPE_ID: "__k", ArgKind.IGNORED: "__ign", ArgKind.ALLOC: "__alloc",
                ArgKind.REFCOUNTED: "__refcounted_kptr"}


def _param_name(btf: Btf, p: Param, kind: ArgKind | None = None) -> str:
    """The parameter's name as the kernel reads its suffix; where BTF lost the names (clang writes
    ``dummy_ksym`` for an extern's parameters) the profile's argument kind supplies the suffix."""
    name = btf.str_at(p.name_off) if p.name_off else ""
    if kind is not None and not name.endswith(_SUFFIXES):
        name += _KIND_SUFFIX.get(kind, "")
    return name


def _is_scalar(btf: Btf, tid: int) -> bool:
    return btf.type_by_id(btf.resolve(tid)).kind in (Kind.INT, Kind.ENUM, Kind.ENUM64)


def _is_null(reg: RegState) -> bool:
    return reg.is_const() and reg.s.var_off.value == 0


def _arg_type(btf: Btf, p: Param, reg: RegState, name: str, prog_type: int = -1,
              sized: bool = False, iter_arg_index: int = -1) -> ArgType:
    """get_kfunc_ptr_arg_type, with the scalar and ignored parameters too (``name``: see ``_param_name``;
    ``sized``: the next parameter is this buffer's ``__sz``/``__szk``; ``iter_arg_index``: the parameter's
    index in an iterator kfunc, whose first parameter is the iterator)."""
    if name.endswith(IGNORED_SUFFIXES):
        return ArgType.IGNORED
    if _is_scalar(btf, p.type):
        return ArgType.SCALAR
    t = btf.type_by_id(btf.resolve(p.type))
    if t.kind != Kind.PTR:
        return ArgType.MEM  # refused by the caller with "Unrecognized arg#"
    if is_ctx_arg(btf, p, prog_type):
        return ArgType.CTX
    if name.endswith("__nullable") and _is_null(reg):
        return ArgType.NULL
    if name.endswith("__alloc"):
        return ArgType.ALLOC_BTF_ID
    if name.endswith("__refcounted_kptr"):
        return ArgType.REFCOUNTED_KPTR
    if is_dynptr_arg(btf, p):
        return ArgType.DYNPTR
    if iter_arg_index == 0 and is_iter_arg(btf, p):
        return ArgType.ITER
    pointee = btf.type_by_id(btf.resolve(t.type))
    if pointee.kind == Kind.STRUCT and btf.name_of(pointee) in _GRAPH_STRUCTS:
        return _GRAPH_STRUCTS[btf.name_of(pointee)]
    if name.endswith("__str"):
        return ArgType.CONST_STR
    if reg.base == RegType.PTR_TO_BTF_ID:
        return ArgType.BTF_ID
    if pointee.kind == Kind.FUNC_PROTO:
        return ArgType.CALLBACK
    return ArgType.MEM_SIZE if sized else ArgType.MEM


def _check_arg_reg_off(env: Env, regno: int, reg: RegState, release: bool) -> None:
    """check_func_arg_reg_off: a released pointer points at its object's start; only BTF pointers keep offsets."""
    if release:
        if reg.off:
            raise env.reject("release_off", reg=regno)
        _check_ptr_off(env, regno, reg, False)
        return
    base = reg.base
    if reg.type in (RegType.PTR_TO_MEM | TypeFlag.MEM_RDONLY, RegType.PTR_TO_MEM | TypeFlag.MEM_RINGBUF) or (
            reg.type == base and base in (RegType.PTR_TO_STACK, RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META,
                                          RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MEM,
                                          RegType.PTR_TO_BUF, RegType.PTR_TO_ARENA, RegType.SCALAR_VALUE)):
        return
    fixed_ok = base == RegType.PTR_TO_BTF_ID and not reg.type & (TypeFlag.PTR_MAYBE_NULL | TypeFlag.PTR_UNTRUSTED)
    _check_ptr_off(env, regno, reg, fixed_ok)


def _check_ptr_off(env: Env, regno: int, reg: RegState, fixed_off_ok: bool) -> None:
    """__check_ptr_off_reg."""
    if not fixed_off_ok and reg.off:
        raise env.reject("modified_ptr", type=reg_type_str(reg.type), reg=regno, off=reg.off)
    v = reg.s.var_off
    if v.mask or v.value:
        raise env.reject("variable_ptr", type=reg_type_str(reg.type), var_off=str(v))


def _check_args(env: Env, meta: KfuncMeta, params: tuple[Param, ...]) -> None:
    """check_kfunc_args."""
    btf = meta.btf
    regs = env.regs()
    spec_args = meta.spec.args + (None,) * (len(params) - len(meta.spec.args))
    names = [_param_name(btf, p, k) for p, k in zip(params, spec_args, strict=False)]
    sized = [i + 1 < len(params) and is_size_arg(btf, params[i + 1], names[i + 1], regs[i + 2])
             for i in range(len(params))]
    iter_kfunc = meta.flag(KfuncFlag.ITER_NEW) or meta.flag(KfuncFlag.ITER_NEXT) or meta.flag(KfuncFlag.ITER_DESTROY)
    kinds = [_arg_type(btf, p, regs[i + 1], names[i], env.prog_type, sized[i], i if iter_kfunc else -1)
             for i, p in enumerate(params)]
    for i in range(len(params) - 1):
        if kinds[i] is ArgType.MEM_SIZE:
            kinds[i + 1] = ArgType.SIZE
    # 6.18 takes (root, node); the 2022 series took (node, head) and checked them in that order, the node's
    # type and offset against the head's contains: tag last
    node_first = profile(env.abi).node_first
    for i in range(len(params)):
        p, kind = params[i], kinds[i]
        regno = i + 1
        reg = regs[regno]
        if kind in (ArgType.IGNORED, ArgType.SIZE):
            continue
        if kind is ArgType.SCALAR:
            if reg.type != RegType.SCALAR_VALUE:
                raise env.reject("kfunc_not_scalar", reg=regno)
            if names[i].endswith("__k"):
                if not reg.is_const():
                    raise env.reject("kfunc_not_const", reg=regno)
                mark_chain_precision(env, regno)
                meta.constant = reg.s.var_off.value
            continue
        t = btf.type_by_id(btf.resolve(p.type))
        if t.kind != Kind.PTR:
            raise env.reject("kfunc_unrecognized", i=i, kind=t.kind.name)
        trusted = meta.trusted_args or meta.flag(KfuncFlag.RCU)
        if trusted and (_is_null(reg) or reg.maybe_null()) and not names[i].endswith(("__nullable", "__opt")):
            raise env.reject("kfunc_null_trusted", i=i)
        if reg.ref_obj_id:
            meta.ref_obj_id = reg.ref_obj_id
            if meta.flag(KfuncFlag.RELEASE):
                meta.release_regno = regno
        if kind in (ArgType.MEM, ArgType.MEM_SIZE):
            check_mem_pointee(env, btf, p, i, kind is ArgType.MEM_SIZE, _scalar_struct)
        if kind is ArgType.NULL:
            continue
        if kind in (ArgType.ALLOC_BTF_ID, ArgType.BTF_ID) and trusted and not is_trusted_reg(reg):
            if not meta.flag(KfuncFlag.RCU):
                raise env.reject("kfunc_not_trusted", reg=regno)
            if not reg.type & TypeFlag.MEM_RCU:
                raise env.reject("kfunc_not_rcu", reg=regno)
        _check_arg_reg_off(env, regno, reg, meta.flag(KfuncFlag.RELEASE) and bool(reg.ref_obj_id))
        if kind in _SUFFIX_KINDS:
            _check_suffix_arg(env, meta, i, p, reg, kind, names)
        else:
            _check_arg(env, meta, i, regno, reg, kind)
    if node_first and meta.node_regno:
        if meta.root is None:  # every graph kfunc of both profiles takes its root too
            raise InternalError(f"kfunc {meta.name}: a graph node argument without a root argument")
        graph_node_matches(env, regs[meta.node_regno], meta.root, _NODES[kinds[meta.node_regno - 1]])


_SUFFIX_KINDS = frozenset({ArgType.CTX, ArgType.DYNPTR, ArgType.CONST_STR, ArgType.MEM_SIZE, ArgType.ITER})
_UNINIT_DYNPTR = {Op.DYNPTR_FROM_SKB: DynptrType.SKB, Op.DYNPTR_FROM_XDP: DynptrType.XDP}


def _check_suffix_arg(env: Env, meta: KfuncMeta, i: int, p: Param, reg: RegState, kind: ArgType,
                      names: list[str]) -> None:  # fmt: skip
    """The second half of check_kfunc_args for ctx, iterator, dynptr, constant-string and sized-buffer
    arguments (parameter ``i``, ``p``, in register ``i + 1``)."""
    regno = i + 1
    if kind is ArgType.CTX:
        check_ctx_arg(env, i, reg)
    elif kind is ArgType.ITER:
        btf = meta.btf
        iter_id = btf.resolve(btf.type_by_id(btf.resolve(p.type)).type)
        if meta.flag(KfuncFlag.ITER_NEW):
            new_iter_arg(env, regno, reg, btf, iter_id)
        else:
            iter_arg(env, regno, reg, btf, iter_id, destroy=meta.flag(KfuncFlag.ITER_DESTROY))
    elif kind is ArgType.CONST_STR:
        check_const_str_arg(env, i, regno, reg)
    elif kind is ArgType.MEM_SIZE:
        const = names[i + 1].endswith("__szk")
        value = check_mem_size_pair(env, i, regno, names[i].endswith("__opt"), const, check_helper_mem_access)
        if value is not None:
            meta.constant = value
    elif names[i].endswith("__uninit"):
        parent = meta.dynptr.type if meta.dynptr is not None else None
        dtype = _UNINIT_DYNPTR.get(meta.spec.op, parent)
        if dtype is None:
            raise InternalError(f"kfunc {meta.name}: no dynptr type for its __uninit argument")
        init_dynptr_arg(env, regno, reg, dtype)
    else:
        meta.dynptr = dynptr_arg(env, regno, reg)


def _check_arg(env: Env, meta: KfuncMeta, i: int, regno: int, reg: RegState, kind: ArgType) -> None:
    """The second half of check_kfunc_args: what each kind of pointer must be."""
    if kind is ArgType.ALLOC_BTF_ID:
        want = Op.OBJ_DROP if reg.type == ALLOC_OBJ else Op.PERCPU_OBJ_DROP
        if reg.type in (ALLOC_OBJ, ALLOC_OBJ | TypeFlag.MEM_PERCPU):
            if meta.spec.op is not want:
                drop = profile(env.abi).by_op(want)
                raise env.reject("arg_expected_drop", i=i, name=drop.name if drop else want.value)
        else:
            raise env.reject("arg_expected_alloc", i=i)
        if not reg.ref_obj_id:
            raise env.reject("alloc_unreferenced")
        meta.arg_btf, meta.arg_btf_id = reg.btf, reg.btf_id
    elif kind in _ROOTS:
        meta.root = graph_root_arg(env, regno, reg, i, _ROOTS[kind])
    elif kind in _NODES:
        if kind is ArgType.LIST_NODE or meta.spec.op is Op.RBTREE_ADD:
            if reg.type != ALLOC_OBJ:
                raise env.reject("arg_expected_alloc", i=i)
            if not reg.ref_obj_id:
                raise env.reject("alloc_unreferenced")
        else:
            if not reg.type & TypeFlag.NON_OWN_REF and not reg.ref_obj_id:
                raise env.reject("rb_node_owner", name=meta.name)
            if _in_rbtree_callback(env):
                raise env.reject("rbtree_cb", name=meta.name)
        if meta.root is None:  # the 2022 series' add took (node, head): matched with the head after it
            if not profile(env.abi).node_first:
                raise InternalError(f"kfunc {meta.name}: a graph node argument before its root argument")
            graph_node_field(env, regno, reg, _NODES[kind])
        else:
            graph_node_arg(env, regno, reg, meta.root, _NODES[kind])
        meta.arg_btf, meta.arg_btf_id, meta.node_regno = reg.btf, reg.btf_id, regno
    elif kind is ArgType.REFCOUNTED_KPTR:
        if reg.base != RegType.PTR_TO_BTF_ID or not reg.type & TypeFlag.MEM_ALLOC:
            raise env.reject("refcounted_kind", i=i)
        meta.arg_owning_ref = not reg.type & TypeFlag.NON_OWN_REF
        record = reg.record
        if record is None or record.refcount_off < 0:
            raise env.reject("no_refcount", i=i)
        meta.arg_btf, meta.arg_btf_id = reg.btf, reg.btf_id
    elif kind is ArgType.CALLBACK:
        if reg.type != RegType.PTR_TO_FUNC:
            raise env.reject("arg_expected_func", i=i)
        meta.callback = reg.mem_size  # the callback's first instruction (callbacks.ld_imm64_func)


def mark_callback_calls(env: Env, calls: list[int]) -> None:
    """check_cfg's part for kfuncs that call back (bpf_rbtree_add): the call is a loop head, as for bpf_loop."""
    btf = kernel_btf(env)
    table = profile(env.abi)
    for pc in calls:
        ins = env.insns[pc]
        func = btf.types[ins.imm] if not ins.off and 0 < ins.imm < len(btf.types) else None
        spec = table.by_name(btf.name_of(func)) if func is not None and func.kind == Kind.FUNC else None
        if spec is not None and spec.op is Op.RBTREE_ADD:
            aux = env.aux[pc]
            aux.calls_callback = aux.force_checkpoint = aux.prune_point = aux.jmp_point = True


def _in_rbtree_callback(env: Env) -> bool:
    """in_rbtree_lock_required_cb: the current frame is the less() callback of a bpf_rbtree_add call."""
    frame = env.cur.cur
    if not frame.in_callback_fn:
        return False
    call = env.insns[frame.callsite]
    if call.src != CallSrc.KFUNC or call.off:
        return False
    btf = kernel_btf(env)
    func = btf.types[call.imm] if 0 < call.imm < len(btf.types) else None
    spec = profile(env.abi).by_name(btf.name_of(func)) if func is not None and func.kind == Kind.FUNC else None
    return spec is not None and spec.op is Op.RBTREE_ADD


def kfunc_allowed(env: Env, ins: Insn) -> bool:
    """Whether fetch_kfunc_meta finds the call's kfunc, and in a set this program type may call."""
    btf = kernel_btf(env)
    func = btf.types[ins.imm] if 0 < ins.imm < len(btf.types) else None
    return func is not None and func.kind == Kind.FUNC and _allowed(env, profile(env.abi).by_name(btf.name_of(func)))


def _allowed(env: Env, spec) -> bool:
    return spec is not None and (spec.prog_types is None or env.prog_type in spec.prog_types)


def _lookup(env: Env, ins: Insn) -> KfuncMeta:
    """fetch_kfunc_meta: the FUNC ``imm`` names, and the profile's entry for it."""
    btf = kernel_btf(env)
    func_id = ins.imm
    func = btf.types[func_id] if 0 < func_id < len(btf.types) else None
    if func is None or func.kind != Kind.FUNC:
        raise env.reject("kfunc_not_func", id=func_id & U32_MAX)
    name = btf.name_of(func)
    table = profile(env.abi)
    spec = table.by_name(name)
    if not _allowed(env, spec):
        raise env.reject("kfunc_not_allowed", name=name)
    return KfuncMeta(name, spec, btf, release_trusted=table.release_implies_trusted)


def _obj_new(env: Env, meta: KfuncMeta, r0: RegState) -> None:
    """bpf_obj_new_impl / bpf_percpu_obj_new_impl: a new object of a struct of the program's BTF."""
    value = meta.constant or 0
    if value & U32_MAX != value:
        raise env.reject("obj_new_range")
    btf = env.btf
    if btf is None:
        raise env.reject("obj_new_btf")
    t = btf.types[value] if 0 <= value < len(btf.types) else None
    if t is None or t.kind != Kind.STRUCT:
        raise env.reject("obj_new_struct")
    percpu = meta.spec.op is Op.PERCPU_OBJ_NEW
    if percpu:
        if t.size > BPF_GLOBAL_PERCPU_MA_MAX_SIZE:
            raise env.reject("percpu_size", size=t.size, max=BPF_GLOBAL_PERCPU_MA_MAX_SIZE)
        if not _scalar_struct(btf, value):
            raise env.reject("percpu_scalars")
        if struct_meta(btf, value) is not None:
            raise env.reject("percpu_special")
    r0.set_btf_ptr(ALLOC_OBJ | (TypeFlag.MEM_PERCPU if percpu else 0), btf, value)


def _scalar_struct(btf: Btf, tid: int, depth: int = 0) -> bool:
    """__btf_type_is_scalar_struct: only scalars (and arrays and structs of them), three levels at most."""
    for m in btf.members(tid):
        mt = btf.resolve(m.type)
        while btf.types[mt].kind == Kind.ARRAY:
            mt = btf.resolve(btf.types[mt].type)
        kind = btf.types[mt].kind
        if kind == Kind.STRUCT:
            if depth == 2 or not _scalar_struct(btf, mt, depth + 1):
                return False
        elif kind not in (Kind.INT, Kind.ENUM, Kind.ENUM64):
            return False
    return True


def _returned_pointer(env: Env, meta: KfuncMeta, r0: RegState) -> None:
    """R0 of a kfunc returning a pointer: check_special_kfunc, then nullability and ownership."""
    op = meta.spec.op
    if op in _SLICES:
        _dynptr_slice(env, meta, r0)
    elif op in _OBJ_NEW:
        _obj_new(env, meta, r0)
    elif meta.spec.returns == "kernel_object":
        r0.set_btf_ptr(RegType.PTR_TO_BTF_ID, meta.btf, meta.ret_btf_id)
    elif op is Op.REFCOUNT_ACQUIRE:
        if meta.arg_btf is None:
            raise InternalError(f"kfunc {meta.name}: no refcounted argument")
        r0.set_btf_ptr(ALLOC_OBJ, meta.arg_btf, meta.arg_btf_id)
    else:
        root = meta.root.graph_root if meta.root is not None else None
        if root is None or env.btf is None:
            raise InternalError(f"kfunc {meta.name} returns a graph node but took no graph root")
        r0.set_btf_ptr(ALLOC_OBJ, env.btf, root.value_type, off=root.node_offset)
    if meta.ret_null:
        r0.type |= TypeFlag.PTR_MAYBE_NULL
        r0.id = env.new_id()
    if meta.flag(KfuncFlag.ACQUIRE):
        rid = acquire_reference(env)
        if meta.ret_null:
            r0.id = rid
        r0.ref_obj_id = rid
    elif op not in _OBJ_NEW and op is not Op.REFCOUNT_ACQUIRE and op not in _SLICES and \
            meta.spec.returns != "kernel_object":
        set_non_owning(r0)


_SLICES = frozenset({Op.DYNPTR_SLICE, Op.DYNPTR_SLICE_RDWR})


def _dynptr_slice(env: Env, meta: KfuncMeta, r0: RegState) -> None:
    """bpf_dynptr_slice(_rdwr): memory of the ``__szk`` constant's size, read-only unless _rdwr."""
    if meta.constant is None or meta.dynptr is None:
        raise InternalError(f"kfunc {meta.name}: no constant size or no dynptr")
    rdonly = meta.spec.op is Op.DYNPTR_SLICE
    if not rdonly and not env.info.pkt_write:
        raise env.reject("pkt_write_not_allowed")
    r0.set_ptr(RegType.PTR_TO_MEM | (TypeFlag.MEM_RDONLY if rdonly else 0), mem_size=meta.constant)


def check_kfunc_ids(env: Env, calls: list[int]) -> None:
    """add_kfunc_call, before anything else: every kfunc call names a FUNC (id 0: a weak kfunc that is absent)."""
    for pc in calls:
        ins = env.insns[pc]
        if ins.imm == 0 and ins.off == 0:
            continue
        btf = kernel_btf(env)
        if not 0 < ins.imm < len(btf.types) or btf.types[ins.imm].kind != Kind.FUNC:
            raise rejection("kfunc_not_func", pc, id=ins.imm & U32_MAX)


def check_kfuncs_eliminated(env: Env, calls: list[int]) -> Rejection | None:
    """After verification: a call of an absent weak kfunc must have been dead code (fixup_kfunc_call)."""
    for pc in calls:
        ins = env.insns[pc]
        if ins.imm == 0 and ins.off == 0 and env.aux[pc].seen:
            err = rejection("kfunc_not_eliminated", pc)
            env.log.write(err.message + "\n")
            return err
    return None


def check_kfunc_call(env: Env, ins: Insn) -> None:
    """A call of kfunc ``ins.imm``: arguments by its prototype, then its effect on references and R0."""
    if ins.imm == 0 and ins.off == 0:
        env.aux[env.insn_idx].seen = True  # an absent weak kfunc: fine as long as it is never reached
        return
    meta = _lookup(env, ins)
    if env.cur.active_lock is not None and (ins.off or meta.spec.op not in _SPIN_ALLOWED):
        raise env.reject("call_while_locked")
    if meta.flag(KfuncFlag.DESTRUCTIVE) and env.unpriv:  # pybpf's privileged loads hold CAP_SYS_BOOT
        raise env.reject("kfunc_destructive")
    if meta.flag(KfuncFlag.SLEEPABLE) and not env.sleepable:
        raise env.reject("kfunc_sleepable", name=meta.name)
    # in_rcu_cs: pybpf models no bpf_rcu_read_lock, so only a held lock or a non-sleepable program is one
    if meta.flag(KfuncFlag.RCU_PROTECTED) and env.sleepable and env.cur.active_lock is None:
        raise env.reject("kfunc_rcu_protected", name=meta.name)
    proto = meta.btf.func_proto_of(ins.imm)
    _check_args(env, meta, proto.params)
    if meta.flag(KfuncFlag.RELEASE) and not meta.release_regno:
        raise env.reject("kfunc_release_unreferenced", name=meta.name)
    if meta.spec.op is Op.RBTREE_ADD and meta.callback >= 0 and meta.root is not None:
        push_less_callback(env, meta.callback, meta.root)
    regs = env.regs()
    if meta.release_regno and not release_reference(env, regs[meta.release_regno].ref_obj_id):
        raise env.reject("kfunc_not_acquired", name=meta.name, id=ins.imm)
    if meta.spec.op in _PUSH and meta.node_regno:
        node_ref = regs[meta.node_regno].ref_obj_id
        if profile(env.abi).node_after_push == "untrusted":
            mark_untrusted(env, node_ref)
        else:
            convert_owning_non_owning(env, node_ref)
            release_reference(env, node_ref)
    for r in CALLER_SAVED:
        mark_reg_not_init(env, regs[r])
        env.log.scratch_reg(r)
    ret = meta.btf.resolve(proto.type)
    kind = meta.btf.types[ret].kind
    if kind in (Kind.INT, Kind.ENUM, Kind.ENUM64):
        mark_reg_unknown(env, regs[0])
    elif kind == Kind.PTR:
        meta.ret_btf_id = meta.btf.resolve(meta.btf.types[ret].type)
        _returned_pointer(env, meta, regs[0])


__all__ = ["ArgType", "KfuncMeta", "check_kfunc_call", "check_kfunc_ids", "check_kfuncs_eliminated",
           "invalidate_non_owning_refs", "kernel_btf", "kfunc_allowed", "mark_callback_calls"]
