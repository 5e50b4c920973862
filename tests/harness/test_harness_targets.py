"""The Target interface: the registry, the interpreter target, the kernel target and its XDP wrapper."""

from __future__ import annotations

import pytest
from pybpf.errors import DecodeError, InputError, KernelError
from pybpf.harness import progfacts
from pybpf.harness.targets import TARGETS, InterpTarget, KernelTarget, Target, make_target
from pybpf.harness.targets.kernel import ETH_HLEN, wrapper
from pybpf.isa import Insn, assemble, decode_program


def asm(text: str) -> list[Insn]:
    return assemble(text)


def run(target: Target, insns: list[Insn], data: bytes = b""):
    loaded = target.load(insns, cpu=4, data_len=len(data))
    try:
        return target.run(loaded, data)
    finally:
        target.close(loaded)


# ---------------------------------------------------------------- registry and static facts


def test_registry_is_data_and_unknown_names_list_the_choices():
    assert list(TARGETS) == ["interp", "pyjit", "jit-x86_64", "jit-arm64", "jit-s390x", "jit-x86_64-native", "kernel"]
    assert isinstance(make_target("interp"), InterpTarget)
    with pytest.raises(InputError, match=r"unknown target 'jit': choose from interp, pyjit, jit-x86_64"):
        make_target("jit")


def test_isa_need_names_the_first_instruction_of_the_highest_level():
    need = progfacts.isa_need(asm("lddw %r0, 1\njeq32 %r0, 1, +0\nsdiv %r0, 1\nbswap16 %r0\nexit"))
    assert (need.level, need.pc, need.name) == (4, 3, "sdiv")
    assert progfacts.isa_need(asm("mov %r0, 1\nexit")).describe() == "v1"


def test_call_depth_and_recursion():
    two = asm("call local f\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, 0\nexit")
    assert progfacts.subprog_starts(two) == [0, 2, 4]
    assert progfacts.call_depth(two) == 3
    assert progfacts.call_depth(asm("mov %r0, 0\nexit")) == 1
    assert progfacts.call_depth(asm("call local f\nexit\nf:\ncall local f\nexit")) is None


# ---------------------------------------------------------------- the interpreter


def test_interp_passes_mem_in_r1_and_its_length_in_r2():
    interp = InterpTarget()
    assert run(interp, asm("mov %r0, %r2\nexit"), b"\x01\x02\x03").r0 == 3
    assert run(interp, asm("ldxb %r0, [%r1+2]\nexit"), b"\x01\x02\x03").r0 == 3
    assert run(interp, asm("mov %r0, %r1\nexit")).r0 == 0  # no mem: r1 = 0
    outcome = run(interp, asm("mov %r0, 7\nexit"))
    assert outcome.insns_executed == 2 and outcome.duration_ns is not None


def test_interp_validates_before_running_and_reports_faults_as_outcomes():
    with pytest.raises(DecodeError, match="unused field dst is 1"):
        InterpTarget().load(decode_program(bytes.fromhex("9501000000000000")), cpu=4)
    with pytest.raises(DecodeError):
        InterpTarget().load(asm("mov %r0, 0\njeq32 %r0, 0, +0\nexit"), cpu=2)  # v3 instruction at v2
    outcome = run(InterpTarget(), asm("ldxb %r0, [%r1+8]\nexit"), b"\x00")
    assert outcome.r0 is None and outcome.error


def test_interp_budget_stops_endless_loops():
    outcome = run(InterpTarget(budget=1000), asm("mov %r0, 0\nloop:\nja loop\nexit"))
    assert outcome.r0 is None and "budget" in (outcome.error or "")


# ---------------------------------------------------------------- the kernel: static part


def test_wrapper_layout_with_and_without_mem():
    with_mem = wrapper(5, 3)
    assert len(with_mem) == 14
    assert with_mem[4].code == 0x2D and with_mem[4].off == 14 - 2 - 4 - 1  # if r3 > r2 goto bad
    assert with_mem[5] == Insn(0xB7, 2, 0, 0, 5)  # r2 = the unpadded length
    assert with_mem[6].code == 0x85 and with_mem[6].src == 1 and 6 + 1 + with_mem[6].imm == 14  # call test
    assert with_mem[7].src == 2 and with_mem[7].imm == 3  # r1 = &map[0] (BPF_PSEUDO_MAP_VALUE)
    without = wrapper(0, 3)
    assert without[:2] == [Insn(0xB7, 1), Insn(0xB7, 2)]  # r1 = 0, r2 = 0
    assert len(without) == 8  # no bounds check and no unreachable "bad" block


@pytest.mark.parametrize(("text", "reason"), [
    ("mov %r1, 1\ncall 5\nexit", "call 5: the conformance suite's helpers (5 = unwind) are not kernel helpers"),
    ("mov %r2, 5\ncallx %r2\nexit", "callx: the kernel has no indirect calls (insn 1)"),
    ("mov %r0, 1\nlsh32 %r0, 32\nexit", "lsh32 by immediate 32: the verifier refuses immediate shift counts "
                                        "outside 0..31 (RFC 9669 masks them) (insn 1)"),
    ("mov %r0, 1\narsh %r0, -1\nexit", "arsh by immediate -1: "),
    ("ldabsb 0\nexit", "ldabs: legacy packet loads need a socket buffer"),
    ("mov %r0, 1\nmod32 %r0, 0\nexit", "mod32 by immediate 0: the verifier refuses it (\"div by zero\")"),
    ("mov %r0, 1\nsdiv %r0, 0\nexit", "RFC 9669 defines the result (insn 1)"),
])
def test_kernel_cannot_express(text, reason):
    got = KernelTarget().cannot_express(asm(text))
    assert got is not None and reason in got


def test_kernel_cannot_express_pseudo_imm64_and_deep_calls():
    pseudo = decode_program(bytes.fromhex("1811000003000000" "0000000000000000" "9500000000000000"))
    assert "ld_imm64 src=1 (BPF_PSEUDO_MAP_FD): names a kernel object" in (KernelTarget().cannot_express(pseudo) or "")
    chain = "\n".join(["call local f1", "exit"] + [f"f{k}:\ncall local f{k + 1}\nexit" for k in range(1, 7)] +
                      ["f7:\nmov %r0, 0\nexit"])
    assert progfacts.call_depth(asm(chain)) == 8
    assert "calls nest 8 frames deep; with the XDP wrapper's frame that is 9" in \
        (KernelTarget().cannot_express(asm(chain)) or "")


def test_kernel_leaves_plain_and_malformed_programs_to_the_verifier():
    assert KernelTarget().cannot_express(asm("mov %r0, 1\nlsh32 %r0, 31\nexit")) is None
    # "call" with dst set is no valid helper call: the verifier, not a skip, must refuse it
    assert KernelTarget().cannot_express(decode_program(bytes.fromhex("8501000000000000" "9500000000000000"))) is None


# ---------------------------------------------------------------- the kernel: live


@pytest.mark.kernel
@pytest.mark.usefixtures("live")
class TestLiveKernel:
    def test_r1_r2_and_the_invisible_padding(self):
        kernel = KernelTarget()
        assert run(kernel, asm("mov %r0, %r2\nexit"), b"\x01\x02\x03").r0 == 3  # not the padded 14
        assert run(kernel, asm("ldxb %r0, [%r1+2]\nexit"), b"\x01\x02\x03").r0 == 3
        assert run(kernel, asm("mov %r0, %r1\nexit")).r0 == 0
        assert run(kernel, asm("mov %r0, %r2\nexit"), bytes(ETH_HLEN + 3)).r0 == ETH_HLEN + 3

    def test_r0_keeps_all_64_bits(self):
        assert run(KernelTarget(), asm("lddw %r0, 0x8000000100000002\nexit")).r0 == 0x8000000100000002

    def test_reads_past_the_mem_are_refused_though_the_packet_is_padded(self):
        with pytest.raises(KernelError) as info:
            KernelTarget().load(asm("ldxb %r0, [%r1+3]\nexit"), cpu=4, data_len=3)
        assert str(info.value) == "verifier: R1 offset is outside of the packet (at test insn 0)"

    def test_rejection_in_the_wrapper_is_named(self):
        with pytest.raises(KernelError, match=r"^verifier: R0 !read_ok \(in the XDP wrapper\)$"):
            KernelTarget().load(asm("exit"), cpu=4)

    def test_another_length_reloads(self):
        kernel = KernelTarget()
        loaded = kernel.load(asm("mov %r0, %r2\nexit"), cpu=4, data_len=4)
        try:
            assert kernel.run(loaded, bytes(4)).r0 == 4
            assert kernel.run(loaded, bytes(40)).r0 == 40
            assert kernel.run(loaded, b"").r0 == 0
        finally:
            kernel.close(loaded)

    def test_repeat_reports_a_duration(self):
        outcome = KernelTarget().run(KernelTarget().load(asm("mov %r0, 1\nexit"), cpu=4), b"", repeat=100)
        assert outcome.r0 == 1 and outcome.duration_ns is not None and outcome.insns_executed is None

    def test_input_longer_than_an_xdp_test_packet_is_an_error(self):
        outcome = run(KernelTarget(), asm("mov %r0, 0\nexit"), bytes(8192))
        assert outcome.r0 is None and "XDP test packet holds about 3.5 KiB" in (outcome.error or "")
