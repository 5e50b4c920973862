"""Malformed selftest annotations (``progs/malformed_tags.c``) under ``pybpf selftest``.

Each program whose annotations are malformed fails as one item whose reason
names the file and the source line of the annotation at fault (the function's
line where the tag's text is not in the source), and the good program of the
same file still runs and passes.
"""

from __future__ import annotations

from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "progs" / "malformed_tags.c"
REL = "tests/badinput/annotations/progs/malformed_tags.c"
EXIT_FAILED = 1

# program -> (the text on the source line the error must point at, part of the message)
BAD = {
    "unknown_tag": ("__naked void unknown_tag(void)", "unknown test annotation 'test_expect_mgs'"),
    "bad_regex": ('"test_expect_regex", "R0 ("', "bad regular expression: unmatched '('"),
    "bad_msg_regex": ('__msg("{{R0 [}}")', "bad regular expression"),
    "jited_before_arch": ("__jited(", "__jited used before __arch_*"),
    "retval_not_a_number": ("__retval(three)", "bad __retval: 'three' is not a decimal number"),
    "retval_too_big": ("__retval(99999999999999999999)", "does not fit a long"),
    "log_level_not_a_number": ("__log_level(x)", "bad __log_level"),
    "unknown_flag": ("__flag(BPF_F_NO_SUCH_FLAG)", "bad __flag"),
}


def _line_of(text: str) -> int:
    lines = SOURCE.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_each_bad_program_is_one_error_with_file_and_line(selftest, by_program):
    run, report = selftest(SOURCE)
    assert run.status == EXIT_FAILED, run.out + run.err
    assert "Traceback" not in run.out + run.err and "INTERNALERROR" not in run.out
    got = by_program(report)
    assert got["good"]["status"] == "passed", got["good"]
    assert sorted(got) == sorted([*BAD, "good"])
    for program, (text, message) in BAD.items():
        reason = got[program]["reason"]
        assert got[program]["status"] == "failed", got[program]
        assert reason.startswith(f"{REL}:{_line_of(text)}: program '{program}': "), reason
        assert message in reason and "\n" not in reason, reason
        summary = [line for line in run.out.splitlines() if line.startswith(f"  malformed_tags/{program} ")]
        assert len(summary) == 1 and f"{REL}:{_line_of(text)}:" in summary[0], run.out
