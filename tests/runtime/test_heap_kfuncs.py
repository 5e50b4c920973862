"""The linux-6.18 ABI profile against the running kernel's BTF: every kfunc is there, tagged ``bpf_kfunc``,
with as many parameters as the profile says and the suffixes (``__k``, ``__ign``...) where it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.abi import LINUX_6_18, ArgKind
from pybpf.btf.load import load
from pybpf.runtime.kfuncs import ids_from_btf

VMLINUX = Path("/sys/kernel/btf/vmlinux")
SUFFIXES = (ArgKind.TYPE_ID, ArgKind.IGNORED, ArgKind.ALLOC, ArgKind.REFCOUNTED)


@pytest.fixture(scope="module")
def vmlinux():
    if not VMLINUX.exists():
        pytest.skip(f"{VMLINUX} is not here")
    return load(VMLINUX)


def test_every_kfunc_is_in_the_kernel(vmlinux) -> None:
    ids = ids_from_btf(vmlinux, LINUX_6_18)
    assert sorted(ids.values()) == sorted(k.name for k in LINUX_6_18.kfuncs)
    for tid in ids:
        assert "bpf_kfunc" in vmlinux.decl_tags(tid)


# the kfuncs judged by their BTF parameter names alone (profiles.SUFFIX_KFUNCS) list no argument kinds
@pytest.mark.parametrize("spec", [k for k in LINUX_6_18.kfuncs if k.args], ids=lambda s: s.name)
def test_parameters_match_the_kernel(vmlinux, spec) -> None:
    func = next(i for i, name in ids_from_btf(vmlinux, LINUX_6_18).items() if name == spec.name)
    params = [vmlinux.str_at(p.name_off) if p.name_off else "" for p in vmlinux.func_proto_of(func).params]
    assert len(params) == len(spec.args)
    for name, kind in zip(params, spec.args, strict=True):
        if kind in SUFFIXES:
            assert name.endswith(kind.value), (name, kind)
        else:
            assert not name.endswith(tuple(k.value for k in SUFFIXES)), (name, kind)
