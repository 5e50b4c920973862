"""The arch-neutral code buffer: labels, fixups handed to the back-end's patcher, the pc map, constants."""

from __future__ import annotations

import struct

import pytest
from pybpf.errors import InternalError
from pybpf.jit.common.backend import JitImage
from pybpf.jit.common.codebuf import CodeBuffer, Fixup


def rel32_patcher(calls: list[tuple[str, int, int, int]]):
    def patch(code: bytearray, fix: Fixup, target: int) -> None:
        calls.append((fix.kind, fix.at, fix.origin, target))
        struct.pack_into("<i", code, fix.at, target - fix.origin)

    return patch


def test_forward_and_backward_fixups_are_patched_with_the_labels_final_offsets():
    calls: list = []
    buf = CodeBuffer(rel32_patcher(calls))
    back = buf.here("top")  # offset 0
    buf.emit(b"\x90" * 3)
    fwd = buf.label("fwd")
    at = buf.emit(b"\xe9\0\0\0\0") + 1  # a jmp rel32 to a label bound later
    buf.fixup(fwd, "rel32", at)  # origin: the end of the jmp (offset 8)
    at2 = buf.emit(b"\xe9\0\0\0\0") + 1
    buf.fixup(back, "rel32", at2)  # back to 0 from 13
    buf.emit(b"\xcc")
    buf.bind(fwd)  # offset 14
    code = buf.finish()
    assert calls == [("rel32", 4, 8, 14), ("rel32", 9, 13, 0)]
    assert struct.unpack_from("<i", code, 4)[0] == 6
    assert struct.unpack_from("<i", code, 9)[0] == -13


def test_an_explicit_origin_is_passed_through():
    calls: list = []
    buf = CodeBuffer(rel32_patcher(calls))
    target = buf.here()
    at = buf.emit(b"\0" * 4)
    buf.fixup(target, "imm26", at, origin=at)  # arm64-style: relative to the instruction itself
    buf.finish()
    assert calls == [("imm26", 0, 0, 0)]


def test_binding_twice_and_using_an_unbound_label_are_internal_errors():
    buf = CodeBuffer(rel32_patcher([]))
    label = buf.here("once")
    with pytest.raises(InternalError, match="bound twice"):
        buf.bind(label)
    dangling = buf.label("nowhere")
    buf.fixup(dangling, "rel32", buf.emit(b"\0" * 4))
    with pytest.raises(InternalError, match="never bound"):
        buf.finish()


def test_the_patcher_may_refuse_an_out_of_range_branch():
    def rel8(code: bytearray, fix: Fixup, target: int) -> None:
        if not -128 <= target - fix.origin <= 127:
            raise InternalError("rel8 does not fit")

    buf = CodeBuffer(rel8)
    far = buf.label()
    buf.fixup(far, "rel8", buf.emit(b"\0"))
    buf.emit(b"\0" * 300)
    buf.bind(far)
    with pytest.raises(InternalError, match="does not fit"):
        buf.finish()


def test_constants_are_pooled_after_the_code_aligned_and_shared():
    calls: list = []
    buf = CodeBuffer(rel32_patcher(calls))
    buf.emit(b"\x90" * 5)
    c1 = buf.constant(b"\x11" * 8)
    c2 = buf.constant(b"\x22" * 4, align=4)
    assert buf.constant(b"\x11" * 8) is c1  # equal constants share one slot
    buf.fixup(c1, "rel32", buf.emit(b"\0" * 4))
    code = buf.finish()
    assert c1.offset == 16 and c1.offset % 8 == 0  # code ends at 9, aligned up to 16
    assert code[16:24] == b"\x11" * 8
    assert c2.offset == 24 and code[24:28] == b"\x22" * 4
    assert calls == [("rel32", 5, 9, 16)]


def test_the_pc_map_leaves_skipped_slots_at_minus_one_and_maps_offsets_back():
    buf = CodeBuffer(rel32_patcher([]))
    buf.mark_pc(0)
    buf.emit(b"\0" * 10)
    buf.mark_pc(2)  # slot 1 is ld_imm64's second half
    buf.emit(b"\0" * 3)
    buf.mark_pc(3)
    buf.emit(b"\0")
    assert buf.pc_offsets == [0, -1, 10, 13]
    image = JitImage("x86_64", buf.finish(), 0, buf.pc_offsets, body_end=14, code_base=0x1000)
    assert [image.bpf_pc(0x1000 + off) for off in (0, 9, 10, 12, 13)] == [0, 0, 2, 2, 3]
    assert image.bpf_pc(0x1000 + 14) is None  # past the body: shared stubs
    late = JitImage("x86_64", b"\0" * 10, 0, [5, 8], body_end=10, code_base=0)
    assert late.bpf_pc(4) is None  # before the first instruction's code: the prologue
