"""A program's test annotations (``__success``, ``__msg(...)``, ``__retval(...)``...) read from its BTF decl tags.

The kernel's ``progs/bpf_misc.h`` turns each annotation into a DECL_TAG on the
program's FUNC, and ``test_loader.c`` reads them back.  Three encodings have been used:

=============== ========================================== ===========================================
``PLAIN``        ``comment:test_expect_msg=TEXT``            until v6.11: identical tags collapse into one
``KEY_COUNTER``  ``comment:test_expect_msg=<N>=TEXT``        v6.11.y/v6.12 on: ``__COUNTER__`` after the key
                                                             of the text-carrying tags only
``COUNTER_KEY``  ``comment:<N>:test_expect_msg=TEXT``        newest: every tag, sorted back to source order
=============== ========================================== ===========================================

``read_tags`` decodes any of them (a function's tags are in one encoding);
``test_spec`` then builds what ``parse_test_spec`` builds, for one
architecture, because ``__jited`` lines after ``__arch_x86_64`` only count on
x86_64 (a ``__jited`` before any ``__arch`` is an error, as in the kernel).
Where the kernel ignores a tag it does not know, we refuse one in its namespace
(``test_*``, ``load_mode``) with an ``AnnotationError``: a typo would otherwise
silently weaken a test.  Numbers are read as ``strtol`` reads them (decimal,
``0x`` hex, a sign, leading blanks), except that an empty number is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from pybpf.abi.uapi import ProgFlags, ProgType
from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.errors import InputError
from pybpf.harness.selftest.arch import from_kernel
from pybpf.harness.selftest.match import Pattern, PatternError, compile_pattern

TAG_PREFIX = "comment:"
UNPRIV_SUFFIX = " @unpriv"
POINTER_VALUE = 0xBADCAFE  # __retval(POINTER_VALUE): any return value will do
TEST_DATA_LEN = 64
INT_MIN = -(1 << 31)
CAP_LAST = 63

_COUNTER_KEY = re.compile(r"comment:(\d+):(.*)", re.DOTALL)
_KEY_COUNTER_VALUE = re.compile(r"\d+=")
_STRTOL = re.compile(r"[ \t\n\v\f\r]*([+-]?)(\w*)(.*)", re.DOTALL)
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1

# __flag(NAME): the names test_loader.c knows; anything else must be a number.
FLAG_NAMES = {f"BPF_F_{f.name}": int(f) for f in (
    ProgFlags.STRICT_ALIGNMENT, ProgFlags.ANY_ALIGNMENT, ProgFlags.TEST_RND_HI32, ProgFlags.TEST_STATE_FREQ,
    ProgFlags.SLEEPABLE, ProgFlags.XDP_HAS_FRAGS, ProgFlags.TEST_REG_INVARIANTS)}
# __linear_size only makes sense where a test run builds an skb.
LINEAR_SIZE_PROG_TYPES = frozenset({ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.CGROUP_SKB})
# Tags whose text the KEY_COUNTER encoding prefixes with "<N>=".
COUNTED_KEYS = frozenset({
    "test_expect_msg", "test_expect_not_msg", "test_expect_regex", "test_expect_xlated", "test_jited",
    "test_expect_stderr", "test_expect_stdout",
    "test_expect_msg_unpriv", "test_expect_not_msg_unpriv", "test_expect_regex_unpriv", "test_expect_xlated_unpriv",
    "test_jited_unpriv", "test_expect_stderr_unpriv", "test_expect_stdout_unpriv",
})
FLAG_KEYS = frozenset({
    "test_expect_failure", "test_expect_success", "test_expect_failure_unpriv", "test_expect_success_unpriv",
    "test_auxiliary", "test_auxiliary_unpriv", "test_log_always",
})
VALUE_KEYS = COUNTED_KEYS | frozenset({
    "test_description", "test_retval", "test_retval_unpriv", "test_log_level", "test_prog_flags", "test_arch",
    "test_btf_path", "test_btf_func_path", "test_caps_unpriv", "load_mode", "test_linear_size", "test_skip",
    "test_abi", "test_abi_expect",
})
# pybpf's ABI profiles (pybpf.abi.profiles; bpf_experimental.h's __abi, __msg_abi...): ``test_abi=NAME`` runs the
# program only under that profile, ``test_abi_expect=NAME:<tag>`` is ``<tag>`` under profile NAME only.
ABI_KEY, ABI_EXPECT_KEY = "test_abi", "test_abi_expect"
_MSG_KEYS = frozenset({"test_expect_msg", "test_expect_not_msg", "test_expect_regex"})


class AnnotationError(InputError):
    """A malformed test annotation; the message names the program and the tag (``tag``, where one is to blame)."""

    def __init__(self, message: str, *, tag: Tag | None = None, **kw):
        super().__init__(message, **kw)
        self.tag = tag


class Encoding(StrEnum):
    PLAIN = "plain"
    KEY_COUNTER = "key-counter"
    COUNTER_KEY = "counter-key"


class LoadMode(StrEnum):
    """``__load_if_JITed()`` / ``__load_if_no_JITed()``: run only with the JIT on (off)."""

    JITED = "jited"
    NO_JITED = "no_jited"


@dataclass(frozen=True)
class Tag:
    """One decoded annotation: ``key`` (``test_expect_msg``), its ``value`` (None for a flag), the raw tag."""

    key: str
    value: str | None
    raw: str


@dataclass(frozen=True)
class RunSpec:
    """One load of the program (privileged, or unprivileged with ``caps`` raised again): test_loader's subspec."""

    unpriv: bool
    name: str  # the program's name, " @unpriv" added for the unprivileged run
    description: str | None
    expect_failure: bool
    msgs: tuple[Pattern, ...] = ()
    xlated: tuple[Pattern, ...] = ()
    jited: tuple[Pattern, ...] = ()
    stderr: tuple[Pattern, ...] = ()
    stdout: tuple[Pattern, ...] = ()
    retval: int | None = None  # None: the program is loaded, not run
    caps: int = 0  # bit n set: capability n is raised again for this run

    @property
    def display_name(self) -> str:
        return self.description or self.name

    @property
    def execute(self) -> bool:
        return self.retval is not None

    def retval_matches(self, got: int) -> bool:
        """Whether a test run's r0 (taken as the kernel's 32-bit ``retval``) is what was asked for."""
        if self.retval is None or self.retval == POINTER_VALUE:
            return True
        return _int32(got) == self.retval


@dataclass(frozen=True)
class TestSpec:
    """Everything the annotations of one program ask for, on one architecture."""

    file: str
    program: str
    arch: str
    encoding: Encoding
    priv: RunSpec | None
    unpriv: RunSpec | None
    description: str | None = None
    auxiliary: bool = False
    log_level: int = 0
    flag_ops: tuple[tuple[int, bool], ...] = ()  # (flag, clear) in source order
    archs: frozenset[str] | None = None  # None: every architecture
    load_mode: LoadMode | None = None
    btf_path: str | None = None
    btf_func_path: str | None = None
    linear_size: int | None = None
    skip: str | None = None  # __skip(reason)
    log_always: bool = False
    abis: frozenset[str] | None = None  # __abi(NAME): the ABI profiles the program is for (None: every one)
    variants: tuple[tuple[str, TestSpec], ...] = ()  # (profile, the spec under it) where __*_abi tags change it

    __test__ = False  # not a pytest class

    def runs_under(self, abi: str) -> bool:
        return self.abis is None or abi in self.abis

    def under(self, abi: str) -> TestSpec:
        """The spec under ABI profile ``abi``: its ``__msg_abi``/``__success_abi``/... applied."""
        return next((s for name, s in self.variants if name == abi), self)

    @property
    def runs(self) -> tuple[RunSpec, ...]:
        return tuple(r for r in (self.priv, self.unpriv) if r is not None)

    @property
    def on_this_arch(self) -> bool:
        return self.archs is None or self.arch in self.archs

    def prog_flags(self, base: int = 0) -> int:
        """The load's ``prog_flags``: ``base`` (test_loader starts from the testing flags the kernel takes) with
        each ``__flag`` set or (``!NAME``) cleared in order."""
        flags = base
        for flag, clear in self.flag_ops:
            flags = flags & ~flag if clear else flags | flag
        return flags


# ------------------------------------------------------------------ reading the tags

def _decode(raw: str) -> tuple[int | None, str] | None:
    """(counter or None, body) of a ``comment:`` tag; None for any other decl tag."""
    m = _COUNTER_KEY.fullmatch(raw)
    if m:
        return int(m.group(1)), m.group(2)
    if raw.startswith(TAG_PREFIX):
        return None, raw[len(TAG_PREFIX):]
    return None


def _split(body: str, raw: str) -> Tag:
    key, eq, value = body.partition("=")
    return Tag(key, value if eq else None, raw)


def read_tags(btf: Btf, program: str, *, file: str | None = None) -> tuple[Encoding, list[Tag]]:
    """The annotations on FUNC ``program`` in source order, and the encoding they use."""
    func_id = btf.find(program, Kind.FUNC)
    if func_id is None:
        raise AnnotationError(f"program '{program}': no FUNC of that name in the object's BTF", file=file)
    decoded = [(d, raw) for raw in btf.decl_tags(func_id) if (d := _decode(raw)) is not None]
    if any(counter is not None for (counter, _), _ in decoded):
        # The newest bpf_misc.h: sort by the counter, which is the order in the source (clang does not promise one).
        counted = sorted(((c, body, raw) for (c, body), raw in decoded if c is not None), key=lambda t: t[0])
        rest = [(body, raw) for (c, body), raw in decoded if c is None]
        return Encoding.COUNTER_KEY, [_split(body, raw) for _, body, raw in counted] + \
            [_split(body, raw) for body, raw in rest]
    tags = [_split(body, raw) for (_, body), raw in decoded]
    counted = [t for t in tags if t.key in COUNTED_KEYS and t.value is not None]
    if counted and all(_KEY_COUNTER_VALUE.match(t.value) for t in counted):
        tags = [replace(t, value=t.value.partition("=")[2]) if t in counted else t for t in tags]
        return Encoding.KEY_COUNTER, tags
    return Encoding.PLAIN, tags


# ------------------------------------------------------------------ numbers as strtol reads them

def _int32(value: int) -> int:
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def parse_c_int(text: str) -> int:
    """``parse_int`` of test_loader.c: ``0x`` hex or decimal via ``strtol``, truncated to a C ``int``.

    ValueError when nothing or not all of it is a number, or it does not fit a ``long``.
    """
    base, body = (16, text[2:]) if text.startswith("0x") else (10, text)
    m = _STRTOL.fullmatch(body)
    sign, digits, rest = m.groups()
    if base == 16 and digits[:2].lower() == "0x":  # strtol(base 16) takes its own 0x too
        digits = digits[2:]
    valid = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
    cut = next((i for i, c in enumerate(digits) if c not in valid), len(digits))
    digits, rest = digits[:cut], digits[cut:] + rest
    if not digits or rest:
        raise ValueError(f"'{text}' is not a {'hexadecimal' if base == 16 else 'decimal'} number")
    value = int(sign + digits, base)
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError(f"'{text}' does not fit a long")
    return _int32(value)


def parse_retval(text: str) -> int:
    """``__retval``'s argument: a number, ``_INT_MIN``, or (older bpf_misc.h) ``INT_MIN``/``POINTER_VALUE``/
    ``TEST_DATA_LEN`` spelled out."""
    named = {"_INT_MIN": INT_MIN, "INT_MIN": INT_MIN, "POINTER_VALUE": POINTER_VALUE, "TEST_DATA_LEN": TEST_DATA_LEN}
    return named[text] if text in named else parse_c_int(text)


def parse_caps(text: str) -> int:
    """``__caps_unpriv(CAP_A | CAP_B)`` after bpf_misc.h expanded the names: ``12|39`` -> a capability mask."""
    mask = 0
    for token in (t for t in text.split("|") if t):
        token = token.strip()
        if token.startswith("CAP_"):
            raise ValueError(f"{token} is not a number: define it in the test's header, as bpf_misc.h does")
        if not token.isdigit() or not 0 < int(token) <= CAP_LAST:
            raise ValueError(f"'{token}' is not a capability number")
        mask |= 1 << int(token)
    return mask


# ------------------------------------------------------------------ building the spec

@dataclass
class _Sub:
    expect_failure: bool = False
    msgs: list[Pattern] = field(default_factory=list)
    xlated: list[Pattern] = field(default_factory=list)
    jited: list[Pattern] = field(default_factory=list)
    stderr: list[Pattern] = field(default_factory=list)
    stdout: list[Pattern] = field(default_factory=list)
    retval: int | None = None
    caps: int = 0


def _tag_error(program: str, file: str | None, tag: Tag, why: str) -> AnnotationError:
    return AnnotationError(f"program '{program}': {why} (tag '{tag.raw}')", file=file, tag=tag)


@dataclass
class _Builder:
    """The state ``parse_test_spec`` keeps while it walks the tags."""

    program: str
    arch: str
    file: str | None
    prog_type: int | None
    priv: _Sub = field(default_factory=_Sub)
    unpriv: _Sub = field(default_factory=_Sub)
    modes: set[str] = field(default_factory=set)
    has_unpriv_result: bool = False
    has_unpriv_retval: bool = False
    next_line: dict[str, bool] = field(default_factory=dict)  # per disassembly list: must the next match follow?
    archs: set[str] = field(default_factory=set)
    collect_jit: bool = False
    spec: dict[str, object] = field(default_factory=dict)
    flag_ops: list[tuple[int, bool]] = field(default_factory=list)

    def fail(self, tag: Tag, why: str) -> AnnotationError:
        return _tag_error(self.program, self.file, tag, why)

    def sub(self, unpriv: bool) -> _Sub:
        self.modes.add("unpriv" if unpriv else "priv")
        return self.unpriv if unpriv else self.priv

    def pattern(self, tag: Tag, **kw) -> Pattern:
        try:
            return compile_pattern(tag.value, **kw)
        except PatternError as err:
            raise self.fail(tag, str(err)) from None

    def disasm(self, tag: Tag, into: list[Pattern], stream: str) -> None:
        """``push_disasm_msg``: ``...`` lifts the next-line rule for the next pattern."""
        if tag.value == "...":
            self.next_line[stream] = False
            return
        into.append(self.pattern(tag, on_next_line=self.next_line.get(stream, True)))
        self.next_line[stream] = True

    def number(self, tag: Tag, parse: Callable[[str], int], what: str) -> int:
        try:
            return parse(tag.value)
        except ValueError as err:
            raise self.fail(tag, f"bad {what}: {err}") from None

    # -- one handler per key -----------------------------------------------------------------------

    def apply(self, tag: Tag) -> None:
        key, unpriv = tag.key, tag.key.endswith("_unpriv")
        base = key.removesuffix("_unpriv")
        if base in ("test_expect_failure", "test_expect_success"):
            self.sub(unpriv).expect_failure = base == "test_expect_failure"
            self.has_unpriv_result |= unpriv
        elif base == "test_auxiliary":
            self.spec["auxiliary"] = True
            self.sub(unpriv)
        elif base in ("test_expect_msg", "test_expect_not_msg", "test_expect_regex"):
            self.sub(unpriv).msgs.append(self.pattern(tag, negative=base == "test_expect_not_msg",
                                                      whole_regex=base == "test_expect_regex"))
        elif base == "test_expect_xlated":
            self.disasm(tag, self.sub(unpriv).xlated, key)
        elif base in ("test_expect_stderr", "test_expect_stdout"):
            sub = self.unpriv if unpriv else self.priv  # streams do not choose a mode
            self.disasm(tag, sub.stderr if base == "test_expect_stderr" else sub.stdout, key)
        elif base == "test_jited":
            if not self.archs:
                raise self.fail(tag, "__jited used before __arch_*")
            if self.collect_jit:
                self.disasm(tag, self.sub(unpriv).jited, key)
        elif base == "test_retval":
            self.sub(unpriv).retval = self.number(tag, parse_retval, "__retval")
            self.has_unpriv_retval |= unpriv
        else:
            self.apply_setting(tag)

    def apply_setting(self, tag: Tag) -> None:
        key, value = tag.key, tag.value
        if key == "test_description":
            self.spec["description"] = value
        elif key == "test_log_level":
            self.spec["log_level"] = self.number(tag, parse_c_int, "__log_level")
        elif key == "test_log_always":
            self.spec["log_always"] = True
        elif key == "test_prog_flags":
            clear = value.startswith("!")
            name = value[1:] if clear else value
            flag = FLAG_NAMES[name] if name in FLAG_NAMES else self.number(replace(tag, value=name), parse_c_int,
                                                                          "__flag (not a known BPF_F_ name)")
            self.flag_ops.append((flag, clear))
        elif key == "test_arch":
            arch = from_kernel(value)
            if arch is None:
                raise self.fail(tag, f"bad arch spec '{value}'")
            self.archs.add(arch)
            self.collect_jit = arch == self.arch
            self.next_line["test_jited"] = self.next_line["test_jited_unpriv"] = True
        elif key == ABI_KEY:
            self.spec["abis"] = self.spec.get("abis", frozenset()) | {_profile_name(self, tag, value)}
        elif key in ("test_btf_path", "test_btf_func_path", "test_skip"):
            self.spec[key.removeprefix("test_")] = value
        elif key == "test_caps_unpriv":
            self.sub(True).caps |= self.number(tag, parse_caps, "__caps_unpriv")
        elif key == "load_mode":
            if value not in (LoadMode.JITED, LoadMode.NO_JITED):
                raise self.fail(tag, f"bad load spec '{value}'")
            self.spec["load_mode"] = LoadMode(value)
        elif key == "test_linear_size":
            if self.prog_type is not None and self.prog_type not in LINEAR_SIZE_PROG_TYPES:
                raise self.fail(tag, "__linear_size for unsupported program type")
            self.spec["linear_size"] = self.number(tag, parse_c_int, "__linear_size")

    # -- the end: defaults and what the unprivileged run inherits --------------------------------

    def run_spec(self, unpriv: bool) -> RunSpec:
        own, priv = (self.unpriv, self.priv) if unpriv else (self.priv, self.priv)
        desc = self.spec.get("description")
        suffix = UNPRIV_SUFFIX if unpriv else ""

        def inherit(name: str) -> tuple[Pattern, ...]:
            mine = getattr(own, name)
            return tuple(mine or getattr(priv, name)) if unpriv else tuple(mine)

        retval_from = own if (not unpriv or self.has_unpriv_retval) else priv
        return RunSpec(
            unpriv=unpriv, name=self.program + suffix, description=desc + suffix if desc else None,
            expect_failure=own.expect_failure if (not unpriv or self.has_unpriv_result) else priv.expect_failure,
            msgs=inherit("msgs"), xlated=inherit("xlated"), jited=inherit("jited"), stderr=inherit("stderr"),
            stdout=inherit("stdout"), retval=retval_from.retval, caps=own.caps if unpriv else 0)


def _check_tag(tag: Tag, program: str, file: str | None) -> bool:
    """Whether ``tag`` is one of ours; unknown ``test_*`` tags and misplaced values are errors."""
    if not (tag.key.startswith("test_") or tag.key == "load_mode"):
        return False
    where = f"program '{program}'"
    if tag.key in FLAG_KEYS:
        if tag.value is not None:
            raise AnnotationError(f"{where}: '{tag.key}' takes no value (tag '{tag.raw}')", file=file, tag=tag)
        return True
    if tag.key in VALUE_KEYS:
        if tag.value is None:
            raise AnnotationError(f"{where}: '{tag.key}' needs a value (tag '{tag.raw}')", file=file, tag=tag)
        return True
    raise AnnotationError(f"{where}: unknown test annotation '{tag.key}' (tag '{tag.raw}')", file=file, tag=tag)


def source_line(source: str, program: str, tag: Tag | None = None) -> int | None:
    """The line of ``source`` an error about ``program``'s annotation points at: the line above the
    function's definition that holds ``tag``'s text, else the definition's own line (None: not found).

    BTF keeps no source position for a decl tag, so the text is searched: a definition starts at
    column 0 (``int prog(...)``, ``__naked void prog(void)``), its annotations follow its ``SEC()``.
    """
    lines = source.splitlines()
    define = re.compile(rf"^\S.*\b{re.escape(program)}\s*\(")
    at = next((i for i, line in enumerate(lines) if define.match(line)), None)
    if at is None:
        return None
    if tag is not None and tag.value:
        start = next((i for i in range(at - 1, -1, -1) if "SEC(" in lines[i]), 0)
        hit = next((i for i in range(start, at) if tag.value in lines[i]), None)
        if hit is not None:
            return hit + 1
    return at + 1


def _profile_name(b: _Builder, tag: Tag, name: str) -> str:
    return _known_profile(b.program, b.file, tag, name)


def _known_profile(program: str, file: str | None, tag: Tag, name: str) -> str:
    from pybpf.abi.profiles import PROFILES

    if name not in PROFILES:
        raise _tag_error(program, file, tag, f"unknown ABI profile '{name}' (known: {', '.join(PROFILES)})")
    return name


def _scoped(tags: list[Tag], program: str, file: str | None) -> dict[str, list[Tag]]:
    """The ``test_abi_expect=NAME:<tag>`` tags, unwrapped, by profile."""
    out: dict[str, list[Tag]] = {}
    for tag in tags:
        if tag.key != ABI_EXPECT_KEY or tag.value is None:
            continue
        name, colon, inner = tag.value.partition(":")
        if not colon or not inner:
            raise _tag_error(program, file, tag, "expected 'PROFILE:<annotation>'")
        unwrapped = _split(inner, tag.raw)
        if unwrapped.key in (ABI_KEY, ABI_EXPECT_KEY) or not _check_tag(unwrapped, program, file):
            raise _tag_error(program, file, tag, f"'{unwrapped.key}' cannot be made per ABI profile")
        out.setdefault(_known_profile(program, file, tag, name), []).append(unwrapped)
    return out


def _under_profile(tags: list[Tag], scoped: list[Tag]) -> list[Tag]:
    """``tags`` as one profile sees them: its scoped messages replace the others of the same run (priv or
    unpriv), and every scoped tag comes last, so that a scoped verdict wins."""
    replaced = {t.key.removesuffix("_unpriv") != t.key for t in scoped if t.key.removesuffix("_unpriv") in _MSG_KEYS}
    kept = [t for t in tags if not (t.key.removesuffix("_unpriv") in _MSG_KEYS
                                    and (t.key.removesuffix("_unpriv") != t.key) in replaced)]
    return kept + scoped


def _build(tags: list[Tag], program: str, arch: str, encoding: Encoding, file: str | None,
           prog_type: int | None) -> TestSpec:
    b = _Builder(program, arch, file, prog_type)
    for tag in tags:
        if tag.key != ABI_EXPECT_KEY and _check_tag(tag, program, file):
            b.apply(tag)
    modes = b.modes or {"priv"}
    return TestSpec(
        file=file or "", program=program, arch=arch, encoding=encoding,
        priv=b.run_spec(False) if "priv" in modes else None,
        unpriv=b.run_spec(True) if "unpriv" in modes else None,
        flag_ops=tuple(b.flag_ops), archs=frozenset(b.archs) or None, **b.spec)


def build_spec(tags: list[Tag], program: str, *, arch: str, encoding: Encoding = Encoding.PLAIN,
               file: str | None = None, prog_type: int | None = None) -> TestSpec:
    """The ``TestSpec`` of decoded ``tags`` on ``arch`` (a canonical name, see ``selftest.arch``), with a variant
    per ABI profile its ``test_abi_expect`` tags name."""
    base = _build(tags, program, arch, encoding, file, prog_type)
    variants = tuple((name, _build(_under_profile(tags, scoped), program, arch, encoding, file, prog_type))
                     for name, scoped in sorted(_scoped(tags, program, file).items()))
    return replace(base, variants=variants) if variants else base


def test_spec(btf: Btf, program: str, *, arch: str, file: str | None = None,
              prog_type: int | None = None) -> TestSpec:
    """What the annotations of FUNC ``program`` in ``btf`` ask for on ``arch``.

    ``file`` names the source or object in errors; ``prog_type`` (when known) checks ``__linear_size``.
    """
    encoding, tags = read_tags(btf, program, file=file)
    return build_spec(tags, program, arch=arch, encoding=encoding, file=file, prog_type=prog_type)


test_spec.__test__ = False  # a function named test_* that pytest must not collect when imported into a test
