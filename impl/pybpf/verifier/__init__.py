"""pybpf's verifier: Linux 6.18's judgement of a program, with its log.

``verify`` explores the program like the kernel's verifier and returns a
``Verdict``: accepted or not, the errno, the log as the kernel would print it
at ``log_level`` 1 or 2, the reason line and the statistics.  It judges and
never runs anything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pybpf.abi.uapi import ProgType
from pybpf.errors import InputError
from pybpf.isa.disasm import format_insn
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind
from pybpf.isa.validate import insn_spec
from pybpf.verifier.cfg import (
    check_cfg,
    check_opcodes,
    check_subprogs,
    compute_live_registers,
    subprog_starts,
    successors,
)
from pybpf.verifier.core import do_check
from pybpf.verifier.env import Env
from pybpf.verifier.helper_protos import PROTOS
from pybpf.verifier.log import LOG_LEVEL2, VerifierLog
from pybpf.verifier.messages import Rejection, rejection
from pybpf.verifier.progtypes import PROG_TYPES
from pybpf.verifier.regs import MapDesc, RegState, RegType
from pybpf.verifier.stackdepth import check_max_stack_depth
from pybpf.verifier.state import InsnAux

_STATS = re.compile(r"^(processed \d+ insns|verification time |stack depth )")

__all__ = ["MapDesc", "RegState", "RegType", "Rejection", "Verdict", "verify"]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    errno: int
    log: str
    first_error: str
    insn_processed: int
    total_states: int
    peak_states: int
    max_states_per_insn: int


def _specs(insns: Sequence[Insn]):
    specs = []
    skip = False
    for pc in range(len(insns)):
        if skip:
            specs.append(None)
            skip = False
            continue
        spec = insn_spec(insns, pc)
        specs.append(spec)
        skip = spec is not None and spec.kind is Kind.LD_IMM64
    return specs


def _helper_uses(insns: Sequence[Insn], specs) -> dict[int, int]:
    """The registers each helper call reads: its prototype's arguments."""
    uses = {}
    for pc, spec in enumerate(specs):
        if spec is not None and spec.kind is Kind.CALL and insns[pc].imm in PROTOS:
            uses[pc] = ((1 << (len(PROTOS[insns[pc].imm].args) + 1)) - 1) & ~1
    return uses


def _live_block(insns: Sequence[Insn], specs, aux: list[InsnAux]) -> str:
    lines = ["Live regs before insn:"]
    for pc, spec in enumerate(specs):
        if spec is None:
            continue
        live = aux[pc].live_regs_before
        mask = "".join(str(i) if live >> i & 1 else "." for i in range(10))
        lines.append(f"{pc:7d}: {mask} ({insns[pc].code:02x}) {format_insn(insns, pc)}")
    return "\n".join(lines) + "\n"


def _reason(log: str) -> str:
    """The line the kernel gives as the reason: the last one before the statistics."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line and not _STATS.match(line):
            return line
    return ""


def verify(insns: Sequence[Insn], *, prog_type: int = ProgType.SOCKET_FILTER, maps: Sequence[MapDesc] = (),
           log_level: int = 1, unpriv: bool = False, nr_cpu_ids: int | None = None) -> Verdict:
    """Judge ``insns`` as Linux 6.18 would for a program of ``prog_type`` loaded by root (or not: ``unpriv``)."""
    info = PROG_TYPES.get(prog_type)
    if info is None:
        raise InputError(f"program type {prog_type} is not modelled by pybpf's verifier")
    insns = list(insns)
    specs = _specs(insns)
    log = VerifierLog(log_level)
    aux = [InsnAux() for _ in insns]
    starts = subprog_starts(insns, specs)
    env = Env(insns, specs, prog_type, info, maps, log, unpriv, nr_cpu_ids or os.cpu_count() or 1, aux, starts)
    env.succ = [[w for w in successors(insns, specs, pc) if 0 <= w < len(insns)] for pc in range(len(insns))]
    err: Rejection | None = None
    if log.level & LOG_LEVEL2:
        for k, s in enumerate(starts):
            log.write(f"func#{k} @{s}\n")
    try:
        if not insns:
            raise rejection("empty_prog", 0)
        check_subprogs(insns, specs, starts)
        check_opcodes(insns, specs)
        check_cfg(insns, specs, aux, allow_loops=not unpriv)
        compute_live_registers(insns, specs, aux, _helper_uses(insns, specs))
    except Rejection as e:
        log.write(e.message + "\n")
        err = e
    if err is None:
        if log.level & LOG_LEVEL2:
            log.write(_live_block(insns, specs, aux))
        try:
            do_check(env)
            check_max_stack_depth(env)
        except Rejection as e:
            err = e
    if err is None and not log.level & LOG_LEVEL2:
        log.reset(0)
    log.write(f"processed {env.insn_processed} insns (limit 1000000) max_states_per_insn {env.max_states_per_insn} "
              f"total_states {env.total_states} peak_states {env.peak_states} mark_read 0\n")
    text = log.text()
    first = "" if err is None else (_reason(text) if log.level else err.message)
    return Verdict(err is None, err.errno if err else 0, text, first,
                   env.insn_processed, env.total_states, env.peak_states, env.max_states_per_insn)
