"""``pybpf verify`` on assembler files (the verifier corpus format): both verifiers and the three figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.cli.main import main
from pybpf.harness.asmprog import parse_asm_programs
from pybpf.kernel import available

CORPUS = Path(__file__).parent / "corpus"

SMALL = """\
## name: ok_exit
mov %r0, 0
exit

## name: bad_r0
## prog_type: xdp
exit

## name: with_map
## maps: array:4:8:1
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
lddw %r1, 0, map_fd
call 1
mov %r0, 0
exit
"""


def test_headers_are_read() -> None:
    progs = parse_asm_programs(SMALL, "small.s")
    assert [p.name for p in progs] == ["ok_exit", "bad_r0", "with_map"]
    assert progs[1].prog_type == 6 and progs[2].maps[0].value_size == 8


@pytest.mark.parametrize("text,where,what", [
    ("## name: a\n## prog_type: nosuch\nexit\n", "small.s:line 2", "unknown program type 'nosuch'"),
    ("## name: a\n## maps: array:4:8\nexit\n", "small.s:line 2", "is not <type>:<key_size>"),
    ("## name: a\n## colour: blue\nexit\n", "small.s:line 2", "unknown header '## colour'"),
    ("mov %r0, 0\n## name: a\nexit\n", "small.s:line 1", "an instruction before the first"),
])
def test_bad_headers_name_file_and_line(text: str, where: str, what: str) -> None:
    from pybpf.errors import InputError

    with pytest.raises(InputError) as e:
        parse_asm_programs(text, "small.s")
    assert str(e.value).startswith(where) and what in str(e.value)


def test_pybpf_target(tmp_path, capsys) -> None:
    f = tmp_path / "small.s"
    f.write_text(SMALL)
    status = main(["verify", str(f)])
    out = capsys.readouterr().out
    assert status == 1  # bad_r0 is refused
    assert "R0 !read_ok" in out and "ok_exit" in out


def test_bad_file_exits_2(tmp_path, capsys) -> None:
    f = tmp_path / "bad.s"
    f.write_text("## name: a\nfrobnicate %r0\n")
    assert main(["verify", str(f)]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "line 2" in err and "Traceback" not in err


def test_both_targets_print_the_three_figures(capsys) -> None:
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    status = main(["verify", "--target", "both", str(CORPUS / "maygoto.s"), str(CORPUS / "callbacks.s")])
    out = capsys.readouterr().out
    assert "verdict agreement:" in out and "first error line:" in out and "processed insns within 10%:" in out
    assert status == 0, out  # every program judged alike
