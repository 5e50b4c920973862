"""``pybpf load``: one verdict line per program, exit 0/1/2, one line for bad input and no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _loader_helpers import EXAMPLES, PROGS


def pybpf(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pybpf.cli.main", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_example_loads_on_the_interpreter(xdp_count_obj):
    done = pybpf("load", str(xdp_count_obj), "--target", "pybpf")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{xdp_count_obj}: prog xdp_count (xdp): accepted\n"


@pytest.mark.kernel
@pytest.mark.usefixtures("live")
def test_every_program_gets_a_verdict_and_a_refusal_exits_1(build):
    obj = build(PROGS / "mixed_verdicts.c")
    done = pybpf("load", str(obj), "--target", "kernel")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{obj}: prog accepted_first (xdp): loaded",
        f"{obj}: prog refused_unchecked (xdp): failed: Permission denied (EACCES): R1 offset is outside of the packet",
        f"{obj}: prog accepted_last (xdp): loaded",
    ]


@pytest.mark.kernel
@pytest.mark.usefixtures("live")
def test_prog_glob_and_log(build):
    obj = build(PROGS / "mixed_verdicts.c")
    done = pybpf("load", str(obj), "--target", "kernel", "--prog", "accepted_*", "--log", "--log-level", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{obj}: prog accepted_first (xdp): loaded"
    assert any(line.startswith("    processed 2 insns") for line in lines)


@pytest.mark.parametrize("target", ["pybpf", "kernel"])
def test_not_an_object_is_bad_input(tmp_path, target):
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"\x7fELF" + bytes(60))
    done = pybpf("load", str(junk), "--target", target)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and str(junk) in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_and_unmatched_glob(tmp_path, xdp_count_obj):
    done = pybpf("load", str(tmp_path / "nope.o"), "--target", "pybpf")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "nope.o: cannot read" in done.stderr
    done = pybpf("load", str(xdp_count_obj), "--target", "pybpf", "--prog", "nothing*")
    assert done.returncode == 2
    assert "--prog 'nothing*' matches no program (programs: xdp_count)" in done.stderr


def test_bad_input_in_one_object_does_not_stop_the_others(tmp_path, xdp_count_obj):
    done = pybpf("load", str(tmp_path / "nope.o"), str(xdp_count_obj), "--target", "pybpf")
    assert done.returncode == 2
    assert "prog xdp_count (xdp): accepted" in done.stdout


def test_target_is_required(xdp_count_obj):
    done = pybpf("load", str(xdp_count_obj))
    assert done.returncode == 2 and "--target" in done.stderr


# Map types a program can declare with plain attributes (no special flags or BTF), in the order tried.
_PLAIN_MAP_TYPES = {"STACK_TRACE": 7, "PERCPU_HASH": 5, "DEVMAP": 14, "CPUMAP": 16}


def test_a_map_the_runtime_cannot_create_fails_the_object_with_exit_1(tmp_path):
    from pybpf.abi.uapi import MapType
    from pybpf.runtime import MAP_IMPLS
    from pybpf.toolchain import compile_bpf

    missing = next((n for n, t in _PLAIN_MAP_TYPES.items() if MapType(t) not in MAP_IMPLS), None)
    if missing is None:
        pytest.skip("the runtime implements every map type this test knows how to declare")
    src = tmp_path / "unsupported.c"
    src.write_text('#include "bpf_defs.h"\n'
                   f"struct {{ __uint(type, {_PLAIN_MAP_TYPES[missing]}); __uint(max_entries, 4);\n"
                   "  __type(key, __u32); __type(value, __u32); } m SEC(\".maps\");\n"
                   'SEC("xdp") int f(struct xdp_md *ctx) { __u32 k = 0; return bpf_map_lookup_elem(&m, &k) != 0; }\n'
                   'char _license[] SEC("license") = "GPL";\n')
    obj = compile_bpf(src, include_dirs=[EXAMPLES], output=tmp_path / "unsupported.o")
    done = pybpf("load", str(obj), "--target", "pybpf")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith(f"{obj}: map 'm': ") and done.stderr.count("\n") == 1


def test_run_refuses_what_the_verifier_refuses(build):
    obj = build(PROGS / "mixed_verdicts.c")
    done = pybpf("run", str(obj), "--prog", "refused_unchecked")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [f"pybpf: {obj}: program 'refused_unchecked' failed: Permission denied "
                                        "(EACCES): R1 offset is outside of the packet"]
    done = pybpf("run", str(obj), "--prog", "accepted_last")
    assert done.returncode == 0 and done.stdout.startswith("r0: 1 (0x1)\n")
