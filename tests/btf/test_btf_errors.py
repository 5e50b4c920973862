"""Corrupt BTF gives one clear error naming the file and the place, through the API and through the CLI."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from _btf_helpers import need_tool, run
from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf
from pybpf.btf.load import load
from pybpf.btf.parse import parse
from pybpf.btf.types import Int, Member, Ptr, Struct
from pybpf.btf.uapi import IntEncoding, Kind
from pybpf.btf.write import write
from pybpf.cli.main import main
from pybpf.errors import InputError

# Where things sit in the sample below (struct btf_header is 24 bytes; offsets are into the file).
HDR_LEN, TYPE_LEN, STR_OFF, STR_LEN = 4, 12, 16, 20
INT_INFO = 24 + 4  # [1] INT 'int': btf_type at 24, its int word at 36
FOO = 40  # [2] STRUCT 'foo': btf_type at 40, members at 52, 64, 76 (12 bytes each)
FOO_MEMBER = [52 + 12 * i for i in range(3)]
PTR = 88  # [3] PTR -> 2


def sample() -> bytes:
    btf = Btf()
    s = btf.add_string
    i = btf.add_type(Int(s("int"), 4, IntEncoding.SIGNED, 0, 32))
    foo = btf.add_type(Struct(s("foo"), 12, tuple(Member(s(n), i, 32 * k) for k, n in enumerate("abc"))))
    btf.add_type(Ptr(0, foo))
    return write(btf)


def patched(at: int, value: int, fmt: str = "<I") -> bytes:
    data = bytearray(sample())
    struct.pack_into(fmt, data, at, value)
    return bytes(data)


def test_sample_layout_is_what_the_tests_assume():
    data = sample()
    btf = parse(data)
    assert [t.kind for t in btf.types] == [Kind.UNKN, Kind.INT, Kind.STRUCT, Kind.PTR]
    assert struct.unpack_from("<III", data, FOO_MEMBER[2])[1] == 1
    assert struct.unpack_from("<III", data, PTR)[2] == 2


STR_SIZE = len(b"\0int\0foo\0a\0b\0c\0")
CASES = {
    "truncated header": (sample()[:10], "header", "truncated header: 10 bytes, a BTF header needs 24"),
    "bad magic": (b"\x34\x12" + sample()[2:], "header", "bad magic 0x1234 (BTF starts with 0xeb9f)"),
    "hdr_len outside": (patched(HDR_LEN, 4096), "header", "hdr_len 4096 outside the data"),
    "type section outside": (patched(TYPE_LEN, 0x10000), "header", "type section at 0x0 length 0x10000 runs past"),
    "string section outside": (patched(STR_LEN, STR_SIZE + 8), "header",
                               f"string section at 0x4c length {STR_SIZE + 8:#x} runs past the data "
                               "(0x5b bytes after the header)"),
    "string offset outside": (patched(STR_OFF, 0x100), "header",
                              f"string section at 0x100 length {STR_SIZE:#x} runs past"),
    "member type id": (patched(FOO_MEMBER[2] + 4, 99999), "type [2] STRUCT 'foo'",
                       "member 2 type id 99999 out of range (last is 3)"),
    "pointer type id": (patched(PTR + 8, 4), "type [3] PTR '(anon)'", "type id 4 out of range (last is 3)"),
    "type name offset": (patched(FOO, 0x1234), "type [2] STRUCT",
                         f"name string offset 0x1234 past the string section (size {STR_SIZE:#x})"),
    "member name offset": (patched(FOO_MEMBER[1], 0x99), "type [2] STRUCT 'foo'",
                           f"member 1 name string offset 0x99 past the string section (size {STR_SIZE:#x})"),
    "vlen past the end": (patched(FOO + 4, (Kind.STRUCT << 24) | 200), "type [2] STRUCT 'foo'",
                          "vlen 200 runs past the end of the type section"),
    "unknown kind": (patched(INT_INFO, 25 << 24), "type [1]", "unknown kind 25 (info 0x19000000)"),
    "reserved info bits": (patched(INT_INFO, (Kind.INT << 24) | 0x10000), "type [1] INT 'int'",
                           "info 0x01010000 sets bits a INT does not use"),
    "reference loop": (patched(PTR + 8, 3), "type [3] PTR '(anon)'", "reference loop [3] -> [3]"),
    "trailing bytes": (sample() + b"\0\0\0\0", "header", "4 bytes of trailing data after the sections"),
}


@pytest.mark.parametrize("case", CASES)
def test_corrupt_input_names_the_place(case):
    data, place, message = CASES[case]
    with pytest.raises(BtfError) as info:
        parse(data, file="bad.btf")
    err = info.value
    assert isinstance(err, InputError)
    assert err.file == "bad.btf" and err.place == place
    assert err.message.startswith(message), err.message
    assert str(err).startswith(f"bad.btf:{place}: {message}")


@pytest.mark.parametrize("case", CASES)
def test_corrupt_input_through_the_cli(case, tmp_path, capfd):
    path = tmp_path / "bad.btf"
    path.write_bytes(CASES[case][0])
    assert main(["btf", "dump", str(path)]) == 2
    out, err = capfd.readouterr()
    assert out == ""
    # without the magic the CLI cannot tell BTF from other files, and says so
    where = "" if case == "bad magic" else f":{CASES[case][1]}"
    assert err.count("\n") == 1 and err.startswith(f"pybpf: error: {path}{where}: ")


def test_big_endian_corruption_is_caught_too():
    little = parse(sample())
    be = Btf(little.own_types, little.strings, byte_order=">")
    raw = bytearray(write(be))
    struct.pack_into(">I", raw, FOO_MEMBER[2] + 4, 99999)
    with pytest.raises(BtfError, match="member 2 type id 99999 out of range"):
        parse(bytes(raw))


def test_split_without_base_is_explained(tmp_path):
    btf = Btf(base=Btf())
    btf.add_type(Int(btf.add_string("x"), 4, IntEncoding(0), 0, 32))
    with pytest.raises(BtfError, match="split BTF parsed without its base"):
        parse(write(btf))


def test_not_btf_at_all(tmp_path, capfd):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert main(["btf", "dump", str(path)]) == 2
    assert capfd.readouterr().err == f"pybpf: error: {path}: neither raw BTF (magic 0xeb9f) nor an ELF object\n"


def test_elf_without_btf(kinds_obj, tmp_path):
    stripped = tmp_path / "nobtf.o"
    run([need_tool("llvm-objcopy"), "--remove-section=.BTF", str(kinds_obj), str(stripped)])
    with pytest.raises(BtfError, match=r"no \.BTF section in this ELF object"):
        load(stripped)
    truncated = tmp_path / "short.o"
    truncated.write_bytes(kinds_obj.read_bytes()[:100])
    with pytest.raises(BtfError, match="not a readable ELF object"):
        load(truncated)


def test_missing_file_exit_status(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pybpf.cli.main", "btf", "dump", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == f"pybpf: error: {tmp_path / 'nope'}: cannot read: No such file or directory\n"
    assert "Traceback" not in proc.stderr


def test_graph_questions_on_bad_ids():
    btf = parse(sample())
    with pytest.raises(BtfError, match="type id 7 out of range"):
        btf.size_of(7)
    with pytest.raises(BtfError, match=r"\[3\] PTR '\(anon\)' is not a struct or union"):
        btf.members(3)
    with pytest.raises(BtfError, match=r"\[2\] STRUCT 'foo' has no member 'z'"):
        btf.member_offset(2, "z")
