"""``Fd``: the owner of one file descriptor the kernel handed us."""

from __future__ import annotations

import os
import weakref


class Fd:
    """An open file descriptor, closed by ``close()``, by ``with``, or when collected.

    It passes for an int (``int(fd)``, ``operator.index(fd)``, ``os.fstat(fd)``)
    while it is open; using it after ``close()`` raises ValueError.
    """

    __slots__ = ("__weakref__", "_closer", "_fd")

    def __init__(self, fd: int):
        if fd < 0:
            raise ValueError(f"not a file descriptor: {fd}")
        self._fd = fd
        self._closer = weakref.finalize(self, os.close, fd)

    @property
    def closed(self) -> bool:
        return not self._closer.alive

    def fileno(self) -> int:
        if self.closed:
            raise ValueError(f"file descriptor {self._fd} is closed")
        return self._fd

    __index__ = fileno
    __int__ = fileno

    def close(self) -> None:
        """Close it now; a second close does nothing."""
        self._closer()

    def detach(self) -> int:
        """Give up ownership: the caller closes the returned descriptor."""
        fd = self.fileno()
        self._closer.detach()
        return fd

    def __enter__(self) -> Fd:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Fd({self._fd}{', closed' if self.closed else ''})"
