"""``pybpf run`` on the three tiers and ``pybpf objdump --jited`` on the three back-ends, in-process.

The expectations come from the program's source (``examples/xdp_count.c``
returns XDP_PASS, 2 in ``enum xdp_action``, and counts an IPv4 frame under
the EtherType bytes 08 00 read as a little-endian u16, 8) and from the JIT
contract (``jit.common.backend``: a helper call loads ``ctx.gates[id]``,
``Ctx.GATES + 8 * id`` bytes into the context block, then calls it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pybpf.cli.main import main

OBJ = str(Path(__file__).resolve().parents[2] / "examples" / "xdp_count.bpf.o")
XDP_PASS = 2
IPV4_FRAME = bytes(12) + b"\x08\x00" + bytes(50)  # 64 bytes, EtherType 0x0800
LOOKUP_GATE = 0x50 + 8 * 8 + 8 * 1  # Ctx.STACK_TOPS + 8 * MAX_FRAMES = ctx.gates; bpf_map_lookup_elem is 1
GATE_CALL = {"x86_64": "call", "arm64": "blr", "s390x": "basr"}  # an indirect call through a register


@pytest.fixture
def frame(tmp_path: Path) -> str:
    path = tmp_path / "ipv4.bin"
    path.write_bytes(IPV4_FRAME)
    return str(path)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("tier", ["interp", "pyjit"])
def test_counting_tiers_give_xdp_pass_and_count(capsys, frame, tier):
    status, out, err = _run(capsys, "run", OBJ, "--prog", "xdp_count", "--tier", tier, "--data", frame)
    assert (status, err) == (0, "")
    assert re.search(rf"^r0: {XDP_PASS}\b", out, re.M)
    executed = re.search(r"^instructions: (\d+)", out, re.M)
    assert executed is not None and int(executed.group(1)) > 0


def _count(capsys, frame, *tier_args: str) -> int:
    status, out, err = _run(capsys, "run", OBJ, "--prog", "xdp_count", "--data", frame, *tier_args)
    assert (status, err) == (0, "")
    assert re.search(rf"^r0: {XDP_PASS}\b", out, re.M)
    executed = re.search(r"^instructions: (\d+) \(last run\)", out, re.M)
    assert executed is not None, out
    return int(executed.group(1))


def test_interp_and_pyjit_count_the_same_instructions(capsys, frame):
    assert _count(capsys, frame, "--tier", "interp") == _count(capsys, frame, "--tier", "pyjit")


@pytest.mark.parametrize("arch", ["x86_64", "arm64", "s390x"])
def test_jit_tier_gives_xdp_pass_and_counts_as_the_interpreter(capsys, frame, arch):
    pytest.importorskip("unicorn")
    jit = _count(capsys, frame, "--tier", "jit", "--arch", arch)
    assert jit == _count(capsys, frame, "--tier", "interp")


def test_repeat_prints_a_mean(capsys, frame):
    status, out, _ = _run(capsys, "run", OBJ, "--prog", "xdp_count", "--data", frame, "--repeat", "3")
    assert status == 0
    assert re.search(r"^duration: \d+ ns \(mean of 3 runs\)", out, re.M)


@pytest.mark.parametrize("arch", ["x86_64", "arm64", "s390x"])
def test_jit_tier_runs_the_map_helpers(arch):
    """The runtime hook: the emulated JIT with the runtime's helpers updates the hash map as the source says."""
    pytest.importorskip("unicorn")
    from pybpf.api import open_object
    from pybpf.jit.tiers import executor_factory
    from pybpf.runtime.instantiate import instantiate
    from pybpf.runtime.runtime import Runtime

    runtime = Runtime(executor=executor_factory("jit", arch))
    with instantiate(open_object(OBJ).object, runtime=runtime) as inst:
        result = inst.programs["xdp_count"].run(IPV4_FRAME, None, 3)
        assert result.retval == XDP_PASS
        assert result.insns_executed is None
        assert inst.maps["counts"].lookup((8).to_bytes(4, "little")) == (3).to_bytes(8, "little")


def test_no_input_runs_on_an_empty_packet(capsys):
    # 0 bytes < min_len: counted under key 0, still XDP_PASS
    status, out, _ = _run(capsys, "run", OBJ, "--prog", "xdp_count")
    assert status == 0 and re.search(rf"^r0: {XDP_PASS}\b", out, re.M)


@pytest.mark.parametrize("argv, words", [
    (["--prog", "nope"], "no program 'nope'"),
    (["--prog", "xdp_count", "--data", "/nonexistent/frame.bin"], "/nonexistent/frame.bin"),
    (["--prog", "xdp_count", "--repeat", "0"], "--repeat"),
    (["--prog", "xdp_count", "--arch", "arm64"], "--tier jit"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    status, out, err = _run(capsys, "run", OBJ, *argv)
    assert status == 2 and out == ""
    assert words in _one_line_error(err)


def test_missing_object_is_one_line_and_exit_2(capsys, tmp_path):
    status, _, err = _run(capsys, "run", str(tmp_path / "none.bpf.o"), "--prog", "x")
    assert status == 2 and "none.bpf.o" in _one_line_error(err)


@pytest.mark.parametrize("tier", ["interp", "pyjit", "jit"])
def test_fault_is_one_line_with_pc_and_insn_exit_1(capsys, tmp_path, tier):
    """A 4-byte context: reading ctx->data_end (offset 4, the first instruction) is past its end."""
    if tier == "jit":
        pytest.importorskip("unicorn")
    ctx = tmp_path / "ctx.bin"
    ctx.write_bytes(bytes(4))
    status, out, err = _run(capsys, "run", OBJ, "--prog", "xdp_count", "--tier", tier, "--ctx", str(ctx))
    assert status == 1 and out == ""
    assert "insn 0 (r6 = *(u32 *)(r1 +4))" in _one_line_error(err)


def test_jit_tier_without_unicorn_says_how_to_get_it(capsys, monkeypatch, frame):
    monkeypatch.setitem(sys.modules, "unicorn", None)  # import unicorn now raises ImportError
    status, _, err = _run(capsys, "run", OBJ, "--prog", "xdp_count", "--tier", "jit", "--data", frame)
    assert status == 2 and "pip install 'pybpf[jit]'" in _one_line_error(err)


# ---------------------------------------------------------------- objdump --jited


def _blocks(out: str) -> dict[str, list[str]]:
    """The machine-code lines under each ``; insn N: ...`` head of the jited listing."""
    listing = out.split("jited for", 1)[1].splitlines()
    blocks: dict[str, list[str]] = {}
    head = None
    for line in listing:
        if line.startswith("; "):
            head = line
            blocks[head] = []
        elif head is not None:
            blocks[head].append(line)
    return blocks


def _mnemonic(line: str) -> str:
    """``offset: hex bytes  mnemonic operands`` -> mnemonic."""
    found = re.match(r"\s*[0-9a-f]+: (?:[0-9a-f]{2} )*[0-9a-f]{2}\s+(\S+)", line)
    assert found is not None, line
    return found.group(1)


@pytest.mark.parametrize("arch", ["x86_64", "arm64", "s390x"])
def test_objdump_jited_interleaves_machine_code(capsys, arch):
    pytest.importorskip("capstone")
    status, out, err = _run(capsys, "objdump", "--jited", "--arch", arch, OBJ)
    assert (status, err) == (0, "")
    assert "Programs (1):" in out  # the usual output first
    assert f"xdp_count: jited for {arch}" in out
    blocks = _blocks(out)
    heads = [h for h in blocks if h.startswith("; insn ")]
    assert heads[0] == "; insn 0: r6 = *(u32 *)(r1 +4)"
    assert len(heads) == 39  # llvm-objdump -d counts 39 instructions (ld_imm64 is one, of two slots)
    assert all(blocks[h] for h in heads)  # each with its machine code under it
    code = blocks["; insn 21: call bpf_map_lookup_elem#1"]
    assert GATE_CALL[arch] in [_mnemonic(line) for line in code], code
    assert any(f"{LOOKUP_GATE:#x}" in line for line in code), code  # the gate comes from ctx.gates[1]


def test_objdump_jited_without_capstone_says_how_to_get_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "capstone", None)
    status, out, err = _run(capsys, "objdump", "--jited", OBJ)
    assert status == 2 and out == ""
    assert "pip install 'pybpf[jit]'" in _one_line_error(err)


def test_objdump_arch_without_jited_is_bad_input(capsys):
    status, _, err = _run(capsys, "objdump", "--arch", "arm64", OBJ)
    assert status == 2 and "--jited" in _one_line_error(err)
