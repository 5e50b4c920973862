"""A machine-code buffer with labels, fixups, a BPF pc map and a constant pool.

A back-end appends bytes, marks where each BPF instruction starts
(``mark_pc``), and refers to places not emitted yet through ``Label``s: a
branch is emitted with a placeholder field and ``fixup(label, kind, at)``
records it.  ``finish()`` binds the constant pool, then hands every fixup to
the back-end's ``Patcher`` with the label's final offset; only the back-end
knows how a field of each ``kind`` (rel8, rel32, imm26 << 2, ...) is encoded
and what its range is.  Offsets are bytes from the start of the buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pybpf.errors import InternalError


@dataclass(eq=False)
class Label:
    """A place in the code; ``offset`` is None until ``CodeBuffer.bind``."""

    name: str = ""
    offset: int | None = None


@dataclass(frozen=True)
class Fixup:
    """A field to patch: ``at`` is the field's offset, ``origin`` the offset its
    displacement counts from (x86: the end of the instruction; arm64: the instruction)."""

    label: Label
    kind: str
    at: int
    origin: int


Patcher = Callable[[bytearray, Fixup, int], None]
"""``patch(code, fixup, target)``: write the field for a branch to ``target``;
raise ``InternalError`` when the distance does not fit the field."""


@dataclass
class _Constant:
    data: bytes
    align: int
    label: Label


@dataclass
class CodeBuffer:
    """Growing machine code; ``pc_offsets[pc]`` is where BPF slot ``pc`` starts (-1: not code)."""

    patcher: Patcher
    code: bytearray = field(default_factory=bytearray)
    fixups: list[Fixup] = field(default_factory=list)
    pc_offsets: list[int] = field(default_factory=list)
    _constants: list[_Constant] = field(default_factory=list)

    @property
    def pos(self) -> int:
        return len(self.code)

    def emit(self, data: bytes | bytearray) -> int:
        """Append ``data``; returns its offset."""
        at = len(self.code)
        self.code += data
        return at

    def align(self, boundary: int, filler: bytes = b"\0") -> None:
        while len(self.code) % boundary:
            self.code += filler[: boundary - len(self.code) % boundary]

    # ------------------------------------------------------------ labels

    @staticmethod
    def label(name: str = "") -> Label:
        return Label(name)

    def bind(self, label: Label) -> None:
        if label.offset is not None:
            raise InternalError(f"label {label.name or id(label)} is bound twice")
        label.offset = len(self.code)

    def here(self, name: str = "") -> Label:
        """A label bound at the current position."""
        label = Label(name)
        self.bind(label)
        return label

    def fixup(self, label: Label, kind: str, at: int, origin: int | None = None) -> None:
        """Patch the field at ``at`` for ``label`` later (``origin`` defaults to the current end)."""
        self.fixups.append(Fixup(label, kind, at, len(self.code) if origin is None else origin))

    # ------------------------------------------------------------ the BPF pc map

    def mark_pc(self, pc: int) -> None:
        """BPF slot ``pc`` starts here; slots skipped over (ld_imm64's second) stay -1."""
        while len(self.pc_offsets) < pc:
            self.pc_offsets.append(-1)
        self.pc_offsets.append(len(self.code))

    # ------------------------------------------------------------ constants

    def constant(self, data: bytes, align: int = 8) -> Label:
        """A label for ``data`` in the pool placed after the code (shared by equal constants)."""
        for const in self._constants:
            if const.data == data and const.align == align:
                return const.label
        const = _Constant(bytes(data), align, Label(f"const{len(self._constants)}"))
        self._constants.append(const)
        return const.label

    # ------------------------------------------------------------ finishing

    def finish(self) -> bytes:
        """Place the constant pool, patch every fixup, and return the code."""
        for const in self._constants:
            self.align(const.align)
            self.bind(const.label)
            self.emit(const.data)
        for fix in self.fixups:
            if fix.label.offset is None:
                raise InternalError(f"label {fix.label.name or id(fix.label)} is used but never bound")
            self.patcher(self.code, fix, fix.label.offset)
        return bytes(self.code)

