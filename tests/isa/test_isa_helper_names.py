"""``isa.helper_names`` is the running kernel's ``enum bpf_func_id``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from _kernel_log import bpftool
from pybpf.isa.helper_names import HELPER_NAMES

VMLINUX = Path("/sys/kernel/btf/vmlinux")


def test_well_known_ids():
    # ids fixed by the uapi (include/uapi/linux/bpf.h, ___BPF_FUNC_MAPPER)
    assert HELPER_NAMES[0] == "bpf_unspec"
    assert HELPER_NAMES[1] == "bpf_map_lookup_elem"
    assert HELPER_NAMES[5] == "bpf_ktime_get_ns"
    assert HELPER_NAMES[14] == "bpf_get_current_pid_tgid"
    assert len(set(HELPER_NAMES)) == len(HELPER_NAMES)


def test_matches_the_running_kernel():
    if bpftool() is None or not VMLINUX.exists():
        pytest.skip("needs bpftool and /sys/kernel/btf/vmlinux")
    out = subprocess.run([bpftool(), "btf", "dump", "file", str(VMLINUX), "format", "raw"],
                         capture_output=True, text=True, check=True).stdout
    enum = out.split("ENUM 'bpf_func_id'", 1)[1].split("\n[", 1)[0]
    kernel = {int(v): name for name, v in re.findall(r"'BPF_FUNC_(\w+)' val=(\d+)", enum)}
    names = [f"bpf_{kernel[i]}" for i in range(len(kernel))]
    # a newer kernel may append helpers; the ids we know must not move
    assert names[: len(HELPER_NAMES)] == list(HELPER_NAMES)
