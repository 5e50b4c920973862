"""Values of ``__kconfig`` externs: the running kernel's Kconfig and libbpf's virtual ``LINUX_*`` externs.

The Kconfig text is ``/boot/config-$(uname -r)`` (plain or gzip), else
``/proc/config.gz``.  A ``CONFIG_X=y|n|m`` line sets a bool, tristate or char
extern; ``"..."`` a char array; a number an integer (C ``strtoull`` rules,
base from the prefix).  An extern no line sets keeps 0 if it is weak; if not,
its value stays None and a loader must refuse the object, as libbpf does
("value not found").
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pybpf.obj.errors import ObjectError
from pybpf.obj.externs import ExternDesc, KcfgType
from pybpf.obj.model import ExternKind

LINUX_KERNEL_VERSION = "LINUX_KERNEL_VERSION"
LINUX_HAS_BPF_COOKIE = "LINUX_HAS_BPF_COOKIE"
LINUX_HAS_SYSCALL_WRAPPER = "LINUX_HAS_SYSCALL_WRAPPER"
PROC_CONFIG = Path("/proc/config.gz")
TRISTATE = {"n": 0, "y": 1, "m": 2}  # enum libbpf_tristate
_RELEASE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class KconfigValues:
    data: bytes  # the KCONFIG map's value
    values: dict[str, int | bytes | None]  # per extern; None: not found (and not weak)


def kernel_version_code(release: str | None = None) -> int:
    """``KERNEL_VERSION(a, b, c)`` of ``uname -r`` (patch level capped at 255, as the kernel does)."""
    match = _RELEASE.match(release if release is not None else os.uname().release)
    if not match:
        return 0
    major, minor, patch = (int(g or 0) for g in match.groups())
    return (major << 16) | (minor << 8) | min(patch, 255)


def read_system_kconfig() -> str | None:
    """The running kernel's Kconfig text, or None when neither file is readable."""
    for path in (Path(f"/boot/config-{os.uname().release}"), PROC_CONFIG):
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError):
                continue
        return raw.decode("utf-8", "replace")
    return None


def parse_u64(text: str) -> int | None:
    """C's ``strtoull(text, &end, 0)`` with the whole string consumed; None if it is not a number."""
    s = text.strip()
    neg = s.startswith("-")
    s = s.lstrip("+-") if s[:1] in "+-" else s
    try:
        if s[:2].lower() == "0x":
            v = int(s[2:], 16)
        elif s.startswith("0") and len(s) > 1:
            v = int(s[1:], 8)
        else:
            v = int(s, 10)
    except ValueError:
        return None
    return (-v if neg else v) & 0xFFFFFFFFFFFFFFFF


def _fits(ext: ExternDesc, v: int) -> bool:
    bits = ext.size * 8
    if ext.size == 8:
        return True
    if ext.signed:
        return (v + (1 << (bits - 1))) & 0xFFFFFFFFFFFFFFFF < (1 << bits)
    return v >> bits == 0


def _encode(ext: ExternDesc, raw: str, file: str) -> int | bytes:
    """The bytes/int a Kconfig value gives ``ext`` (raises for a mismatch, as libbpf does)."""
    def bad(why: str) -> ObjectError:
        return ObjectError(f"extern (kcfg) '{ext.name}': value '{raw}' {why}", file=file, place="Kconfig")

    if raw[0] in "ynm":
        if ext.kcfg is KcfgType.BOOL:
            if raw[0] == "m":
                raise bad("implies tristate or char type")
            return int(raw[0] == "y")
        if ext.kcfg is KcfgType.TRISTATE:
            return TRISTATE[raw[0]]
        if ext.kcfg is KcfgType.CHAR:
            return ord(raw[0])
        raise bad("implies bool, tristate, or char type")
    if raw[0] == '"':
        if ext.kcfg is not KcfgType.CHAR_ARR:
            raise bad("implies char array type")
        if len(raw) < 2 or raw[-1] != '"':
            raise bad("is an invalid string")
        text = raw[1:-1].encode()[:ext.size - 1]
        return text + bytes(ext.size - len(text))
    num = parse_u64(raw)
    if num is None:
        raise bad("isn't a valid integer")
    if ext.kcfg not in (KcfgType.INT, KcfgType.CHAR):
        raise bad("implies integer type")
    if not _fits(ext, num):
        raise bad(f"doesn't fit in {ext.size} bytes")
    return num


def _store(buf: bytearray, ext: ExternDesc, value: int | bytes) -> None:
    if isinstance(value, bytes):
        buf[ext.offset:ext.offset + ext.size] = value
    else:
        buf[ext.offset:ext.offset + ext.size] = (value & ((1 << (8 * ext.size)) - 1)).to_bytes(ext.size, "little")


def resolve_kconfig(externs: list[ExternDesc], file: str, config: str | None = None,
                    release: str | None = None) -> KconfigValues:
    """Fill the KCONFIG map from ``config`` (default: the system's) and the ``LINUX_*`` virtual externs."""
    kcfg = [e for e in externs if e.kind is ExternKind.KCONFIG]
    size = max((e.offset + e.size for e in kcfg), default=0)
    buf = bytearray(size)
    values: dict[str, int | bytes | None] = {}
    wanted: dict[str, ExternDesc] = {}
    for ext in kcfg:
        if ext.name == LINUX_KERNEL_VERSION:
            values[ext.name] = kernel_version_code(release)
        elif ext.name in (LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER):
            values[ext.name] = 1  # both hold on every kernel pybpf targets (5.15+, x86-64/arm64/s390x)
        elif ext.name.startswith("CONFIG_"):
            wanted[ext.name] = ext
            continue
        else:
            raise ObjectError(f"extern (kcfg) '{ext.name}': unrecognized virtual extern", file=file, place="Kconfig")
        _store(buf, ext, values[ext.name])
    if wanted:
        text = config if config is not None else read_system_kconfig()
        for line in (text or "").splitlines():
            name, sep, raw = line.strip().partition("=")
            ext = wanted.get(name)
            if not sep or ext is None or ext.name in values:
                continue
            if not raw:
                raise ObjectError(f"failed to parse '{line}': no value", file=file, place="Kconfig")
            values[ext.name] = _encode(ext, raw, file)
            _store(buf, ext, values[ext.name])
        for ext in wanted.values():
            values.setdefault(ext.name, 0 if ext.weak else None)
    return KconfigValues(bytes(buf), values)
