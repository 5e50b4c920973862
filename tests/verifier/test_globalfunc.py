"""Global functions (``progs/global_funcs.c``): verified alone from their BTF prototype, call sites checked.

The expected verdicts and reason lines are what Linux 6.18 answered for each program
(``bpf()`` asked on the reference machine); where ``bpf()`` works here the live kernel
is asked again, whole level-1 logs included.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from pybpf.errors import PybpfError
from pybpf.harness.selftest.build import compile_source
from pybpf.harness.verify import verify_with_kernel, verify_with_pybpf
from pybpf.kernel import available
from pybpf.obj import Object, open_object

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).parent / "progs" / "global_funcs.c"
INCLUDES = [ROOT / "selftests" / "include", ROOT / "selftests" / "progs"]

# program -> Linux 6.18's reason line ("" when it loads)
KERNEL = {
    "scalar_args": "",
    "mem_arg_checked": "",
    "mem_arg_null": "",
    "mem_arg_rodata": "",
    "mem_arg_unchecked": "R1 invalid mem access 'mem_or_null'",
    "mem_arg_too_small": "Caller passes invalid args into func#1 ('first_checked')",
    "ctx_arg_wrong": "Caller passes invalid args into func#1 ('leak_ctx')",
    "result_is_unknown": "value -2147483648 makes fp pointer be out of bounds",
    "call_while_locked": "use static function instead",
}
# lines the kernel printed before the reason
KERNEL_BEFORE = {
    "mem_arg_unchecked": "Validating first_unchecked() func#1...",
    "mem_arg_too_small": "invalid read from stack R1 off=-8 size=16",
    "ctx_arg_wrong": "arg#0 expects pointer to ctx",
    "call_while_locked": "global function calls are not allowed while holding a lock,",
}
_ADDR = re.compile(r"= 0x[0-9a-f]{16}\s+;")  # a map's address (pybpf's is made up, of the same width)


@cache
def compiled() -> Object:
    try:
        return open_object(compile_source(SOURCE, INCLUDES).object)
    except PybpfError as err:  # no usable clang
        pytest.skip(f"cannot compile {SOURCE.name}: {err}")


def test_every_program_has_an_expectation() -> None:
    assert set(compiled().programs) == set(KERNEL)


@pytest.mark.parametrize("name", KERNEL)
def test_pybpf_gives_the_kernels_verdict(name: str) -> None:
    v = verify_with_pybpf(compiled(), name)
    assert (v.verdict, v.first_error) == ("failure" if KERNEL[name] else "success", KERNEL[name]), v.log
    if name in KERNEL_BEFORE:
        assert KERNEL_BEFORE[name] + "\n" in v.log


def test_a_global_function_is_verified_once_after_the_caller() -> None:
    log = verify_with_pybpf(compiled(), "mem_arg_unchecked").log
    # at level 1 the caller's successful walk is forgotten: the log starts with the global function
    assert log.startswith("Validating first_unchecked() func#1...\n")


def test_a_safe_global_function_is_said_so() -> None:
    log = verify_with_pybpf(compiled(), "scalar_args").log
    assert log.startswith("Func#2 ('pkt_len') is safe for any args that match its prototype\n")


@pytest.mark.parametrize("name", KERNEL)
def test_the_live_kernel_agrees(name: str) -> None:
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    k = verify_with_kernel(compiled(), name)
    assert (k.verdict, k.first_error) == ("failure" if KERNEL[name] else "success", KERNEL[name])
    ours = verify_with_pybpf(compiled(), name)
    kernel_lines = [_ADDR.sub("= ADDR ;", ln) for ln in k.log.splitlines()]  # source lines (line_info) too
    our_lines = [_ADDR.sub("= ADDR ;", ln) for ln in ours.log.splitlines()]
    assert our_lines == kernel_lines
