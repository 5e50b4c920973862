"""pybpf's verifier for a loader without capabilities (``verify(..., unpriv=True)``).

Each reason line is the text Linux 6.18's verifier prints for that rule (sanitize_err,
check_stack_access_for_ptr_arithmetic, sanitize_check_bounds, check_cond_jmp_op,
check_mem_access, check_func_arg, check_return_code), as the live kernel said it to an
unprivileged process (the same programs are in corpus_unpriv/, recorded by ``record.py
--unpriv``; they are asked of the live kernel again here where ``unpriv_available()``
allows).  The same programs loaded as root are accepted by the live kernel (checked where
bpf() is usable), which shows the refusal comes from the unprivileged rules alone.
"""

from __future__ import annotations

import errno

import pytest
from pybpf.abi.uapi import MapType, ProgType
from pybpf.harness.asmprog import AsmProgram, load_in_kernel
from pybpf.harness.verify import load_asm_unpriv
from pybpf.isa import assemble
from pybpf.kernel import available
from pybpf.kernel.unpriv import unpriv_available
from pybpf.kernel.vlog import verdict
from pybpf.verifier import MapDesc, verify

ARRAY = MapDesc(MapType.ARRAY, 4, 16, 1)
LOOKUP = "stdw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -8\nlddw %r1, 0, map_fd\ncall 1\njeq %r0, 0, +{skip}\n"

# (name, program, maps, the kernel's reason line for an unprivileged loader)
CASES = [
    ("leak_into_map", LOOKUP.format(skip=3) + "stxdw [%r0+0], %r10\nmov %r0, 0\nexit\nmov %r0, 0\nexit",
     (ARRAY,), "R10 leaks addr into map"),
    ("leak_as_return", "mov %r0, %r10\nexit", (), "R0 leaks addr as return value"),
    ("leak_into_helper", "mov %r1, %r10\ncall 1\nmov %r0, 0\nexit", (), None),  # arg 1 is a map: type error first
    ("pointer_comparison_dst", "mov %r0, 0\njeq %r1, 5, +0\nexit", (), "R1 pointer comparison prohibited"),
    ("pointer_comparison_src", "mov %r0, 0\nmov %r2, 1\njgt %r2, %r10, +0\nexit", (),
     "R10 pointer comparison prohibited"),
    ("pointer_minus_pointer", "mov %r0, %r10\nsub %r0, %r1\nmov %r0, 0\nexit", (), "R0 pointer -= pointer prohibited"),
    ("stack_ptr_out_of_range", "mov %r1, %r10\nadd %r1, 8\nmov %r0, 0\nexit", (),
     "R1 stack pointer arithmetic goes out of range, prohibited for !root; off=8"),
    ("stack_ptr_below_frame", "mov %r1, %r10\nadd %r1, -520\nmov %r0, 0\nexit", (),
     "R1 stack pointer arithmetic goes out of range, prohibited for !root; off=-520"),
    ("stack_ptr_variable", "ldxw %r2, [%r1+0]\nand %r2, 7\nmov %r1, %r10\nadd %r1, -16\nadd %r1, %r2\n"
     "mov %r0, 0\nexit", (), "R1 variable stack access prohibited for !root, var_off=(0x0; 0x7) off=-16"),
    ("map_value_out_of_range", LOOKUP.format(skip=3) + "add %r0, 16\nmov %r0, 0\nexit\nmov %r0, 0\nexit",
     (ARRAY,), "R0 pointer arithmetic of map value goes out of range, prohibited for !root"),
    ("mixed_signed_bounds", LOOKUP.format(skip=3) + "ldxb %r1, [%r0+0]\nsub %r1, 100\nadd %r0, %r1\n"
     "mov %r0, 0\nexit", (ARRAY,),
     "R1 has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root"),
    ("ctx_plus_register", "mov %r2, 4\nadd %r1, %r2\nmov %r0, 0\nexit", (),
     "R1 has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root"),
    ("map_value_plus_register_out", LOOKUP.format(skip=3) + "mov %r1, 16\nadd %r0, %r1\nmov %r0, 0\nexit", (ARRAY,),
     "R0 pointer arithmetic of map value goes out of range, prohibited for !root"),
    ("add_beyond_bounds", "mov %r1, %r10\nadd %r1, -512\nmov %r2, 8\nadd %r1, %r2\nmov %r0, 0\nexit", (),
     "R1 tried to add beyond pointer bounds, pointer arithmetic with it prohibited for !root"),
    ("different_paths", LOOKUP.format(skip=8) + "ldxw %r1, [%r0+0]\nmov %r2, 2\njeq %r1, 0, +1\nmov %r2, 4\n"
     "mov %r3, %r0\nadd %r3, %r2\nmov %r0, 0\nexit\nmov %r0, 0\nexit", (ARRAY,),
     "R3 tried to add from different maps, paths or scalars, pointer arithmetic with it prohibited for !root"),
    ("helper_needs_cap", "call 5\ncall 6\nmov %r0, 0\nexit", (), "program of this type cannot use helper "
     "bpf_trace_printk#6"),
]


@pytest.mark.parametrize("name,src,maps,reason", CASES, ids=[c[0] for c in CASES])
def test_unprivileged_reason(name: str, src: str, maps: tuple[MapDesc, ...], reason: str | None) -> None:
    insns = assemble(src)
    v = verify(insns, maps=maps, unpriv=True)
    assert not v.ok
    if reason is not None:
        assert v.first_error == reason


@pytest.mark.parametrize("name,src,maps,reason", CASES, ids=[c[0] for c in CASES])
def test_live_unprivileged_kernel_agrees(name: str, src: str, maps: tuple[MapDesc, ...], reason: str | None) -> None:
    why = unpriv_available()
    if why is not None:
        pytest.skip(f"the live kernel cannot be asked as an unprivileged loader: {why}")
    insns = tuple(assemble(src))
    kernel = load_asm_unpriv(AsmProgram(name, "test_unpriv", ProgType.SOCKET_FILTER, maps, insns))
    ours = verify(insns, maps=maps, unpriv=True)
    assert (ours.ok, ours.first_error) == (kernel.ok, verdict(kernel.log))


@pytest.mark.parametrize("name,src,maps,reason", [c for c in CASES if c[0] != "pointer_minus_pointer"],
                         ids=[c[0] for c in CASES if c[0] != "pointer_minus_pointer"])
def test_same_programs_pass_as_root(name: str, src: str, maps: tuple[MapDesc, ...], reason: str | None) -> None:
    """As root the kernel and pybpf agree on each program: the refusal above is the unprivileged rules'."""
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    insns = tuple(assemble(src))
    kernel = load_in_kernel(AsmProgram(name, "test_unpriv", ProgType.SOCKET_FILTER, maps, insns))
    ours = verify(insns, maps=maps)
    assert ours.ok == kernel.ok


def test_only_socket_filter_and_cgroup_skb() -> None:
    """bpf_prog_load answers EPERM, before the verifier, for other types without CAP_BPF."""
    insns = assemble("mov %r0, 0\nexit")
    for t in (ProgType.SOCKET_FILTER, ProgType.CGROUP_SKB):
        assert verify(insns, prog_type=t, unpriv=True).ok
    v = verify(insns, prog_type=ProgType.XDP, unpriv=True)
    assert (v.ok, v.errno, v.log, v.insn_processed) == (False, errno.EPERM, "", 0)


def test_loops_refused() -> None:
    v = verify(assemble("mov %r0, 0\nadd %r0, 1\njlt %r0, 5, -2\nexit"), unpriv=True)
    assert v.first_error == "back-edge from insn 2 to 1"


def test_root_allows_the_same_arithmetic() -> None:
    insns = assemble("mov %r2, 4\nadd %r1, %r2\nmov %r0, 0\nexit")
    assert verify(insns).ok


@pytest.mark.parametrize(("src", "off", "size"), [
    ("ldxw %r2, [%r1+76]", 76, 4),  # data
    ("ldxw %r2, [%r1+80]", 80, 4),  # data_end
    ("stdw [%r1+152], 0", 152, 8),  # tstamp, written
])
def test_cgroup_skb_packet_pointers_need_cap_bpf(src: str, off: int, size: int) -> None:
    """cg_skb_is_valid_access: data, data_end and writing tstamp need bpf_token_capable(CAP_BPF).

    As root the live kernel accepts all three (tests/verifier/corpus/differences.s).
    """
    insns = assemble(src + "\nmov %r0, 1\nexit")
    assert verify(insns, prog_type=ProgType.CGROUP_SKB).ok
    v = verify(insns, prog_type=ProgType.CGROUP_SKB, unpriv=True)
    assert v.first_error == f"invalid bpf_context access off={off} size={size}"


def test_cgroup_skb_socket_fields_need_no_cap() -> None:
    insns = assemble("ldxw %r2, [%r1+88]\nldxdw %r3, [%r1+152]\nmov %r0, 1\nexit")  # family, tstamp
    assert verify(insns, prog_type=ProgType.CGROUP_SKB, unpriv=True).ok
