"""Helper prototypes and their availability per program type, against the live kernel.

``helper_protos.ALLOWED_IN`` says which program types may call each helper;
the kernel answers "program of this type cannot use helper ..." for the others.  A
program calling the helper with every argument register zeroed is loaded for each pair:
the kernel refuses it either with that line (not available) or for an argument (available).
"""

from __future__ import annotations

import pytest
from pybpf.abi.uapi import ProgFlags, ProgType
from pybpf.errors import KernelError
from pybpf.isa import assemble
from pybpf.isa.helper_names import HELPER_NAMES
from pybpf.verifier import verify
from pybpf.verifier.helper_protos import PROBED_TYPES, PROTOS, helper_allowed

pytestmark = pytest.mark.kernel


def _kernel_allows(func_id: int, prog_type: int) -> bool:
    from pybpf.kernel import prog_load

    insns = assemble("".join(f"mov %r{r}, 0\n" for r in range(1, 6)) + f"call {func_id}\nmov %r0, 0\nexit")
    flags = ProgFlags.SLEEPABLE if prog_type == ProgType.SYSCALL else 0
    try:
        with prog_load(insns, prog_type=prog_type, log_level=1, prog_flags=flags):
            return True
    except KernelError as e:
        return "cannot use helper" not in (e.log or "")


def test_table_covers_the_common_helpers() -> None:
    assert len(PROTOS) >= 60
    for name in ("bpf_map_pop_elem", "bpf_probe_read_kernel_str", "bpf_loop", "bpf_for_each_map_elem",
                 "bpf_timer_start", "bpf_strncmp", "bpf_get_attach_cookie", "bpf_ktime_get_coarse_ns"):
        assert HELPER_NAMES.index(name) in PROTOS


@pytest.mark.parametrize("prog_type", sorted(PROBED_TYPES), ids=lambda t: ProgType(t).name.lower())
def test_availability_matches_kernel(live, prog_type: int) -> None:
    wrong = [HELPER_NAMES[f] for f in sorted(PROTOS) if helper_allowed(f, prog_type) != _kernel_allows(f, prog_type)]
    assert not wrong, f"availability differs from the kernel for {wrong}"


def test_refusal_line() -> None:
    v = verify(assemble("call 44\nmov %r0, 0\nexit"), prog_type=ProgType.SCHED_CLS)
    assert v.first_error == "program of this type cannot use helper bpf_xdp_adjust_head#44"
    assert v.errno == 22
