"""BPF_PROG_LOAD and BPF_PROG_TEST_RUN against the live kernel."""

from __future__ import annotations

import errno
import struct

import pytest
from kernel_helpers import EXIT, MOV_R0_42, RETURN_42, open_fds
from pybpf.errors import InputError, KernelError
from pybpf.isa.insn import Insn, encode_program, ld_imm64
from pybpf.kernel import (
    AttachType,
    MapType,
    ProgFlags,
    ProgType,
    map_create,
    obj_get_info_by_fd,
    prog_load,
    prog_map_ids,
    prog_test_run,
)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("live")]

ETH_HLEN = 14
PSEUDO_MAP_FD = 1
PSEUDO_MAP_IDX = 5


def test_socket_filter_returns_42():
    packet = bytes(range(64))
    with prog_load(RETURN_42, prog_type=ProgType.SOCKET_FILTER) as prog:
        run = prog_test_run(prog.fd, packet)
    assert run.retval == 42
    # A socket filter sees the packet from its network header on; the Ethernet
    # header comes back zeroed (as Linux 6.18 does), the rest untouched.
    assert run.data_out == bytes(ETH_HLEN) + packet[ETH_HLEN:]


def test_xdp_returns_42_on_an_ethernet_header():
    packet = bytes(range(ETH_HLEN))
    with prog_load(RETURN_42, prog_type=ProgType.XDP) as prog:
        run = prog_test_run(prog.fd, packet)
        assert run.retval == 42
        assert run.data_out == packet
        with pytest.raises(KernelError) as refused:
            prog_test_run(prog.fd, bytes(ETH_HLEN - 1))  # shorter than an Ethernet header
    assert refused.value.errno == errno.EINVAL
    assert str(refused.value) == "BPF_PROG_TEST_RUN failed: Invalid argument (EINVAL)"


def test_bytes_and_slots_load_alike():
    with prog_load(encode_program(RETURN_42)) as prog:
        assert prog_test_run(prog.fd, bytes(64)).retval == 42


def test_success_log_at_level_1_is_the_statistics_line():
    with prog_load(RETURN_42, log_level=1) as prog:
        assert prog.log.startswith("processed 2 insns (limit 1000000)")
    with prog_load(RETURN_42, log_level=0) as prog:
        assert prog.log == ""


@pytest.mark.parametrize("level", [1, 2])
def test_exit_alone_is_refused_with_the_verifier_reason(level):
    with pytest.raises(KernelError) as refused:
        prog_load([EXIT], log_level=level)
    err = refused.value
    assert err.errno == errno.EACCES
    assert str(err) == "BPF_PROG_LOAD failed: Permission denied (EACCES): R0 !read_ok"
    assert "0: (95) exit\nR0 !read_ok\n" in err.log
    assert "processed 1 insns" in err.log
    if level == 2:
        assert err.log.startswith("func#0 @0\n")


def test_refusal_at_level_0_has_no_log():
    with pytest.raises(KernelError) as refused:
        prog_load([EXIT], log_level=0)
    assert refused.value.errno == errno.EACCES
    assert refused.value.log == ""
    assert str(refused.value) == "BPF_PROG_LOAD failed: Permission denied (EACCES)"


def test_log_grows_past_the_first_buffer():
    # Level 2 prints a state line per instruction: ~4000 of them overflow 64 KiB.
    body = [Insn(0xB7, 0, 0, 0, i) for i in range(4000)]
    with prog_load([*body, EXIT], log_level=2) as prog:
        assert len(prog.log) > 64 << 10
        assert prog.log.startswith("func#0 @0\n")
        assert "processed 4001 insns" in prog.log


def test_log_ceiling_reached_is_enospc():
    with pytest.raises(KernelError) as refused:
        prog_load(RETURN_42, log_level=2, log_size=128)
    assert refused.value.errno == errno.ENOSPC
    assert "the log needs" in str(refused.value)


def test_unknown_prog_flag_is_einval():
    with pytest.raises(KernelError) as refused:
        prog_load(RETURN_42, prog_flags=1 << 8)
    assert refused.value.errno == errno.EINVAL


@pytest.mark.parametrize("flag", [ProgFlags.STRICT_ALIGNMENT, ProgFlags.ANY_ALIGNMENT, ProgFlags.TEST_RND_HI32])
def test_known_prog_flags_are_accepted(flag):
    with prog_load(RETURN_42, prog_flags=flag) as prog:
        assert prog_test_run(prog.fd, bytes(64)).retval == 42


def test_expected_attach_type_is_passed():
    ret1 = [Insn(0xB7, 0, 0, 0, 1), EXIT]
    with prog_load(ret1, prog_type=ProgType.CGROUP_SOCK_ADDR, expected_attach_type=AttachType.CGROUP_INET4_CONNECT):
        pass
    # Without it the attach type is 0 (CGROUP_INET_INGRESS), which sock_addr programs refuse.
    with pytest.raises(KernelError) as refused:
        prog_load(ret1, prog_type=ProgType.CGROUP_SOCK_ADDR)
    assert refused.value.errno == errno.EINVAL


def test_map_by_fd_and_by_fd_array_index():
    with map_create(MapType.ARRAY, 4, 8, 1) as array:
        map_id = obj_get_info_by_fd(array).id
        by_fd = [*ld_imm64(1, int(array), PSEUDO_MAP_FD), *RETURN_42]
        with prog_load(by_fd) as prog:
            assert prog_map_ids(prog.fd) == [map_id]
        by_index = [*ld_imm64(1, 0, PSEUDO_MAP_IDX), *RETURN_42]
        with prog_load(by_index, fd_array=[array]) as prog:
            assert prog_map_ids(prog.fd) == [map_id]


def test_repeat_gives_a_plausible_mean_duration():
    with prog_load(RETURN_42, prog_type=ProgType.XDP) as prog:
        run = prog_test_run(prog.fd, bytes(64), repeat=1000)
    assert run.retval == 42
    assert 0 < run.duration_ns < 100_000  # two instructions: well under 100 us each


def test_output_too_small_says_how_much_is_needed():
    with prog_load(RETURN_42) as prog, pytest.raises(KernelError) as refused:
        prog_test_run(prog.fd, bytes(64), data_size_out=10)
    assert refused.value.errno == errno.ENOSPC
    assert str(refused.value).endswith("the output needs data_size_out=64")


def test_ragged_program_and_long_name_are_input_errors():
    with pytest.raises(InputError, match="not a multiple of 8"):
        prog_load(b"\x95" * 9)
    with pytest.raises(InputError, match="longer than 15 bytes"):
        prog_load(RETURN_42, name="a_name_of_16_chr")
    with pytest.raises(InputError, match="whole number"):
        prog_load(RETURN_42, func_info=bytes(9), func_info_rec_size=8)


def test_failures_leak_no_fd():
    before = open_fds()
    for _ in range(20):
        with pytest.raises(KernelError):
            prog_load([EXIT])
        with pytest.raises(KernelError):
            prog_load([MOV_R0_42, EXIT], prog_flags=1 << 8)
        prog_load(RETURN_42).close()
    assert open_fds() == before


def test_context_goes_in_and_comes_back():
    sk_buff_size, mark_offset = 192, 8  # struct __sk_buff in 6.18; its ``mark`` member
    read_mark = [Insn(0x61, 0, 1, mark_offset, 0), EXIT]  # r0 = *(u32 *)(r1 + 8)
    ctx = bytearray(sk_buff_size)
    struct.pack_into("<I", ctx, mark_offset, 7)
    with prog_load(read_mark, prog_type=ProgType.SCHED_CLS) as prog:
        run = prog_test_run(prog.fd, bytes(100), ctx_in=bytes(ctx), ctx_size_out=sk_buff_size)
        assert run.retval == 7
        assert struct.unpack_from("<I", run.ctx_out, mark_offset) == (7,)
        with pytest.raises(KernelError) as refused:
            prog_test_run(prog.fd, bytes(100), ctx_in=bytes(ctx), ctx_size_out=sk_buff_size - 8)
    assert str(refused.value).endswith(f"the output needs ctx_size_out={sk_buff_size}")
