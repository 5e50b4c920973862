"""What the runtime enforces at run time that a verified program could never do, and its own knobs.

Kept pointers to removed values fault, read-only values fault on writes, spin
lock and ring buffer misuse fault, and faults inside callbacks name the
callback's instruction.
"""

from __future__ import annotations

import pytest
from _rt_kernel import u32, u64
from _rt_progs import build
from pybpf.abi.uapi import MapFlags as F
from pybpf.abi.uapi import MapType as T
from pybpf.errors import InputError, VmFault
from pybpf.isa import assemble
from pybpf.isa.insn import ld_imm64
from pybpf.isa.opcodes import Pseudo
from pybpf.runtime import Runtime, SteppingClock

KEY_1 = """
    stw [%r10-4], 1
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
"""

STALE_AFTER_DELETE = (
    KEY_1
    + """
    call 1
    jeq %r0, 0, out
    mov %r6, %r0
"""
    + KEY_1
    + """
    call 3
    ldxdw %r0, [%r6]
out:
    exit
"""
)


def fault_text(rt: Runtime, text: str, callback: str | None = None, **holes) -> str:
    outcome = rt.run(build(text, callback, **holes)[0])
    assert outcome.fault is not None, f"no fault; r0 = {outcome.r0}"
    return str(outcome.fault)


def r0(rt: Runtime, text: str, callback: str | None = None, **holes) -> int:
    outcome = rt.run(build(text, callback, **holes)[0])
    assert outcome.fault is None, str(outcome.fault)
    return outcome.r0


@pytest.mark.parametrize("map_type", [T.HASH, T.LRU_HASH, T.PERCPU_HASH])
def test_stale_pointer_after_delete_faults(rt, map_type):
    m = rt.create_map(map_type, 4, 8, 4)
    m.update_bytes(u32(1), bytes(m.sys_value_size))
    text = fault_text(rt, STALE_AFTER_DELETE, m=m.fd)
    assert "insn 14 (r0 = *(u64 *)(r6 +0))" in text and "has been removed" in text


def test_pointer_survives_update_in_place(rt):
    m = rt.create_map(T.HASH, 4, 8, 4)
    m.update_bytes(u32(1), u64(5))
    region = m.lookup(u32(1))
    m.update_bytes(u32(1), u64(6))
    assert m.lookup(u32(1)) is region and bytes(region.data) == u64(6)


def test_lru_eviction_removes_the_region(rt):
    m = rt.create_map(T.LRU_HASH, 4, 8, 2)
    m.update_bytes(u32(1), u64(1))
    region = m.lookup(u32(1))
    m.update_bytes(u32(2), u64(2))
    m.update_bytes(u32(3), u64(3))  # evicts 1, the least recently used
    assert m.lookup_bytes(u32(1)) is None and region.size == 0
    with pytest.raises(VmFault, match="has been removed"):
        rt.memory.load(region.base, 8)


def test_lru_program_lookup_counts_as_use(rt):
    m = rt.create_map(T.LRU_HASH, 4, 8, 2)
    m.update_bytes(u32(1), u64(1))
    m.update_bytes(u32(2), u64(2))
    m.lookup(u32(1))  # a program's lookup: 2 is now the least recently used
    m.update_bytes(u32(3), u64(3))
    assert sorted(m.keys()) == [u32(1), u32(3)]


def test_read_only_prog_values_fault_on_write(rt):
    m = rt.create_map(T.ARRAY, 4, 16, 4, map_flags=F.RDONLY_PROG)
    text = fault_text(rt, KEY_1 + "call 1\njeq %r0, 0, +1\nstdw [%r0], 1\nmov %r0, 0\nexit", m=m.fd)
    assert "read-only" in text
    update = KEY_1 + "mov %r3, %r10\nadd %r3, -4\nmov %r4, 0\ncall 2\nexit"
    assert "BPF_F_RDONLY_PROG" in fault_text(rt, update, m=m.fd)
    m.update_bytes(u32(0), bytes(16))  # user space still writes until the map is frozen
    m.freeze()
    with pytest.raises(Exception, match="EPERM"):
        m.update_bytes(u32(0), bytes(16))


def test_frozen_map_still_written_by_programs(rt):
    m = rt.create_map(T.ARRAY, 4, 16, 4)
    m.freeze()
    assert r0(rt, KEY_1 + "call 1\njeq %r0, 0, +1\nstdw [%r0], 9\nmov %r0, 0\nexit", m=m.fd) == 0
    assert m.lookup_bytes(u32(1))[:8] == u64(9)


# ---------------------------------------------------------------- spin locks

LOCK = (
    KEY_1
    + """
    call 1
    jeq %r0, 0, out
    mov %r6, %r0
    mov %r1, %r6
    call 93
    ldxw %r7, [%r6]
    {then}
    mov %r0, %r7
out:
    exit
"""
)
UNLOCK_R6 = "mov %r1, %r6\ncall 94"


@pytest.fixture
def locked(rt):
    return rt.create_map(T.ARRAY, 4, 16, 4)


def test_spin_lock_and_unlock(rt, locked):
    assert r0(rt, LOCK, m=locked.fd, then=UNLOCK_R6) == 1  # the word reads 1 while held
    assert locked.lookup_bytes(u32(1))[:4] == u32(0)


@pytest.mark.parametrize(
    ("then", "message"),
    [
        ("mov %r1, %r6\ncall 93", "already held by this program: deadlock"),
        ("mov %r1, %r6\nadd %r1, 4\ncall 93", "while holding the lock"),
        ("mov %r1, %r6\nadd %r1, 8\ncall 94", "but the lock this program holds is at"),
        (UNLOCK_R6 + "\n" + UNLOCK_R6, "holds no lock"),
        ("", "exited holding the bpf_spin_lock"),
    ],
    ids=["relock", "second-lock", "wrong-unlock", "double-unlock", "exit-holding"],
)
def test_spin_lock_misuse_faults(rt, locked, then, message):
    assert message in fault_text(rt, LOCK, m=locked.fd, then=then)
    # the lock was released with the fault: the next run takes it again
    assert r0(rt, LOCK, m=locked.fd, then=UNLOCK_R6) == 1


def test_spin_lock_outside_map_value_faults(rt):
    assert "must be in a map value" in fault_text(rt, "mov %r1, %r10\nadd %r1, -8\ncall 93\nexit")


# ---------------------------------------------------------------- ring buffer

RESERVE = """
    lddw %r1, {rb}, map_fd
    mov %r2, 8
    mov %r3, {flags}
    call 131
    jeq %r0, 0, out
    mov %r6, %r0
    {then}
    mov %r0, 1
out:
    exit
"""


def test_ringbuf_sample_misuse(rt):
    rb = rt.create_map(T.RINGBUF, 0, 0, 4096)
    assert r0(rt, RESERVE, rb=rb.fd, flags=1, then="") == 0  # unknown flags: NULL
    assert "neither submitted nor discarded" in fault_text(rt, RESERVE, rb=rb.fd, flags=0, then="")
    assert rb.reserved == 0 and rb.consume() == []  # discarded for the program: the ring goes on
    submit_twice = "mov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r1, %r6\nmov %r2, 0\ncall 132"
    assert "is not a ring buffer sample" in fault_text(rt, RESERVE, rb=rb.fd, flags=0, then=submit_twice)
    write_after = "mov %r1, %r6\nmov %r2, 0\ncall 132\nstdw [%r6], 1"
    assert "has been removed" in fault_text(rt, RESERVE, rb=rb.fd, flags=0, then=write_after)
    assert rb.consume() == [bytes(8), bytes(8)]


def test_ringbuf_busy_record_stops_the_consumer(rt):
    rb = rt.create_map(T.RINGBUF, 0, 0, 4096)
    first = rb.reserve(8)
    assert rb.output(4, 0, lambda: b"abcd") == 0
    assert rb.consume() == []  # the first record is still being written
    rb.commit(first.base, 0, discard=False)
    assert rb.consume() == [bytes(8), b"abcd"]


# ---------------------------------------------------------------- callbacks and loading

CALL_LOOP = """
    mov %r1, 3
    lddw %r2, 0, func
    mov %r3, 0
    mov %r4, 0
    call 181
    exit
"""


def test_fault_in_callback_names_its_insn(rt):
    text = fault_text(rt, CALL_LOOP, "mov %r0, 0\nldxdw %r0, [%r0]\nexit")
    assert "in a callback" in text and "insn 8" in text and "null pointer" in text


def test_callback_must_be_a_function(rt):
    text = fault_text(rt, "mov %r1, 3\nmov %r2, 12\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit")
    assert "is not a subprogram" in text


def test_direct_value_and_fd_array(rt):
    data = rt.create_map(T.ARRAY, 4, 16, 1, name="rodata")
    data.update_bytes(u32(0), u64(3) + u64(4))
    prog = list(ld_imm64(1, data.fd | 8 << 32, Pseudo.MAP_VALUE)) + assemble("ldxdw %r0, [%r1]\nexit")
    assert rt.run(prog).r0 == 4
    by_index = list(ld_imm64(1, 0, Pseudo.MAP_IDX_VALUE)) + assemble("ldxdw %r0, [%r1]\nexit")
    assert rt.run(rt.load(by_index, fd_array=[data.fd])).r0 == 3
    wide = rt.create_map(T.ARRAY, 4, 16, 2)
    with pytest.raises(VmFault, match="only an ARRAY with max_entries 1"):
        rt.load(list(ld_imm64(1, wide.fd, Pseudo.MAP_VALUE)) + assemble("mov %r0, 0\nexit"))
    with pytest.raises(VmFault, match="fd 999 is not a map"):
        rt.load(list(ld_imm64(1, 999, Pseudo.MAP_FD)) + assemble("mov %r0, 0\nexit"))


def test_helper_needs_a_map(rt):
    text = fault_text(rt, "mov %r1, 5\nmov %r2, %r10\nadd %r2, -4\ncall 1\nexit")
    assert "r1 = 0x5 is not a map" in text


def test_map_in_map_lookup_gives_the_inner_map(rt):
    inner = rt.create_map(T.ARRAY, 4, 8, 2)
    inner.update_bytes(u32(1), u64(77))
    outer = rt.create_map(T.HASH_OF_MAPS, 4, 4, 2, inner_map_fd=inner.fd)
    outer.update_bytes(u32(1), u32(inner.fd))
    text = KEY_1 + "call 1\njeq %r0, 0, out\nmov %r1, %r0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
    text += "jeq %r0, 0, out\nldxdw %r0, [%r0]\nout:\nexit"
    assert r0(rt, text, m=outer.fd) == 77


# ---------------------------------------------------------------- machine helpers


def test_prandom_is_reproducible_with_a_seed():
    def draws(seed):
        rt = Runtime(seed=seed)
        return [rt.run(assemble("call 7\nexit")).r0 for _ in range(3)]

    assert draws(5) == draws(5) != draws(6)
    assert all(v < 1 << 32 for v in draws(5))


def test_ktime_is_monotonic():
    rt = Runtime(clock=SteppingClock(start=1000, step=10))
    assert rt.run(assemble("call 5\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit")).r0 == 10
    real = Runtime()
    assert real.run(assemble("call 125\nmov %r6, %r0\ncall 125\nsub %r0, %r6\nexit")).r0 < 1 << 63


def test_cpu_choice(ncpus):
    rt = Runtime(ncpus=2, cpu=1)
    assert rt.run(assemble("call 8\nexit")).r0 == 1
    assert rt.run(assemble("call 8\nexit"), cpu=0).r0 == 0
    m = rt.create_map(T.PERCPU_HASH, 4, 4, 2)
    update = KEY_1 + "stw [%r10-8], 9\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 2\nexit"
    rt.run(build(update, m=m.fd)[0], cpu=1)
    # a new element from a program on CPU 1: the other CPU's slot starts zeroed
    assert m.lookup_bytes(u32(1)) == u64(0) + u64(9)
    with pytest.raises(InputError):
        rt.run(assemble("call 8\nexit"), cpu=2)


def test_user_space_size_errors(rt):
    m = rt.create_map(T.ARRAY, 4, 8, 2)
    with pytest.raises(InputError, match="4-byte keys"):
        m.lookup_bytes(b"\0")
    with pytest.raises(InputError, match="8-byte values"):
        m.update_bytes(u32(0), b"\0")
