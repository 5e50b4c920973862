"""The runtime's kfuncs (local kptrs and graph collections, dynptrs, strings), one function per ``abi.Op``.

``kfunc_table(profile, env, heap)`` names each function the way a profile
calls it and gives it the helper calling convention; ``KfuncResolver`` is the
``resolve_kfunc`` hook an ``Interpreter`` takes (call insn imm = the kfunc's
BTF id, as the loader wrote it).  The kernel's verifier proves statically what
these functions check as they run: that the lock of the collection is held,
that a pointer is an object of the heap.
"""

from __future__ import annotations

from collections.abc import Mapping

from pybpf.abi.kernel_btf import kernel_btf
from pybpf.abi.profiles import Op, Profile
from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.runtime.context import ExecEnv
from pybpf.runtime.heap import Heap
from pybpf.runtime.kfuncs import dynptr, misc
from pybpf.runtime.kfuncs.graph import OPS as GRAPH_OPS
from pybpf.runtime.kfuncs.graph import KfuncEnv
from pybpf.vm.helpers import MAX_ARGS, Helper

OPS = {
    **GRAPH_OPS,
    Op.COPY_FROM_USER_STR: misc.copy_from_user_str,
    Op.DYNPTR_FROM_SKB: dynptr.from_skb,
    Op.DYNPTR_FROM_XDP: dynptr.from_xdp,
    Op.DYNPTR_SLICE: dynptr.slice_,
    Op.DYNPTR_SLICE_RDWR: dynptr.slice_,
    Op.DYNPTR_CLONE: dynptr.clone,
    Op.STREAM_VPRINTK: misc.stream_vprintk,
    Op.STRLEN: misc.strlen,
    Op.ITER_TASK_NEW: misc.iter_task_new,
    Op.TASK_ACQUIRE: misc.tracing_only,
    Op.TASK_RELEASE: misc.tracing_only,
    Op.ITER_TASK_DESTROY: misc.iter_task_destroy,
}
KFUNC_ID_BASE = 1 << 20  # ids handed out by ``numbered`` when there is no vmlinux BTF to take them from


def kfunc_table(profile: Profile, env: ExecEnv, heap: Heap) -> dict[str, Helper]:
    """Every kfunc of ``profile`` bound to ``env`` and ``heap``, by name."""
    kenv = KfuncEnv(env, heap, profile)
    table = {}
    for spec in profile.kfuncs:
        impl = OPS[spec.op]
        table[spec.name] = Helper(0, spec.name, lambda ctx, *r, _impl=impl, _spec=spec: _impl(kenv, _spec, ctx, *r),
                                  len(spec.args) or _btf_arity(spec.name))  # fmt: skip
    return table


def _btf_arity(name: str) -> int:
    """How many registers a kfunc the profile gives no argument kinds reads: its BTF prototype's parameters
    (the live kernel's or the bundled BTF). Reading more would fault on a call whose r4 was never set."""
    btf = kernel_btf()
    tid = btf.find(name, Kind.FUNC)
    return len(btf.func_proto_of(tid).params) if tid is not None else MAX_ARGS


def ids_from_btf(btf: Btf, profile: Profile) -> dict[int, str]:
    """The BTF ids of ``profile``'s kfuncs in a kernel's BTF (``/sys/kernel/btf/vmlinux``); absent ones left out."""
    ids = {}
    for spec in profile.kfuncs:
        tid = btf.find(spec.name, Kind.FUNC)
        if tid is not None:
            ids[tid] = spec.name
    return ids


def numbered(profile: Profile) -> dict[int, str]:
    """Made-up ids for ``profile``'s kfuncs, for programs assembled by hand."""
    return {KFUNC_ID_BASE + i: spec.name for i, spec in enumerate(profile.kfuncs)}


class KfuncResolver:
    """``resolve_kfunc(pc, insn) -> Helper`` over a table of kfuncs and the BTF ids calls use for them."""

    def __init__(self, table: Mapping[str, Helper], ids: Mapping[int, str]):
        self.table = table
        self.ids = ids

    def __call__(self, pc: int, insn: Insn) -> Helper:
        name = self.ids.get(insn.imm)
        helper = self.table.get(name) if name is not None else None
        if helper is None or insn.off:
            raise VmFault(f"call to kfunc BTF id {insn.imm} (module fd index {insn.off}): "
                          "not a kfunc the runtime implements", pc=pc)  # fmt: skip
        return helper


__all__ = ["KFUNC_ID_BASE", "KfuncResolver", "ids_from_btf", "kfunc_table", "numbered"]
