"""Guest memory: regions, guard gaps, bounds and permission faults, and the
load/store instructions over it (little-endian, RFC 9669 section 5)."""

from __future__ import annotations

import pytest
from _vm_build import EXIT, U64, I, fault_of, lddw, r0_of, run
from pybpf.errors import VmFault
from pybpf.vm import Interpreter, Memory, RegionKind
from pybpf.vm.memory import FIRST_BASE, PAGE

DATA = bytes(range(0x11, 0x11 + 16))  # 11 12 13 ... 20


# ---------------------------------------------------------------- the Memory class


def test_regions_are_page_aligned_with_an_unmapped_gap_between():
    memory = Memory()
    a = memory.add(RegionKind.INPUT, bytearray(10))
    b = memory.add(RegionKind.STACK, bytearray(PAGE))
    c = memory.add(RegionKind.CTX, bytearray(1))
    assert a.base == FIRST_BASE
    for lower, upper in ((a, b), (b, c)):
        assert upper.base % PAGE == 0
        assert upper.base - lower.end >= PAGE
    assert memory.regions == (a, b, c)


def test_find_and_load_store_round_trip():
    memory = Memory()
    region = memory.add(RegionKind.MAP_VALUE, bytearray(8))
    memory.store(region.base + 4, 4, 0x1122_3344)
    assert region.data == bytearray(b"\0\0\0\0\x44\x33\x22\x11")
    assert memory.load(region.base + 4, 2) == 0x3344
    assert memory.find(region.base, 8) is region
    assert memory.read(region.base + 3, 3) == b"\0\x44\x33"
    memory.write(region.base, b"\xff")
    assert memory.load(region.base, 8) == 0x1122_3344_0000_00FF


def test_one_byte_past_the_end_faults():
    memory = Memory()
    region = memory.add(RegionKind.INPUT, bytearray(14))
    with pytest.raises(VmFault) as err:
        memory.load(region.end, 1)
    assert str(err.value) == (
        f"read of 1 byte at {region.end:#x} is outside every region "
        f"(just past the end of input mem [{region.base:#x}, {region.end:#x}))"
    )
    with pytest.raises(VmFault, match="runs 1 byte past the end of input mem"):
        memory.load(region.end - 3, 4)


def test_access_before_a_region_and_between_regions():
    memory = Memory()
    a = memory.add(RegionKind.INPUT, bytearray(16))
    b = memory.add(RegionKind.HEAP, bytearray(16))
    with pytest.raises(VmFault, match="8 bytes before the start of input mem"):
        memory.load(a.base - 8, 8)
    with pytest.raises(VmFault, match="starts 4 bytes before the start of heap"):
        memory.load(b.base - 4, 8)
    gap = (a.end + b.base) // 2
    with pytest.raises(VmFault, match="outside every region"):
        memory.store(gap, 1, 0)


def test_null_pointer_is_named():
    with pytest.raises(VmFault, match=r"read of 8 bytes at 0x0 is outside every region \(a null pointer"):
        Memory().load(0, 8)


def test_write_to_read_only_region():
    memory = Memory()
    ro = memory.add(RegionKind.RODATA, b"abcd", writable=False)
    assert memory.load(ro.base, 1) == ord("a")
    with pytest.raises(VmFault, match=r"write of 2 bytes at 0x[0-9a-f]+ is into read-only rodata \["):
        memory.store(ro.base, 2, 0)
    assert ro.data == b"abcd"


def test_writable_region_needs_a_writable_buffer():
    with pytest.raises(ValueError, match="writable buffer"):
        Memory().add(RegionKind.HEAP, b"immutable")


def test_removed_region_faults_and_is_named():
    memory = Memory()
    region = memory.add(RegionKind.HEAP, bytearray(8))
    memory.load(region.base, 8)  # now the last-hit region
    memory.remove(region)
    with pytest.raises(VmFault, match=r"inside heap .* which has been removed"):
        memory.load(region.base, 8)
    with pytest.raises(ValueError):
        memory.remove(region)


def test_memoryview_region_shares_its_owners_bytes():
    storage = bytearray(32)
    memory = Memory()
    value = memory.add(RegionKind.MAP_VALUE, memoryview(storage)[8:16])
    memory.store(value.base, 8, U64)
    assert storage[8:16] == b"\xff" * 8 and storage[:8] == bytes(8)
    with pytest.raises(VmFault):
        memory.load(value.base + 8, 1)


def test_misaligned_access_is_allowed_by_default_and_faults_when_strict():
    loose = Memory()
    region = loose.add(RegionKind.PACKET, bytearray(DATA))
    assert loose.load(region.base + 1, 4) == 0x1514_1312
    strict = Memory(strict_alignment=True)
    region = strict.add(RegionKind.PACKET, bytearray(DATA))
    assert strict.load(region.base + 4, 4) == 0x1817_1615
    with pytest.raises(VmFault, match=r"misaligned access: 4 bytes at 0x[0-9a-f]+ \(must be 4-byte aligned\)"):
        strict.load(region.base + 1, 4)


def test_atomic_primitives_need_alignment():
    memory = Memory()
    region = memory.add(RegionKind.MAP_VALUE, bytearray(16))
    assert memory.fetch_update(region.base + 8, 8, lambda v: v + 5) == 0
    assert memory.compare_exchange(region.base + 8, 8, 5, 9) == 5
    assert memory.compare_exchange(region.base + 8, 8, 5, 1) == 9
    assert memory.load(region.base + 8, 8) == 9
    with pytest.raises(VmFault, match="misaligned atomic access"):
        memory.fetch_update(region.base + 4, 8, lambda v: v)


def test_fault_names_the_pc_when_given():
    with pytest.raises(VmFault) as err:
        Memory().load(0x10, 4, pc=7)
    assert err.value.pc == 7 and str(err.value).startswith("insn 7: read of 4 bytes at 0x10")


# ---------------------------------------------------------------- load and store instructions


@pytest.mark.parametrize(
    ("name", "off", "want"),
    [
        ("ldxb", 3, 0x14),
        ("ldxh", 2, 0x1413),
        ("ldxw", 4, 0x1817_1615),
        ("ldxdw", 8, 0x201F_1E1D_1C1B_1A19),
        ("ldxdw", 1, 0x1918_1716_1514_1312),  # misaligned: allowed (x86 semantics)
    ],
)
def test_loads_are_little_endian_and_zero_extended(name, off, want):
    assert r0_of(I("mov", 0, imm=-1), I(name, 0, src=1, off=off), EXIT, mem=DATA) == want


@pytest.mark.parametrize(
    ("name", "mem", "want"),
    [
        ("ldxsb", b"\x80", 0xFFFF_FFFF_FFFF_FF80),
        ("ldxsb", b"\x7f", 0x7F),
        ("ldxsh", b"\x00\x80", 0xFFFF_FFFF_FFFF_8000),
        ("ldxsw", b"\xfe\xff\xff\xff", U64 - 1),
        ("ldxsw", b"\xff\xff\xff\x7f", 0x7FFF_FFFF),
    ],
)
def test_sign_extending_loads(name, mem, want):
    assert r0_of(I(name, 0, src=1), EXIT, mem=mem) == want


def test_stores_of_every_width():
    mem = bytearray(16)
    r0_of(
        I("stb", 1, off=0, imm=-1),
        I("sth", 1, off=2, imm=0x1234),
        I("stw", 1, off=4, imm=-2),
        I("stdw", 1, off=8, imm=-0x8000_0000),  # the immediate is sign-extended to 64 bits
        I("mov", 0, imm=0),
        EXIT,
        mem=mem,
    )
    assert mem == bytearray(b"\xff\x00\x34\x12\xfe\xff\xff\xff\x00\x00\x00\x80\xff\xff\xff\xff")


def test_register_stores_truncate():
    mem = bytearray(16)
    r0_of(
        lddw(2, 0x1122_3344_5566_7788),
        I("stxb", 1, src=2, off=0),
        I("stxh", 1, src=2, off=1),
        I("stxw", 1, src=2, off=4),
        I("stxdw", 1, src=2, off=8),
        I("mov", 0, imm=0),
        EXIT,
        mem=mem,
    )
    assert mem == bytearray(bytes.fromhex("88 88 77 00 88 77 66 55 88 77 66 55 44 33 22 11"))


def test_stack_is_512_zeroed_bytes_below_r10():
    assert r0_of(I("ldxdw", 0, src=10, off=-512), EXIT) == 0
    insns = [I("stdw", 10, off=-8, imm=0x55), I("ldxdw", 0, src=10, off=-8), EXIT]
    assert r0_of(insns) == 0x55


@pytest.mark.parametrize("off", [-513, 0, 1])
def test_stack_overflow_and_underflow_fault(off):
    text = fault_of(I("ldxb", 0, src=10, off=off), EXIT)
    assert "read of 1 byte" in text and "outside every region" in text and "stack [" in text


def test_input_off_by_one_faults_with_the_instruction_text():
    text = fault_of(I("ldxdw", 0, src=1, off=8), EXIT, mem=bytes(14))
    # r1 is the first region: the input at 0x10000000, 14 bytes
    assert text == (
        "insn 0 (r0 = *(u64 *)(r1 +8)): read of 8 bytes at 0x10000008 is outside every region "
        "(runs 2 bytes past the end of input mem [0x10000000, 0x1000000e))"
    )
    assert "2 bytes past the end" in fault_of(I("ldxdw", 0, src=1, off=16), EXIT, mem=bytes(14))


def test_store_into_read_only_region_faults():
    memory = Memory()
    ro = memory.add(RegionKind.RODATA, b"\x01\x02\x03\x04", writable=False)
    interp = Interpreter([I("ldxw", 0, src=1), I("stw", 1, imm=0), EXIT])
    outcome = interp.run(memory, [ro.base])
    assert "write of 4 bytes" in str(outcome.fault) and "read-only rodata" in str(outcome.fault)
    assert outcome.fault.pc == 1 and ro.data == b"\x01\x02\x03\x04"


def test_access_wrapping_around_the_address_space_faults():
    text = fault_of(lddw(1, U64), I("ldxb", 0, src=1, off=1), EXIT)
    assert "read of 1 byte at 0x0" in text


def test_one_instruction_meets_different_regions():
    # insn 3 reads the input (7) on the first pass and the stack (9) on the second
    insns = [
        I("mov", 0, imm=0),
        I("mov", 5, src=1),
        I("stb", 10, off=-1, imm=9),
        I("ldxb", 3, src=5),
        I("add", 0, src=3),
        I("mov", 5, src=10),
        I("add", 5, imm=-1),
        I("jne", 0, imm=16, off=-5),
        EXIT,
    ]
    assert r0_of(insns, mem=b"\x07") == 16


def test_one_instruction_walking_off_its_region_faults():
    # r0 += *r1++ forever: the 4th pass over insn 1 reads just past the 3-byte input
    insns = [I("mov", 0, imm=0), I("ldxb", 3, src=1), I("add", 0, src=3), I("add", 1, imm=1), I("ja", off=-4)]
    outcome = run(insns, mem=b"\x01\x02\x03")
    assert outcome.fault.pc == 1 and "just past the end of input mem" in str(outcome.fault)
    assert outcome.insns_executed == 1 + 4 * 3 + 1


def test_strict_alignment_faults_misaligned_loads_and_stores():
    assert "misaligned access: 4 bytes" in fault_of(I("ldxw", 0, src=1, off=1), EXIT, mem=bytes(8),
                                                    strict_alignment=True)  # fmt: skip
    assert "misaligned access: 2 bytes" in fault_of(I("sth", 10, off=-3, imm=0), EXIT, strict_alignment=True)
    assert r0_of(I("ldxw", 0, src=1, off=4), EXIT, mem=bytes(8), strict_alignment=True) == 0


def test_run_leaves_the_callers_regions_alone():
    memory = Memory()
    region = memory.add(RegionKind.INPUT, bytearray(4))
    interp = Interpreter([I("ldxw", 0, src=1), EXIT])
    for _ in range(3):
        assert interp.run(memory, [region.base]).r0 == 0
    assert memory.regions == (region,)
    assert run([I("ldxw", 0, src=1), EXIT], mem=bytes(4)).ok
