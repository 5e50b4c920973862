"""The runtime's packet, checksum, redirect, trace and probe helpers against the kernel's ``BPF_PROG_TEST_RUN``.

``progs/helpers_more.c`` stores what each helper returns (and the bytes it
writes) in globals; each program runs on both targets and everything they give
back must be the same.  The unit tests below spell out the same facts (Linux
6.18's values) for hosts without bpf().
"""

from __future__ import annotations

import errno
import struct
from pathlib import Path

import pybpf
import pytest
from pybpf.runtime.helpers.trace import format_trace
from pybpf.vm.memory import Memory

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(__file__).parent / "progs" / "helpers_more.c"
# An IPv4 packet to 00:01:02:03:04:05 with a correct header checksum, then a payload.
IPV4_HDR = bytes.fromhex("450000540000400040010000c0a80001c0a80002")
FRAME = bytes(range(12)) + b"\x08\x00" + IPV4_HDR + bytes(range(64))
TC_ACT_REDIRECT, TC_ACT_SHOT, XDP_PASS = 7, 2, 2


@pytest.fixture(scope="module")
def obj(tmp_path_factory) -> pybpf.OpenObject:
    return pybpf.compile_and_open(SRC, include_dirs=[ROOT / "selftests" / "include"],
                                  output=tmp_path_factory.mktemp("helpers") / "helpers_more.o")


def _observe(obj: pybpf.OpenObject, target: str, prog: str, seen: str, frame: bytes = FRAME) -> tuple:
    with obj.load(target) as loaded:
        assert all(p.ok for p in loaded.programs.values()), {n: p.verdict for n, p in loaded.programs.items()}
        run = loaded.programs[prog].run(frame)
        out = run.data_out if prog != "xdp_helpers" else b""  # the runtime's xdp data_out has no moved head
        return run.retval, out, loaded.globals[seen]


CASES = [("tc_helpers", "skb_seen"), ("tc_misc", "misc_seen"), ("xdp_helpers", "xdp_seen")]


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize(("prog", "seen"), CASES)
def test_runtime_helpers_are_the_kernels(obj, prog, seen):
    assert _observe(obj, "pybpf", prog, seen) == _observe(obj, "kernel", prog, seen)


def _longs(raw: bytes, n: int) -> tuple[int, ...]:
    return struct.unpack_from(f"<{n}q", raw)


def test_skb_helpers_without_a_kernel(obj):
    retval, data_out, seen = _observe(obj, "pybpf", "tc_helpers", "skb_seen")
    assert retval == TC_ACT_REDIRECT
    (load_ok, load_past, load_big, rel_mac, rel_net, rel_bad, store_ok, store_past, store_flags,
     *l3, redirect_ok, redirect_bad) = _longs(seen, 17)
    assert (load_ok, load_past, load_big, rel_mac, rel_net, rel_bad) == (0, -errno.EFAULT, -errno.EFAULT, 0, 0,
                                                                         -errno.EFAULT)
    assert (store_ok, store_past, store_flags) == (0, -errno.EFAULT, -errno.EINVAL)
    assert l3 == [0, 0, 0, -errno.EFAULT, -errno.EINVAL, -errno.EFAULT]
    assert (redirect_ok, redirect_bad) == (TC_ACT_REDIRECT, TC_ACT_SHOT)
    loaded, loaded_past, loaded_mac, loaded_net = struct.unpack_from("<4Q", seen, 17 * 8)
    assert loaded.to_bytes(8, "little") == FRAME[2:10]
    assert loaded_past == 0  # zeroed on -EFAULT
    assert loaded_mac.to_bytes(8, "little") == FRAME[6:14]
    assert loaded_net.to_bytes(8, "little") == FRAME[16:24]
    assert data_out[30:34] == struct.pack("<I", 0xDEADBEEF)


def test_misc_helpers_without_a_kernel(obj):
    _, _, seen = _observe(obj, "pybpf", "tc_misc", "misc_seen")
    diff_words, diff_seed, diff_empty, diff_odd, _, numa, plain, args, nonul, probe_bad, probed = \
        struct.unpack_from("<10qQ", seen)
    assert (diff_empty, diff_odd, numa) == (77, -errno.EINVAL, 0)
    assert (plain, args, nonul) == (5, len("v=-5 u=42 x=beef"), -errno.EINVAL)
    assert (probe_bad, probed) == (-errno.EFAULT, 0)
    # one's complement sums of 32-bit words: ~from + to (+ seed), end-around carry
    words = (~0x11112222 & 0xFFFFFFFF) + (~0x33334444 & 0xFFFFFFFF) + 0x55556666 + 0x77778888 + 0x9999AAAA
    while words >> 32:
        words = (words & 0xFFFFFFFF) + (words >> 32)
    assert diff_words == words
    assert diff_seed != 0


def test_xdp_helpers_without_a_kernel(obj):
    retval, _, seen = _observe(obj, "pybpf", "xdp_helpers", "xdp_seen")
    assert retval == XDP_PASS
    (head_fwd, head_back_far, head_past_end, meta_back, meta_odd, meta_big, meta_fwd, head_back, data_len, meta_len,
     redirect_ok, redirect_bad) = _longs(seen, 12)
    assert (head_back_far, head_past_end, head_fwd) == (-errno.EINVAL, -errno.EINVAL, 0)
    assert (meta_odd, meta_big, meta_back, meta_fwd, head_back) == (-errno.EACCES, -errno.EACCES, 0, 0, 0)
    assert (data_len, meta_len) == (len(FRAME) - 36, 4)
    assert (redirect_ok, redirect_bad) == (4, 0)  # XDP_REDIRECT; XDP_ABORTED for unknown flags


@pytest.mark.parametrize(("fmt", "args", "text"), [
    (b"x\0", (), "x"),
    (b"%d %i %u\0", (-1, 7, -1), "-1 7 4294967295"),
    (b"%ld %llx %lu\0", (-1, 255, 3), "-1 ff 3"),
    (b"%5d|%-4x|%05d\0", (42, 10, -3), "   42|a   |-0003"),
    (b"100%%\0", (), "100%"),
    (b"%c%c\0", (72, 105), "Hi"),
    (b"%d %d %d %d\0", (1, 2, 3), None),  # four values: more than trace_printk takes
    (b"%f\0", (1,), None),
    (b"%n\0", (1,), None),
    (b"\x01\0", (), None),  # not printable
])
def test_trace_printk_formats(fmt, args, text):
    assert format_trace(Memory(), fmt, args + (0,) * (3 - len(args))) == text
