"""BTF for an old kernel: which BTF kinds the kernel accepts, and rewriting the ones it does not.

libbpf probes the kernel with tiny ``BPF_BTF_LOAD`` calls, one per feature,
and before loading an object's BTF replaces every kind the kernel would refuse
by one it knows, keeping every type id and record size so that nothing else in
the object has to change:

=============  ============================================================
missing        rewritten as
=============  ============================================================
datasec        VAR -> a 1-byte INT; DATASEC -> a STRUCT whose members are
               the variables (``.`` in its name becomes ``_``)
func           FUNC_PROTO -> an ENUM whose enumerators are the parameters;
               FUNC -> a TYPEDEF of it (func_info then cannot be given)
func linkage   a global FUNC -> a static one
float          FLOAT -> an empty STRUCT of the same size
decl tag       DECL_TAG -> a 1-byte INT (also a tag on a VAR or FUNC
               rewritten for another missing feature)
type tag       TYPE_TAG -> a CONST
enum64         ENUM64 -> a UNION of one integer member per enumerator
=============  ============================================================

On Linux 6.18 nothing needs rewriting; ``BtfFeatures`` with a field set to
False forces the rewrite (that is how the tests exercise it).
"""

from __future__ import annotations

import errno as errnos
from dataclasses import dataclass, fields, replace

from pybpf.btf.graph import Btf
from pybpf.btf.types import (
    BtfType,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    EnumValue,
    Float,
    Func,
    FuncProto,
    Int,
    Member,
    Param,
    Ptr,
    Struct,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarSecinfo,
)
from pybpf.btf.uapi import FuncLinkage, IntEncoding, VarLinkage
from pybpf.btf.write import write
from pybpf.errors import KernelError
from pybpf.kernel.btf import btf_load

_PLACEHOLDER_PARAM = "_"  # an enumerator needs a valid name; unnamed parameters get this one
_ENUM64_INT = "__enum64_bits"


@dataclass(frozen=True)
class BtfFeatures:
    """Which BTF kinds the kernel accepts (all, by default: Linux 6.18 does)."""

    btf: bool = True  # BPF_BTF_LOAD at all
    func: bool = True  # FUNC, FUNC_PROTO (and with them func_info/line_info)
    func_global: bool = True  # FUNC linkage other than static
    datasec: bool = True  # VAR, DATASEC
    float: bool = True
    decl_tag: bool = True
    type_tag: bool = True
    enum64: bool = True

    @property
    def missing(self) -> list[str]:
        """Names of the features the kernel lacks."""
        return [f.name for f in fields(self) if not getattr(self, f.name)]

    def without(self, *names: str) -> BtfFeatures:
        """The same features with ``names`` turned off (to force sanitizing)."""
        unknown = set(names) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown BTF features: {', '.join(sorted(unknown))}")
        return replace(self, **dict.fromkeys(names, False))


# -- probes --------------------------------------------------------------------------------------

def _int(btf: Btf, name: str = "int") -> BtfType:
    return Int(btf.add_string(name), 4, IntEncoding.SIGNED, 0, 32)


def _probe_basic(btf: Btf) -> None:
    btf.add_type(_int(btf))


def _probe_func(btf: Btf, linkage: FuncLinkage = FuncLinkage.STATIC) -> None:
    int_id = btf.add_type(_int(btf))
    proto = btf.add_type(FuncProto(0, int_id, (Param(btf.add_string("x"), int_id),)))
    btf.add_type(Func(btf.add_string("probe"), proto, linkage))


def _probe_func_global(btf: Btf) -> None:
    _probe_func(btf, FuncLinkage.GLOBAL)


def _probe_datasec(btf: Btf) -> None:
    int_id = btf.add_type(_int(btf))
    var = btf.add_type(Var(btf.add_string("probe"), int_id, VarLinkage.GLOBAL_ALLOCATED))
    btf.add_type(Datasec(btf.add_string(".data"), 4, (VarSecinfo(var, 0, 4),)))


def _probe_float(btf: Btf) -> None:
    btf.add_type(Float(btf.add_string("float"), 4))


def _probe_decl_tag(btf: Btf) -> None:
    int_id = btf.add_type(_int(btf))
    var = btf.add_type(Var(btf.add_string("probe"), int_id, VarLinkage.GLOBAL_ALLOCATED))
    btf.add_type(DeclTag(btf.add_string("tag"), var, -1))


def _probe_type_tag(btf: Btf) -> None:
    int_id = btf.add_type(_int(btf))
    tag = btf.add_type(TypeTag(btf.add_string("tag"), int_id))
    btf.add_type(Ptr(0, tag))


def _probe_enum64(btf: Btf) -> None:
    btf.add_type(Enum64(btf.add_string("probe"), 8, (EnumValue(btf.add_string("big"), 1 << 40),)))


_PROBES = {
    "btf": _probe_basic, "func": _probe_func, "func_global": _probe_func_global, "datasec": _probe_datasec,
    "float": _probe_float, "decl_tag": _probe_decl_tag, "type_tag": _probe_type_tag, "enum64": _probe_enum64,
}


def probe_blob(feature: str) -> bytes:
    """The tiny BTF whose acceptance tells whether the kernel has ``feature``."""
    btf = Btf()
    _PROBES[feature](btf)
    return write(btf)


def kernel_accepts(blob: bytes) -> bool:
    """Whether ``BPF_BTF_LOAD`` takes ``blob``; EPERM (``bpf()`` itself refused) is raised, it tells nothing."""
    try:
        btf_load(blob, log_level=0).close()
    except KernelError as err:
        if err.errno == errnos.EPERM:
            raise
        return False
    return True


def probe_btf_features() -> BtfFeatures:
    """Ask the running kernel, one tiny BTF load per feature (each costs well under a millisecond)."""
    if not kernel_accepts(probe_blob("btf")):
        return BtfFeatures(**dict.fromkeys((f.name for f in fields(BtfFeatures)), False))
    return BtfFeatures(**{name: kernel_accepts(probe_blob(name)) for name in _PROBES})


# -- sanitizing ----------------------------------------------------------------------------------

def needs_sanitizing(btf: Btf, features: BtfFeatures) -> bool:
    return any(_rewriter(btf, t, features) for t in btf.own_types)


def _rewriter(btf: Btf, t: BtfType, features: BtfFeatures):
    """The rewrite ``t`` needs under ``features``, or None."""
    if not features.datasec and isinstance(t, Var | Datasec):
        return _drop_datasec
    if not features.func and isinstance(t, Func | FuncProto):
        return _drop_func
    if not features.func_global and isinstance(t, Func) and t.linkage != FuncLinkage.STATIC:
        return _drop_linkage
    if not features.float and isinstance(t, Float):
        return _drop_float
    if isinstance(t, DeclTag) and (not features.decl_tag or _rewriter(btf, btf.types[t.type], features)):
        return _drop_decl_tag  # a tag on a type that is rewritten away would name a kind it cannot tag
    if not features.type_tag and isinstance(t, TypeTag):
        return _drop_type_tag
    if not features.enum64 and isinstance(t, Enum64):
        return _drop_enum64
    return None


def sanitize(btf: Btf, features: BtfFeatures) -> Btf:
    """A copy of ``btf`` with every kind the kernel lacks rewritten (``btf`` itself is left alone).

    Type ids do not move (one type in, one type out); only the ENUM64 rewrite
    appends a type (the integer its union's members share) and names may be
    appended to the string section.
    """
    out = Btf(list(btf.own_types), btf.strings, header=btf.header, byte_order=btf.byte_order, file=btf.file)
    for tid in range(out.start_id, len(btf.types)):
        rewrite = _rewriter(btf, btf.types[tid], features)
        if rewrite is not None:
            out.set_type(tid, rewrite(out, out.types[tid]))
    return out


def _identifier(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def _byte_int(name_off: int) -> Int:
    return Int(name_off, 1, IntEncoding(0), 0, 8)


def _drop_datasec(btf: Btf, t: Var | Datasec) -> BtfType:
    if isinstance(t, Var):
        return _byte_int(t.name_off)
    members = tuple(Member(btf.types[v.type].name_off, v.type, v.offset * 8) for v in t.vars)
    return Struct(btf.add_string(_identifier(btf.name_of(t))), t.size, members)


def _drop_func(btf: Btf, t: Func | FuncProto) -> BtfType:
    if isinstance(t, Func):
        return Typedef(t.name_off, t.type)
    placeholder = btf.add_string(_PLACEHOLDER_PARAM)
    return Enum(0, 4, tuple(EnumValue(p.name_off or placeholder, p.type) for p in t.params))


def _drop_linkage(btf: Btf, t: Func) -> BtfType:
    return replace(t, linkage=FuncLinkage.STATIC)


def _drop_float(btf: Btf, t: Float) -> BtfType:
    return Struct(t.name_off, t.size, ())


def _drop_decl_tag(btf: Btf, t: DeclTag) -> BtfType:
    return _byte_int(t.name_off)


def _drop_type_tag(btf: Btf, t: TypeTag) -> BtfType:
    return Const(0, t.type)


def _drop_enum64(btf: Btf, t: Enum64) -> BtfType:
    bits = btf.add_type(Int(btf.add_string(_ENUM64_INT), t.size, IntEncoding(0), 0, t.size * 8))
    return Union(t.name_off, t.size, tuple(Member(v.name_off, bits, 0) for v in t.values))
