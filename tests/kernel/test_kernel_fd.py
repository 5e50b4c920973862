"""``Fd`` owns a descriptor: closes it once, on request, on ``with`` exit, or when collected."""

from __future__ import annotations

import fcntl
import gc
import operator
import os

import pytest
from pybpf.kernel import Fd


def is_open(raw: int) -> bool:
    try:
        fcntl.fcntl(raw, fcntl.F_GETFD)
    except OSError:
        return False
    return True


def test_int_like_and_closed_by_with():
    raw = os.open("/dev/null", os.O_RDONLY)
    with Fd(raw) as fd:
        assert int(fd) == operator.index(fd) == fd.fileno() == raw
        assert os.fstat(fd)  # accepted where an int descriptor is
    assert fd.closed
    assert not is_open(raw)
    with pytest.raises(ValueError, match="closed"):
        int(fd)
    fd.close()  # a second close does nothing


def test_closed_when_collected():
    raw = os.open("/dev/null", os.O_RDONLY)
    fd = Fd(raw)
    del fd
    gc.collect()
    assert not is_open(raw)


def test_detach_hands_over_ownership():
    raw = os.open("/dev/null", os.O_RDONLY)
    fd = Fd(raw)
    assert fd.detach() == raw
    del fd
    gc.collect()
    assert is_open(raw)
    os.close(raw)


def test_negative_is_not_a_descriptor():
    with pytest.raises(ValueError):
        Fd(-1)
