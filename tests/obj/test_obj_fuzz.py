"""Mutated objects (byte flips, truncations, swapped section headers): only pybpf's own errors come out."""

from __future__ import annotations

import struct

import pytest
from pybpf.errors import PybpfError
from pybpf.obj.core import apply_core
from pybpf.obj.elf import read_object

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SOURCES = ("subprogs", "maps", "globals", "externs", "core")


@pytest.fixture(scope="module")
def originals(compile_prog) -> list[bytes]:
    return [compile_prog(name).read_bytes() for name in SOURCES]


def _flip(data: bytearray, draw) -> None:
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] ^= draw(st.integers(1, 255))


def _swap_sections(data: bytearray, draw) -> None:
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shnum, = struct.unpack_from("<H", data, 0x3C)
    if shnum < 2:  # an earlier mutation left no pair of sections to swap
        return
    a, b = draw(st.integers(1, shnum - 1)), draw(st.integers(1, shnum - 1))
    pa, pb = shoff + a * 64, shoff + b * 64
    data[pa:pa + 64], data[pb:pb + 64] = data[pb:pb + 64], data[pa:pa + 64]


def _overwrite_word(data: bytearray, draw) -> None:
    pos = draw(st.integers(0, len(data) - 4))
    data[pos:pos + 4] = struct.pack("<I", draw(st.sampled_from([0, 1, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])))


@st.composite
def mutated(draw, originals):
    index = draw(st.integers(0, len(originals) - 1))
    data = bytearray(originals[index])
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["flip", "truncate", "swap", "word"]))
        if how == "flip":
            _flip(data, draw)
        elif how == "truncate":
            del data[draw(st.integers(0, len(data) - 1)):]
            if not data:
                break
        elif how == "swap":
            _swap_sections(data, draw)
        else:
            _overwrite_word(data, draw)
        if len(data) < 0x40:
            break
    return SOURCES[index], bytes(data)


def _check(case, vmlinux) -> None:
    name, data = case
    try:
        obj = read_object(data, f"{name}.o", kconfig="")
        if name == "core":
            for prog in obj.programs.values():
                apply_core(prog, obj.btf, vmlinux)
    except PybpfError as err:
        text = str(err)
        assert text and "\n" not in text


def _run(originals, vmlinux, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=mutated(originals))
    def prop(case):
        _check(case, vmlinux)

    prop()


def test_mutations_1000(originals, vmlinux):
    _run(originals, vmlinux, 1000)


@pytest.mark.slow
def test_mutations_10000(originals, vmlinux):
    _run(originals, vmlinux, 10000)
