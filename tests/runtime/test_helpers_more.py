"""The runtime's packet, checksum, redirect, trace and probe helpers against the kernel's ``BPF_PROG_TEST_RUN``.

``progs/helpers_more.c`` stores what each helper returns (and the bytes it
writes) in globals; each program runs on both targets and everything they give
back must be the same.  The unit tests below spell out the same facts (Linux
6.18's values) for hosts without bpf().
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import pybpf
import pytest
from pybpf.isa import assemble
from pybpf.kernel.testrun import prog_test_run
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
        return run.retval, run.data_out, loaded.globals[seen]


CASES = [("tc_helpers", "skb_seen"), ("tc_misc", "misc_seen"), ("xdp_helpers", "xdp_seen")]


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize(("prog", "seen"), CASES)
def test_runtime_helpers_are_the_kernels(obj, prog, seen):
    assert _observe(obj, "pybpf", prog, seen) == _observe(obj, "kernel", prog, seen)


def _task_ids(obj: pybpf.OpenObject, target: str) -> bytes:
    with obj.load(target) as loaded:
        prog = loaded.programs["task_ids"]
        if target == "kernel":  # a raw_tp test run refuses repeat and ctx_out, which ProgramHandle.run asks for
            prog_test_run(prog._backend.fd, b"", ctx_in=bytes(8), repeat=0)
        else:
            prog.run(ctx=bytes(8))
        return loaded.globals["task_seen"]


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel")
def test_task_helpers_are_the_kernels(obj):
    """uid/gid, comm, cgroup id, NUMA node, a bad signal: the runtime's task is the process running it."""
    assert _task_ids(obj, "pybpf") == _task_ids(obj, "kernel")


def test_task_helpers_without_a_kernel(obj):
    seen = _task_ids(obj, "pybpf")
    uid_gid, _, comm_ret, numa, sig_bad = struct.unpack_from("<QQ3q", seen)
    assert uid_gid == os.getgid() << 32 | os.getuid()
    assert (comm_ret, numa, sig_bad) == (0, 0, -errno.EINVAL)
    comm = Path("/proc/self/comm").read_bytes().rstrip(b"\n")[:15]
    assert seen[40:56] == comm.ljust(16, b"\0")
    assert seen[56:60] == comm[:3] + b"\0"  # cut to size - 1, NUL-terminated


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
    # Linux 6.18 folds the sum to 16 bits and takes sizes that are not multiples of 4: the one's complement
    # sum of to's 16-bit words (5555+aaaa, 6666+9999, 7777+8888: 0) less from's (1111+2222+3333+4444 = aaaa)
    assert (diff_words, diff_seed, diff_empty, diff_odd) == (0x5555, 0xFFF0, 77, 0x8888)
    assert numa == 0
    assert (plain, args, nonul) == (5, len("v=-5 u=42 x=beef"), -errno.EINVAL)
    assert (probe_bad, probed) == (-errno.ERANGE, 0)  # a kernel read of a user address, refused; zero-filled


def test_xdp_helpers_without_a_kernel(obj):
    retval, data_out, seen = _observe(obj, "pybpf", "xdp_helpers", "xdp_seen")
    # the test run gives back data_meta..data_end: the 40 bytes of metadata (moved 4 down with data) first
    assert (retval, data_out) == (XDP_PASS, FRAME[:40] + FRAME[36:])
    (head_fwd, head_back_far, head_past_end, meta_back, meta_odd, meta_big, meta_fwd, head_back, data_len, meta_len,
     redirect_ok, redirect_bad) = _longs(seen, 12)
    assert (head_back_far, head_past_end, head_fwd) == (-errno.EINVAL, -errno.EINVAL, 0)
    # metadata must be a multiple of 4 bytes, up to 255 in Linux 6.18; it moves with data
    assert (meta_odd, meta_big, meta_back, meta_fwd, head_back) == (-errno.EACCES, 0, 0, 0, 0)
    assert (data_len, meta_len) == (len(FRAME) - 36, 40)
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


# Helpers no test run can show side by side (tracing program types): what the runtime gives, by the kernel's rules.

def _r0(rt, text: str) -> int:
    outcome = rt.run(assemble(text))
    assert outcome.fault is None, outcome.fault
    return outcome.r0 - (1 << 64) if outcome.r0 >> 63 else outcome.r0


STACK_BUF = "stdw [%r10-16], -1\nstdw [%r10-8], -1\nmov %r1, 0\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 16\n"


def test_get_stack_finds_no_callchain(rt):
    """No run has a call stack: -EFAULT with the buffer zeroed; a size not a whole number of entries: -EINVAL."""
    assert _r0(rt, STACK_BUF + "mov %r4, 0\ncall 67\nldxdw %r1, [%r10-16]\nldxdw %r2, [%r10-8]\nor %r1, %r2\n"
               "jne %r1, 0, +1\nexit\nmov %r0, 1\nexit") == -errno.EFAULT
    assert _r0(rt, STACK_BUF.replace("mov %r3, 16", "mov %r3, 12") + "mov %r4, 0\ncall 67\nexit") == -errno.EINVAL
    assert _r0(rt, STACK_BUF + "mov %r4, 0x800\ncall 67\nexit") == -errno.EINVAL  # a build id of a kernel stack


def test_probe_reads(rt):
    # bpf_probe_read of an unbacked user address faults (-EFAULT); _kernel_str copies up to the NUL, which counts
    assert _r0(rt, "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 64\ncall 4\nexit") == -errno.EFAULT
    assert _r0(rt, "stdw [%r10-16], 0x6968\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, %r10\nadd %r3, -16\n"
               "call 115\nexit") == 3
    assert _r0(rt, "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nlddw %r3, 0xffff888000000000\ncall 115\n"
               "exit") == -errno.EFAULT  # a kernel address the runtime does not back


def test_trace_printk_text_and_signals_are_recorded(rt):
    assert _r0(rt, "stdw [%r10-8], 0x7825\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 255\ncall 6\n"
               "exit") == 2
    assert rt.env.trace[-1] == "ff"
    assert _r0(rt, "mov %r1, 10\ncall 117\nexit") == 0
    assert rt.env.signals[-1] == (10, True)
    assert _r0(rt, "mov %r1, 0\ncall 174\nexit") == 0  # no attach cookie


def test_clocks(rt):
    assert _r0(rt, "call 160\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit") >= 0  # coarse never runs ahead
    assert _r0(rt, "call 118\nexit") > 0
