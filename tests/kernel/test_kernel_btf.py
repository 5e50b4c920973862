"""BPF_BTF_LOAD against the live kernel, with BTF blobs built by hand here."""

from __future__ import annotations

import errno
import struct

import pytest
from kernel_helpers import open_fds
from pybpf.errors import KernelError
from pybpf.kernel import BtfInfo, btf_data, btf_get_fd_by_id, btf_ids, btf_load, obj_get_info_by_fd

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("live")]

BTF_MAGIC = 0xEB9F
BTF_KIND_INT = 1
BTF_INT_SIGNED = 1


def btf_blob(*, magic: int = BTF_MAGIC, str_len_delta: int = 0) -> bytes:
    """``struct btf_header`` + one type, ``int`` (32-bit signed), + the string section."""
    strings = b"\0int\0"
    # struct btf_type: name_off, info (kind << 24 | vlen), size; then the INT's u32 word.
    types = struct.pack("<III", 1, BTF_KIND_INT << 24, 4) + struct.pack("<I", BTF_INT_SIGNED << 24 | 32)
    header = struct.pack(
        "<HBBIIIII", magic, 1, 0, 24, 0, len(types), len(types), len(strings) + str_len_delta
    )  # magic, version, flags, hdr_len, type_off, type_len, str_off, str_len
    return header + types + strings


def test_minimal_btf_loads_and_reads_back():
    blob = btf_blob()
    with btf_load(blob) as fd:
        info = obj_get_info_by_fd(fd)
        assert isinstance(info, BtfInfo)
        assert (info.btf_size, info.name, info.kernel_btf) == (len(blob), "", False)
        assert btf_data(fd) == blob
        with btf_get_fd_by_id(info.id) as again:
            assert obj_get_info_by_fd(again).id == info.id


def test_corrupt_btf_is_refused_with_the_log():
    with pytest.raises(KernelError) as refused:
        btf_load(btf_blob(str_len_delta=100))  # the string section runs past the blob
    err = refused.value
    assert err.errno == errno.EINVAL
    assert str(err) == "BPF_BTF_LOAD failed: Invalid argument (EINVAL): Total section length too long"
    assert err.log.startswith("magic: 0xeb9f\n")
    assert err.log.endswith("\nTotal section length too long")


def test_bad_magic_at_log_level_0_has_no_log():
    with pytest.raises(KernelError) as refused:
        btf_load(btf_blob(magic=0x1234), log_level=0)
    assert refused.value.errno == errno.EINVAL
    assert refused.value.log == ""


def test_bad_magic_log():
    with pytest.raises(KernelError) as refused:
        btf_load(btf_blob(magic=0x1234))
    assert "Invalid magic" in refused.value.log


def test_vmlinux_btf_is_listed_as_kernel_btf():
    names = []
    for btf_id in btf_ids():
        try:
            fd = btf_get_fd_by_id(btf_id)
        except KernelError:
            continue  # freed between listing and opening
        with fd:
            info = obj_get_info_by_fd(fd)
        if info.kernel_btf:
            names.append(info.name)
    assert "vmlinux" in names


def test_failures_leak_no_fd():
    before = open_fds()
    for _ in range(10):
        with pytest.raises(KernelError):
            btf_load(btf_blob(str_len_delta=100))
    assert open_fds() == before
