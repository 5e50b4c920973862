"""``runtime.instantiate``: an object in pybpf's runtime, run on the interpreter."""

from __future__ import annotations

import errno

import pytest
from _loader_helpers import PROGS
from pybpf.errors import PybpfError
from pybpf.obj import open_object
from pybpf.runtime import Runtime
from pybpf.runtime.instantiate import LOADED, instantiate

IPV4_FRAME = bytes(12) + b"\x08\x00" + bytes(50)
XDP_DROP, XDP_PASS, XDP_TX = 1, 2, 3


def test_example_counts_packets_on_the_interpreter(xdp_count_obj):
    with instantiate(open_object(xdp_count_obj)) as inst:
        prog = inst.programs["xdp_count"]
        assert prog.verdict == LOADED
        for _ in range(5):
            assert prog.run(IPV4_FRAME).retval == XDP_PASS
        key = (0x0008).to_bytes(4, "little")  # EtherType 0x0800 read as a little-endian u16
        assert inst.maps["counts"].lookup(key) == (5).to_bytes(8, "little")
        bss = inst.maps["xdp_coun.bss"].lookup(bytes(4))
        assert int.from_bytes(bss[:8], "little") == 5  # packets
        assert int.from_bytes(bss[8:16], "little") == 5 * len(IPV4_FRAME)  # bytes


def test_short_frames_count_under_key_0(xdp_count_obj):
    with instantiate(open_object(xdp_count_obj)) as inst:
        inst.programs["xdp_count"].run(b"\x01\x02\x03")
        assert inst.maps["counts"].lookup(bytes(4)) == (1).to_bytes(8, "little")


def test_rodata_frozen_and_read_only(build):
    with instantiate(open_object(build(PROGS / "globals.c"))) as inst:
        rodata = next(n for n, s in inst.object.maps.items() if s.real_name == ".rodata")
        with pytest.raises(PybpfError) as err:
            inst.maps[rodata].update(bytes(4), bytes(inst.object.maps[rodata].value_size), 0)
        assert err.value.errno == errno.EPERM
        assert inst.programs["read_globals"].run(IPV4_FRAME).retval == XDP_PASS


def test_map_in_map_on_the_runtime(build):
    with instantiate(open_object(build(PROGS / "map_in_map.c"))) as inst:
        inst.maps["inner0"].update((1).to_bytes(4, "little"), XDP_TX.to_bytes(4, "little"), 0)
        assert inst.programs["through_outer"].run(IPV4_FRAME).retval == XDP_TX


def test_programs_share_one_runtime(xdp_count_obj, build):
    rt = Runtime()
    first = instantiate(open_object(xdp_count_obj), runtime=rt)
    second = instantiate(open_object(build(PROGS / "globals.c")), runtime=rt)
    assert first.runtime is second.runtime
    assert {m.map.fd for m in first.maps.values()}.isdisjoint(m.map.fd for m in second.maps.values())
