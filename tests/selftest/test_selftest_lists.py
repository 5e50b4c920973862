"""DENYLIST/ALLOWLIST files and -a/-d/-t selections, with test_progs' reading rules (testing_helpers.c, v6.18)."""

from __future__ import annotations

import pytest
from pybpf.errors import InputError
from pybpf.harness.selftest.lists import (
    Selector,
    Verdict,
    arch_lists,
    glob_match,
    load_list,
    parse_list,
    parse_selection,
    selector_for,
)

# Laid out like the kernel's DENYLIST.s390x: names padded with spaces or tabs, comments aligned.
DENYLIST_S390X = (
    "# TEMPORARY\n"
    "# Alphabetical order\n"
    "verify_pkcs7_sig                         # JIT does not support calling kernel function"
    "                                (kfunc)\n"
    "deny_namespace                           # failed to attach: ERROR: strerror_r(-524)=22"
    "                                (trampoline)\n"
    "\n"
    "   \t\n"
    "linked_list\t\t\t\t # JIT does not support calling kernel function                                (kfunc)\n"
    "verifier_and/*unpriv*\n"
    "map_ptr/map_?ptr_*   # a glob of subtests   \r\n"
)

LINKED_LIST = ["map_list_push_pop", "global_list_in_list", "map_list_push_pop @unpriv"]


def test_entries_and_reasons():
    lst = parse_list(DENYLIST_S390X, file="DENYLIST.s390x")
    assert not lst.problems
    assert [(e.text, e.line) for e in lst.entries] == [
        ("verify_pkcs7_sig", 3), ("deny_namespace", 4), ("linked_list", 7), ("verifier_and/*unpriv*", 8),
        ("map_ptr/map_?ptr_*", 9)]
    assert lst.entries[2].reason == "JIT does not support calling kernel function (kfunc)"
    assert lst.entries[3].reason == ""
    assert lst.entries[4].reason == "a glob of subtests"


def test_a_test_entry_denies_every_program_of_the_file():
    sel = Selector.of(deny=[parse_list(DENYLIST_S390X, file="DENYLIST.s390x")])
    for sub in LINKED_LIST:
        d = sel.decide("linked_list", [sub])
        assert d.verdict is Verdict.DENIED
        assert d.reason == ("JIT does not support calling kernel function (kfunc) "
                            "(DENYLIST.s390x:7: linked_list)")
    assert sel.decide("linked_list_fail", ["x"]).verdict is Verdict.RUN  # a glob without * is exact


def test_subtest_globs():
    sel = Selector.of(deny=[parse_list(DENYLIST_S390X)])
    assert sel.decide("verifier_and", ["invalid_and_of_negative_number @unpriv"]).verdict is Verdict.DENIED
    assert sel.decide("verifier_and", ["invalid_and_of_negative_number"]).verdict is Verdict.RUN
    assert sel.decide("map_ptr", ["map_xptr_const"]).verdict is Verdict.DENIED
    assert sel.decide("map_ptr", ["map_ptr_const"]).verdict is Verdict.RUN  # ? is exactly one character


def test_a_description_is_a_second_name():
    sel = Selector.of(deny=[parse_selection("verifier_and/*negative*")])
    assert sel.decide("verifier_and", ["prog_1", "invalid AND of negative number"]).verdict is Verdict.DENIED
    assert sel.decide("verifier_and", ["prog_1", "valid AND"]).verdict is Verdict.RUN


def test_deny_wins_over_allow_and_allow_selects():
    sel = Selector.of(deny=[parse_selection("linked_list/map_*")], allow=[parse_selection("linked_list,verifier_*")])
    assert sel.decide("linked_list", ["map_list_push_pop"]).verdict is Verdict.DENIED
    assert sel.decide("linked_list", ["global_list_in_list"]).verdict is Verdict.RUN
    assert sel.decide("verifier_xor", ["a"]).verdict is Verdict.RUN
    assert sel.decide("dynptr_fail", ["a"]).verdict is Verdict.NOT_SELECTED
    assert Selector().decide("anything", ["at_all"]).verdict is Verdict.RUN


def test_allow_entry_with_a_subtest_selects_only_it():
    sel = Selector.of(allow=[parse_selection("linked_list/global_*")])
    assert sel.decide("linked_list", ["global_list_in_list"]).verdict is Verdict.RUN
    assert sel.decide("linked_list", ["map_list_push_pop"]).verdict is Verdict.NOT_SELECTED


def test_unmatched_entries_are_reported():
    sel = Selector.of(deny=[parse_list(DENYLIST_S390X, file="DENYLIST.s390x")])
    names = [("linked_list", [s]) for s in LINKED_LIST] + [("map_ptr", ["map_xptr_const"])]
    assert [e.where for e in sel.unmatched(names)] == ["DENYLIST.s390x:3", "DENYLIST.s390x:4", "DENYLIST.s390x:8"]


def test_broken_lines_are_errors_but_the_rest_applies():
    text = "linked_list\nfoo/bar/baz/qux  # too deep\n/\n/prog\nfile/\n  \nverifier_*\n"
    lst = parse_list(text, file="DENYLIST")
    assert [e.text for e in lst.entries] == ["linked_list", "verifier_*"]
    assert [str(p) for p in lst.problems] == [
        "DENYLIST:2: 'foo/bar/baz/qux' is too deep: an entry is TEST or TEST/SUBTEST",
        "DENYLIST:3: '/' has an empty test name",
        "DENYLIST:4: '/prog' has an empty test name",
        "DENYLIST:5: 'file/' has an empty subtest name",
    ]
    sel = Selector.of(deny=[lst])
    assert sel.problems == lst.problems
    assert sel.decide("verifier_or", ["x"]).verdict is Verdict.DENIED


def test_glob_semantics():
    assert glob_match("abc", "*") and glob_match("", "*") and glob_match("abc", "a*c") and glob_match("ac", "a*c")
    assert glob_match("abc", "a?c") and not glob_match("ac", "a?c")
    assert not glob_match("abc", "ab") and not glob_match("ab", "abc")
    assert glob_match("a[1]", "a[1]") and not glob_match("a1", "a[1]")  # no bracket classes
    assert glob_match("x.y", "x.y") and not glob_match("xzy", "x.y")


def test_command_line_selection(tmp_path):
    sel = parse_selection("linked_list,,verifier_and/prog_?")
    assert [e.text for e in sel.entries] == ["linked_list", "verifier_and/prog_?"]
    listed = tmp_path / "mine.txt"
    listed.write_text("# my list\nlinked_list   # flaky\n")
    from_file = parse_selection(f"@{listed}")
    assert [(e.text, e.reason, e.where) for e in from_file.entries] == [("linked_list", "flaky", f"{listed}:2")]
    with pytest.raises(InputError, match="cannot read"):
        parse_selection(f"@{tmp_path / 'missing'}")


def test_substring_selection_like_dash_t():
    sel = Selector.of(allow=[parse_selection("list/push", glob=False)])
    assert [e.text for e in sel.allow] == ["*list*/*push*"]
    assert sel.decide("linked_list", ["map_list_push_pop"]).verdict is Verdict.RUN
    assert sel.decide("linked_list", ["global_list_in_list"]).verdict is Verdict.NOT_SELECTED


def test_lists_of_a_directory_per_arch(tmp_path):
    (tmp_path / "DENYLIST").write_text("common_deny\n")
    (tmp_path / "DENYLIST.s390x").write_text(DENYLIST_S390X)
    (tmp_path / "DENYLIST.aarch64").write_text("arm_only\n")
    (tmp_path / "ALLOWLIST.arm64").write_text("arm_only\ncommon_deny\n")
    deny, allow = arch_lists(tmp_path, "s390x")
    assert sum(len(lst.entries) for lst in deny) == 6 and allow == []
    s390 = selector_for(tmp_path, "s390x")
    assert s390.decide("linked_list", ["map_list_push_pop"]).verdict is Verdict.DENIED
    assert s390.decide("common_deny", ["x"]).verdict is Verdict.DENIED
    arm = selector_for(tmp_path, "aarch64", deny_args=["extra"])
    assert arm.decide("arm_only", ["x"]).verdict is Verdict.DENIED
    assert arm.decide("linked_list", ["x"]).verdict is Verdict.NOT_SELECTED  # ALLOWLIST.arm64 applies
    assert arm.decide("extra", ["x"]).verdict is Verdict.DENIED
    x86 = selector_for(tmp_path, "x86_64")
    assert x86.decide("linked_list", ["x"]).verdict is Verdict.RUN


def test_load_list_names_the_file(tmp_path):
    with pytest.raises(InputError) as info:
        load_list(tmp_path / "DENYLIST")
    assert str(info.value).startswith(f"{tmp_path / 'DENYLIST'}: cannot read")


def test_a_problem_with_control_characters_stays_on_one_line():
    lst = parse_list("a/b/c\x1b[2J\n", file="DENYLIST")
    assert [str(p) for p in lst.problems] == [
        "DENYLIST:1: 'a/b/c\\x1b[2J' is too deep: an entry is TEST or TEST/SUBTEST"]
