"""``pybpf objdump``: structure and facts, no golden output."""

from __future__ import annotations

import re

from _obj_helpers import PROGS
from pybpf.cli.main import main
from pybpf.isa import disassemble
from pybpf.obj import open_object


def _run(capsys, *args: str) -> str:
    assert main(["objdump", *args]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return out.out


def test_summary(compile_prog, capsys):
    path = compile_prog("maps")
    text = _run(capsys, str(path))
    obj = open_object(path)
    assert f"Programs ({len(obj.programs)}):" in text and f"Maps ({len(obj.maps)}):" in text
    assert re.search(r"^  use_maps: section 'tc' type sched_cls ", text, re.M)
    assert re.search(r"^  typed: user type hash key 8 value 24 max_entries 128 flags 0x1 \(NO_PREALLOC\)", text,
                     re.M)
    assert re.search(r"^  outer: user type hash_of_maps .* inner array \[0\]=inner_a \[2\]=inner_b$", text, re.M)
    for r in obj.programs["use_maps"].relocs:
        assert f"  use_maps insn {r.insn_idx}: map_fd {r.target}" in text


def test_listing_interleaves_source(compile_prog, capsys):
    path = compile_prog("subprogs")
    text = _run(capsys, str(path))
    obj = open_object(path)
    source = (PROGS / "subprogs.c").read_text().splitlines()
    for prog in obj.programs.values():
        block = text.split(f"\n{prog.name}: section '{prog.section}', {len(prog.insns)} insns\n", 1)[1]
        block = block.split("\n\n", 1)[0]
        insn_lines = [line for line in block.splitlines() if re.match(r"^ *\d+: \(", line)]
        assert len(insn_lines) == len(disassemble(prog.insns))
        for line in block.splitlines():
            m = re.match(r"^; (.*) @ subprogs\.c:(\d+)$", line)
            if m:
                assert m.group(1) == source[int(m.group(2)) - 1].strip()
        for name, _ in prog.subprogs:
            assert f"\n{name}:\n" in block
    assert "r1 = map[subprogs.data][0]+0" in text


def test_no_source(compile_prog, capsys):
    text = _run(capsys, "--no-source", str(compile_prog("subprogs")))
    assert "\n; " not in text


def test_externs_listed(compile_prog, capsys):
    text = _run(capsys, str(compile_prog("externs")))
    assert "  bpf_rcu_read_lock: kfunc btf_id" in text
    assert "  bpf_prog_put: ksym typeless" in text
    assert re.search(r"^  CONFIG_PYBPF_DOES_NOT_EXIST: kconfig weak btf_id \d+ = 0$", text, re.M)
    assert "call bpf_rcu_read_lock#0" in text
