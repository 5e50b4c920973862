"""C programs calling the graph kfuncs, run by the runtime from their object files (kfunc relocations bound to
the runtime's profile) and, where bpf() works, by the kernel.

The expectations: ``selftests/progs/linked_list.c``'s ``__retval`` annotations (each taken from Linux 6.18's
PROG_TEST_RUN), what 6.18 does to a value's list on a user-space update (observed: the list is emptied, the
value's other bytes written), and that after the maps' teardown no object is left, as the kernel frees
everything ``bpf_obj_free_fields`` reaches when a map goes.

pybpf's verifier does not model these programs yet; the runtime loads objects without verifying them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pybpf
import pytest
from pybpf.errors import InputError
from pybpf.runtime import Runtime
from pybpf.runtime.instantiate import instantiate

ROOT = Path(__file__).resolve().parents[2]
PROGS = ROOT / "selftests" / "progs"
INCLUDES = (ROOT / "selftests" / "include", PROGS)
LINKED_LIST = PROGS / "linked_list.c"
TEARDOWN = Path(__file__).parent / "progs" / "graph_teardown.c"
PACKET = bytes(64)  # what the kernel's test_loader runs a tc program on


def _expected_retvals() -> dict[str, int]:
    """``__retval(N)`` of each program of linked_list.c, from the source."""
    text = LINKED_LIST.read_text()
    pairs = re.findall(r"__retval\((-?\d+)\)\s*\n\s*int (\w+)\(", text)
    return {name: int(value) for value, name in pairs}


EXPECTED = _expected_retvals()


def _s32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


@pytest.fixture(scope="module")
def linked_list(tmp_path_factory):
    return pybpf.compile_and_open(LINKED_LIST, include_dirs=INCLUDES,
                                  output=tmp_path_factory.mktemp("ll") / "linked_list.o")  # fmt: skip


@pytest.fixture(scope="module")
def teardown_obj(tmp_path_factory):
    return pybpf.compile_and_open(TEARDOWN, include_dirs=INCLUDES,
                                  output=tmp_path_factory.mktemp("td") / "graph_teardown.o")  # fmt: skip


def test_every_success_program_is_found() -> None:
    assert len(EXPECTED) == 15 and EXPECTED["many_elements"] == 2016


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_linked_list_programs_give_their_retval(linked_list, name) -> None:
    with linked_list.load("interp", programs=[name]) as loaded:
        prog = loaded.programs[name]
        assert prog.ok, prog.verdict
        assert _s32(prog.run(PACKET).retval) == EXPECTED[name]


def test_the_pyjit_tier_gives_the_same(linked_list) -> None:
    with linked_list.load("pyjit") as loaded:
        for name, expected in EXPECTED.items():
            assert _s32(loaded.programs[name].run(PACKET).retval) == expected, name


def test_all_programs_in_one_runtime_leave_no_object(linked_list) -> None:
    inst = instantiate(linked_list.object)
    for name in EXPECTED:
        assert _s32(inst.programs[name].run(PACKET).retval) == EXPECTED[name], name
    stats = inst.heap.stats()
    assert stats.live == {"foo": 2}  # leave_in_array's two elements wait in the array value
    assert stats.peak["foo"] == 64 and stats.peak["bar"] == 4  # many_elements; drop_object_with_list
    inst.close()
    stats = inst.heap.stats()
    assert stats.alive == 0 and stats.allocated == stats.freed == 100


def test_user_update_of_an_array_value_empties_its_list(linked_list) -> None:
    # 6.18: array_map_update_elem copies around the special fields, then bpf_obj_free_fields
    inst = instantiate(linked_list.object)
    assert inst.programs["leave_in_array"].run(PACKET).retval == 0
    assert inst.heap.stats().live == {"foo": 2}
    array = inst.maps["array_map"]
    array.update(bytes(4), b"\xff" * 24, 0)
    assert inst.heap.stats().alive == 0
    value = array.lookup(bytes(4))
    assert value[4:8] == b"\xff" * 4  # data written
    assert value[:4] == bytes(4) and value[8:] == bytes(16)  # the lock and the head read as zeros
    assert _s32(inst.programs["pop_empty"].run(PACKET).retval) == -1
    inst.close()


def test_objects_left_everywhere_are_freed_at_teardown(teardown_obj) -> None:
    inst = instantiate(teardown_obj.object)
    assert inst.programs["leave_everywhere"].run(PACKET).retval == 0
    assert inst.heap.stats().live == {"foo": 4, "bar": 5}
    assert inst.programs["rbtree_in_order"].run(PACKET).retval == _rbtree_expected()
    assert inst.heap.stats().live == {"foo": 4, "bar": 5, "node_data": 8}
    inst.close()
    assert inst.heap.stats().alive == 0 and inst.heap.alive() == []


def test_hash_delete_frees_a_values_list(teardown_obj) -> None:
    inst = instantiate(teardown_obj.object)
    assert inst.programs["leave_everywhere"].run(PACKET).retval == 0
    assert inst.maps["hash_map"].delete((5).to_bytes(4, "little"))
    assert inst.heap.stats().live == {"foo": 3, "bar": 2}  # the hash value's foo and its 3 bars went
    inst.runtime.close()  # the runtime's own teardown releases every map it has
    assert inst.heap.stats().alive == 0


def _rbtree_expected() -> int:
    result = 0
    for key in sorted((i * 7) % 16 for i in range(16))[:8]:
        result = result * 2 + (key & 1) + key
    return result


@pytest.mark.usefixtures("kernel")
def test_the_kernel_agrees(teardown_obj, linked_list) -> None:
    with teardown_obj.load("kernel") as loaded:
        assert loaded.programs["leave_everywhere"].run(PACKET).retval == 0
        assert loaded.programs["rbtree_in_order"].run(PACKET).retval == _rbtree_expected()
    with linked_list.load("kernel", programs=["leave_in_array", "pop_empty"]) as loaded:
        assert loaded.programs["leave_in_array"].run(PACKET).retval == 0
        loaded.maps["array_map"].update_raw(bytes(4), b"\xff" * 24)
        assert _s32(loaded.programs["pop_empty"].run(PACKET).retval) == -1
        assert loaded.maps["array_map"].lookup_raw(bytes(4))[4:8] == b"\xff" * 4


def test_rfc_2022_profile_is_chosen_per_runtime(tmp_path) -> None:
    src = tmp_path / "rfc.c"
    src.write_text('#include "linked_list.h"\n' + RFC_PROG)
    obj = pybpf.compile_and_open(src, include_dirs=INCLUDES, defines=["PYBPF_ABI_RFC_2022"], output=tmp_path / "r.o")
    inst = instantiate(obj.object, runtime=Runtime(abi="rfc-2022"))
    assert _s32(inst.programs["rfc_fifo"].run(PACKET).retval) == 12
    inst.close()
    assert inst.heap.stats().alive == 0
    with obj.load("interp", abi="rfc-2022") as loaded:
        assert _s32(loaded.programs["rfc_fifo"].run(PACKET).retval) == 12
    with obj.load("interp") as loaded:  # linux-6.18 has no bpf_kptr_new_impl: the call needs a kernel
        assert not loaded.programs["rfc_fifo"].ok
        assert "kfunc call 'bpf_kptr_new_impl'" in loaded.programs["rfc_fifo"].verdict
    with pytest.raises(InputError, match=re.escape("unknown ABI profile 'linux-5.0'")):
        obj.load("interp", abi="linux-5.0")


RFC_PROG = """
SEC("tc")
int rfc_fifo(void *ctx)
{
	struct bpf_list_node *n;
	struct map_value *v;
	struct foo *f;
	struct bar *b;
	int key = 0, i, r = 0;

	b = bpf_obj_new(typeof(*b)); /* foo's list holds bars: the BTF must have the type */
	if (b)
		bpf_obj_drop(b);
	v = bpf_map_lookup_elem(&array_map, &key);
	if (!v)
		return -1;
	for (i = 1; i < 3; i++) {
		f = bpf_obj_new(typeof(*f));
		if (!f)
			return -2;
		f->data = i;
		bpf_spin_lock(&v->lock);
		bpf_list_push_back(&v->head, &f->node);
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
char _license[] SEC("license") = "GPL";
"""
