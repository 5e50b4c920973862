"""``__kconfig`` and ``__ksym`` externs: values from the running kernel, relocations, the rewritten BTF."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pytest
from _obj_helpers import INCLUDE, need_bpf
from pybpf.btf import write
from pybpf.btf.types import Datasec, Func, Var
from pybpf.btf.uapi import FuncLinkage, Kind, VarLinkage
from pybpf.errors import InputError
from pybpf.isa.opcodes import CallSrc, Pseudo
from pybpf.obj import ExternKind, MapKind, RelocKind, open_object


def _system_config() -> dict[str, str]:
    for path in (Path(f"/boot/config-{os.uname().release}"), Path("/proc/config.gz")):
        if path.exists():
            raw = path.read_bytes()
            text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
            return dict(line.split("=", 1) for line in text.splitlines() if line.startswith("CONFIG_"))
    pytest.skip("no Kconfig of the running kernel (/boot/config-*, /proc/config.gz)")


@pytest.fixture(scope="module")
def externs_obj(compile_prog):
    path = compile_prog("externs")
    return path, open_object(path)


def test_kconfig_values_are_the_running_kernels(externs_obj):
    _, obj = externs_obj
    config = _system_config()
    e = obj.externs
    assert e["CONFIG_HZ"].value == int(config["CONFIG_HZ"])
    assert e["CONFIG_BPF_SYSCALL"].value == (1 if config.get("CONFIG_BPF_SYSCALL") == "y" else 0)
    assert e["CONFIG_BPF_JIT"].value == {"y": 1, "m": 2, "n": 0}[config.get("CONFIG_BPF_JIT", "n")]
    assert e["CONFIG_PYBPF_DOES_NOT_EXIST"].value == 0  # weak and unset: zero
    major, minor, patch = (int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", os.uname().release).groups())
    assert e["LINUX_KERNEL_VERSION"].value == (major << 16) + (minor << 8) + min(patch, 255)
    if "CONFIG_DEFAULT_HOSTNAME" in config:
        want = config["CONFIG_DEFAULT_HOSTNAME"].strip('"').encode()
        assert e["CONFIG_DEFAULT_HOSTNAME"].value.rstrip(b"\0") == want


def test_kconfig_map_layout(externs_obj):
    """libbpf's order: by alignment (largest first), then size, then name; the map holds the values."""
    _, obj = externs_obj
    kcfg = [e for e in obj.externs.values() if e.kind is ExternKind.KCONFIG]
    assert [e.name for e in kcfg] == ["CONFIG_BPF_JIT", "CONFIG_HZ", "CONFIG_PYBPF_DOES_NOT_EXIST",
                                      "LINUX_KERNEL_VERSION", "CONFIG_BPF_SYSCALL", "CONFIG_DEFAULT_HOSTNAME"]
    (kmap,) = [m for m in obj.maps.values() if m.kind is MapKind.KCONFIG]
    assert kmap.name == "externs.kconfig" and kmap.value_size == 33 and kmap.frozen
    for e in kcfg:
        raw = kmap.initial[e.offset:e.offset + e.size]
        assert raw == (e.value if isinstance(e.value, bytes) else e.value.to_bytes(e.size, "little"))
    btf = obj.btf
    sec = btf.types[btf.find(".kconfig", Kind.DATASEC)]
    assert sec.size == 33
    assert {btf.name_of(v.type): v.offset for v in sec.vars} == {e.name: e.offset for e in kcfg}


def test_kconfig_text_given(compile_prog):
    path = compile_prog("externs")
    obj = open_object(path, kconfig='CONFIG_HZ=0x3e8\nCONFIG_BPF_SYSCALL=n\nCONFIG_BPF_JIT=m\n'
                                     'CONFIG_DEFAULT_HOSTNAME="pybpf"\n# CONFIG_X is not set\n')
    e = obj.externs
    assert (e["CONFIG_HZ"].value, e["CONFIG_BPF_SYSCALL"].value, e["CONFIG_BPF_JIT"].value) == (1000, 0, 2)
    assert e["CONFIG_DEFAULT_HOSTNAME"].value.rstrip(b"\0") == b"pybpf"
    with pytest.raises(InputError, match="CONFIG_HZ"):
        open_object(path, kconfig='CONFIG_HZ="text"\n')
    with pytest.raises(InputError, match="CONFIG_BPF_SYSCALL"):
        open_object(path, kconfig="CONFIG_BPF_SYSCALL=m\n")
    missing = open_object(path, kconfig="")
    assert missing.externs["CONFIG_HZ"].value is None  # strong and unset: a loader must refuse it


def test_ksym_relocations(externs_obj):
    _, obj = externs_obj
    prog = obj.programs["use_externs"]
    kinds = {(r.kind, r.target) for r in prog.relocs if r.kind in (RelocKind.KFUNC_CALL, RelocKind.KSYM)}
    assert kinds == {(RelocKind.KFUNC_CALL, "bpf_rcu_read_lock"), (RelocKind.KFUNC_CALL, "bpf_rcu_read_unlock"),
                     (RelocKind.KFUNC_CALL, "bpf_kfunc_pybpf_missing"), (RelocKind.KSYM, "bpf_kfunc_pybpf_missing"),
                     (RelocKind.KSYM, "bpf_prog_active"), (RelocKind.KSYM, "bpf_prog_put")}
    for r in prog.relocs:
        insn = prog.insns[r.insn_idx]
        if r.kind is RelocKind.KFUNC_CALL:
            assert (insn.code, insn.src, insn.imm, insn.off) == (0x85, CallSrc.KFUNC, 0, 0)
        elif r.kind is RelocKind.KSYM:
            typeless = obj.externs[r.target].typeless
            assert insn.src == (Pseudo.NONE if typeless else Pseudo.BTF_ID)
    assert obj.externs["bpf_prog_put"].typeless and not obj.externs["bpf_prog_active"].typeless
    assert obj.externs["bpf_kfunc_pybpf_missing"].weak


def test_rewritten_btf_is_what_the_kernel_accepts(externs_obj):
    _, obj = externs_obj
    btf = obj.btf
    sec = btf.types[btf.find(".ksyms", Kind.DATASEC)]
    assert isinstance(sec, Datasec) and sec.size == 4 * len(sec.vars)
    for i, vi in enumerate(sec.vars):
        var = btf.types[vi.type]
        assert isinstance(var, Var) and var.linkage == VarLinkage.GLOBAL_ALLOCATED
        assert (vi.offset, vi.size) == (i * 4, 4)
    for name in ("bpf_rcu_read_lock", "bpf_kfunc_pybpf_missing"):
        func = btf.types[btf.find(name, Kind.FUNC)]
        assert isinstance(func, Func) and func.linkage == FuncLinkage.GLOBAL
    need_bpf()
    from pybpf.kernel import btf_load

    btf_load(write(btf)).close()


def test_extern_check_against_the_kernel(externs_obj, vmlinux):
    path, _ = externs_obj
    open_object(path, target_btf=vmlinux)  # the weak missing kfunc is allowed


def test_unresolved_kfunc(tmp_path, obj_cache, vmlinux):
    from pybpf.toolchain import compile_bpf

    src = tmp_path / "nokfunc.c"
    src.write_text('#include <linux/bpf.h>\n#include "bpf_helpers.h"\nextern void bpf_pybpf_no_such(void) __ksym;\n'
                   'SEC("syscall") int f(void *c) { bpf_pybpf_no_such(); return 0; }\n')
    path = compile_bpf(src, include_dirs=[INCLUDE], cache=obj_cache, output=tmp_path / "nokfunc.o")
    open_object(path)  # without a target BTF nothing is looked up
    with pytest.raises(InputError) as err:
        open_object(path, target_btf=vmlinux)
    assert "unresolved kfunc 'bpf_pybpf_no_such'" in str(err.value) and "section 'syscall'" in str(err.value)
