"""Compiling one BPF C source file to an ELF object, through the compile cache."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pybpf.errors import InputError
from pybpf.toolchain.arch import host_arch
from pybpf.toolchain.cache import CompileCache, file_sha256
from pybpf.toolchain.clang import ENV_VAR, Compiler, find_compiler
from pybpf.toolchain.depfile import parse_depfile
from pybpf.toolchain.errors import CompileError, ToolchainError
from pybpf.toolchain.flags import bpf_cflags
from pybpf.toolchain.typetags import uses_kptr

COMPILE_TIMEOUT = 600.0
# Environment variables clang reads that change what a compile includes.
_INPUT_ENV = ("CPATH", "C_INCLUDE_PATH")


class _Default(enum.Enum):
    USER_CACHE = "user cache"


USER_CACHE = _Default.USER_CACHE
"""``cache=USER_CACHE`` (the default) means ``CompileCache.default()``."""


@dataclass(frozen=True)
class CompileResult:
    object: Path
    diagnostics: str  # the compiler's warnings, verbatim; "" when it printed nothing
    cache_hit: bool
    compiler: str  # Compiler.describe()
    argv: tuple[str, ...]  # the command (without input, output and -MD bookkeeping)


def default_output(source: Path) -> Path:
    """``prog.bpf.c`` -> ``prog.bpf.o``, beside the source."""
    name = source.name.removesuffix(".c") + ".o"
    return source.with_name(name)


def _read_source(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except IsADirectoryError:
        raise InputError("is a directory, not a C source file", file=str(source)) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", file=str(source)) from None


def _run_compiler(compiler: Compiler, flags: tuple[str, ...], source: Path, out: Path,
                  depfile: Path | None, timeout: float) -> str:
    """Run one compile; its stderr (warnings) on success, CompileError with stderr verbatim otherwise."""
    deps = ("-MD", "-MF", str(depfile), "-MT", "obj") if depfile else ()
    argv = (*compiler.argv, *flags, *deps, "-c", str(source), "-o", str(out))
    try:
        done = subprocess.run(argv, cwd=source.parent, capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CompileError(f"{source}: {compiler.describe()} did not finish within {timeout:.0f} s",
                           file=str(source), compiler=compiler.describe(), argv=argv) from None
    except OSError as err:
        raise ToolchainError(f"cannot run {compiler.describe()}: {err.strerror or err}") from None
    stderr = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        message = stderr or (f"{source}: {compiler.describe()} failed with exit status {done.returncode} "
                             f"and printed nothing; command: {shlex.join(argv)}")
        raise CompileError(message, file=str(source), compiler=compiler.describe(), argv=argv)
    return stderr


def _deps(depfile: Path, source: Path) -> list[str]:
    """The files the compile read besides ``source``, as absolute paths."""
    named = parse_depfile(depfile.read_text(errors="surrogateescape"))
    paths = (os.path.normpath(os.path.join(source.parent, p)) for p in named)
    return [p for p in dict.fromkeys(paths) if p != str(source)]


def _unchanged_since(paths: Sequence[str], started_ns: int) -> bool:
    """True if no file was modified after the compile began (else its digest may not match the object)."""
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if max(st.st_mtime_ns, st.st_ctime_ns) > started_ns:
            return False
    return True


def _copy_atomically(src: Path, dst: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _compile_uncached(compiler: Compiler, flags: tuple[str, ...], source: Path, output: Path,
                      timeout: float) -> tuple[Path, str]:
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(fd)
    try:
        diagnostics = _run_compiler(compiler, flags, source, Path(tmp), None, timeout)
        os.replace(tmp, output)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return output, diagnostics


def _compile_cached(compiler: Compiler, flags: tuple[str, ...], source: Path, source_sha: str,
                    cache: CompileCache, timeout: float) -> tuple[Path, str, bool]:
    environ = [(name, os.environ[name]) for name in _INPUT_ENV if name in os.environ]
    key = cache.key(compiler.identity(), flags, source, source_sha, environ)
    hit = cache.lookup(key)
    if hit is not None:
        return hit.path, hit.diagnostics, True
    with cache.locked(key):
        hit = cache.lookup(key)  # another process may have compiled it while we waited
        if hit is not None:
            return hit.path, hit.diagnostics, True
        obj, dep = cache.scratch(key, ".o"), cache.scratch(key, ".d")
        try:
            started_ns = time.time_ns()
            diagnostics = _run_compiler(compiler, flags, source, obj, dep, timeout)
            deps = _deps(dep, source)
            if file_sha256(source) == source_sha and _unchanged_since(deps, started_ns):
                kept = cache.store(key, obj, deps, diagnostics)
            else:
                kept = cache.keep_unverified(key, obj, diagnostics)
        finally:
            for tmp in (obj, dep):
                with contextlib.suppress(OSError):
                    tmp.unlink()
    return kept.path, kept.diagnostics, False


def compile_bpf_result(
    source: str | os.PathLike[str],
    *,
    include_dirs: Sequence[str | os.PathLike[str]] = (),
    defines: Sequence[str] = (),
    arch: str | None = None,
    cpu: str = "v3",
    extra_flags: Sequence[str] = (),
    cache: CompileCache | _Default | None = USER_CACHE,
    compiler: Compiler | None = None,
    output: str | os.PathLike[str] | None = None,
    timeout: float = COMPILE_TIMEOUT,
) -> CompileResult:
    """Like :func:`compile_bpf`, with the warnings and whether the cache answered."""
    src = Path(os.path.abspath(source))
    source_bytes = _read_source(src)
    compiler = compiler or find_compiler()
    flags = bpf_cflags(compiler, arch=arch or host_arch(), cpu=cpu, include_dirs=include_dirs, defines=defines,
                       extra_flags=extra_flags)
    if not compiler.type_tags and uses_kptr(source_bytes):  # its object would load, then fail verification obscurely
        raise CompileError(f"{src}: {compiler.warning} (set {ENV_VAR} to a newer clang, or `pip install ziglang`)",
                           file=str(src), compiler=compiler.describe(), argv=(*compiler.argv, *flags))
    store = CompileCache.default() if cache is USER_CACHE else cache
    out = Path(os.path.abspath(output)) if output is not None else None
    if not isinstance(store, CompileCache):
        target = out or default_output(src)
        try:
            obj, diagnostics = _compile_uncached(compiler, flags, src, target, timeout)
        except OSError as err:
            raise InputError(f"cannot write the object: {err.strerror or err}", file=str(target)) from None
        hit = False
    else:
        sha = hashlib.sha256(source_bytes).hexdigest()
        try:
            obj, diagnostics, hit = _compile_cached(compiler, flags, src, sha, store, timeout)
        except OSError as err:
            raise InputError(f"cannot use the compile cache: {err.strerror or err}", file=str(store.root)) from None
        if out is not None:
            try:
                _copy_atomically(obj, out)
            except OSError as err:
                raise InputError(f"cannot write the object: {err.strerror or err}", file=str(out)) from None
            obj = out
    return CompileResult(object=obj, diagnostics=diagnostics, cache_hit=hit, compiler=compiler.describe(),
                         argv=(*compiler.argv, *flags))


def compile_bpf(
    source: str | os.PathLike[str],
    *,
    include_dirs: Sequence[str | os.PathLike[str]] = (),
    defines: Sequence[str] = (),
    arch: str | None = None,
    cpu: str = "v3",
    extra_flags: Sequence[str] = (),
    cache: CompileCache | _Default | None = USER_CACHE,
    compiler: Compiler | None = None,
    output: str | os.PathLike[str] | None = None,
    timeout: float = COMPILE_TIMEOUT,
) -> Path:
    """Compile ``source`` to a BPF ELF object with BTF and return the object's path.

    Flags follow the kernel's selftests (see :mod:`pybpf.toolchain.flags`);
    ``arch`` (default: this machine) sets ``__TARGET_ARCH_*`` and the byte order.
    With a cache (the user's by default) the path is inside the cache, or
    ``output`` if given (a copy); with ``cache=None`` the object is written to
    ``output``, by default beside the source (``x.bpf.c`` -> ``x.bpf.o``).
    ``compiler`` defaults to :func:`find_compiler`.  Raises CompileError with
    the compiler's diagnostics verbatim, ToolchainError if there is no compiler.
    """
    return compile_bpf_result(source, include_dirs=include_dirs, defines=defines, arch=arch, cpu=cpu,
                              extra_flags=extra_flags, cache=cache, compiler=compiler, output=output,
                              timeout=timeout).object
