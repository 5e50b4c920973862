"""Finding a C compiler that targets BPF, and what it is.

Order: ``$PYBPF_CLANG`` (a path or a command line), else the newest ``clang`` /
``clang-NN`` on ``PATH`` whose LLVM has the BPF target and keeps BTF type tags
(clang >= 15, probed: see ``typetags``), else the ``ziglang`` wheel (``python -m
ziglang cc``, a dependency of pybpf), else the newest system clang that drops
type tags, named with a warning by ``Compiler.describe()``: ``__kptr`` fields need
the tags.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pybpf.toolchain.arch import Endian
from pybpf.toolchain.errors import ToolchainError
from pybpf.toolchain.typetags import dropped_message, keeps_type_tags

ENV_VAR = "PYBPF_CLANG"
INSTALL_HINT = (
    "install one with `pip install ziglang` or `apt install clang`, "
    f"or set {ENV_VAR} to a clang with the BPF target (a path or a command line)"
)
PROBE_TIMEOUT = 60.0

_CLANG_NAME = re.compile(r"^clang(-\d+(?:\.\d+)*)?$")
_VERSION = re.compile(r"version (\d+(?:\.\d+)*)")


class CompilerKind(StrEnum):
    ENV = "env"
    SYSTEM = "system"
    ZIGLANG = "ziglang"


class Flavor(StrEnum):
    """Which driver parses the flags: plain clang, or zig's ``cc`` front end."""

    CLANG = "clang"
    ZIG = "zig"


# zig wants an OS in its target triple; "freestanding" also makes it add
# -ffreestanding/-fno-builtin (memset/memcpy become calls BPF cannot make),
# unwind tables (.eh_frame) and -DNDEBUG, and below -O1 UBSan.  These flags undo
# that so the object matches what plain `clang --target=bpf` produces.
_ZIG_TRIPLE = {Endian.LITTLE: "bpfel-freestanding", Endian.BIG: "bpfeb-freestanding"}
_ZIG_AS_CLANG = (
    "-fhosted", "-fbuiltin", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-UNDEBUG", "-fno-sanitize=all",
)
_CLANG_TRIPLE = {Endian.LITTLE: "bpfel", Endian.BIG: "bpfeb"}


@dataclass(frozen=True)
class Compiler:
    """One BPF-capable C compiler, as probed.

    ``argv`` is the command prefix (``("/usr/bin/clang-14",)`` or
    ``(python, "-m", "ziglang", "cc")``); ``version`` the clang version
    (``"14.0.6"``); ``banner`` the first line of ``--version``;
    ``executable`` the resolved program; ``sys_includes`` the host's
    ``#include <...>`` search list, added with ``-idirafter`` as the kernel's
    selftests do so that ``<linux/bpf.h>`` and ``<asm/...>`` resolve;
    ``type_tags`` whether its BTF keeps ``btf_type_tag`` on struct members.
    """

    argv: tuple[str, ...]
    kind: CompilerKind
    flavor: Flavor
    version: str
    banner: str
    executable: str
    sys_includes: tuple[str, ...] = ()
    zig_version: str = ""
    type_tags: bool = True

    @property
    def warning(self) -> str:
        """What this compiler cannot do for pybpf's programs, "" if nothing."""
        return "" if self.type_tags else dropped_message(self.version)

    def target_flags(self, endian: Endian = Endian.LITTLE) -> tuple[str, ...]:
        """The flags that select the BPF target with the given byte order."""
        if self.flavor is Flavor.ZIG:
            return ("-target", _ZIG_TRIPLE[endian], *_ZIG_AS_CLANG)
        return (f"--target={_CLANG_TRIPLE[endian]}",)

    def describe(self) -> str:
        """One line naming this compiler in reports: ``clang 16.0.6 (/usr/bin/clang-16)``, and its warning if any."""
        where = shlex.join(self.argv)
        if self.kind is CompilerKind.ENV:
            where = f"{ENV_VAR}={where}"
        name = f"clang {self.version} ({where})"
        if self.flavor is Flavor.ZIG:
            zig = f"zig {self.zig_version} cc" if self.zig_version else "zig cc"
            name = f"{zig}, {name}"
        return f"{name} [warning: {self.warning}]" if self.warning else name

    def identity(self) -> str:
        """What a compile cache key must include so another compiler never shares an entry."""
        return "\0".join((self.flavor, self.executable, self.banner, self.zig_version, *self.argv))


def _run(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL,
                              timeout=PROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{what}: `{shlex.join(argv)}` did not answer within {PROBE_TIMEOUT:.0f} s") from None
    except OSError as err:
        raise ToolchainError(f"{what}: cannot run `{shlex.join(argv)}`: {err.strerror or err}") from None


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _installed_dir(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("InstalledDir:"):
            return line.partition(":")[2].strip()
    return ""


def _is_zig(argv: tuple[str, ...], installed_dir: str) -> bool:
    names = {Path(a).name for a in argv}
    return "zig" in names or "ziglang" in argv or (bool(installed_dir) and (Path(installed_dir) / "zig").exists())


def _sys_includes(argv: tuple[str, ...], what: str) -> tuple[str, ...]:
    """The ``#include <...>`` directories the compiler searches for the host target."""
    out = _run([*argv, "-v", "-E", "-x", "c", "-"], what).stderr
    dirs: list[str] = []
    inside = False
    for line in out.splitlines():
        if line.startswith("#include <...> search starts here:"):
            inside = True
        elif line.startswith("End of search list."):
            break
        elif inside:
            dirs.append(line.strip().removesuffix(" (framework directory)"))
    return tuple(dirs)


def _has_bpf_target(argv: tuple[str, ...], what: str) -> bool:
    out = _run([*argv, "-print-targets"], what).stdout
    return any(line.split()[:1] == ["bpf"] for line in out.splitlines())


def _zig_version(argv: tuple[str, ...], what: str) -> str:
    if argv[-1] != "cc":
        return ""
    done = _run([*argv[:-1], "version"], what)
    return _first_line(done.stdout) if done.returncode == 0 else ""


def _stamp(executable: str) -> tuple[str, int, int]:
    real = os.path.realpath(executable)
    try:
        st = os.stat(real)
    except OSError:
        return (real, 0, 0)
    return (real, st.st_mtime_ns, st.st_size)


def probe(argv: tuple[str, ...], kind: CompilerKind, what: str, path: str | None = None) -> Compiler:
    """Ask the compiler who it is; ToolchainError (prefixed by ``what``) if it is not usable.

    ``argv[0]`` is looked up on ``path`` (default ``$PATH``) and replaced by what was found.
    """
    if not argv:
        raise ToolchainError(f"{what}: empty command")
    found = shutil.which(argv[0], path=path)
    if found is None:
        raise ToolchainError(f"{what}: no program {argv[0]!r} (not an executable file, not on PATH)")
    executable = os.path.abspath(found)  # compiles run in the source's directory
    # Probing spawns three processes; a compile that hits the cache should not.
    # The memo key includes the executable's mtime and size, so an upgrade is seen.
    return _probe_memo((executable, *argv[1:]), kind, what, _stamp(executable))


@functools.lru_cache(maxsize=32)
def _probe_memo(argv: tuple[str, ...], kind: CompilerKind, what: str, stamp: tuple[str, int, int]) -> Compiler:
    shown = _run([*argv, "--version"], what)
    if shown.returncode != 0:
        detail = _first_line(shown.stderr) or _first_line(shown.stdout) or f"exit status {shown.returncode}"
        raise ToolchainError(f"{what}: `{shlex.join([*argv, '--version'])}` failed: {detail}")
    banner = _first_line(shown.stdout)
    found = _VERSION.search(banner)
    if "clang" not in banner or found is None:
        raise ToolchainError(f"{what}: `{shlex.join(argv)}` is not clang (it says {banner!r})")
    flavor = Flavor.ZIG if _is_zig(argv, _installed_dir(shown.stdout)) else Flavor.CLANG
    if flavor is Flavor.CLANG and not _has_bpf_target(argv, what):
        raise ToolchainError(f"{what}: clang {found.group(1)} ({shlex.join(argv)}) was built without the BPF target "
                             "(`-print-targets` lists no bpf)")
    compiler = Compiler(
        argv=argv, kind=kind, flavor=flavor, version=found.group(1), banner=banner, executable=stamp[0],
        sys_includes=_sys_includes(argv, what),
        zig_version=_zig_version(argv, what) if flavor is Flavor.ZIG else "",
    )
    tags = keeps_type_tags(argv, compiler.target_flags(), _run, what)
    return dataclasses.replace(compiler, type_tags=tags)


def _path_clangs(path: str) -> list[str]:
    """``clang`` / ``clang-NN`` programs on ``path``, one per real file, versioned names preferred."""
    by_real: dict[str, list[str]] = {}
    for folder in path.split(os.pathsep):
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for name in names:
            full = os.path.join(folder, name)
            if _CLANG_NAME.match(name) and os.path.isfile(full) and os.access(full, os.X_OK):
                by_real.setdefault(os.path.realpath(full), []).append(full)
    return [next((p for p in paths if os.path.basename(p) != "clang"), paths[0]) for paths in by_real.values()]


def _from_env(spec: str, path: str) -> Compiler:
    what = f"{ENV_VAR}={spec!r}"
    try:
        argv = tuple(shlex.split(spec))
    except ValueError as err:
        raise ToolchainError(f"{what}: cannot parse it as a command line: {err}") from None
    return probe(argv, CompilerKind.ENV, what, path)


def _system_clangs(path: str, rejected: list[str]) -> list[Compiler]:
    """The usable clangs on ``path``, newest first."""
    found: list[Compiler] = []
    for exe in _path_clangs(path):
        try:
            found.append(probe((exe,), CompilerKind.SYSTEM, exe, path))
        except ToolchainError as err:
            rejected.append(err.message)
    return sorted(found, key=lambda c: version_tuple(c.version), reverse=True)


def _from_ziglang(rejected: list[str]) -> Compiler | None:
    if importlib.util.find_spec("ziglang") is None:
        return None
    try:
        found = probe((sys.executable, "-m", "ziglang", "cc"), CompilerKind.ZIGLANG, "ziglang")
    except ToolchainError as err:
        rejected.append(err.message)
        return None
    if not found.zig_version:
        try:
            version = importlib.metadata.version("ziglang")
        except importlib.metadata.PackageNotFoundError:
            return found
        found = dataclasses.replace(found, zig_version=version)
    return found


def find_compiler(environ: Mapping[str, str] | None = None) -> Compiler:
    """The compiler pybpf uses, in the documented order; ToolchainError if there is none."""
    env = os.environ if environ is None else environ
    spec = env.get(ENV_VAR, "").strip()
    path = env.get("PATH", os.defpath)
    if spec:
        return _from_env(spec, path)
    rejected: list[str] = []
    system = _system_clangs(path, rejected)
    # A clang that drops type tags compiles most programs, but not __kptr ones: the last resort.
    found = next((c for c in system if c.type_tags), None) or _from_ziglang(rejected) or next(iter(system), None)
    if found is not None:
        return found
    why = "".join(f"; rejected {r}" for r in rejected)
    raise ToolchainError(f"no C compiler with the BPF target found{why}; {INSTALL_HINT}")
