"""Building a selftest program file: include directories, a generated ``vmlinux.h``, the cached compile, the object.

A ``progs/*.c`` file is compiled once per object whatever the number of
workers: the compile cache takes a lock per entry, so the first worker
compiles and the others find the object.  Objects are built for this
machine (its byte order and ``__TARGET_ARCH_``): ``--arch`` chooses lists,
``__arch_*`` and the execution tier, not the program's encoding.

``vmlinux.h`` is written from the target BTF (``/sys/kernel/btf/vmlinux`` by
default) with ``pybpf.btf.dump_c`` into the cache, once per BTF content,
when a source includes it and no include directory already has one.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pybpf.btf.dump_c import dump_c
from pybpf.btf.graph import Btf
from pybpf.btf.load import load as load_btf
from pybpf.harness.selftest.results import write_atomically
from pybpf.toolchain import CompileCache, compile_bpf_result, user_cache_dir

KERNEL_BTF = Path("/sys/kernel/btf/vmlinux")
# What selects a kfunc profile (pybpf.abi.profiles) in selftests/include/bpf_experimental.h; linux-6.18 needs none.
ABI_DEFINES: dict[str, tuple[str, ...]] = {"rfc-2022": ("PYBPF_ABI_RFC_2022",)}
_INCLUDES_VMLINUX = re.compile(rb'^\s*#\s*include\s*[<"]vmlinux\.h[>"]', re.MULTILINE)


@dataclass(frozen=True)
class Built:
    """A compiled program file: the object's path, the compiler's warnings, the seconds it took."""

    object: Path
    diagnostics: str
    seconds: float
    cache_hit: bool


def default_include_dirs(source: Path) -> list[Path]:
    """``include/`` beside the ``progs/`` directory (our layout) and the source's own directory (the kernel's)."""
    sibling = source.parent.parent / "include"
    return [d for d in (sibling, source.parent) if d.is_dir()]


def needs_vmlinux_h(source: Path, include_dirs: Sequence[Path]) -> bool:
    """The source includes ``vmlinux.h`` and no include directory provides it."""
    try:
        text = source.read_bytes()
    except OSError:
        return False  # the compile will say why it cannot read the file
    return bool(_INCLUDES_VMLINUX.search(text)) and not any((d / "vmlinux.h").is_file() for d in include_dirs)


def vmlinux_h_dir(btf_path: Path, *, cache_root: Path | None = None, btf: Btf | None = None) -> Path:
    """A directory holding ``vmlinux.h`` generated from ``btf_path``, made once per BTF content."""
    digest = hashlib.sha256(btf_path.read_bytes()).hexdigest()[:24]
    directory = (cache_root or user_cache_dir()) / "vmlinux" / digest
    header = directory / "vmlinux.h"
    if header.is_file():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one writer; the others wait and find the header
        if not header.is_file():
            write_atomically(header, dump_c(btf or load_btf(btf_path)))
    return directory


def compile_source(source: Path, include_dirs: Sequence[Path], *, vmlinux_dir: Path | None = None,
                   cache: CompileCache | None = None, abi: str = "linux-6.18") -> Built:
    """Compile ``source`` (for kfunc profile ``abi``) through the (user's, by default) compile cache;
    CompileError carries clang's words."""
    dirs = [*include_dirs, *([vmlinux_dir] if vmlinux_dir is not None else [])]
    started = time.perf_counter()
    kwargs = {"cache": cache} if cache is not None else {}
    result = compile_bpf_result(source, include_dirs=dirs, defines=ABI_DEFINES.get(abi, ()), **kwargs)
    return Built(result.object, result.diagnostics, time.perf_counter() - started, result.cache_hit)
