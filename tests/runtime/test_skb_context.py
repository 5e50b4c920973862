"""The ``struct __sk_buff`` of an skb program's test run: the runtime against the kernel's ``BPF_PROG_TEST_RUN``.

``progs/skb_fields.c`` copies what a tc program reads of its ``__sk_buff`` into
a global and writes ``mark``, ``priority``, ``cb[]``... and the packet; a socket
filter reports ``len``, an ``ld_abs`` byte and ``protocol``.  Each case runs on
both targets and everything they give back must be the same.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pybpf
import pytest
from pybpf.abi.kernel_btf import kernel_btf
from pybpf.btf.types import Kind
from pybpf.errors import InputError, KernelError
from pybpf.runtime.skb import FIELDS, SK_BUFF_SIZE, eth_protocol, pkt_type

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(__file__).parent / "progs" / "skb_fields.c"
IPV4 = bytes(range(12)) + b"\x08\x00" + b"\x45" + bytes(49)  # to 00:01:02:03:04:05 (not loopback's address)
FRAMES = {
    "ipv4 otherhost": IPV4,
    "arp broadcast": b"\xff" * 6 + bytes(6) + b"\x08\x06" + bytes(28),
    "ipv6 multicast": b"\x33\x33" + bytes(10) + b"\x86\xdd" + b"\x60" + bytes(60),
    "802.3 raw to host": bytes(12) + b"\x00\x2e" + b"\xff\xff" + bytes(44),
    "802.2 to host": bytes(12) + b"\x00\x2e" + b"\xaa\xaa" + bytes(44),
}


def _ctx(**fields: int | bytes) -> bytes:
    buf = bytearray(SK_BUFF_SIZE)
    for name, value in fields.items():
        offset, size = FIELDS[name]
        buf[offset : offset + size] = value if isinstance(value, bytes) else value.to_bytes(size, "little")
    return bytes(buf)


CTXS = {
    "no ctx": None,
    "mark priority cb": _ctx(mark=5, priority=6, ingress_ifindex=1, cb=struct.pack("<5I", 1, 2, 3, 4, 5)),
    "wire_len gso": _ctx(wire_len=100, gso_segs=2, tstamp=1234),
    "longer, zero past the struct": _ctx(mark=9) + bytes(8),
}


@pytest.fixture(scope="module")
def skb_obj(tmp_path_factory) -> pybpf.OpenObject:
    return pybpf.compile_and_open(SRC, include_dirs=[ROOT / "selftests" / "include"],
                                  output=tmp_path_factory.mktemp("skb") / "skb_fields.o")


def _observe(obj: pybpf.OpenObject, target: str, frame: bytes, ctx: bytes | None) -> list:
    with obj.load(target) as loaded:
        assert all(p.ok for p in loaded.programs.values()), {n: p.verdict for n, p in loaded.programs.items()}
        tc = loaded.programs["tc_fields"].run(frame, ctx=ctx)
        sf = loaded.programs["filter_len_and_ip"].run(frame, ctx=ctx)
        return [tc.retval, tc.data_out, tc.ctx_out, loaded.globals["tc_seen"],
                sf.retval, sf.data_out, sf.ctx_out, loaded.globals["filter_len"]]


def test_sk_buff_layout_is_the_kernels():
    """FIELDS against ``struct __sk_buff`` in /sys/kernel/btf/vmlinux (anonymous unions flattened)."""
    btf = kernel_btf()
    tid = btf.find("__sk_buff", Kind.STRUCT)
    found = {}
    for m in btf.members(tid):
        for inner in btf.members(m.type) if not m.name else [m]:
            found[inner.name or m.name] = (m.byte_offset + (inner.byte_offset if inner is not m else 0),
                                           btf.size_of(inner.type))
    assert found == FIELDS
    assert btf.size_of(tid) == SK_BUFF_SIZE


@pytest.mark.parametrize(("frame", "proto", "ptype"), [
    (IPV4, 0x0008, 3), (FRAMES["arp broadcast"], 0x0608, 2), (FRAMES["ipv6 multicast"], 0xDD86, 2),
    (FRAMES["802.3 raw to host"], 0x0100, 0), (FRAMES["802.2 to host"], 0x0400, 0)])
def test_eth_type_trans(frame, proto, ptype):
    """``protocol`` is __be16 (read on a little-endian host); PACKET_HOST/MULTICAST/OTHERHOST: the loopback
    device has no broadcast address, so ff:ff:ff:ff:ff:ff is multicast (the kernel says 2)."""
    assert (eth_protocol(frame), pkt_type(frame)) == (proto, ptype)


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("ctx_name", list(CTXS))
@pytest.mark.parametrize("frame_name", list(FRAMES))
def test_runtime_sk_buff_is_the_kernels(skb_obj, frame_name, ctx_name):
    frame, ctx = FRAMES[frame_name], CTXS[ctx_name]
    assert _observe(skb_obj, "pybpf", frame, ctx) == _observe(skb_obj, "kernel", frame, ctx)


def test_what_the_runtime_shows_without_a_kernel(skb_obj):
    """The same facts spelled out (Linux 6.18's values), for hosts without bpf()."""
    retval, data_out, ctx_out, seen, sf_ret, sf_out, _, sf_len = _observe(skb_obj, "pybpf", IPV4, CTXS[
        "mark priority cb"])
    assert (retval, data_out, len(ctx_out)) == (2, b"\xee" + IPV4[1:], SK_BUFF_SIZE)  # TC_ACT_SHOT
    length, ptype, mark, _, protocol = struct.unpack_from("<5I", seen)
    assert (length, ptype, mark, protocol) == (64, 3, 5, 0x0008)
    out = {name: int.from_bytes(ctx_out[o : o + s], "little") for name, (o, s) in FIELDS.items() if name != "cb"}
    assert (out["mark"], out["priority"], out["wire_len"], out["ifindex"]) == (0x1234, 7, 64, 1)
    assert ctx_out[48:68] == struct.pack("<5I", 2, 2, 3, 4, 0xABCD)
    assert (sf_ret, sf_out, sf_len) == (0x0845, bytes(14) + IPV4[14:], 50)


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize(("frame", "ctx"), [(bytes(13), None), (IPV4, _ctx(len=64)), (IPV4, _ctx(tc_index=1)),
                                            (IPV4, bytes(SK_BUFF_SIZE) + b"\1")])
def test_inputs_the_kernel_refuses(skb_obj, frame, ctx):
    with skb_obj.load("kernel") as loaded, pytest.raises(KernelError):
        loaded.programs["tc_fields"].run(frame, ctx=ctx)
    with skb_obj.load("pybpf") as loaded, pytest.raises(InputError):
        loaded.programs["tc_fields"].run(frame, ctx=ctx)


def test_run_cli_names_the_short_packet(skb_obj, tmp_path):
    """``pybpf run``: a packet shorter than an Ethernet header is bad input (the kernel's EINVAL), one line."""
    short = tmp_path / "short.bin"
    short.write_bytes(bytes(4))
    done = subprocess.run([sys.executable, "-m", "pybpf.cli.main", "run", str(skb_obj.path), "--prog", "tc_fields",
                           "--data", str(short)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"pybpf: error: {short}: an skb test run needs at least an Ethernet header "
                                        "(14 bytes), not 4"]
