"""``BPF_PROG_TEST_RUN``: run a loaded program on given input inside the kernel."""

from __future__ import annotations

import ctypes
import errno as errnos
import operator
from dataclasses import dataclass
from typing import SupportsIndex

from pybpf.abi.uapi import Cmd
from pybpf.kernel import syscall
from pybpf.kernel.layout import BpfAttr

# Room for a packet that the program grows (bpf_xdp_adjust_tail, bpf_skb_change_tail...).
DATA_OUT_SLACK = 4096


@dataclass(frozen=True)
class TestRun:
    """What the kernel reports of a test run (``duration_ns`` is the mean of ``repeat`` runs)."""

    __test__ = False  # not a pytest class, despite the name

    retval: int
    duration_ns: int
    data_out: bytes
    ctx_out: bytes


def prog_test_run(
    fd: SupportsIndex,
    data_in: bytes = b"",
    *,
    ctx_in: bytes | None = None,
    repeat: int = 1,
    data_size_out: int | None = None,
    ctx_size_out: int = 0,
    flags: int = 0,
    cpu: int = 0,
    batch_size: int = 0,
) -> TestRun:
    """Run program ``fd`` ``repeat`` times; ``retval`` is its (unsigned 32-bit) return value.

    ``data_size_out`` defaults to the input's size plus some slack; when the
    output does not fit the KernelError says how much room it needed.
    """
    if data_size_out is None:
        data_size_out = len(data_in) + DATA_OUT_SLACK if data_in else 0
    data_buf = ctypes.create_string_buffer(data_in, len(data_in))
    out_buf = ctypes.create_string_buffer(data_size_out)
    ctx_buf = ctypes.create_string_buffer(ctx_in or b"", len(ctx_in or b""))
    ctx_out_buf = ctypes.create_string_buffer(ctx_size_out)

    attr = BpfAttr()
    test = attr.test
    test.prog_fd = operator.index(fd)
    test.data_size_in = len(data_in)
    test.data_in = ctypes.addressof(data_buf) if data_in else 0
    test.data_size_out = data_size_out
    test.data_out = ctypes.addressof(out_buf) if data_size_out else 0
    test.ctx_size_in = len(ctx_in or b"")
    test.ctx_in = ctypes.addressof(ctx_buf) if ctx_in else 0
    test.ctx_size_out = ctx_size_out
    test.ctx_out = ctypes.addressof(ctx_out_buf) if ctx_size_out else 0
    test.repeat = repeat
    test.flags = flags
    test.cpu = cpu
    test.batch_size = batch_size

    ret, err = syscall.sys_bpf(Cmd.PROG_TEST_RUN, attr, ctypes.sizeof(attr))
    if ret < 0:
        detail = ""
        if err == errnos.ENOSPC and test.data_size_out > data_size_out:
            detail = f"the output needs data_size_out={test.data_size_out}"
        elif err == errnos.ENOSPC and test.ctx_size_out > ctx_size_out:
            detail = f"the output needs ctx_size_out={test.ctx_size_out}"
        raise syscall.failure(Cmd.PROG_TEST_RUN, err, detail=detail)
    return TestRun(
        retval=test.retval,
        duration_ns=test.duration,
        data_out=out_buf.raw[: test.data_size_out] if data_size_out else b"",
        ctx_out=ctx_out_buf.raw[: test.ctx_size_out] if ctx_size_out else b"",
    )
