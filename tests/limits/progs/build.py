"""Rebuild the committed objects of this directory: ``python tests/limits/progs/build.py`` (needs clang)."""

from __future__ import annotations

from pathlib import Path

from pybpf.toolchain import compile_bpf_result

HERE = Path(__file__).resolve().parent
INCLUDE = HERE.parents[2] / "selftests" / "include"

if __name__ == "__main__":
    for name in ("spin", "slow"):
        # the prefix map keeps this machine's paths out of the committed objects' debug info
        compile_bpf_result(HERE / f"{name}.c", include_dirs=[INCLUDE], cache=None, output=HERE / f"{name}.o",
                           extra_flags=[f"-fdebug-prefix-map={HERE}=."])
