"""Strict validation: every table row round-trips; every malformed encoding is named precisely."""

from __future__ import annotations

import pytest
from _isa_rows import EXIT, ROW_IDS, ROWS, sample
from pybpf.errors import DecodeError
from pybpf.isa import Insn, decode_program, encode_program, insn_spec, ld_imm64, validate_program
from pybpf.isa.opcodes import Kind


@pytest.mark.parametrize("spec", ROWS, ids=ROW_IDS)
def test_every_row_round_trips_through_bytes(spec):
    for n in range(4):
        prog = [*sample(spec, n), EXIT]
        raw = encode_program(prog)
        assert len(raw) == 8 * len(prog)
        back = decode_program(raw)
        assert back == prog
        specs = validate_program(back)
        assert specs[0] is spec
        assert insn_spec(back, 0) is spec
        if spec.kind is Kind.LD_IMM64:
            assert specs[1] is None


def _reject(prog, *fragments, cpu=4):
    with pytest.raises(DecodeError) as err:
        validate_program(prog, cpu=cpu, file="prog.o")
    text = str(err.value)
    assert text.startswith("prog.o: ")
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_unknown_opcode_names_code_and_index():
    _reject([Insn(0xB7), Insn(0xB7), Insn(0xB7), Insn(0xFF), EXIT], "invalid opcode 0xff at insn 3")


@pytest.mark.parametrize(
    ("insn", "form", "field", "value"),
    [
        (Insn(0x07, off=1, imm=1), "add imm", "off", 1),
        (Insn(0x07, src=1, imm=1), "add imm", "src", 1),
        (Insn(0x0F, imm=1), "add reg", "imm", 1),
        (Insn(0x84, imm=1), "neg32", "imm", 1),
        (Insn(0x95, dst=1), "exit", "dst", 1),
        (Insn(0x05, src=1), "ja", "src", 1),
        (Insn(0x85, dst=1, imm=5), "call", "dst", 1),
        (Insn(0x62, dst=10, src=1, off=-4), "stw", "src", 1),
        (Insn(0x79, dst=0, src=10, off=-8, imm=1), "ldxdw", "imm", 1),
        (Insn(0xDC, off=1, imm=16), "be16", "off", 1),
    ],
)
def test_unused_field_names_index_form_and_field(insn, form, field, value):
    _reject([insn, EXIT], f"insn 0 ({form}): unused field {field} is {value}, must be 0")


@pytest.mark.parametrize(
    ("insn", "field"),
    [
        (Insn(0x3F, dst=1, src=2, off=2), "off 2"),  # div/sdiv take off 0 or 1
        (Insn(0xBF, dst=1, src=2, off=7), "off 7"),  # mov / movsx / addr_space_cast
        (Insn(0xDB, dst=10, src=1, off=-8, imm=2), "imm 2"),  # no such atomic operation
        (Insn(0xD4, dst=1, imm=8), "imm 8"),  # le8 does not exist
        (Insn(0x85, src=3, imm=1), "src 3"),  # call: helper, local or kfunc
    ],
)
def test_discriminating_field_out_of_set(insn, field):
    _reject([insn, EXIT], "insn 0 (code 0x", f"invalid {field}")


def test_register_numbers_above_r10():
    _reject([Insn(0xB7, dst=11), EXIT], "insn 0 (mov imm)", "r11", "dst")
    _reject([Insn(0xBF, dst=1, src=12), EXIT], "insn 0 (mov reg)", "r12", "src")


def test_ld_imm64_pairs():
    good = [*ld_imm64(1, 0x1122334455667788), EXIT]
    assert [s and s.name for s in validate_program(good)] == ["lddw", None, "exit"]
    _reject([*ld_imm64(1, 5, src=7), EXIT], "insn 0 (lddw)", "pseudo src 7")
    _reject([Insn(0x18, dst=1, imm=1)], "insn 0 (lddw)", "missing second slot")
    _reject([Insn(0x18, dst=1, imm=1), Insn(0x18), EXIT], "insn 1", "field code is 24")
    _reject([Insn(0x18, dst=1, imm=1), Insn(0, dst=1), EXIT], "insn 1", "field dst is 1")
    _reject([Insn(0x18, dst=1, imm=1), Insn(0, off=2), EXIT], "insn 1", "field off is 2")
    _reject([Insn(0x18, dst=1, off=1, imm=1), Insn(0), EXIT], "insn 0 (lddw): unused field off")
    # a map fd carries nothing in the second imm (the kernel: "unrecognized bpf_ld_imm64 insn")
    _reject([*ld_imm64(1, 3 | 1 << 32, src=1), EXIT], "insn 1", "map_fd")
    assert validate_program([*ld_imm64(1, 3 | 16 << 32, src=2), EXIT])[0].name == "lddw"


@pytest.mark.parametrize(
    ("insn", "cpu", "need"),
    [
        (Insn(0x16, dst=1, imm=1), 2, "v3"),  # jeq32
        (Insn(0xDB, dst=10, src=1, off=-8, imm=1), 2, "v3"),  # lock fetch_add
        (Insn(0x3F, dst=1, src=2, off=1), 3, "v4"),  # sdiv
        (Insn(0xBF, dst=1, src=2, off=8), 3, "v4"),  # movsx864
        (Insn(0xD7, dst=1, imm=16), 3, "v4"),  # bswap16
        (Insn(0x91, dst=1, src=10, off=-8), 3, "v4"),  # ldxsb
        (Insn(0x06), 3, "v4"),  # ja32 / gotol
    ],
)
def test_isa_level(insn, cpu, need):
    _reject([insn, EXIT], f"needs ISA {need}", f"v{cpu}", cpu=cpu)
    validate_program([insn, EXIT], cpu=int(need[1]))


def test_jump_targets():
    _reject([Insn(0x05, off=5), EXIT], "insn 0 (ja)", "target 6 is outside")
    _reject([Insn(0x05, off=-2), EXIT], "insn 0 (ja)", "target -1 is outside")
    _reject([Insn(0x06, imm=3), EXIT], "insn 0 (ja32)", "target 4")
    _reject([Insn(0x15, dst=1, off=1), *ld_imm64(1, 1), EXIT], "insn 0 (jeq imm)", "second slot", "insn 1")
    _reject([Insn(0x85, src=1, imm=7), EXIT], "insn 0 (call local)", "call target 8")
    _reject([Insn(0x85, src=1, imm=1), *ld_imm64(1, 1), EXIT], "call local", "second slot")
    validate_program([Insn(0x15, dst=1, imm=1, off=2), *ld_imm64(1, 1), EXIT])


def test_addr_space_cast_imm():
    validate_program([Insn(0xBF, dst=1, src=2, off=1, imm=1), EXIT])
    validate_program([Insn(0xBF, dst=1, src=2, off=1, imm=1 << 16), EXIT])
    _reject([Insn(0xBF, dst=1, src=2, off=1, imm=0), EXIT], "insn 0 (addr_space_cast)", "imm 0x0")


def test_empty_program_and_cpu_argument():
    _reject([], "empty program")
    with pytest.raises(ValueError):
        validate_program([EXIT], cpu=5)
