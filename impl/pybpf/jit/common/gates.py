"""The executors' own gates: kfunc calls and legacy packet loads, routed like helper calls.

A back-end knows one way out of its code: a call through ``ctx.gates``.
``route(insns, helpers, resolve_kfunc)`` gives what both executors compile and
register instead of the caller's program and helper table:

- every kfunc call (``call`` with src=2) becomes ``call N`` with N from
  ``KFUNC_GATES``, one id per distinct kfunc, resolved by ``resolve_kfunc``
  exactly as the interpreter resolves it (same hook, same errors); without a
  resolver the call is left alone and the back-end refuses it;
- a literal ``call N`` with N in ``INTERNAL_GATES`` becomes a call to an
  unknown id, so a program cannot reach an executor's gate by number;
- the table gains the packet loaders ``LD_PACKET_GATES`` (ld_abs/ld_ind with
  r1 = src or 0, r2 = imm; see ``backend``) and the kfuncs under their gate ids.

Faults keep naming the caller's instructions: the executors keep the
original program for their messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from pybpf.errors import InputError, VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Cls, JmpOp, Kind, lookup
from pybpf.jit.common.backend import INTERNAL_GATES, KFUNC_GATES, LD_PACKET_GATES, MAX_HELPERS
from pybpf.vm.decode import KfuncResolver
from pybpf.vm.helpers import Helper, HelperContext, HelperFn, HelperTable, ProgramExit
from pybpf.vm.memory import RegionKind
from pybpf.vm.ops_alu import to_signed


@dataclass(frozen=True)
class Routed:
    """The program as the back-end compiles it, and every gate's function by id."""

    insns: list[Insn]
    helpers: HelperTable


def ld_packet_loader(size: int) -> HelperFn:
    """The gate of an ld_abs/ld_ind of ``size`` bytes: the interpreter's semantics, from r1 = src, r2 = imm."""

    def load(ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
        packets = ctx.memory.of_kind(RegionKind.PACKET)
        if len(packets) != 1:
            raise VmFault(f"a {size}-byte ld_abs/ld_ind reads the packet, "
                          f"but the memory has {len(packets)} packet regions, not 1")  # fmt: skip
        offset = to_signed(r1 + r2, 32)  # the kernel's offset is a signed 32-bit int
        packet = packets[0]
        if offset < 0 or offset + size > packet.size:
            raise ProgramExit(0)
        return int.from_bytes(packet.data[offset : offset + size], "big")

    return load


def route(insns: Sequence[Insn], helpers: HelperTable, resolve_kfunc: KfuncResolver | None = None) -> Routed:
    """Lower kfunc calls to gate calls and add the executors' gates; raises InputError when a
    helper sits on a reserved id, VmFault (pc set) for what the resolver refuses."""
    table = HelperTable()
    for helper in helpers:
        if helper.id in INTERNAL_GATES:
            raise InputError(f"helper {helper.id} ({helper.name}) uses an id the JIT keeps for itself "
                             f"({INTERNAL_GATES.start}..{INTERNAL_GATES.stop - 1})")  # fmt: skip
        table.register(helper.id, helper.name, helper.fn, nargs=helper.nargs)
    for size, gate in LD_PACKET_GATES.items():
        table.register(gate, f"ld_packet{size * 8}", ld_packet_loader(size), nargs=2)
    gate_of: dict[Helper, int] = {}
    program = list(insns)
    for pc, insn in enumerate(program):
        spec = lookup(insn.code, insn.off, insn.imm, insn.src)
        if spec is None:
            continue
        if spec.kind is Kind.CALL and insn.imm in INTERNAL_GATES:
            program[pc] = dataclasses.replace(insn, imm=MAX_HELPERS)
        elif spec.kind is Kind.CALL_KFUNC and resolve_kfunc is not None:
            kfunc = resolve_kfunc(pc, insn)
            if kfunc not in gate_of:
                if len(gate_of) == len(KFUNC_GATES):
                    raise VmFault(f"the program calls more than {len(KFUNC_GATES)} distinct kfuncs, "
                                  "more than the JIT has gates for", pc=pc)  # fmt: skip
                gate_of[kfunc] = gate = KFUNC_GATES[len(gate_of)]
                table.register(gate, kfunc.name, kfunc.fn, nargs=kfunc.nargs)
            program[pc] = Insn(Cls.JMP | JmpOp.CALL, 0, 0, 0, gate_of[kfunc])  # a helper call
    return Routed(program, table)


__all__ = ["Routed", "ld_packet_loader", "route"]
