"""BPF streams (Linux 6.17+): reading what a program wrote with ``bpf_stream_printk`` / ``bpf_stream_vprintk``.

Each program has a stdout and a stderr stream; ``BPF_PROG_STREAM_READ_BY_FD``
copies (and consumes) up to ``size`` bytes of one of them.
"""

from __future__ import annotations

import ctypes
import operator
from enum import IntEnum
from typing import SupportsIndex

from pybpf.abi.uapi import Cmd
from pybpf.kernel import syscall
from pybpf.kernel.layout import BpfAttr

DEFAULT_READ_SIZE = 4096


class StreamId(IntEnum):
    """``BPF_STDOUT`` / ``BPF_STDERR``: the stream ids of the uapi."""

    STDOUT = 1
    STDERR = 2


def prog_stream_read(fd: SupportsIndex, stream_id: int, size: int = DEFAULT_READ_SIZE) -> bytes:
    """Read up to ``size`` bytes of program ``fd``'s stream ``stream_id``; a KernelError when the kernel refuses
    (ENOENT: no such stream id; EINVAL: a kernel without streams)."""
    buf = ctypes.create_string_buffer(size)
    attr = BpfAttr()
    read = attr.prog_stream_read
    read.stream_buf = ctypes.addressof(buf)
    read.stream_buf_len = size
    read.stream_id = int(stream_id)
    read.prog_fd = operator.index(fd)
    ret, err = syscall.sys_bpf(Cmd.PROG_STREAM_READ_BY_FD, attr, ctypes.sizeof(attr))
    if ret < 0:
        raise syscall.failure(Cmd.PROG_STREAM_READ_BY_FD, err)
    return buf.raw[:ret]
