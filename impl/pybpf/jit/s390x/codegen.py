"""Compiling a whole BPF program to z/Architecture code (the ``jit.common.backend`` contract).

Layout::

    body      one piece of code per BPF slot, in order (``pc_offsets``),
              then a FELL_OFF fault for running past the last one
    stubs     per-site fault reports, the zeroing of a callee's stack
    entry     the ELF-ABI function ``entry(ctx, r1, r2)``, its epilogue and the abort path

Frames.  A BPF-to-BPF call pushes a 64-byte record on the machine stack: the
return address at 0(r15), the caller's r7..r13 (BPF r6..r9, the context, AX
and BPF r10) at 8(r15); the callee's ``exit`` is "branch to 0(r15)" and the
caller pops the record.  The entry calls the main program the same way, so
every ``exit`` is the same two instructions.

Helper calls go through ``ctx.gates[id]`` with ``basr r14``; the gate
returns in r2 (the ABI's return register, also BPF r1), which is copied
into BPF r0 (r14).  After a gate, a non-zero ``ctx.exit_kind`` aborts.
"""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import JmpOp, Kind, OpSpec, Src, lookup
from pybpf.jit.common.backend import (
    FIRST_INTERNAL,
    LD_PACKET_GATES,
    MAX_FRAMES,
    MAX_HELPERS,
    STACK_SIZE,
    Ctx,
    ExitKind,
    Fault,
    ImmResolver,
)
from pybpf.jit.common.codebuf import CodeBuffer, Label
from pybpf.jit.common.stubs import FaultStubs, kfunc_refused
from pybpf.jit.s390x.alu import emit_alu
from pybpf.jit.s390x.emitter import AX, BPF_TO_HW, CTX, LINK, SP, W0, W1, Emitter, patch
from pybpf.jit.s390x.encode import Cond
from pybpf.jit.s390x.mem import emit_atomic, emit_load, emit_store

M64 = (1 << 64) - 1
ABI_FRAME = 160  # the register save area a caller provides (s390x ELF ABI)
SAVE_AREA = 48  # where r6..r15 go in it
CALL_RECORD = 64  # return address + r7..r13

# condition masks after a signed/unsigned compare (CC0 equal, CC1 low, CC2 high)
_JUMP = {
    JmpOp.JEQ: Cond.EQ, JmpOp.JNE: Cond.NE, JmpOp.JGT: Cond.HIGH, JmpOp.JGE: Cond.HE,
    JmpOp.JLT: Cond.LOW, JmpOp.JLE: Cond.LE, JmpOp.JSGT: Cond.HIGH, JmpOp.JSGE: Cond.HE,
    JmpOp.JSLT: Cond.LOW, JmpOp.JSLE: Cond.LE,
}  # fmt: skip
# (signed, 64-bit) -> compare
_COMPARE = {(True, True): "cgr", (True, False): "cr", (False, True): "clgr", (False, False): "clr"}


class Compiler(FaultStubs):
    """Compiles one program; ``compile()`` returns (code, entry, pc_offsets, body_end)."""

    def __init__(self, insns: list[Insn], helper_ids: set[int], resolve_imm64: ImmResolver | None, *,
                 little: bool = True, count_insns: bool = False):  # fmt: skip
        super().__init__(insns, resolve_imm64, count_insns=count_insns)
        self.helper_ids = helper_ids
        self.buf = CodeBuffer(patch)
        self.e = Emitter(self.buf, little)
        self.abort = Label("abort")
        self.zero_frame = Label("zero_frame")

    # ------------------------------------------------------------ the whole program

    def compile(self) -> tuple[bytes, int, list[int], int]:
        self.find_second_slots()
        pc = 0
        while pc < self.n:
            self.buf.mark_pc(pc)
            self.buf.bind(self.labels[pc])
            if pc in self.counts:  # a block starts: its length into ctx.insns
                self.e("lg", W1, Ctx.INSNS, 0, CTX)
                self.e("agfi", W1, self.counts[pc])
                self.e("stg", W1, Ctx.INSNS, 0, CTX)
            pc = self.insn(pc)
        self.buf.pc_offsets.extend([-1] * (self.n - len(self.buf.pc_offsets)))  # a trailing second slot
        self.e.jump(Cond.ALWAYS, self.fault(Fault.FELL_OFF, max(self.n - 1, 0)))
        body_end = self.buf.pos
        self.shared_stubs()
        entry = self.prologue()
        return self.buf.finish(), entry, self.buf.pc_offsets, body_end

    def prologue(self) -> int:
        """entry(ctx, r1, r2) in hw r2..r4; also the epilogue and the abort path."""
        e = self.e
        entry = self.buf.pos
        e("stmg", 6, 15, SAVE_AREA, SP)
        e("lay", SP, -ABI_FRAME, 0, SP)
        e("lgr", CTX, 2)
        e("lgr", BPF_TO_HW[1], 3)
        e("lgr", BPF_TO_HW[2], 4)
        for reg in range(3, 10):  # BPF r3..r9 start at 0; r0 is set by the program
            e("lghi", BPF_TO_HW[reg], 0)
        e("lg", BPF_TO_HW[10], Ctx.STACK_TOPS, 0, CTX)
        e("stg", SP, Ctx.SAVED_SP, 0, CTX)
        back = Label("back")
        self.push_call_record(back)
        e.jump(Cond.ALWAYS, self.labels[0] if self.n else self.fault(Fault.FELL_OFF, 0))
        self.buf.bind(back)
        e("lay", SP, CALL_RECORD, 0, SP)
        e("lgr", 2, LINK)  # BPF r0 -> the ABI return register
        epilogue = self.buf.here("epilogue")
        e("lmg", 6, 15, ABI_FRAME + SAVE_AREA, SP)
        e("bcr", Cond.ALWAYS, LINK)
        self.buf.bind(self.abort)
        e("lg", SP, Ctx.SAVED_SP, 0, CTX)
        e("lg", 2, Ctx.EXIT_R0, 0, CTX)
        e.near(Cond.ALWAYS, epilogue)
        return entry

    def push_call_record(self, back: Label) -> None:
        """Push the return address ``back`` and r7..r13 (the callee restores nothing: the caller pops)."""
        e = self.e
        e("lay", SP, -CALL_RECORD, 0, SP)
        e("stmg", 7, 13, 8, SP)
        e.address(W0, back)  # not W1: a call holds the new depth there
        e("stg", W0, 0, 0, SP)

    def shared_stubs(self) -> None:
        e = self.e
        # zero_frame: the STACK_SIZE bytes below r13 = 0 (a callee's fresh stack); returns through W1
        self.buf.bind(self.zero_frame)
        e("lay", AX, -STACK_SIZE, 0, BPF_TO_HW[10])
        for start in range(0, STACK_SIZE, 256):
            e("xc", start, 256, AX, start, AX)
        e("bcr", Cond.ALWAYS, W1)
        for label, kind, pc in self.stubs:
            self.buf.bind(label)
            for offset, value in ((Ctx.FAULT_PC, pc), (Ctx.FAULT, kind), (Ctx.EXIT_KIND, ExitKind.FAULT)):
                e.const(W1, value)
                e("stg", W1, offset, 0, CTX)
            e.jump(Cond.ALWAYS, self.abort)

    # ------------------------------------------------------------ one instruction

    def insn(self, pc: int) -> int:
        """Emit slot ``pc``; returns the next slot."""
        e = self.e
        insn = self.insns[pc]
        spec = lookup(insn.code, insn.off, insn.imm, insn.src)
        if spec is None or insn.dst > 10 or (insn.src > 10 and spec.kind is not Kind.LD_IMM64):
            e.jump(Cond.ALWAYS, self.fault(Fault.INVALID, pc))
            return pc + 1
        match spec.kind:
            case Kind.ALU | Kind.NEG | Kind.MOV | Kind.MOVSX | Kind.END | Kind.BSWAP:
                emit_alu(e, spec, insn)
            case Kind.LD_IMM64:
                if pc + 1 >= self.n:
                    e.jump(Cond.ALWAYS, self.fault(Fault.INVALID, pc))
                    return pc + 1
                e.const(BPF_TO_HW[insn.dst], self.imm64_value(pc))
                return pc + 2
            case Kind.LDX | Kind.LDXSX | Kind.LOAD_ACQ:  # z is strongly ordered: acquire is a plain load
                if spec.kind is Kind.LOAD_ACQ:
                    self.check_aligned(pc, insn.src, insn.off, spec.size)
                emit_load(e, spec, insn)
            case Kind.ST | Kind.STX | Kind.STORE_REL:
                if spec.kind is Kind.STORE_REL:
                    self.check_aligned(pc, insn.dst, insn.off, spec.size)
                emit_store(e, spec, insn)
            case Kind.ATOMIC:
                emit_atomic(e, spec, insn)
            case Kind.JA:
                e.jump(Cond.ALWAYS, self.target(pc, pc + 1 + (insn.off if spec.is64 else insn.imm)))
            case Kind.JCOND:
                self.jcond(spec, insn, pc)
            case Kind.MAY_GOTO:
                e("ltg", W1, Ctx.LOOPS, 0, CTX)
                e.jump(Cond.EQ, self.target(pc, pc + 1 + insn.off))
                e("aghi", W1, -1)
                e("stg", W1, Ctx.LOOPS, 0, CTX)
            case Kind.CALL:
                known = 0 <= insn.imm < MAX_HELPERS
                e("lg", W1, Ctx.GATES + 8 * insn.imm if known else Ctx.BAD_GATE, 0, CTX)
                self.gate_call()
            case Kind.CALLX:
                self.callx(BPF_TO_HW[insn.dst])
            case Kind.CALL_LOCAL:
                self.call_local(pc, pc + 1 + insn.imm)
            case Kind.CALL_KFUNC:
                raise kfunc_refused(insn, pc)
            case Kind.EXIT:
                e("lg", W1, 0, 0, SP)
                e("bcr", Cond.ALWAYS, W1)
            case Kind.LD_ABS | Kind.LD_IND:  # r1 = src (or 0), r2 = imm, through the packet loader's gate
                if spec.kind is Kind.LD_ABS:
                    e("lghi", BPF_TO_HW[1], 0)
                elif insn.src != 1:
                    e("lgr", BPF_TO_HW[1], BPF_TO_HW[insn.src])
                e.const(BPF_TO_HW[2], insn.imm)
                e("lg", W1, Ctx.GATES + 8 * LD_PACKET_GATES[spec.size], 0, CTX)
                self.gate_call()
            case _:  # addr_space_cast needs an arena
                e.jump(Cond.ALWAYS, self.fault(Fault.UNSUPPORTED, pc))
        return pc + 1

    # ------------------------------------------------------------ jumps and calls

    def jcond(self, spec: OpSpec, insn: Insn, pc: int) -> None:
        e = self.e
        d = BPF_TO_HW[insn.dst]
        if spec.code & Src.X:
            s = BPF_TO_HW[insn.src]
        else:
            e.const(AX, insn.imm)  # sign-extended; JMP32 compares its low word
            s = AX
        target = self.target(pc, pc + 1 + insn.off)
        if spec.op == JmpOp.JSET:
            e("ngrk" if spec.is64 else "nrk", W1, d, s)
            e.jump(Cond.NE, target)
        else:
            e(_COMPARE[(spec.signed, spec.is64)], d, s)
            e.jump(_JUMP[JmpOp(spec.op)], target)

    def check_aligned(self, pc: int, base: int, off: int, size: int) -> None:
        """Fault unless r<base> + off is size-aligned: a plain z load or store would not trap, BPF's
        load-acquire and store-release do.  The address goes to ctx.fault_addr first, for the fault."""
        if size < 2:
            return
        e = self.e
        e("lay", W1, off, 0, BPF_TO_HW[base])
        e("stg", W1, Ctx.FAULT_ADDR, 0, CTX)
        e("tmll", W1, size - 1)
        e.jump(Cond.NE, self.fault(Fault.MISALIGNED, pc))

    def gate_call(self) -> None:
        """Call the gate whose address is in W1; BPF r0 = its result; abort when it says so."""
        e = self.e
        e("basr", LINK, W1)
        e("lgr", LINK, 2)
        e("ltg", W1, Ctx.EXIT_KIND, 0, CTX)
        e.jump(Cond.NE, self.abort)

    def callx(self, d: int) -> None:
        e = self.e
        e("lgr", W1, d)
        e("clgfi", W1, FIRST_INTERNAL - 1)
        known = e.skip_if(Cond.LE)
        e("lg", W1, Ctx.BAD_GATE, 0, CTX)
        call = e.buf.label()
        e.near(Cond.ALWAYS, call)
        e.bind(known)
        e("sllg", W1, W1, 3, 0)
        e("lg", W1, Ctx.GATES, W1, CTX)
        e.bind(call)
        self.gate_call()

    def call_local(self, pc: int, to: int) -> None:
        e = self.e
        e("lg", W1, Ctx.DEPTH, 0, CTX)
        e("aghi", W1, 1)
        e("cghi", W1, MAX_FRAMES)
        e.jump(Cond.HE, self.fault(Fault.CALL_DEPTH, pc))
        e("stg", W1, Ctx.DEPTH, 0, CTX)
        back = Label(f"back{pc}")
        self.push_call_record(back)
        e("sllg", W1, W1, 3, 0)
        e("lg", BPF_TO_HW[10], Ctx.STACK_TOPS, W1, CTX)
        e.call(W1, self.zero_frame)
        e.jump(Cond.ALWAYS, self.target(pc, to))
        self.buf.bind(back)
        e("lmg", 7, 13, 8, SP)
        e("lay", SP, CALL_RECORD, 0, SP)
        e("lg", W1, Ctx.DEPTH, 0, CTX)
        e("aghi", W1, -1)
        e("stg", W1, Ctx.DEPTH, 0, CTX)
