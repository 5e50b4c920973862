"""arm64 atomics as LSE instructions (``Arm64Backend(lse=True)``) and as exclusive loops (the default).

Expectations: the interpreter's results (RFC 9669's atomic semantics, checked
against the kernel in tests/vm), and the instruction choice Linux's arm64 JIT
makes with LSE: st<op> without a fetch (ld<op> into xzr), ld<op>al/swpal/casal
with one, "and" as a "clear" of the inverted operand.
"""

from __future__ import annotations

import pytest
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import OPCODES, AtomicOp, Kind

pytest.importorskip("unicorn")
pytest.importorskip("capstone")

from _arm64 import on_interp, on_jit
from pybpf.jit.arm64 import Arm64Backend

ATOMICS = [s for s in OPCODES if s.kind is Kind.ATOMIC]
# old memory word, src, r0 (cmpxchg's expected value: equal to the old word once, different once)
VALUES = [(0xFFFF_FFFF_8000_0001, 0xFFFF_FFFF_F000_000F, 0xFFFF_FFFF_8000_0001),
          (0x0123_4567_89AB_CDEF, 0x00FF_00FF_00FF_00FF, 0x42)]  # fmt: skip


def _program(spec, old: int, src: int, r0: int) -> list[Insn]:
    """[r10-8] = old; the atomic with src in r1; r0 = r0 ^ r1 * 3 ^ [r10-8] * 5 (every result in r0)."""
    return [*ld_imm64(2, old), Insn(0x7B, 10, 2, -8), *ld_imm64(1, src), *ld_imm64(0, r0),
            Insn(spec.code, 10, 1, -8, spec.op),
            Insn(0xBF, 3, 1), Insn(0x27, 3, 0, 0, 3), Insn(0xAF, 0, 3),
            Insn(0x79, 3, 10, -8), Insn(0x27, 3, 0, 0, 5), Insn(0xAF, 0, 3), Insn(0x95)]  # fmt: skip


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("spec", ATOMICS, ids=lambda s: s.name)
@pytest.mark.parametrize("lse", [False, True], ids=["llsc", "lse"])
def test_atomics_agree_with_the_interpreter(spec, values, lse):
    insns = _program(spec, *values)
    ref = on_interp(insns)
    got = on_jit(insns, backend=Arm64Backend(lse=lse))
    assert ref.fault is None and got.fault is None, (ref.fault, got.fault)
    assert got.r0 == ref.r0


def _mnemonics(lse: bool, spec) -> list[str]:
    import capstone

    backend = Arm64Backend(lse=lse)
    image = backend.compile(_program(spec, *VALUES[0]), helper_ids=[])
    md = capstone.Cs(backend.capstone_arch, backend.capstone_mode)
    return [i.mnemonic for i in md.disasm(image.code[: image.body_end], 0)]


# BPF atomic -> what Linux's arm64 JIT emits for it with LSE (capstone's names; st<op> is ld<op> into xzr)
LSE_CHOICE = {AtomicOp.ADD: "stadd", AtomicOp.AND: "stclr", AtomicOp.OR: "stset", AtomicOp.XOR: "steor",
              AtomicOp.FETCH_ADD: "ldaddal", AtomicOp.FETCH_AND: "ldclral", AtomicOp.FETCH_OR: "ldsetal",
              AtomicOp.FETCH_XOR: "ldeoral", AtomicOp.XCHG: "swpal", AtomicOp.CMPXCHG: "casal"}  # fmt: skip


@pytest.mark.parametrize("spec", ATOMICS, ids=lambda s: s.name)
def test_lse_code_is_one_lse_instruction_and_no_exclusive_loop(spec):
    lse = _mnemonics(True, spec)
    assert LSE_CHOICE[AtomicOp(spec.op)] in lse, (spec.name, lse)
    assert not any(m.startswith(("ldxr", "stxr", "ldaxr", "stlxr")) for m in lse)
    llsc = _mnemonics(False, spec)
    assert any(m.startswith("ldxr") for m in llsc) and any(m.startswith("stxr") for m in llsc)


def test_the_image_says_which_atomics_it_uses():
    spec = ATOMICS[0]
    assert "LSE" in Arm64Backend(lse=True).compile(_program(spec, *VALUES[0]), helper_ids=[]).notes["atomics"]
    assert "ldxr" in Arm64Backend().compile(_program(spec, *VALUES[0]), helper_ids=[]).notes["atomics"]
