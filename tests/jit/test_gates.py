"""kfunc calls and legacy packet loads (ld_abs/ld_ind) on every execution tier.

The expectations are the kernel's semantics, which the interpreter implements
(``tests/runtime/test_heap_lists.py`` checks those against the kernel's linked
list selftests): ``bpf_list_push_back_impl`` returns 0, the list is FIFO, pop
of an empty list returns NULL; ld_abs/ld_ind load big-endian (network order)
from the packet and end the program with r0 = 0 outside it.  Every tier must
give the interpreter's r0, fault and instruction count.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
from _helpers.list_progs import POP, PUSH
from pybpf.abi import LINUX_6_18
from pybpf.abi.uapi import MapType
from pybpf.btf.load import load
from pybpf.btf.uapi import Kind
from pybpf.isa import assemble
from pybpf.isa.insn import Insn
from pybpf.jit.tiers import executor_factory
from pybpf.runtime import Runtime
from pybpf.runtime.heap import Heap
from pybpf.runtime.kfuncs import KfuncResolver, kfunc_table, numbered
from pybpf.toolchain import compile_bpf
from pybpf.vm.helpers import Helper, HelperTable
from pybpf.vm.interp import Interpreter
from pybpf.vm.memory import Memory, RegionKind

pytest.importorskip("unicorn")

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
TYPES = """
#include <linux/bpf.h>
#include "bpf_experimental.h"
struct foo { struct bpf_list_node node; int data; };
struct map_value { struct bpf_spin_lock lock; int count; struct bpf_list_head head __contains(foo, node); };
int keep(struct map_value *v, struct foo *f) { return 0; }
"""
TIERS = ["interp", "pyjit", "x86_64", "arm64", "s390x"]


def factory(tier: str):
    if tier in ("interp", "pyjit"):
        return executor_factory(tier)
    return executor_factory("jit", tier, count_insns=True)


# ---------------------------------------------------------------- kfuncs: a list of local kptrs


@pytest.fixture(scope="module")
def btf(tmp_path_factory):
    src = tmp_path_factory.mktemp("gates") / "types.c"
    src.write_text(TYPES)
    return load(compile_bpf(src, include_dirs=[INCLUDE], output=src.with_suffix(".o"), cache=None))


def run_lists(btf, tier: str) -> tuple[list[tuple[int | None, int | None]], int]:
    """push 1, 2, 3 then pop four times: each run's (r0, instructions), and the objects left alive."""
    rt = Runtime(seed=1, executor=factory(tier))
    heap = Heap(rt.memory, btf)
    value_type = btf.find("map_value", Kind.STRUCT)
    lists = rt.create_map(MapType.ARRAY, 4, btf.size_of(value_type), 1, name="lists")
    ids = numbered(LINUX_6_18)
    resolver = KfuncResolver(kfunc_table(LINUX_6_18, rt.env, heap), ids)
    holes = {name: i for i, name in ids.items()} | {"m": lists.fd, "foo": btf.find("foo", Kind.STRUCT)}
    push = rt.load(assemble(PUSH.format(**holes)), resolve_kfunc=resolver)
    pop = rt.load(assemble(POP.format(**holes)), resolve_kfunc=resolver)
    results = []
    for prog, arg in [(push, 1), (push, 2), (push, 3), (pop, 0), (pop, 0), (pop, 0), (pop, 0)]:
        outcome = rt.run(prog, args=(arg,))
        assert outcome.fault is None, outcome.fault
        results.append((outcome.r0, outcome.insns_executed))
    return results, len(heap.alive())


@pytest.mark.parametrize("tier", TIERS)
def test_linked_list_kfuncs_run_as_on_the_interpreter(btf, tier):
    results, alive = run_lists(btf, tier)
    assert [r0 for r0, _ in results] == [0, 0, 0, 1, 2, 3, 0xFFFF_FFFF_FFFF_FFFF]  # FIFO, then NULL
    assert alive == 0
    if tier != "interp":
        assert results == run_lists(btf, "interp")[0]  # the counts too


@pytest.mark.parametrize("tier", TIERS[1:])
def test_unknown_kfunc_is_refused_at_load_as_by_the_interpreter(btf, tier):
    resolver = KfuncResolver({}, {})
    insns = assemble("call kfunc 77\nexit")
    with pytest.raises(Exception) as interp:
        Runtime(executor=Interpreter).load(insns, resolve_kfunc=resolver)
    with pytest.raises(type(interp.value)) as other:
        Runtime(executor=factory(tier)).load(insns, resolve_kfunc=resolver)
    assert "BTF id 77" in str(other.value) and "insn 0" in str(other.value)


def test_call_by_number_cannot_reach_an_executor_gate():
    """ids the executors keep for kfuncs and packet loads stay unknown helpers to a program."""
    from pybpf.jit.common.backend import LD_PACKET_GATES

    gate = LD_PACKET_GATES[4]
    for tier in TIERS:
        outcome = Runtime(executor=factory(tier)).run(assemble(f"call {gate}\nexit"))
        assert outcome.fault is not None and f"unknown helper {gate}" in str(outcome.fault), tier
        outcome = Runtime(executor=factory(tier)).run(assemble(f"mov %r2, {gate}\ncallx %r2\nexit"))
        assert outcome.fault is not None and f"{gate:#x} is not a known helper id" in str(outcome.fault), tier


# ---------------------------------------------------------------- ld_abs / ld_ind

PACKET = bytes(range(0x10, 0x50))  # 64 bytes


def ld_program(code: int, src: int, imm: int, reg_value: int) -> list[Insn]:
    """r6 = r1 (ctx, as the kernel requires), src = reg_value, r0 = the load, r0 += 1 (ran on)."""
    return [*assemble(f"mov %r6, %r1\nmov %r{src}, {reg_value}"), Insn(code, 0, src, 0, imm),
            *assemble("add %r0, 1\nexit")]  # fmt: skip


def run_tier(tier: str, insns: list[Insn], packet: bytes = PACKET):
    rt = Runtime(executor=factory(tier))
    return rt.run(insns, data=packet)


def seen(outcome) -> tuple[int | None, str | None, int | None]:
    """What must agree between tiers: r0, the fault's text, the instruction count."""
    return outcome.r0, None if outcome.fault is None else str(outcome.fault), outcome.insns_executed


LOADS = [
    # (code, src, imm, src value): ld_abs w/h/b, ld_ind w/h/b with in-bounds, edge and outside offsets
    (0x20, 0, 0, 0), (0x28, 0, 6, 0), (0x30, 0, 63, 0), (0x20, 0, 60, 0), (0x20, 0, 61, 0), (0x30, 0, 64, 0),
    (0x20, 0, -1, 0), (0x40, 7, 2, 8), (0x48, 3, -2, 10), (0x50, 9, 0, 63), (0x40, 7, 0, 61),
    (0x40, 7, 4, -4), (0x40, 7, 4, -5), (0x50, 1, 3, 4), (0x48, 0, 1, 1), (0x40, 8, 1, -1), (0x40, 8, 2, 0x7FFF_FFFF),
]  # fmt: skip


@pytest.mark.parametrize("tier", TIERS[1:])
@pytest.mark.parametrize("load", LOADS, ids=lambda t: f"{t[0]:#x}-r{t[1]}-{t[2]}-{t[3]}")
def test_ld_abs_and_ld_ind_as_on_the_interpreter(tier, load):
    insns = ld_program(*load)
    expected = run_tier("interp", insns)
    got = run_tier(tier, insns)
    assert seen(got) == seen(expected)


def test_ld_abs_values_are_network_order():
    """the interpreter itself: a word at 0 of 10 11 12 13 is 0x10111213, +1 by the program; outside: r0 = 0."""
    assert run_tier("interp", ld_program(0x20, 0, 0, 0)).r0 == 0x10111214
    assert run_tier("interp", ld_program(0x28, 0, 62, 0)).r0 == 0x4E4F + 1
    assert run_tier("interp", ld_program(0x20, 0, 61, 0)).r0 == 0  # the program ended: no +1


# ---------------------------------------------------------------- native x86_64


def _twice(ctx, r1, r2, r3, r4, r5) -> int:
    return r1 * 2 + r2


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="native runs need an x86_64 host")
def test_native_x86_runs_kfuncs_and_packet_loads():
    from pybpf.jit.common.native import NativeProgram
    from pybpf.jit.x86_64 import X86Backend

    kfunc = Helper(0, "twice_plus", _twice, 2)
    resolver = KfuncResolver({"twice_plus": kfunc}, {4242: "twice_plus"})
    insns = assemble("mov %r1, 20\nmov %r2, 3\ncall kfunc 4242\nexit")
    expected = Interpreter(insns, resolve_kfunc=resolver).run(Memory())
    native = NativeProgram(X86Backend(), insns, trusted=True, resolve_kfunc=resolver, count_insns=True)
    got = native.run(Memory())
    assert seen(got) == (43, None, expected.insns_executed)

    for case in LOADS:
        insns = ld_program(*case)
        memory = Memory()
        memory.add(RegionKind.PACKET, bytearray(PACKET))
        expected = Interpreter(insns).run(memory, (0,))
        got = NativeProgram(X86Backend(), insns, trusted=True, count_insns=True).run(memory, (0,))
        assert seen(got) == seen(expected)


def test_helpers_on_reserved_ids_are_refused():
    from pybpf.errors import InputError
    from pybpf.jit.common.backend import FIRST_INTERNAL
    from pybpf.jit.common.gates import route

    table = HelperTable()
    table.register(FIRST_INTERNAL, "mine", _twice)
    with pytest.raises(InputError, match="keeps for itself"):
        route(assemble("exit"), table)


@pytest.mark.parametrize("arch", ["x86_64", "arm64", "s390x"])
def test_objdump_jited_lists_kfunc_programs(capsys, arch):
    """``pybpf objdump --jited`` compiles programs that call kfuncs: each call is a gate call of the arch."""
    from pybpf.cli.main import main
    from pybpf.harness.selftest import build

    source = INCLUDE.parent / "progs" / "linked_list.c"
    includes = build.default_include_dirs(source)
    vmlinux = build.vmlinux_h_dir(Path("/sys/kernel/btf/vmlinux")) if build.needs_vmlinux_h(source, includes) else None
    obj = build.compile_source(source, includes, vmlinux_dir=vmlinux).object
    assert main(["objdump", str(obj), "--jited", "--arch", arch]) == 0
    out = capsys.readouterr().out
    assert "not compiled" not in out
    assert "call kernel-function" in out or "kfunc" in out
    assert {"x86_64": "call", "arm64": "blr", "s390x": "basr"}[arch] in out
