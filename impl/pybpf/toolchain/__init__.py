"""The C toolchain: finding a BPF-capable clang and compiling BPF C to ELF objects, cached.

``find_compiler()`` picks ``$PYBPF_CLANG``, else the newest system clang with
the BPF target that keeps BTF type tags, else the ``ziglang`` wheel, else an
older system clang (see ``clang``); ``compile_bpf()`` compiles with the
kernel selftests' flags through a content-addressed ``CompileCache``.
"""

from pybpf.toolchain.cache import CacheStats, CompileCache, user_cache_dir
from pybpf.toolchain.clang import Compiler, CompilerKind, Flavor, find_compiler
from pybpf.toolchain.compile import USER_CACHE, CompileResult, compile_bpf, compile_bpf_result
from pybpf.toolchain.errors import CompileError, ToolchainError

__all__ = [
    "USER_CACHE",
    "CacheStats",
    "CompileCache",
    "CompileError",
    "CompileResult",
    "Compiler",
    "CompilerKind",
    "Flavor",
    "ToolchainError",
    "compile_bpf",
    "compile_bpf_result",
    "find_compiler",
    "user_cache_dir",
]
