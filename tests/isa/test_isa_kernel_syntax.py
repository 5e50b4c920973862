"""Differential: ``isa.disasm`` against the live kernel's verifier log and ``bpftool prog dump xlated``."""

from __future__ import annotations

import pytest
from _isa_rows import EXIT, ROWS, row_id, sample
from _kernel_log import bpftool, listing, trace, verifier_log, vmlinux_func_ids, xlated_dump
from pybpf.isa import BPFTOOL, Insn, Symbols, decode_program, disassemble, format_insn_line, ld_imm64
from pybpf.isa.opcodes import Kind, Pseudo

# Forms a straight-line program cannot hold or the kernel cannot print: calls get their own test;
# callx is refused by the kernel before anything is printed ("unknown opcode 8d").
_SEPARATE = frozenset({Kind.CALL_LOCAL, Kind.CALL_KFUNC, Kind.CALLX, Kind.EXIT})


def _all_rows_program() -> tuple[list[Insn], dict[int, str]]:
    """Every row twice (different operands), jumps to the next slot, then exit; pc -> row name."""
    prog: list[Insn] = []
    names = {}
    for n, spec in enumerate(s for s in ROWS if s.kind not in _SEPARATE):
        for variant in (2 * n, 2 * n + 1):
            names[len(prog)] = row_id(spec)
            prog.extend(sample(spec, variant))
    names[len(prog)] = "exit"
    prog.append(EXIT)
    return prog, names


def _compare(prog, kernel_lines: dict[int, str], symbols: Symbols | None = None) -> int:
    ours = disassemble(prog, symbols) if symbols else disassemble(prog)
    mismatches = [(line, kernel_lines.get(int(line.split(":")[0]))) for line in ours]
    mismatches = [(a, b) for a, b in mismatches if a != b]
    assert not mismatches, "\n".join(f"ours:   {a}\nkernel: {b}" for a, b in mismatches)
    return len(ours)


def test_every_table_row_prints_as_the_verifier_prints_it(live):
    prog, names = _all_rows_program()
    _, log = verifier_log(prog)
    kernel = listing(log)
    assert kernel, f"no instruction listing in the verifier log:\n{log[-2000:]}"
    assert _compare(prog, kernel) == len(kernel)
    forms = set(names.values())
    assert len(forms) >= 160, sorted(forms)


def test_calls_print_as_the_verifier_prints_them(live):
    if bpftool() is None:
        pytest.skip("bpftool not installed: cannot look up a kfunc's BTF id")
    kfunc_id = vmlinux_func_ids({"bpf_rcu_read_lock"})["bpf_rcu_read_lock"]
    prog = [
        Insn(0x85, imm=5),  # bpf_ktime_get_ns
        Insn(0x85, imm=1),  # bpf_map_lookup_elem
        Insn(0x85, imm=999),  # no such helper
        Insn(0x85, imm=-1),
        Insn(0x85, src=2, imm=kfunc_id),
        *ld_imm64(3, 6, Pseudo.FUNC),  # address of the subprogram at 12
        Insn(0x85, src=1, imm=2),  # call the subprogram at 10
        Insn(0xB7),
        EXIT,
        Insn(0xB7, imm=1),  # 10
        EXIT,
        Insn(0xB7, imm=2),  # 12
        EXIT,
    ]
    _, log = verifier_log(prog)
    kernel = listing(log)
    assert kernel, f"no instruction listing in the verifier log:\n{log[-2000:]}"
    names = Symbols(kfunc=lambda insn: "bpf_rcu_read_lock" if insn.imm == kfunc_id else None)
    assert _compare(prog, kernel, names) == len(kernel)
    assert kernel[4] == f"4: (85) call bpf_rcu_read_lock#{kfunc_id}"


def test_trace_of_an_accepted_program(live):
    prog = [
        Insn(0xB7, 0, 0, 0, 0), Insn(0xB7, 1, 0, 0, -5), Insn(0x07, 1, 0, 0, 0x7FFFFFFF), Insn(0x04, 1, 0, 0, -1),
        Insn(0x15, 1, 0, 1, -1), Insn(0x25, 1, 0, 1, 7), Insn(0x16, 1, 0, 0, -2), Insn(0x7B, 10, 1, -8, 0),
        Insn(0x62, 10, 0, -8, -3), Insn(0x79, 0, 10, -8, 0), Insn(0xDB, 10, 1, -8, 0), Insn(0xDB, 10, 1, -8, 1),
        Insn(0xDB, 10, 1, -8, 0xF1), Insn(0xDB, 10, 1, -8, 0xE1), Insn(0xC3, 10, 1, -8, 0x41),
        Insn(0x3F, 1, 1, 1, 0), Insn(0x97, 1, 0, 1, 3), Insn(0xBF, 2, 1, 8, 0), Insn(0xBC, 2, 1, 16, 0),
        Insn(0xD7, 1, 0, 0, 16), Insn(0xDC, 1, 0, 0, 32), Insn(0xD4, 1, 0, 0, 64), Insn(0x87, 1), Insn(0x84, 1),
        Insn(0x91, 0, 10, -8, 0), Insn(0x06, 0, 0, 0, 0), Insn(0x85, 0, 0, 0, 5),
        *ld_imm64(1, 0x1122334455667788), Insn(0xB7, 0, 0, 0, 0), EXIT,
    ]  # fmt: skip
    accepted, log = verifier_log(prog)
    assert accepted, log[-2000:]
    walked = trace(log)
    assert len(walked) >= 20
    for line in walked:
        assert line == format_insn_line(prog, int(line.split(":")[0]))


def test_bpftool_xlated_dump(live):
    if bpftool() is None:
        pytest.skip("bpftool not installed")
    from pybpf.kernel import MapType, map_create, obj_get_info_by_fd, prog_load

    with map_create(MapType.ARRAY, 4, 8, 1) as m:
        prog = [
            *ld_imm64(1, m.fileno(), Pseudo.MAP_FD), *ld_imm64(2, m.fileno() | 4 << 32, Pseudo.MAP_VALUE),
            Insn(0xB7), Insn(0x07, 0, 0, 0, -3), Insn(0x7B, 10, 0, -8, 0), Insn(0x62, 10, 0, -16, -7),
            Insn(0x61, 3, 2, 0, 0), Insn(0xDB, 10, 3, -8, 0), Insn(0x15, 3, 0, 1, 0xFFF), Insn(0x2E, 3, 0, 0, 0),
            Insn(0xC7, 0, 0, 0, 3), Insn(0xDC, 0, 0, 0, 16), Insn(0x87, 0), Insn(0x18, 4, 0, 0, -1), Insn(0, imm=1),
            EXIT,
        ]  # fmt: skip
        with prog_load(prog) as loaded:
            dump = xlated_dump(obj_get_info_by_fd(loaded.fd.fileno()).id)
    xlated = decode_program(b"".join(raw for _, raw in dump))
    pcs = [int(text.split(":")[0]) for text, _ in dump]
    assert [format_insn_line(xlated, pc, BPFTOOL) for pc in pcs] == [text for text, _ in dump]
    assert dump[0][0].endswith(f"r1 = map[id:{xlated[0].imm}]")
