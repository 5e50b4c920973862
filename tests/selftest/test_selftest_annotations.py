"""Test annotations read back from objects clang built, in each of the kernel's three tag encodings.

What each annotation must mean comes from the kernel's test_loader.c (parse_test_spec) and bpf_misc.h.
"""

from __future__ import annotations

import pytest
from pybpf.abi.uapi import ProgFlags, ProgType
from pybpf.btf import Kind, parse, write
from pybpf.harness.selftest.annotations import (
    INT_MIN,
    POINTER_VALUE,
    AnnotationError,
    Encoding,
    LoadMode,
    build_spec,
    parse_c_int,
    parse_caps,
    read_tags,
    test_spec,
)

FILE = "progs/annotated.c"


def spec(btf, program, arch="x86_64", **kw):
    return test_spec(btf, program, arch=arch, file=FILE, **kw)


def texts(patterns):
    return [p.text for p in patterns]


def test_each_encoding_is_recognised(annotated, encoding):
    enc, tags = read_tags(annotated, "plain_success")
    assert enc == {1: Encoding.PLAIN, 2: Encoding.KEY_COUNTER, 3: Encoding.COUNTER_KEY}[encoding]
    assert [(t.key, t.value) for t in tags] == [
        ("test_expect_success", None), ("test_retval", "0"), ("test_log_level", "2"), ("test_expect_msg", "processed")]


def test_plain_success(annotated):
    s = spec(annotated, "plain_success")
    assert s.unpriv is None and s.priv is not None
    assert not s.priv.expect_failure and s.priv.retval == 0 and s.priv.execute
    assert texts(s.priv.msgs) == ["processed"] and s.log_level == 2
    assert s.archs is None and s.on_this_arch and not s.auxiliary


def test_repeated_messages_survive_only_with_a_counter(annotated, encoding):
    """clang drops a decl tag identical to one already there: the reason the counters were added."""
    msgs = texts(spec(annotated, "repeated_msgs").priv.msgs)
    if encoding == 1:
        assert msgs == ["R0 !read_ok", "between"]
    else:
        assert msgs == ["R0 !read_ok", "between", "R0 !read_ok"]
    assert spec(annotated, "repeated_msgs").priv.expect_failure


def test_privileged_and_unprivileged_runs(annotated):
    s = spec(annotated, "both_modes")
    assert s.description == "priv and unpriv"
    assert (s.priv.name, s.priv.expect_failure, s.priv.retval, texts(s.priv.msgs)) == \
        ("both_modes", False, 1, [])
    assert (s.unpriv.name, s.unpriv.description, s.unpriv.expect_failure) == \
        ("both_modes @unpriv", "priv and unpriv @unpriv", True)
    assert texts(s.unpriv.msgs) == ["leaks addr"]
    assert s.unpriv.retval == 1  # no __retval_unpriv: the privileged one is inherited
    assert s.unpriv.caps == (1 << 12) | (1 << 39)  # CAP_NET_ADMIN | CAP_BPF


def test_unprivileged_only_inherits_messages_and_result(annotated):
    s = spec(annotated, "unpriv_only")
    assert s.priv is not None  # __msg asks for the privileged mode too
    assert s.priv.retval is None and not s.priv.execute
    assert texts(s.unpriv.msgs) == ["only unpriv inherits this"]
    assert s.unpriv.retval == POINTER_VALUE and s.unpriv.retval_matches(12345)
    assert not s.unpriv.expect_failure


def test_disassembly_lines_and_arch_scoping(annotated):
    x86 = spec(annotated, "disasm", "x86_64")
    assert x86.archs == frozenset({"x86_64", "aarch64"})
    assert [(p.text, p.on_next_line) for p in x86.priv.xlated] == [("0: r0 = 0", True), ("2: exit", False)]
    assert [(p.text, p.on_next_line) for p in x86.priv.jited] == [("\tendbr64", True), ("\tretq", False)]
    arm = spec(annotated, "disasm", "aarch64")
    assert texts(arm.priv.jited) == ["\tpaciasp"]
    riscv = spec(annotated, "disasm", "riscv64")
    assert riscv.priv.jited == () and not riscv.on_this_arch


def test_flags_set_and_cleared_in_order(annotated):
    s = spec(annotated, "disasm")
    assert s.flag_ops == ((ProgFlags.STRICT_ALIGNMENT, False), (ProgFlags.TEST_RND_HI32, True), (0x40, False))
    base = ProgFlags.TEST_RND_HI32 | ProgFlags.TEST_REG_INVARIANTS  # test_loader's testing_prog_flags()
    assert s.prog_flags(base) == ProgFlags.STRICT_ALIGNMENT | ProgFlags.TEST_REG_INVARIANTS | 0x40


def test_regexes_negatives_and_settings(annotated):
    s = spec(annotated, "regexes")
    msgs = s.priv.msgs
    assert [(p.text, p.is_regex, p.negative) for p in msgs] == [
        ("R{{[0-9]}} type={{scalar|ctx}}", True, False), ("invalid", False, True), ("{{^}}exit", True, False)]
    # {{...}} does not scope the alternation: the kernel's ERE is "R[0-9] type=scalar|ctx"
    assert msgs[0].search("R3 type=ctx", 0) == (8, 11)
    assert msgs[0].search("R3 type=scalar", 0) == (0, 14)
    assert s.load_mode is LoadMode.JITED and s.btf_path == "btf__core_reloc.bpf.o"


def test_auxiliary_and_unannotated(annotated):
    assert spec(annotated, "helper_prog").auxiliary
    bare = spec(annotated, "no_annotations")
    assert bare.priv is not None and bare.unpriv is None and not bare.priv.expect_failure


def test_linear_size_streams_and_int_min(annotated):
    s = spec(annotated, "skb_prog", prog_type=ProgType.SCHED_CLS)
    assert s.linear_size == 14 and s.priv.retval == INT_MIN
    assert texts(s.priv.stderr) == ["at {{.*}}"] and texts(s.priv.stdout) == ["hello"]
    with pytest.raises(AnnotationError, match="__linear_size for unsupported program type"):
        spec(annotated, "skb_prog", prog_type=ProgType.SOCKET_FILTER)


@pytest.mark.parametrize(("program", "why"), [
    ("bad_retval", "bad __retval: '12abc'"),
    ("bad_regex", "bad regular expression"),
    ("open_regex", "open '{{' but no closing '}}'"),
    ("jited_before_arch", "__jited used before __arch_*"),
    ("bad_flag", "bad __flag"),
    ("unknown_tag", "unknown test annotation 'test_expect_mesage'"),
    ("bad_arch", "bad arch spec 'PDP11'"),
    ("bad_log_level", "bad __log_level"),
    ("flag_with_value", "'test_expect_success' takes no value"),
    ("caps_by_name", "CAP_SYS_ADMIN is not a number"),
])
def test_malformed_annotations_name_file_program_and_tag(malformed, program, why):
    with pytest.raises(AnnotationError) as info:
        test_spec(malformed, program, arch="x86_64", file="progs/malformed.c")
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"progs/malformed.c: program '{program}': ")
    assert why in text and "(tag 'comment:" in text


def test_missing_function(annotated):
    with pytest.raises(AnnotationError, match="program 'nope': no FUNC of that name"):
        spec(annotated, "nope")


def test_tags_sorted_by_counter_not_btf_order(annotated_objs):
    """The newest encoding promises the source order whatever order the compiler wrote the tags in."""
    btf = parse(write(annotated_objs[3]))
    func = btf.find("repeated_msgs", Kind.FUNC)
    ids = [i for i, t in enumerate(btf.types) if t.kind == Kind.DECL_TAG and t.type == func]
    originals = [btf.types[i] for i in ids]
    for i, t in zip(ids, reversed(originals), strict=True):
        btf.set_type(i, t)
    assert btf.decl_tags(func) != annotated_objs[3].decl_tags(func)
    _, got = read_tags(btf, "repeated_msgs")
    assert [t.value for t in got if t.key == "test_expect_msg"] == ["R0 !read_ok", "between", "R0 !read_ok"]


def test_build_spec_from_tags_directly():
    from pybpf.harness.selftest.annotations import Tag

    tags = [Tag("test_expect_failure", None, "x"), Tag("test_expect_msg_unpriv", "u", "y"),
            Tag("test_expect_msg", "p", "z"), Tag("test_retval_unpriv", "0x10", "w")]
    s = build_spec(tags, "prog", arch="x86_64")
    assert s.unpriv.expect_failure  # no unprivileged result of its own: the privileged one
    assert texts(s.unpriv.msgs) == ["u"] and texts(s.priv.msgs) == ["p"]
    assert s.unpriv.retval == 16 and s.priv.retval is None


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("-1", -1), ("  42", 42), ("+7", 7), ("0x10", 16), ("0xffffffff", -1), ("4294967296", 0),
    ("0x0x10", 16), ("2147483648", INT_MIN),
])
def test_numbers_as_strtol_reads_them(text, value):
    assert parse_c_int(text) == value


@pytest.mark.parametrize("text", ["", "0x", "12abc", "1 ", "0x1g", "-", "99999999999999999999"])
def test_bad_numbers(text):
    with pytest.raises(ValueError):
        parse_c_int(text)


def test_caps():
    assert parse_caps("12 | 39") == (1 << 12) | (1 << 39)
    for bad in ("0", "CAP_BPF", "64", "x"):
        with pytest.raises(ValueError):
            parse_caps(bad)


def test_every_unpriv_variant_and_arch_spelling():
    from pybpf.harness.selftest.annotations import Tag

    def t(key, value=None):
        return Tag(key, value, f"comment:{key}" + (f"={value}" if value is not None else ""))

    tags = [t("test_expect_success"), t("test_expect_success_unpriv"), t("test_auxiliary_unpriv"),
            t("test_expect_xlated", "0: r0 = 1"), t("test_expect_xlated_unpriv", "0: r0 = 0"),
            t("test_expect_xlated_unpriv", "..."), t("test_expect_xlated_unpriv", "2: exit"),
            t("test_expect_stderr", "p"), t("test_expect_stderr_unpriv", "u"), t("test_expect_stdout", "out"),
            t("test_arch", "s390x"), t("test_jited", "lgr"), t("test_jited_unpriv", "lghi"),
            t("test_arch", "RISCV64"), t("test_jited_unpriv", "addi"), t("test_expect_not_msg_unpriv", "bad")]
    s390 = build_spec(tags, "p", arch="s390x")
    assert s390.auxiliary and s390.archs == frozenset({"s390x", "riscv64"})
    assert [(p.text, p.on_next_line) for p in s390.unpriv.xlated] == [("0: r0 = 0", True), ("2: exit", False)]
    assert texts(s390.priv.xlated) == ["0: r0 = 1"]
    assert (texts(s390.priv.stderr), texts(s390.unpriv.stderr)) == (["p"], ["u"])
    assert texts(s390.unpriv.stdout) == ["out"]  # none of its own: the privileged run's
    assert (texts(s390.priv.jited), texts(s390.unpriv.jited)) == (["lgr"], ["lghi"])
    assert [(p.text, p.negative) for p in s390.unpriv.msgs] == [("bad", True)] and s390.priv.msgs == ()
    riscv = build_spec(tags, "p", arch="riscv64")
    assert riscv.priv.jited == () and texts(riscv.unpriv.jited) == ["addi"]
    assert riscv.unpriv.jited[0].on_next_line  # __arch starts a new run of consecutive lines
    assert not build_spec(tags, "p", arch="x86_64").on_this_arch
