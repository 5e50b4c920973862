"""JIT images as text for ``__jited``: the layout test_progs' ``get_jited_program_text`` prints, via capstone.

The kernel's selftests disassemble with LLVM; each function of the image is a
``func #N:`` head, then one line per instruction::

    <offset hex>:\\t<bytes as "xx ", padded to 36 columns><label:>\\t<mnemonic>\\t<operands>

a blank line after each function.  Jump and call targets inside the function
get local labels ``L0``, ``L1``... in address order (the label is printed before
the target's text and replaces the address in the branch); immediates are hex.
Capstone in AT&T syntax gives the same mnemonics for the code the x86_64 JIT
emits (``endbr64``, ``nopl (%rax,%rax)``, ``movq %rsp, %rbp``), which is what
the patterns' substrings are written against.
"""

from __future__ import annotations

import ctypes
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import SupportsIndex

from pybpf.errors import InputError
from pybpf.isa.insn import Insn

ARCHS = frozenset({"x86_64"})  # where the text (labels, operand spelling) is set up
_BYTES_COLUMNS = 12 * 3  # room for 12 bytes as "xx "
_MEM_COMMA = re.compile(r",\s+(?=[^()]*\))")  # a comma inside a memory operand's parentheses
_DECIMAL = re.compile(r"(?<![\w.%-])-?\d+(?![\w.])")  # a number capstone printed in decimal


@dataclass(frozen=True)
class _Line:
    offset: int
    raw: bytes
    mnemonic: str
    operands: str
    target: int | None  # a branch's destination inside the function


def _capstone(arch: str):
    import capstone

    if arch not in ARCHS:
        raise InputError(f"__jited: no {arch} disassembler set up for JIT text yet")
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.syntax = capstone.CS_OPT_SYNTAX_ATT
    md.detail = True
    return md


def _decode(code: bytes, arch: str) -> list[_Line]:
    import capstone

    md = _capstone(arch)
    lines: list[_Line] = []
    offset = 0
    while offset < len(code):
        insn = next(md.disasm(code[offset:], offset, count=1), None)
        if insn is None:
            lines.append(_Line(offset, code[offset:offset + 1], "<unknown>", "", None))
            offset += 1
            continue
        target = None
        if insn.group(capstone.CS_GRP_JUMP) or insn.group(capstone.CS_GRP_CALL):
            imm = [op.imm for op in insn.operands if op.type == capstone.x86.X86_OP_IMM]
            if len(imm) == 1 and 0 <= imm[0] < len(code):
                target = imm[0]
        lines.append(_Line(offset, bytes(insn.bytes), insn.mnemonic, insn.op_str, target))
        offset += insn.size
    return lines


def _llvm_operands(text: str) -> str:
    """Capstone's AT&T operands spelled as LLVM's printer spells them with hex immediates:
    ``$0x1`` not ``$1``, ``$-0x200`` not ``$18446744073709551104``, ``(%rax,%rax)`` not ``(%rax, %rax)``."""
    text = _MEM_COMMA.sub(",", text)
    return _DECIMAL.sub(lambda m: _hex(int(m.group(0))), text)


def _hex(value: int) -> str:
    if value >= 1 << 63:
        value -= 1 << 64
    return f"-{-value:#x}" if value < 0 else f"{value:#x}"


def _function_text(code: bytes, arch: str) -> str:
    lines = _decode(code, arch)
    labels = {pc: f"L{i}" for i, pc in enumerate(sorted({ln.target for ln in lines if ln.target is not None}))}
    out: list[str] = []
    for ln in lines:
        operands = _llvm_operands(ln.operands)
        if ln.target is not None:
            operands = labels[ln.target]
        label = f"{labels[ln.offset]}:" if ln.offset in labels else ""
        raw = "".join(f"{b:02x} " for b in ln.raw).ljust(_BYTES_COLUMNS)
        text = f"\t{ln.mnemonic}\t{operands}" if operands else f"\t{ln.mnemonic}"
        out.append(f"{ln.offset:x}:\t{raw}{label}{text}\n")
    return "".join(out)


def jited_text(image: bytes, func_lens: Sequence[int] = (), *, arch: str = "x86_64") -> str:
    """The text ``__jited`` patterns are matched against, for an image of functions ``func_lens`` long
    (empty: one function, the whole image)."""
    lens = list(func_lens) or [len(image)]
    parts: list[str] = []
    start = 0
    for i, length in enumerate(lens):
        parts.append(f"func #{i}:\n{_function_text(image[start:start + length], arch)}\n")
        start += length
    return "".join(parts)


def _prog_info(fd: SupportsIndex, info: object) -> None:
    from pybpf.abi.uapi import Cmd
    from pybpf.kernel import syscall
    from pybpf.kernel.layout import BpfAttr

    attr = BpfAttr()
    attr.info.bpf_fd = operator.index(fd)
    attr.info.info_len = ctypes.sizeof(info)
    attr.info.info = ctypes.addressof(info)
    syscall.bpf(Cmd.OBJ_GET_INFO_BY_FD, attr)


def kernel_func_lens(fd: SupportsIndex) -> list[int]:
    """``jited_func_lens`` of a loaded program: each JITed function's size in the image."""
    from pybpf.kernel.layout import BpfProgInfo

    first = BpfProgInfo()
    _prog_info(fd, first)
    count = first.nr_jited_func_lens
    if not count:
        return []
    buf = (ctypes.c_uint32 * count)()
    second = BpfProgInfo()
    second.nr_jited_func_lens = count
    second.jited_func_lens = ctypes.addressof(buf)
    _prog_info(fd, second)
    return list(buf)[: min(count, second.nr_jited_func_lens)]


def kernel_jited_text(fd: SupportsIndex, *, arch: str) -> str:
    """The live kernel's JIT image of program ``fd`` as text ("" when the program is interpreted)."""
    from pybpf.kernel.info import prog_jited

    image = prog_jited(fd)
    return jited_text(image, kernel_func_lens(fd), arch=arch) if image else ""


def pybpf_jited_text(insns: list[Insn], *, arch: str, helper_ids: Iterable[int] = ()) -> str:
    """pybpf's own JIT back-end for ``arch`` compiling ``insns``, as text (one function: the whole image)."""
    import importlib

    backend = importlib.import_module(f"pybpf.jit.{arch}").BACKEND()
    image = backend.compile(list(insns), helper_ids=helper_ids)
    return jited_text(image.code, arch=arch)
