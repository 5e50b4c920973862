"""The bundled kfunc BTF against the live vmlinux BTF, and the fallback when vmlinux is unreadable."""

from __future__ import annotations

import pytest
from pybpf.abi import gen_kfuncs_btf
from pybpf.abi.kernel_btf import BUNDLE, VMLINUX, kernel_btf, kfunc_id
from pybpf.abi.profiles import LINUX_6_18
from pybpf.btf import Btf, BtfError, Kind, load, write


def _live() -> Btf:
    try:
        return load(VMLINUX)
    except BtfError as err:
        pytest.skip(f"{VMLINUX} is not readable here: {err}")


def _signature(btf: Btf, func_id: int) -> tuple:
    """A prototype by names and kinds: (return, ((param name, type text), ...))."""
    proto = btf.func_proto_of(func_id)

    def text(tid: int) -> str:
        parts = []
        while tid:
            t = btf.types[tid]
            # the bundle keeps gen_kfuncs_btf.OPAQUE_STRUCTS as declarations: a FWD stands for its STRUCT
            kind = Kind.STRUCT if t.kind == Kind.FWD else t.kind
            parts.append(f"{kind.name}:{btf.name_of(t)}")
            if kind in (Kind.STRUCT, Kind.UNION, Kind.INT, Kind.FUNC_PROTO):
                break
            tid = t.type
        return "/".join(parts) or "void"

    return text(proto.type), tuple((btf.str_at(p.name_off) if p.name_off else "", text(p.type))
                                   for p in proto.params)


def test_bundle_has_every_6_18_kfunc():
    bundle = load(BUNDLE)
    for k in LINUX_6_18.kfuncs:
        assert kfunc_id(bundle, k.name) is not None, k.name
    for name in gen_kfuncs_btf.EXTRA_STRUCTS:
        assert bundle.find(name, Kind.STRUCT) is not None, name


def test_bundle_matches_live_vmlinux():
    live = _live()
    bundle = load(BUNDLE)
    live_funcs = {n for n in gen_kfuncs_btf.kfunc_names() if kfunc_id(live, n) is not None}
    bundle_funcs = {n for n in gen_kfuncs_btf.kfunc_names() if kfunc_id(bundle, n) is not None}
    assert bundle_funcs == live_funcs
    for name in live_funcs:
        assert _signature(bundle, kfunc_id(bundle, name)) == _signature(live, kfunc_id(live, name)), name
    for name in gen_kfuncs_btf.EXTRA_STRUCTS:
        a, b = bundle.find(name, Kind.STRUCT), live.find(name, Kind.STRUCT)
        assert bundle.size_of(a) == live.size_of(b), name


def test_bundle_is_what_the_generator_makes():
    live = _live()
    assert write(gen_kfuncs_btf.subset(live)) == BUNDLE.read_bytes()


def test_fallback_is_the_bundle():
    btf = kernel_btf(live=False)
    assert kfunc_id(btf, "bpf_obj_new_impl") is not None
    assert len(btf.types) == len(load(BUNDLE).types)
