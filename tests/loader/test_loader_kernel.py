"""Loading objects into the live kernel with ``pybpf.kernel.objload``: what the kernel then holds.

Expectations come from the C sources (initial values, which program the
verifier must refuse) and from the kernel itself (its BTF ids, map info,
errnos, the running process's pid and comm).
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
from pathlib import Path

import pytest
from _loader_helpers import EXAMPLES, PROGS, bpffs_root, bpftool_loadall, bpftool_map_dump
from pybpf.btf.uapi import Kind
from pybpf.errors import KernelError
from pybpf.kernel import MapFlags, map_create, map_lookup, map_update, obj_get, obj_pin, prog_test_run
from pybpf.kernel.info import map_info, prog_info
from pybpf.kernel.objload import load_object
from pybpf.kernel.objload_btf import BtfFeatures
from pybpf.kernel.objload_ksyms import KernelBtf
from pybpf.kernel.objload_relo import FdArray, relocate, resolve_externs
from pybpf.obj import open_object

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("live")]

ETH_HLEN = 14
PACKET = bytes(12) + b"\x08\x00" + bytes(50)  # an Ethernet frame carrying IPv4
XDP_DROP, XDP_PASS, XDP_TX = 1, 2, 3


@pytest.fixture(scope="module")
def kernel(vmlinux):
    with KernelBtf(vmlinux) as kbtf:
        yield kbtf


def _open(path: Path, vmlinux):
    return open_object(path, target_btf=vmlinux)


def _var(obj, map_name: str, var: str) -> tuple[int, int]:
    """(offset, size) of a global variable in its data map, from the object's BTF."""
    spec = obj.maps[map_name]
    found = next(v for v in obj.btf.datasec_vars(spec.btf_value_type) if v.name == var)
    return found.offset, found.size


def _data_map(obj, section: str) -> str:
    return next(name for name, spec in obj.maps.items() if spec.real_name == section)


def _value(loaded, map_name: str) -> bytes:
    spec = loaded.object.maps[map_name]
    return map_lookup(loaded.maps[map_name], bytes(4), spec.value_size)


# -- global data ------------------------------------------------------------------------------------

def test_global_data_initial_values_are_in_the_maps(build, vmlinux, kernel):
    obj = _open(build(PROGS / "globals.c"), vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        data, rodata = _data_map(obj, ".data"), _data_map(obj, ".rodata")
        bss, custom = _data_map(obj, ".bss"), _data_map(obj, ".data.custom")
        at, size = _var(obj, data, "counter")
        assert _value(loaded, data)[at:at + size] == (0x1122334455667788).to_bytes(8, "little")
        at, size = _var(obj, data, "table")
        assert struct.unpack("<4i", _value(loaded, data)[at:at + size]) == (10, 20, 30, 40)
        at, size = _var(obj, rodata, "limit")
        assert int.from_bytes(_value(loaded, rodata)[at:at + size], "little") == 1500
        at, size = _var(obj, rodata, "greeting")
        assert _value(loaded, rodata)[at:at + size] == b"hello\0"
        at, size = _var(obj, custom, "custom")
        assert int.from_bytes(_value(loaded, custom)[at:at + size], "little") == 7
        assert _value(loaded, bss) == bytes(obj.maps[bss].value_size)


def test_rodata_is_frozen_and_read_only_to_programs(build, vmlinux, kernel):
    obj = _open(build(PROGS / "globals.c"), vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        rodata = _data_map(obj, ".rodata")
        info = map_info(loaded.maps[rodata])
        assert info.map_flags & MapFlags.RDONLY_PROG
        with pytest.raises(KernelError) as refused:
            map_update(loaded.maps[rodata], bytes(4), bytes(obj.maps[rodata].value_size))
        assert refused.value.errno == errno.EPERM
        data = _data_map(obj, ".data")  # .data stays writable from user space
        map_update(loaded.maps[data], bytes(4), bytes(obj.maps[data].value_size))


def test_program_sees_and_changes_global_data(build, vmlinux, kernel):
    obj = _open(build(PROGS / "globals.c"), vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        run = prog_test_run(loaded.programs["read_globals"].fd, PACKET)
        assert run.retval == XDP_PASS  # limit == 1500 and greeting[0] == 'h'
        data, bss = _data_map(obj, ".data"), _data_map(obj, ".bss")
        at, size = _var(obj, data, "counter")
        assert int.from_bytes(_value(loaded, data)[at:at + size], "little") == 0x1122334455667789
        at, size = _var(obj, bss, "zeroed")
        assert int.from_bytes(_value(loaded, bss)[at:at + size], "little") == 30 + 7


# -- map-in-map -------------------------------------------------------------------------------------

def test_map_in_map_slot_filled_and_usable(build, vmlinux, kernel):
    obj = _open(build(PROGS / "map_in_map.c"), vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        outer, inner0, inner1 = (loaded.maps[n] for n in ("outer", "inner0", "inner1"))
        # user space reads a map-in-map slot as the inner map's id
        slot0 = map_lookup(outer, (0).to_bytes(4, "little"), 4)
        assert int.from_bytes(slot0, "little") == map_info(inner0).id
        assert map_lookup(outer, (1).to_bytes(4, "little"), 4) is None
        assert map_info(outer).type == 12  # BPF_MAP_TYPE_ARRAY_OF_MAPS
        map_update(inner0, (1).to_bytes(4, "little"), XDP_TX.to_bytes(4, "little"))
        assert prog_test_run(loaded.programs["through_outer"].fd, PACKET).retval == XDP_TX
        map_update(inner1, (1).to_bytes(4, "little"), XDP_PASS.to_bytes(4, "little"))  # not in the outer map
        assert prog_test_run(loaded.programs["through_outer"].fd, PACKET).retval == XDP_TX


# -- per-program verdicts ---------------------------------------------------------------------------

def test_each_program_gets_its_own_verdict(build, vmlinux, kernel):
    obj = _open(build(PROGS / "mixed_verdicts.c"), vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        progs = loaded.programs
        assert list(progs) == ["accepted_first", "refused_unchecked", "accepted_last"]  # '?' is not autoloaded
        assert progs["accepted_first"].ok and progs["accepted_last"].ok
        refused = progs["refused_unchecked"]
        assert not refused.ok and refused.errno == errno.EACCES
        assert "invalid access to packet" in refused.log
        assert refused.verdict == "failed: Permission denied (EACCES): R1 offset is outside of the packet"
        assert prog_test_run(progs["accepted_last"].fd, PACKET).retval == XDP_DROP


def test_a_glob_selects_programs_even_without_autoload(build, vmlinux, kernel):
    obj = _open(build(PROGS / "mixed_verdicts.c"), vmlinux)
    with load_object(obj, programs=["not_*", "accepted_last"], kernel_btf=kernel) as loaded:
        assert sorted(loaded.programs) == ["accepted_last", "not_autoloaded"]
        assert prog_test_run(loaded.programs["not_autoloaded"].fd, PACKET).retval == XDP_TX


def test_log_level_gives_the_log_of_an_accepted_program(build, vmlinux, kernel):
    obj = _open(build(PROGS / "mixed_verdicts.c"), vmlinux)
    with load_object(obj, programs=["accepted_first"], log_level=2, kernel_btf=kernel) as loaded:
        assert "processed 2 insns" in loaded.programs["accepted_first"].log


# -- kernel BTF: kfuncs, CO-RE, attach targets --------------------------------------------------

def test_kfunc_calls_carry_the_kernels_btf_ids(task_info_obj, vmlinux, kernel):
    obj = _open(task_info_obj, vmlinux)
    prog = obj.programs["task_info"]
    externs = resolve_externs({n: e for n, e in obj.externs.items()}, kernel, obj.btf)
    insns = relocate(prog, {name: 1000 + i for i, name in enumerate(obj.maps)}, externs, FdArray())
    for reloc in prog.relocs:
        if reloc.kind.value == "kfunc_call":
            call = insns[reloc.insn_idx]
            assert call.src == 2 and call.off == 0  # BPF_PSEUDO_KFUNC_CALL into vmlinux
            assert call.imm == vmlinux.find(reloc.target, Kind.FUNC)


def _task_values(obj, read) -> dict:
    """pid, tgid, comm, found_tgid as the program stored them, through ``read(map_name) -> bytes``."""
    bss, data = _data_map(obj, ".bss"), _data_map(obj, ".data")
    out = {}
    for name, where in (("pid", bss), ("tgid", bss), ("comm", bss), ("found_tgid", data)):
        at, size = _var(obj, where, name)
        raw = read(where)[at:at + size]
        out[name] = raw.rstrip(b"\0").decode() if name == "comm" else int.from_bytes(raw, "little", signed=True)
    return out


def _own_task() -> dict:
    comm = Path("/proc/self/comm").read_text().strip()
    return {"pid": os.getpid(), "tgid": os.getpid(), "comm": comm, "found_tgid": os.getpid()}


def test_core_reads_of_the_current_task_match_this_process(task_info_obj, vmlinux, kernel):
    # PROG_TEST_RUN of a syscall program runs it in this (main) thread: pid == tgid == our pid
    obj = _open(task_info_obj, vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        run = prog_test_run(loaded.programs["task_info"].fd, repeat=0)
        assert run.retval == 42  # the .rodata constant
        assert _task_values(obj, lambda m: _value(loaded, m)) == _own_task()


def test_core_program_loaded_by_bpftool_reads_the_same(task_info_obj, vmlinux, bpftool, pin_dir):
    theirs = bpftool_loadall(bpftool, task_info_obj, pin_dir)
    assert theirs.ok, theirs.stderr
    with obj_get(pin_dir / "task_info") as fd:
        assert prog_test_run(fd, repeat=0).retval == 42
    obj = _open(task_info_obj, vmlinux)

    def read(map_name: str) -> bytes:
        (entry,) = bpftool_map_dump(bpftool, pin_dir / "maps" / map_name.replace(".", "_"))
        return bytes(int(byte, 16) for byte in entry["value"])  # -j gives the raw bytes beside "formatted"

    assert _task_values(obj, read) == _own_task()


def test_attach_targets_are_found_in_vmlinux(build, vmlinux, kernel):
    obj = _open(build(PROGS / "tracing.c"), vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        expected = {
            "on_switch": vmlinux.find("btf_trace_sched_switch", Kind.TYPEDEF),
            "each_task": vmlinux.find("bpf_iter_task", Kind.FUNC),
            "on_entry": vmlinux.find("bpf_fentry_test1", Kind.FUNC),
            "on_exit": vmlinux.find("bpf_fentry_test1", Kind.FUNC),
            "on_open": vmlinux.find("bpf_lsm_file_open", Kind.FUNC),
        }
        for name, btf_id in expected.items():
            prog = loaded.programs[name]
            if not prog.ok:
                # fentry/fexit/lsm need ftrace direct calls / the BPF LSM, which a kernel may lack: EPERM
                # (bpftool gets the same; test_loader_differential compares).  Anything else is a bug.
                assert prog.errno == errno.EPERM, prog.verdict
                continue
            assert prog_info(prog.fd).attach_btf_id == btf_id, name


# -- sanitizing forced on ---------------------------------------------------------------------------

def test_forced_sanitizing_still_loads_and_runs(xdp_count_obj, vmlinux, kernel):
    features = BtfFeatures().without("func", "func_global", "datasec", "float", "decl_tag", "type_tag", "enum64")
    obj = _open(xdp_count_obj, vmlinux)
    with load_object(obj, btf_features=features, kernel_btf=kernel) as loaded:
        assert loaded.sanitized and loaded.btf_fd is not None
        prog = loaded.programs["xdp_count"]
        assert prog.ok, prog.verdict
        assert prog_info(prog.fd).nr_func_info == 0  # no FUNC kind: no func_info either
        assert prog_test_run(prog.fd, PACKET, repeat=5).retval == XDP_PASS
        bss = _data_map(obj, ".bss")
        at, size = _var(obj, bss, "packets")
        assert int.from_bytes(_value(loaded, bss)[at:at + size], "little") == 5


def test_with_every_feature_nothing_is_rewritten(xdp_count_obj, vmlinux, kernel):
    with load_object(_open(xdp_count_obj, vmlinux), kernel_btf=kernel) as loaded:
        assert not loaded.sanitized
        assert prog_info(loaded.programs["xdp_count"].fd).nr_func_info == 1


# -- what fails the whole object --------------------------------------------------------------------

def test_a_strong_kfunc_with_another_prototype_fails_the_object(tmp_path, vmlinux, kernel):
    src = tmp_path / "bad_proto.c"
    src.write_text('#include "bpf_defs.h"\n'
                   "extern int bpf_task_from_pid(int pid, int extra) __ksym;\n"
                   'SEC("syscall") int call_it(void *ctx) { return bpf_task_from_pid(1, 2); }\n'
                   'char _license[] SEC("license") = "GPL";\n')
    from pybpf.toolchain import compile_bpf

    obj = _open(compile_bpf(src, include_dirs=[EXAMPLES], output=tmp_path / "bad_proto.o"), vmlinux)
    with pytest.raises(KernelError, match=r"extern \(func ksym\) 'bpf_task_from_pid': type .* incompatible") as err:
        load_object(obj, kernel_btf=kernel)
    assert err.value.errno == errno.EINVAL


def test_descriptors_are_closed(xdp_count_obj, vmlinux, kernel):
    before = set(os.listdir("/proc/self/fd"))
    with load_object(_open(xdp_count_obj, vmlinux), kernel_btf=kernel) as loaded:
        assert loaded.ok
    assert set(os.listdir("/proc/self/fd")) == before


def test_typeless_ksym_is_its_kallsyms_address(build, vmlinux, kernel):
    obj = _open(build(PROGS / "ksyms.c"), vmlinux)
    with load_object(obj, kernel_btf=kernel) as loaded:
        prog_test_run(loaded.programs["read_ksym"].fd, repeat=0)
        bss = _data_map(obj, ".bss")
        at, size = _var(obj, bss, "text_addr")
        address = int.from_bytes(_value(loaded, bss)[at:at + size], "little")
    listed = next(int(line.split()[0], 16) for line in Path("/proc/kallsyms").read_text().splitlines()
                  if line.split()[2] == "bpf_fentry_test1")
    assert address == listed != 0


def test_typed_ksym_carries_the_vars_btf_id(build, vmlinux, kernel):
    obj = _open(build(PROGS / "ksym_typed.c"), vmlinux)
    prog = obj.programs["read_typed"]
    insns = relocate(prog, {name: 1000 for name in obj.maps}, resolve_externs(obj.externs, kernel, obj.btf),
                     FdArray())
    (reloc,) = [r for r in prog.relocs if r.kind.value == "ksym"]
    first, second = insns[reloc.insn_idx], insns[reloc.insn_idx + 1]
    assert (first.src, first.imm, second.imm) == (3, vmlinux.find("bpf_prog_active", Kind.VAR), 0)  # BTF_ID, vmlinux


# -- pinning ----------------------------------------------------------------------------------------

@pytest.fixture
def pin_root(live, tmp_path):
    root = bpffs_root()
    if root is None:
        pytest.skip("no bpf filesystem mounted")
    where = root / f"pybpf_pins_{os.getpid()}_{tmp_path.name}"
    where.mkdir()
    yield where
    shutil.rmtree(where, ignore_errors=True)


def test_maps_pinned_by_name_are_shared_between_loads(build, vmlinux, kernel, pin_root):
    path = build(PROGS / "pinned_by_name.c")
    with load_object(_open(path, vmlinux), kernel_btf=kernel, pin_root=pin_root) as first:
        assert (pin_root / "shared_hits").exists()
        prog_test_run(first.programs["hit"].fd, PACKET, repeat=3)
        with load_object(_open(path, vmlinux), kernel_btf=kernel, pin_root=pin_root) as second:
            assert map_info(second.maps["shared_hits"]).id == map_info(first.maps["shared_hits"]).id
            prog_test_run(second.programs["hit"].fd, PACKET, repeat=2)
            assert map_lookup(first.maps["shared_hits"], bytes(4), 8) == (5).to_bytes(8, "little")


def test_a_pinned_map_of_other_attributes_is_refused(build, vmlinux, kernel, pin_root):
    with map_create(2, 4, 4, 1) as other:  # an ARRAY of 4-byte values where the object wants 8
        obj_pin(other, pin_root / "shared_hits")
    with pytest.raises(KernelError, match=r"pinned at .* has other attributes") as err:
        load_object(_open(build(PROGS / "pinned_by_name.c"), vmlinux), kernel_btf=kernel, pin_root=pin_root)
    assert err.value.errno == errno.EINVAL


def test_without_a_pin_root_nothing_is_pinned(build, vmlinux, kernel):
    with load_object(_open(build(PROGS / "pinned_by_name.c"), vmlinux), kernel_btf=kernel) as loaded:
        assert loaded.programs["hit"].ok
        assert any("pinned by name" in w for w in loaded.warnings)
