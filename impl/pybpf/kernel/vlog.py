"""Commands that carry a log buffer (``BPF_PROG_LOAD``, ``BPF_BTF_LOAD``).

The kernel keeps the tail of a log that does not fit and fails with ENOSPC,
telling the size it needed in ``log_true_size``; we then retry with a buffer
that large, up to a ceiling.
"""

from __future__ import annotations

import ctypes
import errno as errnos
import re
from dataclasses import dataclass

from pybpf.kernel import syscall
from pybpf.kernel.layout import BpfAttr

FIRST_LOG_SIZE = 64 << 10
MAX_LOG_SIZE = 16 << 20
MIN_LOG_SIZE = 128  # the kernel refuses smaller log buffers with EINVAL
EAGAIN_RETRIES = 5

# Summary lines the verifier appends after its verdict (log levels 1 and 4).
_STATS_LINE = re.compile(r"^(processed \d+ insns|verification time |stack depth )")


@dataclass(frozen=True)
class LogFields:
    """Names of a command's log members inside ``union bpf_attr``."""

    buf: str
    size: str
    level: str
    true_size: str


PROG_LOG = LogFields("log_buf", "log_size", "log_level", "log_true_size")
BTF_LOG = LogFields("btf_log_buf", "btf_log_size", "btf_log_level", "btf_log_true_size")


def verdict(log: str) -> str:
    """The line of a verifier log that says why it refused (the last one before the statistics)."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line and not _STATS_LINE.match(line):
            return line
    return ""


def _decode(buf: ctypes.Array | None) -> str:
    return buf.value.decode("utf-8", "replace") if buf is not None else ""


def call_with_log(
    cmd: int, attr: BpfAttr, fields: LogFields, *, log_level: int, log_size: int = MAX_LOG_SIZE
) -> tuple[int, str]:
    """Run ``cmd`` with a log buffer; returns (result, log) or raises KernelError carrying the log.

    ``log_size`` is the ceiling the buffer may grow to; with ``log_level`` 0 no
    buffer is passed.  EAGAIN (a transient verifier condition) is retried a few times.
    """
    size = max(MIN_LOG_SIZE, min(FIRST_LOG_SIZE, log_size)) if log_level else 0
    eagain_left = EAGAIN_RETRIES
    while True:
        buf = ctypes.create_string_buffer(size) if size else None
        setattr(attr, fields.level, log_level)
        setattr(attr, fields.size, size)
        setattr(attr, fields.buf, ctypes.addressof(buf) if buf is not None else 0)
        setattr(attr, fields.true_size, 0)
        ret, err = syscall.sys_bpf(cmd, attr, ctypes.sizeof(attr))
        log = _decode(buf)
        if ret >= 0:
            return ret, log
        needed = getattr(attr, fields.true_size)
        if err == errnos.ENOSPC and size and size < log_size and (needed > size or needed == 0):
            size = min(log_size, max(needed, size * 4))
            continue
        if err == errnos.EAGAIN and eagain_left:
            eagain_left -= 1
            continue
        detail = verdict(log)
        if err == errnos.ENOSPC and size and needed > size:
            detail = f"the log needs {needed} bytes, more than the {size} allowed"
        raise syscall.failure(cmd, err, log=log, detail=detail)
