"""A JIT image as text, each BPF instruction followed by its machine code (``bpftool prog dump jited``
style), disassembled with capstone; the prologue and the shared stubs are listed under their own heads."""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.isa.insn import Insn
from pybpf.jit.common.backend import Backend, JitImage
from pybpf.jit.common.emulate import insn_text


def listing(image: JitImage, insns: Sequence[Insn], backend: Backend) -> str:
    """The whole image: ``; <head>`` lines, then ``offset: bytes  mnemonic operands`` lines."""
    import capstone

    md = capstone.Cs(backend.capstone_arch, backend.capstone_mode)
    heads: dict[int, list[str]] = {}
    starts = sorted((off, pc) for pc, off in enumerate(image.pc_offsets) if off >= 0)
    for off, pc in starts:
        heads.setdefault(off, []).append(f"; insn {pc}: {insn_text(insns, pc)}")
    heads.setdefault(0, []).insert(0, "; prologue, epilogue, abort path")
    heads.setdefault(image.body_end, []).insert(0, "; shared stubs")
    lines: list[str] = []
    offset = 0
    code = image.code
    while offset < len(code):
        decoded = next(md.disasm(code[offset:], image.code_base + offset, count=1), None)
        size = decoded.size if decoded is not None else 1
        for at in sorted(k for k in heads if offset <= k < offset + size):
            lines.extend(heads.pop(at))
        raw = code[offset : offset + size].hex(" ")
        text = f"{decoded.mnemonic} {decoded.op_str}".strip() if decoded is not None else "(data)"
        lines.append(f"{offset:6x}: {raw:<30} {text}")
        offset += size
    return "\n".join(lines)
