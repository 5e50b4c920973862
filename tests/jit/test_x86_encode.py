"""Every x86_64 encoder form, cross-checked by disassembling it with capstone.

The expected texts are Intel syntax as the architecture manual defines each
instruction (capstone's spelling); they are written here by hand, not taken
from the encoder's output.
"""

from __future__ import annotations

import pytest
from pybpf.jit.x86_64 import encode as x
from pybpf.jit.x86_64.encode import (
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R15,
    RAX,
    RBP,
    RBX,
    RCX,
    RDI,
    RDX,
    RSI,
    RSP,
    Alu,
    Cond,
    Mem,
    Shift,
)  # fmt: skip

capstone = pytest.importorskip("capstone", reason="capstone is not installed (pip install 'pybpf[jit]')")


def disasm(code: bytes) -> str:
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    insns = list(md.disasm(code, 0))
    assert sum(i.size for i in insns) == len(code), f"{code.hex()} does not decode as a whole"
    assert len(insns) == 1, f"{code.hex()} is {len(insns)} instructions"
    return f"{insns[0].mnemonic} {insns[0].op_str}".strip()


CASES = [
    # register moves and immediates
    (x.mov(RAX, RBX), "mov rax, rbx"),
    (x.mov(R15, RDI), "mov r15, rdi"),
    (x.mov(RSI, R8, w=False), "mov esi, r8d"),
    (x.mov_imm(RAX, 7), "mov eax, 7"),
    (x.mov_imm(R9, 0xFFFF_FFFF), "mov r9d, 0xffffffff"),
    (x.mov_imm(RCX, (1 << 64) - 2), "mov rcx, 0xfffffffffffffffe"),
    (x.mov_imm(R11, 0x1234_5678_9ABC), "movabs r11, 0x123456789abc"),
    (x.mov_imm(RDX, -1, w=False), "mov edx, 0xffffffff"),
    # ModRM corner cases: rsp/r12 bases need a SIB, rbp/r13 bases need a displacement
    (x.load(RAX, Mem(RSP, 0), 8), "mov rax, qword ptr [rsp]"),
    (x.load(RAX, Mem(R12, 0x10), 8), "mov rax, qword ptr [r12 + 0x10]"),
    (x.load(RBX, Mem(RBP, 0), 8), "mov rbx, qword ptr [rbp]"),
    (x.load(RBX, Mem(R13, 0), 4), "mov ebx, dword ptr [r13]"),
    (x.load(RDI, Mem(RSI, -8), 2), "movzx edi, word ptr [rsi - 8]"),
    (x.load(R8, Mem(RDI, 0x1000), 1), "movzx r8d, byte ptr [rdi + 0x1000]"),
    (x.load(R11, Mem(R12, 0x80, R11, 8), 8), "mov r11, qword ptr [r12 + r11*8 + 0x80]"),
    (x.load(RAX, Mem(RBP, 0, R11, 1), 8), "mov rax, qword ptr [rbp + r11]"),
    (x.load_sx(RAX, Mem(RDI, 1), 1), "movsx rax, byte ptr [rdi + 1]"),
    (x.load_sx(R14 := 14, Mem(RSI, 2), 2), "movsx r14, word ptr [rsi + 2]"),
    (x.load_sx(RCX, Mem(R8, -4), 4), "movsxd rcx, dword ptr [r8 - 4]"),
    (x.store(Mem(RBP, -8), RAX, 8), "mov qword ptr [rbp - 8], rax"),
    (x.store(Mem(RDI, 4), RSI, 4), "mov dword ptr [rdi + 4], esi"),
    (x.store(Mem(RDI, 4), R9, 2), "mov word ptr [rdi + 4], r9w"),
    (x.store(Mem(RDI, 4), RSI, 1), "mov byte ptr [rdi + 4], sil"),
    (x.store(Mem(RDX, 0), RDI, 1), "mov byte ptr [rdx], dil"),
    (x.store(Mem(RDX, 0), RBX, 1), "mov byte ptr [rdx], bl"),
    (x.store_imm(Mem(RBP, -16), -3, 8), "mov qword ptr [rbp - 0x10], 0xfffffffffffffffd"),
    (x.store_imm(Mem(RBP, -16), 0x12345678, 4), "mov dword ptr [rbp - 0x10], 0x12345678"),
    (x.store_imm(Mem(R13, 2), 0xBEEF, 2), "mov word ptr [r13 + 2], 0xbeef"),
    (x.store_imm(Mem(RSP, 1), 0x7F, 1), "mov byte ptr [rsp + 1], 0x7f"),
    (x.movzx(RAX, RSI, 8), "movzx eax, sil"),
    (x.movzx(R10, R10, 16), "movzx r10d, r10w"),
    (x.movzx(RDX, RDX, 32), "mov edx, edx"),
    (x.movsx(RAX, RDI, 8), "movsx rax, dil"),
    (x.movsx(RAX, RDI, 16, w=False), "movsx eax, di"),
    (x.movsx(R13, RBX, 32), "movsxd r13, ebx"),
    (x.lea(RAX, Mem(RBP, -512)), "lea rax, [rbp - 0x200]"),
    # arithmetic
    (x.alu(Alu.ADD, RAX, RDI), "add rax, rdi"),
    (x.alu(Alu.SUB, R13, R15, w=False), "sub r13d, r15d"),
    (x.alu(Alu.XOR, RBX, RBX, w=False), "xor ebx, ebx"),
    (x.alu(Alu.CMP, RCX, R8), "cmp rcx, r8"),
    (x.alu_imm(Alu.ADD, RSP, 8), "add rsp, 8"),
    (x.alu_imm(Alu.AND, RDI, 0x12345), "and rdi, 0x12345"),
    (x.alu_imm(Alu.OR, RSI, -1, w=False), "or esi, 0xffffffff"),
    (x.alu_imm(Alu.CMP, Mem(R12, 0x38), 0), "cmp qword ptr [r12 + 0x38], 0"),
    (x.test(R11, R11), "test r11, r11"),
    (x.test_imm(RDX, 0x80, w=False), "test edx, 0x80"),
    (x.imul(RAX, R9), "imul rax, r9"),
    (x.imul_imm(RBX, RBX, -7, w=False), "imul ebx, ebx, 0xfffffff9"),
    (x.neg(RCX), "neg rcx"),
    (x.div(R11), "div r11"),
    (x.div(R11, w=False, signed=True), "idiv r11d"),
    (x.sign_extend_rax(), "cqo"),
    (x.sign_extend_rax(False), "cdq"),
    (x.shift_cl(Shift.SHL, RAX), "shl rax, cl"),
    (x.shift_cl(Shift.SAR, R11, w=False), "sar r11d, cl"),
    (x.shift_imm(Shift.SHR, RDI, 63), "shr rdi, 0x3f"),
    (x.rol16(RSI, 8), "rol si, 8"),
    (x.bswap(RAX), "bswap rax"),
    (x.bswap(R14, w=False), "bswap r14d"),
    (x.inc_mem(Mem(R12, 8), 1), "inc qword ptr [r12 + 8]"),
    (x.inc_mem(Mem(R12, 8), -1), "dec qword ptr [r12 + 8]"),
    # atomics
    (x.lock_alu(Alu.ADD, Mem(RDI, 8), RSI, True), "lock add qword ptr [rdi + 8], rsi"),
    (x.lock_alu(Alu.XOR, Mem(RBP, -4), RAX, False), "lock xor dword ptr [rbp - 4], eax"),
    (x.lock_xadd(Mem(RDI, 0), R9, True), "lock xadd qword ptr [rdi], r9"),
    (x.xchg(Mem(RSI, 16), RBX, False), "xchg dword ptr [rsi + 0x10], ebx"),
    (x.lock_cmpxchg(Mem(R10, 0), R11, True), "lock cmpxchg qword ptr [r10], r11"),
    # control
    (x.push(RBP), "push rbp"),
    (x.push(R12), "push r12"),
    (x.pop(R15), "pop r15"),
    (x.RET, "ret"),
    (x.call_reg(R11), "call r11"),
    (x.jmp_reg(RAX), "jmp rax"),
]


@pytest.mark.parametrize(("code", "text"), CASES, ids=[t for _, t in CASES])
def test_form_disassembles_as_intended(code, text):
    assert disasm(code) == text


@pytest.mark.parametrize("cond", list(Cond), ids=[c.name for c in Cond])
def test_jcc_rel32(cond):
    code = x.jcc_rel32(cond) + (0x10).to_bytes(4, "little")
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    (insn,) = md.disasm(code, 0)
    # the target is the end of the 6-byte instruction plus 0x10
    mnemonic = {"OV": "jo", "NOV": "jno", "B": "jb", "AE": "jae", "E": "je", "NE": "jne", "BE": "jbe", "A": "ja",
                "S": "js", "NS": "jns", "L": "jl", "GE": "jge", "LE": "jle", "G": "jg"}[cond.name]
    assert (insn.mnemonic, insn.op_str, insn.size) == (mnemonic, "0x16", 6)


def test_jmp_and_call_rel32():
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    (jmp,) = md.disasm(x.JMP_REL32 + (-5 & 0xFFFF_FFFF).to_bytes(4, "little"), 0x100)
    (call,) = md.disasm(x.CALL_REL32 + (0x20).to_bytes(4, "little"), 0x100)
    assert (jmp.mnemonic, jmp.op_str) == ("jmp", "0x100")
    assert (call.mnemonic, call.op_str) == ("call", "0x125")


def test_rsp_is_no_index():
    with pytest.raises(ValueError, match="index"):
        x.load(RAX, Mem(RAX, 0, RSP, 1), 8)

