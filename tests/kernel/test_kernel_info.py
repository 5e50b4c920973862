"""BPF_OBJ_GET_INFO_BY_FD, objects by id, pinning and run-time statistics."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
from pathlib import Path

import pytest
from kernel_helpers import EXIT, RETURN_42
from pybpf.errors import InputError, KernelError
from pybpf.isa.insn import Insn, decode_program, encode_program
from pybpf.kernel import (
    MapInfo,
    MapType,
    ProgInfo,
    ProgType,
    enable_stats,
    map_create,
    map_get_fd_by_id,
    map_ids,
    obj_get,
    obj_get_info_by_fd,
    obj_pin,
    prog_get_fd_by_id,
    prog_ids,
    prog_jited,
    prog_load,
    prog_test_run,
    prog_xlated,
)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("live")]

# r0 = 1; r0 += 41; r0 <<= 1; r0 >>= 1; exit -- nothing the verifier rewrites.
PROGRAM = [Insn(0xB7, 0, 0, 0, 1), Insn(0x07, 0, 0, 0, 41), Insn(0x67, 0, 0, 0, 1), Insn(0x77, 0, 0, 0, 1), EXIT]


def test_prog_info():
    with prog_load(PROGRAM, prog_type=ProgType.XDP, name="info_test") as prog:
        info = obj_get_info_by_fd(prog.fd)
    assert isinstance(info, ProgInfo)
    assert info.type is ProgType.XDP
    assert info.name == "info_test"
    assert info.xlated_prog_len == 8 * len(PROGRAM)
    assert info.verified_insns == len(PROGRAM)
    assert info.gpl_compatible
    assert info.created_by_uid == os.getuid()
    assert info.nr_map_ids == 0
    # The tag is the start of a hash of the instructions: SHA-256 since 6.18, SHA-1 before.
    raw = encode_program(PROGRAM)
    assert info.tag in (hashlib.sha256(raw).hexdigest()[:16], hashlib.sha1(raw).hexdigest()[:16])


def test_map_info():
    with map_create(MapType.LRU_HASH, 8, 24, 64, name="m") as fd:
        info = obj_get_info_by_fd(fd)
    assert isinstance(info, MapInfo)
    assert (info.type, info.key_size, info.value_size, info.max_entries) == (MapType.LRU_HASH, 8, 24, 64)
    assert info.name == "m"
    assert info.id > 0


def test_xlated_decodes_back_to_the_loaded_instructions():
    with prog_load(PROGRAM) as prog:
        assert decode_program(prog_xlated(prog.fd)) == PROGRAM


def test_jited_code_exists_when_the_jit_is_on():
    jit = Path("/proc/sys/net/core/bpf_jit_enable")
    if not jit.exists() or jit.read_text().strip() == "0":
        pytest.skip("the BPF JIT is off here")
    with prog_load(RETURN_42) as prog:
        code = prog_jited(prog.fd)
        assert len(code) == obj_get_info_by_fd(prog.fd).jited_prog_len > 0


def test_info_of_a_non_bpf_fd_is_an_input_error():
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(InputError, match="not a BPF program, map or BTF"):
            obj_get_info_by_fd(read_end)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_objects_by_id():
    with prog_load(RETURN_42) as prog, map_create(MapType.ARRAY, 4, 4, 1) as fd:
        prog_id = obj_get_info_by_fd(prog.fd).id
        map_id = obj_get_info_by_fd(fd).id
        assert prog_id in set(prog_ids())
        assert map_id in set(map_ids())
        with prog_get_fd_by_id(prog_id) as again:
            assert obj_get_info_by_fd(again).id == prog_id
        with map_get_fd_by_id(map_id) as again:
            assert obj_get_info_by_fd(again).id == map_id
    with pytest.raises(KernelError) as refused:
        prog_get_fd_by_id(prog_id)  # closed: gone
    assert str(refused.value).startswith("BPF_PROG_GET_FD_BY_ID failed: No such file or directory (ENOENT)")


def test_stats_count_test_runs():
    with prog_load(RETURN_42, prog_type=ProgType.XDP) as prog:
        assert obj_get_info_by_fd(prog.fd).run_cnt == 0
        with enable_stats():
            prog_test_run(prog.fd, bytes(64), repeat=10)
        info = obj_get_info_by_fd(prog.fd)
    assert info.run_cnt == 10
    assert info.run_time_ns > 0


@pytest.fixture
def bpffs(tmp_path: Path):
    """A private bpf filesystem mounted on a temporary directory."""
    libc = ctypes.CDLL(None, use_errno=True)
    target = os.fsencode(tmp_path)
    if libc.mount(b"bpf", target, b"bpf", 0, None) != 0:
        pytest.skip(f"cannot mount a bpf filesystem: {os.strerror(ctypes.get_errno())}")
    try:
        yield tmp_path
    finally:
        libc.umount2(target, 0)


def test_pin_and_get(bpffs: Path):
    with map_create(MapType.ARRAY, 4, 4, 1) as fd:
        map_id = obj_get_info_by_fd(fd).id
        obj_pin(fd, bpffs / "m")
    with obj_get(bpffs / "m") as again:  # the pin kept the map alive
        assert obj_get_info_by_fd(again).id == map_id
    os.unlink(bpffs / "m")
    with pytest.raises(KernelError) as refused:
        obj_pin(0, bpffs / "stdin")  # fd 0 is not a BPF object
    assert refused.value.errno == errno.EINVAL


def test_pin_outside_bpffs_is_refused(tmp_path: Path):
    with map_create(MapType.ARRAY, 4, 4, 1) as fd, pytest.raises(KernelError) as refused:
        obj_pin(fd, tmp_path / "m")
    assert str(refused.value).startswith("BPF_OBJ_PIN failed:")
