"""Objects by id: ``BPF_*_GET_FD_BY_ID`` and ``BPF_*_GET_NEXT_ID``."""

from __future__ import annotations

import ctypes
import errno as errnos
from collections.abc import Iterator

from pybpf.abi.uapi import Cmd
from pybpf.kernel import syscall
from pybpf.kernel.fd import Fd
from pybpf.kernel.layout import BpfAttr


def _fd_by_id(cmd: Cmd, obj_id: int, open_flags: int = 0) -> Fd:
    attr = BpfAttr()
    attr.start_id = obj_id
    attr.open_flags = open_flags
    return Fd(syscall.bpf(cmd, attr))


def prog_get_fd_by_id(prog_id: int) -> Fd:
    return _fd_by_id(Cmd.PROG_GET_FD_BY_ID, prog_id)


def map_get_fd_by_id(map_id: int, *, open_flags: int = 0) -> Fd:
    """``open_flags``: MapFlags.RDONLY / WRONLY for a read- or write-only fd."""
    return _fd_by_id(Cmd.MAP_GET_FD_BY_ID, map_id, open_flags)


def btf_get_fd_by_id(btf_id: int) -> Fd:
    return _fd_by_id(Cmd.BTF_GET_FD_BY_ID, btf_id)


def link_get_fd_by_id(link_id: int) -> Fd:
    return _fd_by_id(Cmd.LINK_GET_FD_BY_ID, link_id)


def _ids(cmd: Cmd) -> Iterator[int]:
    attr = BpfAttr()
    while True:
        ret, err = syscall.sys_bpf(cmd, attr, ctypes.sizeof(attr))
        if ret < 0:
            if err == errnos.ENOENT:
                return  # past the last one
            raise syscall.failure(cmd, err)
        yield attr.next_id
        attr.start_id = attr.next_id


def prog_ids() -> Iterator[int]:
    """Ids of every program loaded in the system, ascending."""
    return _ids(Cmd.PROG_GET_NEXT_ID)


def map_ids() -> Iterator[int]:
    return _ids(Cmd.MAP_GET_NEXT_ID)


def btf_ids() -> Iterator[int]:
    return _ids(Cmd.BTF_GET_NEXT_ID)
