"""Programs the assembler cannot write (bad opcodes, bad registers), as raw slots.

The expected verdicts were recorded from Linux 6.18 (the kernel's words); when
``bpf()`` works here the live kernel is asked too.
"""

from __future__ import annotations

import pytest
from pybpf.errors import KernelError
from pybpf.isa.insn import Insn
from pybpf.kernel import available, prog_load
from pybpf.kernel.vlog import verdict
from pybpf.verifier import verify

MOV0, EXIT, BAD = Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0), Insn(0xFF, 0, 0, 0, 0)

# (name, program, errno, first error line) as Linux 6.18 answered
CASES = [
    ("unknown_opcode", [MOV0, BAD, EXIT], 22, "unknown opcode ff"),
    ("bad_last_insn", [MOV0, EXIT, BAD], 22, "last insn is not an exit or jmp"),
    ("lone_ld_imm64_half", [Insn(0x18, 0, 0, 0, 0)], 22, "last insn is not an exit or jmp"),
    ("register_11", [MOV0, Insn(0x07, 11, 0, 0, 1), EXIT], 22, "R11 is invalid"),
]


@pytest.mark.parametrize("name,prog,errno,reason", CASES, ids=[c[0] for c in CASES])
def test_raw_program(name: str, prog: list[Insn], errno: int, reason: str) -> None:
    v = verify(prog)
    assert (v.ok, v.errno, v.first_error) == (False, errno, reason)


@pytest.mark.parametrize("name,prog,errno,reason", CASES, ids=[c[0] for c in CASES])
def test_raw_program_live(name: str, prog: list[Insn], errno: int, reason: str) -> None:
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    with pytest.raises(KernelError) as e:
        prog_load(prog, log_level=1).close()
    assert (e.value.errno, verdict(e.value.log)) == (errno, reason)
