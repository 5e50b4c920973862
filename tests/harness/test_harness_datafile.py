"""The ``.data`` parser: what each section means (FORMAT.md) and one located error per malformation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.errors import DataFileError
from pybpf.harness import datafile
from pybpf.harness.datafile import parse


def test_asm_result_and_comments():
    text = "# header comment\n-- asm\nmov %r0, 1  # trailing comment\n\n# whole-line comment\nexit\n-- result\n0x1\n"
    t = parse(text, "t.data")
    assert t.name == "t"
    assert t.asm is not None and t.asm.split("\n") == ["mov %r0, 1", "", "", "exit"]
    assert t.asm_first_line == 3  # the line after "-- asm": assembler errors name file lines
    assert t.result == 1 and t.error is None and t.raw is None and t.mem == b""


def test_raw_as_words_and_as_bytes_are_little_endian_slots():
    text = ("-- raw\n0x5566778800000018\n0x1122334400000000\n95 00 00 00 00 00 00 00\n"
            "-- result\n0x1122334455667788\n")
    t = parse(text, "lddw.data")
    assert t.raw == (0x5566778800000018, 0x1122334400000000, 0x95)
    assert t.asm is None and t.raw_line == 1


def test_mem_over_several_lines():
    t = parse("-- asm\nexit\n-- mem\n00 01\nfe FF\n-- result\n0\n", "m.data")
    assert t.mem == bytes([0, 1, 0xFE, 0xFF]) and t.has_mem


@pytest.mark.parametrize(("token", "value"), [
    ("0x3", 3), ("42", 42), ("0xFFFFFFFFFFFFFFF6", 0xFFFFFFFFFFFFFFF6), ("-1", (1 << 64) - 1), ("010", 10),
])
def test_result_numbers(token, value):
    assert parse(f"-- asm\nexit\n-- result\n{token}", "r.data").result == value


def test_error_expectation_and_ignored_sections():
    text = "-- c\nint x; --x;\n-- asm\nexit\n-- no register offset\ncall instruction\n-- error\nInvalid"
    t = parse(text, "e.data")
    assert t.error == "Invalid" and t.result is None
    assert t.expectation() == "error: Invalid"
    assert t.notes == ("int x; --x;", "call instruction")


def test_empty_error_section_means_any_error():
    t = parse("-- raw\n95 01 00 00 00 00 00 00\n-- error\n", "u.data")
    assert t.error == "" and t.expectation() == "error"


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("-- asm\nexit\n-- resutl\n0x1\n", 3, "unknown section '-- resutl'"),
    ("-- asm\nexit\n-- mem\n00 0g\n-- result\n0\n", 4, "'0g' is not a hex byte"),
    ("-- asm\nexit\n-- mem\n000\n-- result\n0\n", 4, "'000' is not a hex byte"),
    ("-- raw\n0x1122334455667788aa\n-- result\n0\n", 2, "does not fit in a 64-bit instruction word"),
    ("-- raw\n95 00 00 00 00 00 00\n-- result\n0\n", 2, "neither a 0x... 64-bit word nor 8 hex bytes"),
    ("-- raw\n12345\n-- result\n0\n", 2, "neither a 0x... 64-bit word nor 8 hex bytes"),
    ("-- asm\nexit\n-- result\nseventeen\n", 4, "'seventeen' is not a number"),
    ("-- asm\nexit\n-- result\n1 2\n", 4, "must be a single number"),
    ("-- asm\nexit\n-- result\n1\n2\n", 5, "must be a single number"),
    ("-- asm\nexit\n-- result\n0x10000000000000000\n", 4, "does not fit in 64 bits"),
    ("-- asm\nexit\n-- result\n", 3, "-- result section is empty"),
    ("# only a comment\n", 1, "nothing to run"),
    ("", 1, "nothing to run"),
    ("-- result\n0x0\n", 2, "nothing to run"),
    ("-- asm\n# nothing but comments\n-- result\n0\n", 1, "nothing to run"),
    ("mov %r0, 1\n-- asm\nexit\n", 1, "text outside any section"),
    ("-- asm\nexit\n-- asm\nexit\n-- result\n0\n", 3, "duplicate section '-- asm' (first at line 1)"),
    ("-- asm\nexit\n-- result\n0\n-- error\nboom\n", 5, "either a -- result or an -- error"),
    ("-- asm\nexit\n", 2, "nothing to check"),
    ("-- raw\n-- error\n", 1, "holds no instruction words"),
])
def test_malformed_files_name_file_and_line(text, line, fragment):
    with pytest.raises(DataFileError) as info:
        parse(text, "dir/bad.data")
    message = str(info.value)
    assert message.startswith(f"dir/bad.data:line {line}: "), message
    assert fragment in message
    assert "\n" not in message


def test_load_reads_files_and_reports_unreadable_ones(tmp_path: Path):
    good = tmp_path / "good.data"
    good.write_text("-- asm\nmov %r0, 7\nexit\n-- result\n7\n")
    assert datafile.load(good).result == 7
    binary = tmp_path / "binary.data"
    binary.write_bytes(b"-- asm\n\xff\xfe\n")
    with pytest.raises(DataFileError, match=r"binary\.data: not UTF-8 text"):
        datafile.load(binary)
    with pytest.raises(DataFileError, match=r"missing\.data: cannot read"):
        datafile.load(tmp_path / "missing.data")


def test_every_public_test_parses_and_the_broken_negatives_do_not(public_suite: Path, negative_suite: Path):
    for path in sorted(public_suite.glob("*.data")):
        datafile.load(path)
    broken = {}
    for path in sorted(negative_suite.glob("*.data")):
        try:
            datafile.load(path)
        except DataFileError as err:
            broken[path.name] = str(err)
    assert set(broken) == {"empty.data", "empty_instructions.data", "invalid_unknown_directive.data"}
    assert "invalid_unknown_directive.data:line 4: unknown section '-- Unknown directive'" in \
        broken["invalid_unknown_directive.data"]
