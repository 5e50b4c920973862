"""One exception family for everything pybpf reports to a user.

Every error carries a one-line message and, where known, the file and the place
in it (a line, an instruction index, a section and offset).  Text is produced
only at the edge (CLI, reports) by ``str(err)``.
"""

from __future__ import annotations

import re

# Names in a message often come from the input's own bytes (a section name, a symbol): a newline
# or a terminal escape among them must not split the one line a user greps for.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class PybpfError(Exception):
    """Base of every error pybpf raises on purpose."""

    def __init__(self, message: str, *, file: str | None = None, place: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.place = place

    def located(self, file: str | None = None, place: str | None = None) -> PybpfError:
        """Fill in the file/place if the raiser could not know them; returns self."""
        if self.file is None:
            self.file = file
        if self.place is None:
            self.place = place
        return self

    def __str__(self) -> str:
        where = ":".join(p for p in (self.file, self.place) if p)
        return one_line(f"{where}: {self.message}" if where else self.message)


class InputError(PybpfError):
    """Something the user wrote or gave us is malformed."""


class DecodeError(InputError):
    """Raw instruction bytes that are not a valid BPF instruction."""


class AsmError(InputError):
    """Assembly text that does not assemble."""


class DataFileError(InputError):
    """A malformed bpf_conformance ``.data`` file."""


class VmFault(PybpfError):
    """A program did something at run time that the machine refuses to do.

    ``pc`` is the instruction index (in 8-byte slots) of the faulting instruction.
    """

    def __init__(self, message: str, *, pc: int | None = None, **kw):
        super().__init__(message, **kw)
        self.pc = pc
        if pc is not None and self.place is None:
            self.place = f"insn {pc}"


class KernelError(PybpfError):
    """The live kernel refused an operation; ``errno`` and ``log`` say why."""

    def __init__(self, message: str, *, errno: int = 0, log: str = "", **kw):
        super().__init__(message, **kw)
        self.errno = errno
        self.log = log


class KernelUnavailable(KernelError):
    """``bpf()`` cannot be used here (not root, no CAP_BPF, syscall blocked...)."""


class InternalError(PybpfError):
    """A bug in pybpf itself (the kernel's ``verifier_bug()``), never a user error."""
