"""POSIX ERE in Python: every case is checked against glibc's regexec itself (the kernel test_loader's matcher)."""

from __future__ import annotations

import pytest
from _glibc_regex import glibc_search
from pybpf.harness.selftest.ere import EreError, compile_ere, translate

CASES = [
    ("foo[0-9]+", "x foo007 y"),
    ("R[0-9]{1,2} ", "R1x R12 R123 "),
    ("x{,3}", "xxxx"),
    ("a{2}{3}", "aaaaaaa"),
    ("a**", "baaa"),
    ("a+?b", "aab"),
    ("[]a]+", "x]a]"),
    ("[^a]+", "aabb\ncc"),
    ("[]-a]", "^"),
    ("[a-]+", "b-a-"),
    (r"[\d]+", "dd\\d"),
    ("[[:digit:]]+[[:space:]]", "ab 12\t"),
    ("[[:alpha:]_][[:alnum:]_]*", "9 r10_x"),
    ("[[:xdigit:]]{4}", "0xBEEf"),
    ("[[:punct:]]+", "ab*(),"),
    ("[[:upper:][:lower:]]+", "12AbC3"),
    ("[[.-.]]", "a-b"),
    ("^exit", "r0 = 0\nexit\n"),
    ("0$", "r0 = 0\nexit"),
    ("a.c", "a\nc abc"),
    ("()x", "yx"),
    ("a|b(c|d)*", "zbcdd"),
    (r"\w+", "  ab_c d"),
    (r"\bfoo\b", "xfoo foo"),
    (r"\<r1\>", "r10 r1 "),
    (r"a\.b", "a.b"),
    (r"\(x\)", "(x)"),
    ("a}", "a}"),
    ("]", "]"),
    ("a|", "b"),
    ("(ab|cd)+e", "xabcdabe"),
    (")x", "a)x"),
    ("(a))", "a)"),
]

ERRORS = ["a{", "a{1", "*a", "^*", "$*", "[z-a]", "(", "[a", "[[:foo:]]", "a\\"]


@pytest.mark.parametrize(("ere", "text"), CASES)
def test_matches_like_glibc(ere, text):
    want = glibc_search(ere, text)
    found = compile_ere(ere).search(text)
    assert (found.span() if found else None) == want, translate(ere)


@pytest.mark.parametrize("ere", ERRORS)
def test_refuses_what_glibc_refuses(ere):
    assert str(glibc_search(ere, "")).startswith("error:")
    with pytest.raises(EreError):
        compile_ere(ere)


def test_back_references_are_refused():
    """glibc takes them in ERE as an extension; POSIX ERE has none and neither do we."""
    with pytest.raises(EreError, match="back-reference"):
        compile_ere(r"(a)\1")


def test_alternation_is_leftmost_first_not_leftmost_longest():
    """A known difference: POSIX takes the longest alternative at the leftmost position."""
    assert glibc_search("a|ab", "ab") == (0, 2)
    assert compile_ere("a|ab").search("ab").span() == (0, 1)
