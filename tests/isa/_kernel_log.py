"""The live verifier's own disassembly, for the differential tests of ``isa.disasm``.

Loads go through ``pybpf.kernel.prog_load`` at log level 2.  Two places of that
log print instructions: the "Live regs before insn:" listing, one line per
instruction of the whole program (printed after the CFG checks, so even a
program the verifier later refuses gets one), and the trace of ``do_check``
(``N: (xx) text ; register state``), for the paths it explored.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence

from pybpf.errors import KernelError
from pybpf.isa import Insn

SOCKET_FILTER = 1  # BPF_PROG_TYPE_SOCKET_FILTER

_LISTING = re.compile(r"^\s+(\d+): [.0-9]+ (\([0-9a-f]{2}\) .*)$")
_TRACE = re.compile(r"^(\d+): (\([0-9a-f]{2}\) .*?)(?:\s+; .*)?$")


def verifier_log(insns: Sequence[Insn], prog_type: int = SOCKET_FILTER) -> tuple[bool, str]:
    """(accepted, log) of loading ``insns`` with log level 2 (tests using it take the ``live`` fixture)."""
    from pybpf.kernel import prog_load  # imported late: collection must not need the bpf(2) wrapper

    try:
        with prog_load(insns, prog_type=prog_type, log_level=2) as prog:
            return True, prog.log
    except KernelError as err:
        return False, err.log


def listing(log: str) -> dict[int, str]:
    """pc -> ``pc: (xx) text`` from the live-registers listing."""
    return {int(m[1]): f"{m[1]}: {m[2]}" for m in map(_LISTING.match, log.splitlines()) if m}


def trace(log: str) -> list[str]:
    """The ``pc: (xx) text`` lines of the verifier's walk, register state stripped."""
    return [f"{m[1]}: {m[2]}" for m in map(_TRACE.match, log.splitlines()) if m]


def bpftool() -> str | None:
    return shutil.which("bpftool")


def vmlinux_func_ids(names: set[str]) -> dict[str, int]:
    """BTF ids of kernel functions, from ``bpftool btf dump`` of the running kernel."""
    out = subprocess.run([bpftool() or "bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"],
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for m in re.finditer(r"^\[(\d+)\] FUNC '([^']+)'", out, re.MULTILINE):
        if m[2] in names:
            found[m[2]] = int(m[1])
    return found


def xlated_dump(prog_id: int) -> list[tuple[str, bytes]]:
    """``bpftool prog dump xlated id N opcodes``: (``pc: (xx) text``, the instruction's bytes) per line."""
    out = subprocess.run([bpftool() or "bpftool", "prog", "dump", "xlated", "id", str(prog_id), "opcodes"],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    pairs = zip(lines[::2], lines[1::2], strict=True)
    return [(text.strip(), bytes.fromhex(raw.replace(" ", ""))) for text, raw in pairs]
