"""The local-kptr selftests (``selftests/progs/{linked_list*,rbtree,refcount}.c``) through pybpf's verifier.

Each program carries the live kernel's judgement in its annotations (``__success``,
``__failure __msg(...)``: texts Linux 6.18 printed); pybpf must reach the same
verdict and print the message in its log, as the selftest runner checks.  Where
``bpf()`` works, every program is also loaded into the kernel and the two first
error lines compared, and a few whole logs.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from pybpf.errors import PybpfError
from pybpf.harness.selftest.build import compile_source
from pybpf.harness.verify import verify_with_kernel, verify_with_pybpf
from pybpf.obj import Object, open_object

ROOT = Path(__file__).resolve().parents[2]
PROGS = ROOT / "selftests" / "progs"
INCLUDE = ROOT / "selftests" / "include"
SOURCES = ("linked_list.c", "linked_list_fail.c", "rbtree.c", "refcount.c")
_PROG = re.compile(r'SEC\("[^"]*"\)\s*(?P<tags>(?:__\w+(?:\((?:"(?:[^"\\]|\\.)*"|[^()"])*\))?\s*)*)'
                   r'int (?P<name>\w+)\(')
_MSG = re.compile(r'__msg\("((?:[^"\\]|\\.)*)"\)')


def expectations(source: str) -> dict[str, str | None]:
    """program -> the kernel's message (None: accepted), from the annotations of ``source``."""
    text = (PROGS / source).read_text()
    out = {}
    for m in _PROG.finditer(text):
        msg = _MSG.search(m["tags"])
        out[m["name"]] = msg.group(1) if "__failure" in m["tags"] and msg else None
    return out


@cache
def compiled(source: str) -> Object:
    try:
        built = compile_source(PROGS / source, [INCLUDE, PROGS])
    except PybpfError as err:  # no usable clang: say so and skip
        pytest.skip(f"cannot compile {source}: {err}")
    return open_object(built.object)


CASES = [(src, name, msg) for src in SOURCES for name, msg in expectations(src).items()]


def test_every_program_has_an_expectation():
    programs = sum(len(re.findall(r'^SEC\("(?!\.maps|license)', (PROGS / s).read_text(), re.M)) for s in SOURCES)
    assert len(CASES) == programs


@pytest.mark.parametrize(("source", "name", "msg"), CASES, ids=[f"{s[:-2]}/{n}" for s, n, _ in CASES])
def test_pybpf_agrees_with_the_annotation(source: str, name: str, msg: str | None):
    v = verify_with_pybpf(compiled(source), name)
    if msg is None:
        assert v.verdict == "success", v.first_error + "\n" + v.log[-3000:]
    else:
        assert v.verdict == "failure", v.log[-3000:]
        assert _message(msg).search(v.log), v.log[-3000:]  # anywhere in the log, as the selftest runner looks


def _message(msg: str) -> re.Pattern[str]:
    """An ``__msg`` as the selftests read it: literal text, with ``{{regex}}`` parts."""
    parts = re.split(r"\{\{(.*?)\}\}", msg)
    return re.compile("".join(part if k % 2 else re.escape(part) for k, part in enumerate(parts)))


@pytest.mark.kernel
@pytest.mark.slow  # the kernel takes 1-2 s per program (maps, BTF, ksyms)
@pytest.mark.parametrize("source", SOURCES)
def test_first_error_agrees_with_the_kernel(source: str, live: None):
    obj = compiled(source)
    differ = []
    for name in obj.programs:
        ours, theirs = verify_with_pybpf(obj, name), verify_with_kernel(obj, name)
        if (ours.verdict, ours.first_error) != (theirs.verdict, theirs.first_error):
            differ.append(f"{name}: pybpf {ours.verdict} {ours.first_error!r}, "
                          f"kernel {theirs.verdict} {theirs.first_error!r}")
    assert not differ, "\n".join(differ)


# The 2022 series ("Local kptrs, BPF linked lists"): bpf_kptr_new_impl, bpf_list_add(node, head)...  No kernel
# has it, so these expectations are the series' rules: the lock is needed as in 6.18, an added node stays
# usable (PTR_UNTRUSTED) while the lock is held and its reference is released at unlock.
RFC_PROGS = r"""
#include "linked_list.h"

static __always_inline struct map_value *value(void)
{
	int key = 0;

	return bpf_map_lookup_elem(&array_map, &key);
}

SEC("tc")
int rfc_fifo(void *ctx)
{
	struct bpf_list_node *n;
	struct map_value *v = value();
	struct foo *f;
	struct bar *b = bpf_obj_new(typeof(*b)); /* foo's list holds bars: the BTF must have the type */
	int i, r = 0;

	if (b)
		bpf_obj_drop(b);
	if (!v)
		return -1;
	for (i = 1; i < 3; i++) {
		f = bpf_obj_new(typeof(*f));
		if (!f)
			return -2;
		bpf_spin_lock(&v->lock);
		bpf_list_push_back(&v->head, &f->node);
		f->data = i;
		bpf_spin_unlock(&v->lock);
	}
	for (i = 0; i < 2; i++) {
		bpf_spin_lock(&v->lock);
		n = bpf_list_pop_front(&v->head);
		bpf_spin_unlock(&v->lock);
		if (!n)
			return -3;
		f = container_of(n, struct foo, node);
		r = r * 10 + f->data;
		bpf_obj_drop(f);
	}
	return r;
}

SEC("tc")
int rfc_use_after_unlock(void *ctx)
{
	struct map_value *v = value();
	struct foo *f;

	if (!v)
		return 0;
	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 0;
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &f->node);
	bpf_spin_unlock(&v->lock);
	return f->data;
}

SEC("tc")
int rfc_add_twice(void *ctx)
{
	struct map_value *v = value();
	struct foo *f;

	if (!v)
		return 0;
	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 0;
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &f->node);
	bpf_list_push_back(&v->head, &f->node);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
int rfc_no_lock(void *ctx)
{
	struct map_value *v = value();
	struct foo *f;

	if (!v)
		return 0;
	f = bpf_obj_new(typeof(*f));
	if (!f)
		return 0;
	bpf_list_push_front(&v->head, &f->node);
	return 0;
}

char _license[] SEC("license") = "GPL";
"""
RFC_EXPECTED = {
    "rfc_fifo": None,
    "rfc_use_after_unlock": "invalid mem access 'scalar'",
    # the series' words ([PATCH bpf-next v2 22/25] bpf: Introduce single ownership BPF linked list API,
    # 13 Oct 2022): the added node is PTR_UNTRUSTED, and the lock check names the operation
    "rfc_add_twice": "arg#0 expected point to local kptr",
    "rfc_no_lock": "bpf_spin_lock at off=0 must be held for manipulating bpf_list_head",
}


@pytest.fixture(scope="module")
def rfc_object(tmp_path_factory) -> Object:
    import pybpf

    tmp = tmp_path_factory.mktemp("rfc")
    (tmp / "rfc.c").write_text(RFC_PROGS)
    try:
        built = pybpf.compile_and_open(tmp / "rfc.c", include_dirs=[INCLUDE, PROGS], defines=["PYBPF_ABI_RFC_2022"],
                                       output=tmp / "rfc.o")
    except PybpfError as err:
        pytest.skip(f"cannot compile the rfc-2022 programs: {err}")
    return built.object


@pytest.mark.parametrize(("name", "msg"), RFC_EXPECTED.items())
def test_rfc_2022_profile(rfc_object: Object, name: str, msg: str | None):
    v = verify_with_pybpf(rfc_object, name, abi="rfc-2022")
    if msg is None:
        assert v.verdict == "success", v.log[-3000:]
    else:
        assert v.verdict == "failure", v.log[-3000:]
        assert v.first_error.endswith(msg), v.log[-3000:]


def test_rfc_2022_kfuncs_are_not_6_18s(rfc_object: Object):
    v = verify_with_pybpf(rfc_object, "rfc_fifo")  # as libbpf, pybpf cannot resolve a strong kfunc 6.18 lacks
    assert v.verdict == "skipped"
    assert "extern (func ksym) 'bpf_kptr_drop_impl': not found in the kernel BTF of ABI profile linux-6.18" \
        in v.first_error


_ADDR = re.compile(r"^(\d+: \(18\) r\d+ = )0x[0-9a-f]+")
_PAD = re.compile(r" +;")


def _comparable(log: str) -> list[str]:
    """The log without source-line comments, the BTF func_info note and map addresses (the kernel's are real,
    so the padding after a map load differs too)."""
    keep = [ln for ln in log.splitlines() if not ln.startswith((";", "arg#0 reference type"))]
    return [_PAD.sub(" ;", _ADDR.sub(r"\1ADDR", ln)) if _ADDR.match(ln) else ln for ln in keep]


@pytest.mark.kernel
@pytest.mark.parametrize("name", ["obj_drop_twice", "push_twice", "pop_read_before_node", "tree_first_is_not_owned"])
def test_whole_log_agrees_with_the_kernel(name: str, live: None):
    obj = compiled("linked_list_fail.c")
    ours, theirs = verify_with_pybpf(obj, name), verify_with_kernel(obj, name)
    assert _comparable(ours.log) == _comparable(theirs.log)
