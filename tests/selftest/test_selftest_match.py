"""Pattern matching and the mismatch report, with the semantics and report formats of 6.18's test_loader."""

from __future__ import annotations

import pytest
from pybpf.errors import KernelError
from pybpf.harness.selftest.match import (
    Outcome,
    PatternError,
    Stream,
    compile_pattern,
    emit,
    kernel_ere,
    match,
    mismatch_report,
    pattern_lines,
)
from pybpf.harness.selftest.results import parse_verifier_stats


def pats(*specs: str):
    """"aaa" a positive substring, "!aaa" a negative one."""
    return [compile_pattern(s[1:], negative=True) if s.startswith("!") else compile_pattern(s) for s in specs]


# Our own cases for the semantics the kernel's test_loader implements (in-order messages, negative
# patterns scoped between their neighbours); the report lines are the formats 6.18 prints.
LOG = "func#0 @0\n0: R1=ctx() R10=fp0\n1: (b7) r0 = 0\nprocessed 2 insns\n"
FRAMEWORK = [
    ("in-order-ok", LOG, ["func#0", "processed"], ""),
    ("in-order-missing", LOG, ["func#0", "R0 !read_ok"],
     "MATCHED    SUBSTR: 'func#0'\nEXPECTED   SUBSTR: 'R0 !read_ok'\n"),
    ("negatives-between-ok", LOG, ["func#0", "!invalid", "!leaks", "processed"], ""),
    ("negative-after-last-ok", LOG, ["R10=fp0", "!exit"], ""),
    ("negative-before-first-ok", LOG, ["!exit", "processed"], ""),
    ("negative-before-first-fails", LOG, ["!func#0", "R10=fp0"], "UNEXPECTED SUBSTR: 'func#0'\n"),
    ("negative-after-last-fails", LOG, ["R1=ctx()", "!processed"], "UNEXPECTED SUBSTR: 'processed'\n"),
    ("negative-between-fails", LOG, ["func#0", "!R10=fp0", "processed"], "UNEXPECTED SUBSTR: 'R10=fp0'\n"),
    ("second-negative-fails", LOG, ["func#0", "!(95)", "!R1=ctx()", "processed"], "UNEXPECTED SUBSTR: 'R1=ctx()'\n"),
]


@pytest.mark.parametrize(("name", "log", "specs", "expected"), FRAMEWORK, ids=[c[0] for c in FRAMEWORK])
def test_kernel_framework_cases(name, log, specs, expected):
    result = match(log, pats(*specs))
    assert result.ok == (expected == "")
    assert expected in pattern_lines(result)  # the kernel's test checks it as a substring of the output


def test_report_lists_every_pattern_up_to_the_failing_one():
    result = match("aaabbb222ccc", pats("aaa", "!222", "ccc"))
    assert pattern_lines(result) == "MATCHED    SUBSTR: 'aaa'\nUNEXPECTED SUBSTR: '222'\n"


def test_negative_patterns_are_scoped_between_their_neighbours():
    log = "foo\nbar\nbaz\nfoo\n"
    assert match(log, pats("bar", "!foo", "baz")).ok  # "foo" only outside the bar..baz span
    assert not match(log, pats("bar", "!foo")).ok  # to the end: the second "foo" counts
    assert not match(log, pats("!foo", "bar")).ok  # from the start: the first "foo" counts


def test_every_negative_of_a_run_is_checked():
    """The kernel looks only for the first pattern of a run; we check each one."""
    result = match("aaa zzz ccc", pats("aaa", "!yyy", "!zzz", "ccc"))
    assert (result.failed_at, result.outcome) == (2, Outcome.UNEXPECTED)


def test_messages_match_in_order():
    log = "first\nsecond\nthird\n"
    assert match(log, pats("first", "third")).ok
    result = match(log, pats("third", "first"))
    assert (result.failed_at, result.outcome) == (1, Outcome.EXPECTED)
    # each search starts where the previous match ended, so a repeated message needs two occurrences
    assert not match("R0 !read_ok\n", pats("R0 !read_ok", "R0 !read_ok")).ok
    assert match("R0 !read_ok\nR0 !read_ok\n", pats("R0 !read_ok", "R0 !read_ok")).ok


def test_regex_spans_and_their_report():
    log = "0: (b7) r0 = 0\n1: (95) exit\nprocessed 2 insns (limit 1000000)\n"
    result = match(log, pats("{{[0-9]+}}: (95) exit", "processed {{[0-9]+}} insns", "total_states"))
    assert [s.line if s else None for s in result.spans] == [1, 2, None]
    assert pattern_lines(result) == ("MATCHED     REGEX: '{{[0-9]+}}: (95) exit'\n"
                                     "MATCHED     REGEX: 'processed {{[0-9]+}} insns'\n"
                                     "EXPECTED   SUBSTR: 'total_states'\n")


def test_regex_starts_at_the_current_position():
    """regexec runs on the rest of the log, so ^ matches where the previous match ended."""
    assert match("ab", pats("a", "{{^}}b")).ok


def disasm(*lines: str):
    """__xlated/__jited lines as test_loader reads them: consecutive unless "..." comes between."""
    out, next_line = [], True
    for line in lines:
        if line == "...":
            next_line = False
            continue
        out.append(compile_pattern(line, on_next_line=next_line))
        next_line = True
    return out


XLATED = "0: r1 = 1\n1: r2 = 2\n2: r3 = 3\n3: exit\n"


def test_disassembly_lines_must_be_consecutive():
    assert match(XLATED, disasm("0: r1 = 1", "1: r2 = 2")).ok
    result = match(XLATED, disasm("0: r1 = 1", "2: r3 = 3"))
    assert result.outcome is Outcome.WRONG_LINE
    assert pattern_lines(result) == ("MATCHED    SUBSTR: '0: r1 = 1'\nWRONG LINE SUBSTR: '2: r3 = 3'\n"
                                     "expecting match at line 1, actual match is at line 2\n")


def test_dots_allow_a_gap():
    assert match(XLATED, disasm("0: r1 = 1", "...", "2: r3 = 3", "3: exit")).ok
    assert match(XLATED, disasm("r2 = 2", "...", "exit")).ok


def test_first_disassembly_line_may_be_anywhere():
    assert match(XLATED, disasm("2: r3 = 3", "3: exit")).ok


def test_missing_line_after_a_match_reads_as_wrong_line_zero():
    """6.18's validate_msgs compares a missing match's line as 0, so it says WRONG LINE, not EXPECTED."""
    result = match(XLATED, disasm("0: r1 = 1", "nowhere"))
    assert pattern_lines(result).endswith("WRONG LINE SUBSTR: 'nowhere'\n"
                                          "expecting match at line 1, actual match is at line 0\n")


def test_mismatch_report_is_what_test_progs_prints():
    log = "0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\n"
    result = match(log, pats("R0 !read_ok", "processed"))
    assert mismatch_report(result, log) == (
        "VERIFIER LOG:\n=============\n" + log + "=============\n"
        "MATCHED    SUBSTR: 'R0 !read_ok'\nEXPECTED   SUBSTR: 'processed'\n")
    assert emit(Stream.XLATED, "0: exit\n") == "XLATED:\n=============\n0: exit\n=============\n"
    assert mismatch_report(match(log, pats("exit")), log) == ""


def test_kernel_ere_escapes_the_literal_parts():
    assert kernel_ere("a.b{{[0-9]+}}(c)") == r"a\.b[0-9]+\(c\)"
    assert kernel_ere("x}}y") == r"x\}\}y"


@pytest.mark.parametrize(("pattern", "why"), [
    ("x{{[0-9]", "open '{{'"),
    ("x{{[0-9}}", "bad regular expression"),
    ("{{(a}}" + "b" * 10, "bad regular expression"),
    ("{{a}}" + "." * 200, "too long"),
])
def test_patterns_the_kernel_refuses(pattern, why):
    with pytest.raises(PatternError, match=why):
        compile_pattern(pattern)


def test_a_substring_without_braces_is_not_a_regex():
    p = compile_pattern("r1 = *(u64 *)(r10 -8)")
    assert not p.is_regex and p.search("9: r1 = *(u64 *)(r10 -8)\n", 0) == (3, 24)


def test_against_the_live_verifier(live_kernel):
    """A verifier log the running kernel wrote, matched as a __msg list would match it."""
    from pybpf.isa.insn import Insn
    from pybpf.kernel import prog_load

    exit_insn = Insn(0x95, 0, 0, 0, 0)
    with pytest.raises(KernelError) as info:
        prog_load([exit_insn], log_level=1)
    log = info.value.log
    assert match(log, pats("0: (95) exit", "R0 !read_ok")).ok
    with prog_load([Insn(0xB7, 0, 0, 0, 0), exit_insn], log_level=2) as loaded:
        ok_log = loaded.log
    result = match(ok_log, disasm("0: (b7) r0 = 0", "1: (95) exit"))
    assert result.ok, mismatch_report(result, ok_log)
    assert match(ok_log, pats("processed {{[0-9]+}} insns")).ok
    stats = parse_verifier_stats(ok_log)
    assert stats is not None and stats.processed_insns == 2 and stats.total_states is not None
