"""The x86_64 back-end: its facts for the executors, around ``codegen.Compiler``."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from pybpf.isa.insn import Insn
from pybpf.jit.common.backend import CODE_BASE, MACHINE_STACK_TOP, RETURN_ADDRESS, Backend, ImmResolver, JitImage
from pybpf.jit.x86_64.codegen import REGS, Compiler


def _uc_reg(name: str) -> int:
    from unicorn import x86_const

    return getattr(x86_const, f"UC_X86_REG_{name.upper()}")


_NAMES = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
          "r15")  # fmt: skip


class X86Backend(Backend):
    """BPF on x86_64 (SysV ABI).  Unicorn/capstone ids are read lazily so that
    importing this module needs neither library."""

    arch = "x86_64"
    big_endian = False

    def __init__(self) -> None:
        import capstone
        import unicorn

        self.unicorn_arch, self.unicorn_mode = unicorn.UC_ARCH_X86, unicorn.UC_MODE_64
        self.capstone_arch, self.capstone_mode = capstone.CS_ARCH_X86, capstone.CS_MODE_64
        self.bpf_regs = tuple(_uc_reg(_NAMES[r]) for r in REGS)
        self.c_args = tuple(_uc_reg(n) for n in ("rdi", "rsi", "rdx"))
        self.c_ret = _uc_reg("rax")
        self.pc = _uc_reg("rip")
        self.sp = _uc_reg("rsp")
        self.link = None

    def compile(self, insns: list[Insn], *, helper_ids: Iterable[int], code_base: int = CODE_BASE,
                resolve_imm64: ImmResolver | None = None, count_insns: bool = False) -> JitImage:  # fmt: skip
        # every helper id goes through ctx.gates at run time: helper_ids changes nothing in the code
        code, entry, pc_offsets, body_end = Compiler(list(insns), resolve_imm64, count_insns=count_insns).compile()
        return JitImage(self.arch, code, entry, pc_offsets, body_end, code_base)

    def enter(self, uc, entry: int, args: tuple[int, int, int]) -> None:
        sp = MACHINE_STACK_TOP - 16  # a call pushes the return address: rsp = 8 (mod 16) at entry
        uc.mem_write(sp - 8, struct.pack("<Q", RETURN_ADDRESS))
        uc.reg_write(self.sp, sp - 8)
        for reg, value in zip(self.c_args, args, strict=True):
            uc.reg_write(reg, value)

    def return_address(self, uc) -> int:
        return struct.unpack("<Q", uc.mem_read(uc.reg_read(self.sp), 8))[0]

    def gate_return(self, uc, r0: int) -> None:
        sp = uc.reg_read(self.sp)
        uc.reg_write(self.c_ret, r0)
        uc.reg_write(self.pc, struct.unpack("<Q", uc.mem_read(sp, 8))[0])
        uc.reg_write(self.sp, sp + 8)
