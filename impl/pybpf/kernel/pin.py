"""Pinning: ``BPF_OBJ_PIN`` / ``BPF_OBJ_GET`` on a bpffs path."""

from __future__ import annotations

import ctypes
import operator
import os
from typing import SupportsIndex

from pybpf.abi.uapi import Cmd
from pybpf.kernel import syscall
from pybpf.kernel.fd import Fd
from pybpf.kernel.layout import BpfAttr


def _path_attr(path: str | os.PathLike) -> tuple[BpfAttr, ctypes.Array]:
    path_buf = ctypes.create_string_buffer(os.fsencode(path))
    attr = BpfAttr()
    attr.pathname = ctypes.addressof(path_buf)
    return attr, path_buf


def obj_pin(fd: SupportsIndex, path: str | os.PathLike) -> None:
    """Give the object of ``fd`` a name in a bpf filesystem; it lives on until unlinked."""
    attr, _path = _path_attr(path)
    attr.bpf_fd = operator.index(fd)
    syscall.bpf(Cmd.OBJ_PIN, attr)


def obj_get(path: str | os.PathLike, *, file_flags: int = 0) -> Fd:
    """Open the object pinned at ``path`` (``file_flags``: MapFlags.RDONLY / WRONLY)."""
    attr, _path = _path_attr(path)
    attr.file_flags = file_flags
    return Fd(syscall.bpf(Cmd.OBJ_GET, attr))
