"""A content-addressed store of compiled BPF objects.

Layout under ``root``::

    v1/<k[:2]>/<k>/manifest.json   headers the last compile read, with their sha256
    v1/<k[:2]>/<k>/<o>.o           an object; <o> hashes <k> and every header digest
    v1/<k[:2]>/<k>/<o>.log         the compiler's warnings for that object
    v1/<k[:2]>/<k>/lock            flock()ed while one process compiles <k>

``k`` (the entry key) hashes the compiler's identity, the full flag list, the
source's path and bytes.  Headers are known only after a compile (clang's
``-MD`` list), so a lookup re-hashes the headers the manifest names to find
``o``: editing a header changes ``o`` and misses; restoring it hits again.
Every file is written to a temporary name in its final directory and then
``os.replace``d, so a reader never sees a torn file.  The lock is ``flock``,
which the kernel drops when its holder dies, so a crashed worker cannot block
the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "PYBPF_CACHE_DIR"
LAYOUT = "v1"
_ELF_MAGIC = b"\x7fELF"
_MANIFEST = "manifest.json"


def user_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$PYBPF_CACHE_DIR``, else ``$XDG_CACHE_HOME/pybpf``, else ``~/.cache/pybpf``."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "pybpf"
    return Path("~/.cache/pybpf").expanduser()


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hash_json(value: object) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True, slots=True)
class CachedObject:
    """An object in the cache and the warnings printed when it was compiled."""

    path: Path
    diagnostics: str


@dataclass(frozen=True, slots=True)
class CacheStats:
    entries: int  # distinct (compiler, flags, source) keys
    objects: int  # object files, all header variants included
    bytes: int  # total size of everything under the layout


@dataclass(frozen=True)
class CompileCache:
    """The store rooted at ``root``; it owns only ``root/v1``."""

    root: Path

    @classmethod
    def default(cls, environ: Mapping[str, str] | None = None) -> CompileCache:
        """The user's cache (see :func:`user_cache_dir`), in its ``compile`` subdirectory."""
        return cls(user_cache_dir(environ) / "compile")

    @property
    def layout(self) -> Path:
        return self.root / LAYOUT

    def key(self, compiler_identity: str, flags: Sequence[str], source: Path, source_sha256: str,
            environ: Sequence[tuple[str, str]] = ()) -> str:
        """The entry key; ``environ`` holds any environment the compiler reads that changes its output."""
        return _hash_json([LAYOUT, compiler_identity, list(flags), str(source), source_sha256, list(environ)])

    def entry(self, key: str) -> Path:
        return self.layout / key[:2] / key

    @staticmethod
    def _object_name(key: str, digests: Sequence[tuple[str, str]]) -> str:
        return _hash_json([key, [list(d) for d in digests]])

    def _read_manifest(self, key: str) -> list[tuple[str, str]] | None:
        try:
            manifest = json.loads((self.entry(key) / _MANIFEST).read_text())
            return [(str(p), str(h)) for p, h in manifest["deps"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def lookup(self, key: str) -> CachedObject | None:
        """The object for ``key`` if every header the manifest names still has the content it had."""
        deps = self._read_manifest(key)
        if deps is None:
            return None
        current: list[tuple[str, str]] = []
        for path, _ in deps:
            try:
                current.append((path, file_sha256(path)))
            except OSError:
                return None
        name = self._object_name(key, current)
        obj = self.entry(key) / f"{name}.o"
        try:
            with open(obj, "rb") as f:
                if f.read(4) != _ELF_MAGIC:
                    return None
            diagnostics = (self.entry(key) / f"{name}.log").read_text(errors="replace")
        except OSError:
            return None
        return CachedObject(obj, diagnostics)

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold the entry's lock: one process compiles a key while the others wait for its result."""
        entry = self.entry(key)
        entry.mkdir(parents=True, exist_ok=True)
        fd = os.open(entry / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def scratch(self, key: str, suffix: str) -> Path:
        """A fresh temporary name inside the entry, on the same file system as the final object."""
        entry = self.entry(key)
        entry.mkdir(parents=True, exist_ok=True)
        return entry / f".tmp-{os.getpid()}-{uuid.uuid4().hex}{suffix}"

    def store(self, key: str, built: Path, deps: Sequence[str], diagnostics: str) -> CachedObject:
        """Move ``built`` into the entry as the object for the current content of ``deps``."""
        digests = [(path, file_sha256(path)) for path in deps]
        name = self._object_name(key, digests)
        entry = self.entry(key)
        _atomic_write(entry / f"{name}.log", diagnostics.encode())
        obj = entry / f"{name}.o"
        os.replace(built, obj)
        _atomic_write(entry / _MANIFEST, json.dumps({"deps": digests}, indent=1).encode())
        return CachedObject(obj, diagnostics)

    def keep_unverified(self, key: str, built: Path, diagnostics: str) -> CachedObject:
        """Keep an object whose inputs changed while it compiled: it is returned, never looked up."""
        obj = self.entry(key) / f"unverified-{uuid.uuid4().hex}.o"
        os.replace(built, obj)
        return CachedObject(obj, diagnostics)

    def clear(self) -> None:
        """Delete every entry.  Not meant to run while another process compiles into this cache."""
        if not self.layout.exists():
            return
        doomed = self.root / f".{LAYOUT}-deleting-{os.getpid()}-{uuid.uuid4().hex}"
        os.replace(self.layout, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def stats(self) -> CacheStats:
        entries = objects = size = 0
        for folder, _, files in os.walk(self.layout):
            entries += _MANIFEST in files
            objects += sum(1 for f in files if f.endswith(".o") and not f.startswith("."))
            for f in files:
                with contextlib.suppress(OSError):
                    size += os.stat(os.path.join(folder, f)).st_size
        return CacheStats(entries=entries, objects=objects, bytes=size)
