"""bpf_timer_init/set_callback/start/cancel as Linux 6.18 checks them.

The timer lives in a map value whose BTF declares ``struct bpf_timer`` (``struct timed``
of ``_special_maps``: at offset 8).  ``bpf_timer_set_callback``'s callback is verified
asynchronously: a state of its own whose frame 0 gets ``(map, key, value)`` and must
return 0.  Each expected reason line is 6.18's; where ``bpf()`` works the live kernel
judges every program too and its whole level-2 log must be pybpf's.
"""

from __future__ import annotations

import re
import struct

import pytest
from _special_maps import TYPES, MapDef, descs, lookup, types_btf
from pybpf.abi.uapi import ProgType
from pybpf.btf.uapi import Kind
from pybpf.btf.write import write
from pybpf.errors import KernelError
from pybpf.harness.asmprog import func_btf, subprog_starts, with_map_fds
from pybpf.isa.asmsyntax import assemble
from pybpf.verifier import verify

assert "struct bpf_timer timer" in TYPES
TIMED = [MapDef("timed", "timed")]
PLAIN = [MapDef("plain", "plain")]
TWO = [MapDef("timed", "timed"), MapDef("timed2", "timed")]
OUT = "out:\nmov %r0, 0\nexit\n"
VALUE = lookup(dst=6) + "jeq %r0, 0, out\n"  # r6: the map value holding the timer at +8


def timer_call(helper: int, *args: str) -> str:
    """r1 = &value->timer, then the other arguments, then the call."""
    return "mov %r1, %r6\nadd %r1, 8\n" + "".join(a + "\n" for a in args) + f"call {helper}\n"


INIT = timer_call(169, "lddw %r2, 0, map_fd", "mov %r3, 1")  # CLOCK_MONOTONIC


def set_callback(offset: int) -> str:
    """bpf_timer_set_callback with the callback ``offset`` slots after the ld_imm64 (its imm)."""
    return timer_call(170, f"lddw %r2, {offset}, func")


START = timer_call(171, "mov %r2, 0", "mov %r3, 0")
CANCEL = timer_call(172)
CB_OK = "mov %r0, 0\nexit\n"
_MAP_LOAD = re.compile(r"\(18\) (r\d+) = 0x[0-9a-f]+(\s*;|$)")


def normalise(log: str) -> list[str]:
    """A map's ld_imm64 shows the kernel's map address, which pybpf cannot know."""
    return [_MAP_LOAD.sub(r"(18) \1 = <imm64>", ln) for ln in log.splitlines()]

# (name, maps, program text with {cb} for the set_callback offset, expected reason or "" for accepted)
CASES = [
    ("init_start_cancel", TIMED, VALUE + INIT + START + CANCEL + OUT, ""),
    ("init_set_callback_start", TIMED, VALUE + INIT + "{set}" + START + OUT + CB_OK, ""),
    ("callback_reads_value", TIMED, VALUE + INIT + "{set}" + OUT
     + "ldxdw %r0, [%r3+0]\nldxw %r4, [%r2+0]\nmov %r0, 0\nexit\n", ""),
    ("callback_returns_1", TIMED, VALUE + INIT + "{set}" + OUT + "mov %r0, 1\nexit\n",
     "At async callback return the register R0 has smin=1 smax=1 should have been in [0, 0]"),
    ("callback_returns_ptr", TIMED, VALUE + INIT + "{set}" + OUT + "mov %r0, %r3\nexit\n",
     "At async callback return the register R0 is not a known value (map_value)"),
    ("callback_no_r0", TIMED, VALUE + INIT + "{set}" + OUT + "exit\n", "R0 !read_ok"),
    ("callback_value_oob", TIMED, VALUE + INIT + "{set}" + OUT + "ldxdw %r0, [%r3+24]\nmov %r0, 0\nexit\n",
     "R3 min value is outside of the allowed memory range"),
    ("callback_key_write", TIMED, VALUE + INIT + "{set}" + OUT + "stw [%r2+0], 1\nmov %r0, 0\nexit\n",
     "write to change key R2 not allowed"),
    ("callback_r4_unset", TIMED, VALUE + INIT + "{set}" + OUT + "mov %r0, %r4\nexit\n", "R4 !read_ok"),
    ("timer_wrong_offset", TIMED, VALUE + "mov %r1, %r6\ncall 172\n" + OUT,
     "off 0 doesn't point to 'struct bpf_timer' that is at 8"),
    ("timer_on_stack", TIMED, "mov %r1, %r10\nadd %r1, -16\ncall 172\n" + OUT.replace("out:\n", ""),
     "R1 type=fp expected=map_value"),
    ("no_timer_in_value", PLAIN, VALUE + "mov %r1, %r6\ncall 172\n" + OUT, "map 'plain' has no valid bpf_timer"),
    ("init_other_map", TWO, VALUE + timer_call(169, "lddw %r2, 1, map_fd", "mov %r3, 1") + OUT,
     "timer pointer in R1 map_uid=0 doesn't match map pointer in R2 map_uid=0"),
    ("callback_not_func", TIMED, VALUE + timer_call(170, "mov %r2, 0") + OUT, "R2 type=scalar expected=func"),
    ("timer_var_offset", TIMED, VALUE + "call 7\nand %r0, 8\nmov %r1, %r6\nadd %r1, %r0\ncall 172\n" + OUT,
     "R1 doesn't have constant offset. bpf_timer has to be at the constant offset"),
]


def program(text: str) -> str:
    """Fill ``{set}``: the callback is what follows the first ``exit`` after ``out:``."""
    if "{set}" not in text:
        return text
    probe = assemble(text.replace("{set}", set_callback(0)))
    lddw = next(i for i, ins in enumerate(probe) if ins.code == 0x18 and ins.src == 4)
    out_exit = next(i for i in range(len(probe)) if probe[i].code == 0x95 and i > lddw)
    return text.replace("{set}", set_callback(out_exit + 1 - (lddw + 1)))


@pytest.fixture(scope="module")
def btf(tmp_path_factory):
    return types_btf(tmp_path_factory.mktemp("timers"))


def pybpf_verdict(btf, maps, asm: str, level: int = 2):
    return verify(assemble(program(asm)), prog_type=ProgType.SCHED_CLS, maps=descs(btf, maps), log_level=level,
                  func_info=True)


def kernel_verdict(btf, maps, asm: str, level: int = 2) -> tuple[bool, int, str]:
    from pybpf.kernel import btf_load, map_create, prog_load

    insns = assemble(program(asm))
    fds = []
    with btf_load(write(btf), log_level=0) as btf_fd:
        try:
            for m in maps:
                vid = btf.find(m.value, Kind.STRUCT)
                fds.append(map_create(m.map_type, 4, btf.size_of(vid), m.max_entries, name=m.name, btf_fd=btf_fd,
                                      btf_key_type_id=btf.find("int"), btf_value_type_id=vid))
            starts = [s for s in subprog_starts(insns) if 0 <= s < len(insns)]
            fds.append(btf_load(func_btf(len(starts))))
            info = b"".join(struct.pack("<II", s, 3 + i) for i, s in enumerate(starts))
            try:
                with prog_load(with_map_fds(insns, [int(f) for f in fds[:len(maps)]]), prog_type=ProgType.SCHED_CLS,
                               log_level=level, prog_btf_fd=fds[-1], func_info_rec_size=8, func_info=info) as p:
                    return True, 0, p.log
            except KernelError as err:
                return False, err.errno or 0, err.log or ""
        finally:
            for f in fds:
                f.close()


@pytest.mark.parametrize(("name", "maps", "asm", "expected"), CASES, ids=[c[0] for c in CASES])
def test_timer_expectation(btf, name, maps, asm, expected) -> None:
    v = pybpf_verdict(btf, maps, asm)
    assert (v.ok, v.first_error) == (not expected, expected), v.log


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "maps", "asm", "expected"), CASES, ids=[c[0] for c in CASES])
def test_timer_log_is_the_kernels(live, btf, name, maps, asm, expected) -> None:
    ok, err, log = kernel_verdict(btf, maps, asm)
    v = pybpf_verdict(btf, maps, asm)
    assert (v.ok, v.errno) == (ok, err), log
    assert normalise(v.log) == normalise(log)


def test_async_callback_state_line(btf) -> None:
    """The callback's state: frame 0 of its own, (map, key, value) of the timer's map, marked async_cb."""
    v = pybpf_verdict(btf, TIMED, CASES[1][2])
    assert v.ok, v.log
    assert any(line.endswith("R1=map_ptr(map=timed,ks=4,vs=24) R2=map_key(map=timed,ks=4,vs=24) "
                             "R3=map_value(map=timed,ks=4,vs=24) R10=fp0 async_cb") for line in v.log.splitlines())
