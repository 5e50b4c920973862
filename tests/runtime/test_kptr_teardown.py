"""Objects stored in kptrs belong to the map: a delete, an update or the map's teardown frees them.

The programs are ``selftests/progs/kptr.c`` (each checked against the live kernel by the
selftest runner); here the runtime's heap accounting shows who owns what: an object moved into a
map stays alive after the run, and ``bpf_obj_free_fields`` (element delete, value update, map
release) frees it, so nothing is left once the object is closed.
"""

from __future__ import annotations

from pathlib import Path

import pybpf
import pytest
from pybpf.runtime.instantiate import instantiate
from pybpf.toolchain import CompileError, ToolchainError

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "selftests" / "progs" / "kptr.c"
ZERO_SLOTS = bytes(40)  # struct slots: ref, unref, seq, vref, cref


@pytest.fixture(scope="module")
def kptr_obj():
    try:
        return pybpf.compile_and_open(SOURCE, include_dirs=[ROOT / "selftests" / "include"])
    except (ToolchainError, CompileError) as err:  # a clang that drops btf_type_tag cannot build it
        pytest.skip(f"cannot build {SOURCE.name}: {err}")


def _run(inst, name: str) -> int:
    retval = inst.programs[name].run(bytes(64)).retval
    return retval - (1 << 32) if retval >= 1 << 31 else retval


def test_objects_left_in_maps_are_freed_at_teardown(kptr_obj):
    inst = instantiate(kptr_obj.object)
    assert _run(inst, "leave_in_every_map") == 0
    stats = inst.heap.stats()
    assert (stats.alive, stats.live) == (3, {"obj": 3})  # one in the hash, one in the array, one in .bss
    inst.close()
    assert inst.heap.stats().alive == 0 and inst.heap.stats().freed == 3


def test_a_user_space_delete_or_update_frees_the_stored_object(kptr_obj):
    with instantiate(kptr_obj.object) as inst:
        assert _run(inst, "leave_in_every_map") == 0
        assert inst.maps["htab"].delete(bytes(4))  # the hash element holding object 100
        assert inst.heap.stats().alive == 2
        inst.maps["arr"].update(bytes(4), ZERO_SLOTS, 0)  # the array value holding object 101
        assert inst.heap.stats().alive == 1
        assert inst.maps["arr"].lookup(bytes(4)) == ZERO_SLOTS
    assert inst.heap.stats().alive == 0


def test_program_side_delete_and_update_free_the_stored_object(kptr_obj):
    with instantiate(kptr_obj.object) as inst:
        assert _run(inst, "delete_frees") == 0
        assert _run(inst, "update_frees") == -1  # the slot reads empty after the update
        assert inst.heap.stats().alive == 0 and inst.heap.stats().allocated == 2


def test_moving_objects_in_and_out_leaves_nothing_alive(kptr_obj):
    with instantiate(kptr_obj.object) as inst:
        for name, want in (("array_in_out", 7), ("hash_in_out", 11), ("global_in_out", 13),
                           ("swap_out_and_drop", 21), ("refcounted_kptr", 17), ("kptr_in_object", 30)):
            assert _run(inst, name) == want, name
            assert inst.heap.stats().alive == 0, name


def test_an_object_held_by_an_object_is_freed_with_it(kptr_obj):
    with instantiate(kptr_obj.object) as inst:
        assert _run(inst, "kptr_in_object") == 30  # drops a holder whose kptr still holds an obj
        stats = inst.heap.stats()
        assert (stats.alive, stats.allocated) == (0, 3)
