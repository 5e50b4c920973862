"""``BPF_BTF_LOAD``: hand a BTF blob to the kernel's BTF checker."""

from __future__ import annotations

import ctypes

from pybpf.abi.uapi import Cmd
from pybpf.kernel.fd import Fd
from pybpf.kernel.layout import BpfAttr
from pybpf.kernel.vlog import BTF_LOG, MAX_LOG_SIZE, call_with_log


def btf_load(data: bytes, *, log_level: int = 1, log_size: int = MAX_LOG_SIZE) -> Fd:
    """Load raw BTF (header, types, strings); raises KernelError with the checker's log."""
    blob = ctypes.create_string_buffer(bytes(data), len(data))
    attr = BpfAttr()
    attr.btf = ctypes.addressof(blob)
    attr.btf_size = len(data)
    fd, _log = call_with_log(Cmd.BTF_LOAD, attr, BTF_LOG, log_level=log_level, log_size=log_size)
    return Fd(fd)
