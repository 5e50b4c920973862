"""The toolchain's two failures, both members of pybpf's one exception family."""

from __future__ import annotations

from pybpf.errors import InputError


class ToolchainError(InputError):
    """No usable BPF C compiler was found, or the one named cannot be run."""


class CompileError(InputError):
    """The compiler rejected a source file.

    ``message`` is the compiler's stderr exactly as it printed it; its lines
    already carry ``file:line:col``, so ``str()`` adds no prefix of its own.
    ``file`` is the source that was compiled, ``compiler`` the compiler's
    one-line identity and ``argv`` the full command line.
    """

    def __init__(self, message: str, *, compiler: str = "", argv: tuple[str, ...] = (), **kw):
        super().__init__(message, **kw)
        self.compiler = compiler
        self.argv = argv

    def __str__(self) -> str:
        return self.message
