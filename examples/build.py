"""Rebuild the committed example objects with pybpf's toolchain: ``python examples/build.py``.

The ``.bpf.o`` files beside the sources are committed so that someone without
a BPF-capable clang can still try ``pybpf objdump``, ``pybpf btf dump`` and
``pybpf load`` on them; this script is how they were made.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pybpf.toolchain import compile_bpf_result

HERE = Path(__file__).resolve().parent
EXAMPLES = ("xdp_count.c", "task_info.c")


def main() -> int:
    for name in EXAMPLES:
        source = HERE / name
        # the prefix map keeps this machine's paths out of the committed objects' debug info and BTF
        result = compile_bpf_result(source, include_dirs=[HERE], cache=None, output=HERE / (source.stem + ".bpf.o"),
                                    extra_flags=[f"-fdebug-prefix-map={HERE}=."])
        print(f"{result.object.relative_to(HERE.parent)}  ({result.compiler})")
        if result.diagnostics:
            print(result.diagnostics, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
