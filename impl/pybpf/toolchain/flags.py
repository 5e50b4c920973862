"""The compiler flags for a BPF object, as the kernel's ``tools/testing/selftests/bpf/Makefile`` builds test_progs.

That Makefile compiles each ``progs/*.c`` with ``$(CLANG) $(BPF_CFLAGS) $(CLANG_CFLAGS)
-O2 --target=bpfel -c -mcpu=v3``, where ``BPF_CFLAGS`` is ``-g -Wall -Werror
-D__TARGET_ARCH_$(SRCARCH) $(MENDIAN) -I... -std=gnu11 -fno-strict-aliasing
-Wno-compare-distinct-pointer-types -Wno-initializer-overrides`` and ``CLANG_CFLAGS``
is the host's system include directories, each given with ``-idirafter``.

``-Werror`` is left out: a warning in a user's program is reported (``CompileResult.diagnostics``),
not turned into a failure; pass it in ``extra_flags`` to get the selftests' strictness.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pybpf.errors import InputError
from pybpf.toolchain.arch import target_arch
from pybpf.toolchain.clang import Compiler

OPTIMIZE = ("-O2", "-g")
LANGUAGE = ("-std=gnu11", "-fno-strict-aliasing")
WARNINGS = ("-Wall", "-Wno-compare-distinct-pointer-types", "-Wno-initializer-overrides")


def _define(text: str) -> str:
    name = text.partition("=")[0]
    if not name or name.startswith("-") or any(c.isspace() for c in name):
        raise InputError(f"bad preprocessor define {text!r} (want NAME or NAME=VALUE)")
    return f"-D{text}"


def bpf_cflags(
    compiler: Compiler,
    *,
    arch: str,
    cpu: str,
    include_dirs: Sequence[str | os.PathLike[str]] = (),
    defines: Sequence[str] = (),
    extra_flags: Sequence[str] = (),
) -> tuple[str, ...]:
    """Every flag of the compile except the input, output and dependency-file bookkeeping.

    Include directories are made absolute (the compiler runs in the source's
    directory); ``extra_flags`` come last so they can override anything before them.
    """
    target = target_arch(arch)
    return (
        *compiler.target_flags(target.endian),
        *OPTIMIZE,
        f"-mcpu={cpu}",
        *LANGUAGE,
        *WARNINGS,
        f"-D__TARGET_ARCH_{target.srcarch}",
        *(_define(d) for d in defines),
        *(f"-I{os.path.abspath(d)}" for d in include_dirs),
        *(flag for d in compiler.sys_includes for flag in ("-idirafter", d)),
        *extra_flags,
    )
