"""``selftests/include/bpf_helper_defs.h`` is the generator's output, with the kernel's helper ids."""

from __future__ import annotations

import importlib.util
import re

from _obj_helpers import INCLUDE
from pybpf.isa.helper_names import HELPER_NAMES


def _generator():
    spec = importlib.util.spec_from_file_location("gen_helper_defs", INCLUDE / "gen_helper_defs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_header_is_up_to_date():
    assert (INCLUDE / "bpf_helper_defs.h").read_text() == _generator().render()


def test_ids_are_the_kernels():
    text = (INCLUDE / "bpf_helper_defs.h").read_text()
    decls = re.findall(r"\(\* const (\w+)\)\(.*\) = \(void \*\) (\d+);", text)
    assert len(decls) >= 40
    for name, helper_id in decls:
        assert HELPER_NAMES[int(helper_id)] == name
