"""glibc's own ``regcomp``/``regexec`` through ctypes: the ERE implementation the kernel's test_loader uses."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import pytest

REG_EXTENDED, REG_NEWLINE = 1, 4
_REGEX_T_SIZE = 256  # glibc's regex_t is 64 bytes on 64-bit machines; room to spare


class _Match(ctypes.Structure):
    _fields_ = [("rm_so", ctypes.c_int), ("rm_eo", ctypes.c_int)]


def libc() -> ctypes.CDLL:
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the C library here is not glibc")
    return ctypes.CDLL(ctypes.util.find_library("c"))


def glibc_search(ere: str, text: str, start: int = 0) -> tuple[int, int] | str | None:
    """(start, end) of ``regexec`` on ``text[start:]`` (offsets into ``text``), None, or "error: ..." when
    ``regcomp(REG_EXTENDED | REG_NEWLINE)`` refuses ``ere``."""
    c = libc()
    buf = ctypes.create_string_buffer(_REGEX_T_SIZE)
    err = c.regcomp(buf, ere.encode(), REG_EXTENDED | REG_NEWLINE)
    if err:
        msg = ctypes.create_string_buffer(256)
        c.regerror(err, buf, msg, len(msg))
        return f"error: {msg.value.decode()}"
    try:
        m = (_Match * 1)()
        tail = text[start:].encode()
        if c.regexec(buf, tail, 1, m, 0):
            return None
        # byte offsets -> character offsets
        return (start + len(tail[:m[0].rm_so].decode()), start + len(tail[:m[0].rm_eo].decode()))
    finally:
        c.regfree(buf)
