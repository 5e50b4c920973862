"""``BPF_PROG_LOAD``: hand a program to the kernel's verifier and get an fd back."""

from __future__ import annotations

import ctypes
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import SupportsIndex

from pybpf.abi.uapi import BPF_OBJ_NAME_LEN, Cmd, ProgType
from pybpf.errors import InputError
from pybpf.isa.insn import INSN_SIZE, Insn, encode_program
from pybpf.kernel.fd import Fd
from pybpf.kernel.layout import BpfAttr
from pybpf.kernel.vlog import MAX_LOG_SIZE, PROG_LOG, call_with_log


@dataclass
class LoadedProg:
    """A program the verifier accepted, with the log it wrote (empty at log level 0)."""

    fd: Fd
    log: str

    def close(self) -> None:
        self.fd.close()

    def __enter__(self) -> LoadedProg:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def program_bytes(insns: bytes | bytearray | memoryview | Sequence[Insn]) -> bytes:
    """The raw ``struct bpf_insn`` array of a program given as bytes or as slots."""
    raw = bytes(insns) if isinstance(insns, bytes | bytearray | memoryview) else encode_program(list(insns))
    if len(raw) % INSN_SIZE:
        raise InputError(f"program length {len(raw)} is not a multiple of {INSN_SIZE} bytes")
    return raw


def object_name(name: str) -> bytes:
    """A map or program name as the kernel stores it (at most 15 bytes and a NUL)."""
    raw = name.encode()
    if len(raw) >= BPF_OBJ_NAME_LEN:
        raise InputError(f"object name {name!r} is longer than {BPF_OBJ_NAME_LEN - 1} bytes")
    return raw


def _records(what: str, data: bytes, rec_size: int) -> int:
    """How many ``rec_size`` records ``data`` holds (func_info / line_info)."""
    if not data:
        return 0
    if rec_size <= 0 or len(data) % rec_size:
        raise InputError(f"{what} of {len(data)} bytes is not a whole number of {rec_size}-byte records")
    return len(data) // rec_size


def prog_load(
    insns: bytes | Sequence[Insn],
    *,
    prog_type: int = ProgType.SOCKET_FILTER,
    name: str = "",
    license: str = "GPL",
    log_level: int = 1,
    log_size: int = MAX_LOG_SIZE,
    expected_attach_type: int | None = None,
    attach_btf_id: int = 0,
    attach_btf_obj_fd: SupportsIndex = 0,
    attach_prog_fd: SupportsIndex = 0,
    prog_btf_fd: SupportsIndex | None = None,
    func_info: bytes = b"",
    func_info_rec_size: int = 0,
    line_info: bytes = b"",
    line_info_rec_size: int = 0,
    prog_flags: int = 0,
    fd_array: Sequence[SupportsIndex] | None = None,
    kern_version: int = 0,
) -> LoadedProg:
    """Load a program; raises KernelError (errno, the verifier's full log) when refused.

    ``log_size`` is the most the verifier log may take: the buffer starts small
    and grows when the kernel reports it was too short.
    """
    if attach_prog_fd and attach_btf_obj_fd:
        raise InputError("attach_prog_fd and attach_btf_obj_fd share one field: give only one")
    code = program_bytes(insns)
    code_buf = ctypes.create_string_buffer(code, len(code))
    license_buf = ctypes.create_string_buffer(license.encode())
    func_buf = ctypes.create_string_buffer(func_info, len(func_info))
    line_buf = ctypes.create_string_buffer(line_info, len(line_info))
    fds = [operator.index(f) for f in fd_array or ()]
    fd_buf = (ctypes.c_int32 * len(fds))(*fds)

    attr = BpfAttr()
    attr.prog_type = prog_type
    attr.insn_cnt = len(code) // INSN_SIZE
    attr.insns = ctypes.addressof(code_buf)
    attr.license = ctypes.addressof(license_buf)
    attr.kern_version = kern_version
    attr.prog_flags = prog_flags
    attr.prog_name = object_name(name)
    attr.expected_attach_type = 0 if expected_attach_type is None else expected_attach_type
    attr.prog_btf_fd = 0 if prog_btf_fd is None else operator.index(prog_btf_fd)
    attr.func_info_rec_size = func_info_rec_size
    attr.func_info_cnt = _records("func_info", func_info, func_info_rec_size)
    attr.func_info = ctypes.addressof(func_buf) if func_info else 0
    attr.line_info_rec_size = line_info_rec_size
    attr.line_info_cnt = _records("line_info", line_info, line_info_rec_size)
    attr.line_info = ctypes.addressof(line_buf) if line_info else 0
    attr.attach_btf_id = attach_btf_id
    attr.attach_prog_fd = operator.index(attach_prog_fd or attach_btf_obj_fd)
    attr.fd_array = ctypes.addressof(fd_buf) if fds else 0

    fd, log = call_with_log(Cmd.PROG_LOAD, attr, PROG_LOG, log_level=log_level, log_size=log_size)
    return LoadedProg(Fd(fd), log)
