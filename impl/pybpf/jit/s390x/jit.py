"""The s390x back-end: its facts for the executors, around ``codegen.Compiler``.

s390x is big-endian, and so is everything of the back-end's own (the
context block, gate addresses, the machine stack).  BPF memory is another
matter (``byte_order``):

- ``"little"`` (the default): the program is bpfel.  Loads, stores and
  atomics byte-reverse (``lrvg``/``strvg``... , see ``mem``), ``le16/32/64``
  only truncate and ``be16/32/64`` swap, exactly as on a little-endian
  machine.  This is how a big-endian target runs the bpf_conformance suite,
  whose ``-- mem`` bytes and expected results are little-endian, and
  programs built with ``clang -target bpfel`` (or ``bpf`` on x86/arm64).
- ``"big"``: the program is bpfeb, as the kernel's s390x JIT runs it: plain
  loads and stores, ``be*`` truncate and ``le*`` swap.

Only unicorn is needed to run the code (unicorn >= 2.0.1 has UC_ARCH_S390X);
capstone's SYSZ disassembler reads it back.
"""

from __future__ import annotations

from collections.abc import Iterable

from pybpf.isa.insn import Insn
from pybpf.jit.common.backend import (
    BAD_GATE,
    CODE_BASE,
    GATE_BASE,
    GATE_STRIDE,
    MACHINE_STACK_TOP,
    RETURN_ADDRESS,
    Backend,
    ImmResolver,
    JitImage,
)
from pybpf.jit.s390x.access import decode_access
from pybpf.jit.s390x.codegen import ABI_FRAME, CALL_RECORD, Compiler
from pybpf.jit.s390x.emitter import BPF_TO_HW, C_ARGS, C_RET, LINK, SP

BYTE_ORDERS = ("little", "big")
PSW_64BIT = 0x1_8000_0000  # PSW mask with EA and BA set: 64-bit addressing (unicorn starts in 24-bit mode)
NOP = bytes.fromhex("0700")  # bcr 0, 0
PAGE = 0x1000


def _prepare(uc) -> int:
    """Make the executor's fixed pages runnable on unicorn's s390x, once per instance; the return address.

    unicorn 2.1's s390x (a) faults when it translates code from a page mapped
    by ``mem_map`` without write permission (``mem_map_ptr`` pages are fine),
    (b) faults on translating the zero halfword (the gate hook then never
    runs), and (c) stops with UC_ERR_EXCEPTION when a *branch* lands on the
    ``until`` address of ``emu_start``, while falling through to it from a nop
    stops cleanly.  So the gate and return pages get write permission and nops,
    and the entry returns to a nop just below ``RETURN_ADDRESS``.
    """
    from unicorn import UC_PROT_ALL

    pad = RETURN_ADDRESS - PAGE
    if not any(begin <= pad <= end for begin, end, _ in uc.mem_regions()):
        gates = (BAD_GATE + GATE_STRIDE - GATE_BASE + PAGE - 1) // PAGE * PAGE
        for base, size in ((GATE_BASE, gates), (RETURN_ADDRESS, PAGE)):
            uc.mem_protect(base, size, UC_PROT_ALL)
            uc.mem_write(base, NOP * (size // len(NOP)))
        uc.mem_map(pad, PAGE, UC_PROT_ALL)
        uc.mem_write(pad, NOP * (PAGE // len(NOP)))
    return RETURN_ADDRESS - len(NOP)


def _uc_reg(number: int) -> int:
    from unicorn import s390x_const

    return getattr(s390x_const, f"UC_S390X_REG_R{number}")


class S390xBackend(Backend):
    """BPF on s390x (z/Architecture, ELF ABI).  Unicorn/capstone are imported when it is made."""

    arch = "s390x"
    big_endian = True

    def __init__(self, byte_order: str = "little") -> None:
        import capstone
        import unicorn
        from unicorn import s390x_const

        if byte_order not in BYTE_ORDERS:
            raise ValueError(f"byte_order must be one of {BYTE_ORDERS}, not {byte_order!r}")
        self.byte_order = byte_order
        self.unicorn_arch, self.unicorn_mode = unicorn.UC_ARCH_S390X, unicorn.UC_MODE_BIG_ENDIAN
        self.capstone_arch, self.capstone_mode = capstone.CS_ARCH_SYSZ, capstone.CS_MODE_BIG_ENDIAN
        self.bpf_regs = tuple(_uc_reg(r) for r in BPF_TO_HW)
        self.c_args = tuple(_uc_reg(r) for r in C_ARGS)
        self.c_ret = _uc_reg(C_RET)
        self.pc = s390x_const.UC_S390X_REG_PC
        self.pswm = s390x_const.UC_S390X_REG_PSWM
        self.sp = _uc_reg(SP)
        self.link = _uc_reg(LINK)

    def compile(self, insns: list[Insn], *, helper_ids: Iterable[int], code_base: int = CODE_BASE,
                resolve_imm64: ImmResolver | None = None, count_insns: bool = False) -> JitImage:  # fmt: skip
        compiler = Compiler(list(insns), set(helper_ids), resolve_imm64, little=self.byte_order == "little",
                            count_insns=count_insns)  # fmt: skip
        code, entry, pc_offsets, body_end = compiler.compile()
        return JitImage(self.arch, code, entry, pc_offsets, body_end, code_base,
                        notes={"byte_order": self.byte_order})  # fmt: skip

    def enter(self, uc, entry: int, args: tuple[int, int, int]) -> None:
        uc.reg_write(self.pswm, PSW_64BIT)
        # the caller of an ELF-ABI function provides the 160-byte register save area at 0(r15)
        uc.reg_write(self.sp, MACHINE_STACK_TOP - ABI_FRAME)
        uc.reg_write(self.link, _prepare(uc))
        for reg, value in zip(self.c_args, args, strict=True):
            uc.reg_write(reg, value)

    def return_address(self, uc) -> int:
        return uc.reg_read(self.link)

    def faulting_access(self, uc) -> tuple[int, int, bool] | None:
        """After UC_ERR_EXCEPTION: (address, size, write) of the access the instruction at pc made, or None.

        unicorn's s390x raises a program interruption for a bad access instead
        of calling the invalid-memory hooks, so the executor cannot know the
        address; this recomputes it (see ``access``).
        """
        pc = uc.reg_read(self.pc)
        try:
            code = bytes(uc.mem_read(pc, 6))
        except Exception:  # unicorn's UcError: the pc itself is not mapped
            return None
        return decode_access(code, lambda n: uc.reg_read(_uc_reg(n)))

    def call_at(self, uc, address: int, return_address: int) -> None:
        """A BPF-to-BPF call as the code makes one: ``exit`` branches to the call record's 0(r15), so push
        one, below a register save area for the gate's frame.  A branch onto the emulation's end address
        stops unicorn's s390x with an exception (see ``_prepare``): return to the nop just before it."""
        sp = (uc.reg_read(self.sp) - ABI_FRAME - CALL_RECORD) & ~7
        uc.mem_write(sp, (return_address - len(NOP)).to_bytes(8, "big"))
        uc.reg_write(self.sp, sp)
        uc.reg_write(self.pc, address)

    def gate_return(self, uc, r0: int) -> None:
        uc.reg_write(self.c_ret, r0)
        uc.reg_write(self.pc, uc.reg_read(self.link))
