"""pybpf's verifier: Linux 6.18's judgement of a program, with its log.

``verify`` explores the program like the kernel's verifier and returns a
``Verdict``: accepted or not, the errno, the log as the kernel would print it
at ``log_level`` 1 or 2, the reason line and the statistics.  It judges and
never runs anything.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pybpf.abi.kernel_btf import kernel_btf as default_kernel_btf
from pybpf.abi.profiles import PROFILES
from pybpf.abi.uapi import ProgType
from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind as BtfKind
from pybpf.errors import InputError
from pybpf.isa.disasm import VERIFIER_LOG, Symbols, format_insn, format_insn_line
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind, Pseudo
from pybpf.isa.validate import insn_spec
from pybpf.obj.model import FuncInfo, LineInfo
from pybpf.verifier import sanitize
from pybpf.verifier.cfg import (
    check_cfg,
    check_opcodes,
    check_subprogs,
    compute_live_registers,
    subprog_starts,
    successor_lists,
)
from pybpf.verifier.core import do_check, do_check_subprogs
from pybpf.verifier.env import Env
from pybpf.verifier.fields import check_map_prog_compatibility
from pybpf.verifier.globalfunc import global_funcs, main_func_note
from pybpf.verifier.helper_protos import PROTOS, helper_allowed
from pybpf.verifier.kfuncs import check_kfunc_ids, check_kfuncs_eliminated, kfunc_allowed, mark_callback_calls
from pybpf.verifier.kfuncs import kernel_btf as kfunc_btf
from pybpf.verifier.log import LOG_LEVEL2, VerifierLog
from pybpf.verifier.messages import Rejection, rejection
from pybpf.verifier.progtypes import PROG_TYPES, UNPRIV_PROG_TYPES
from pybpf.verifier.regs import MapDesc, RegState, RegType
from pybpf.verifier.scc import scc_of
from pybpf.verifier.stackdepth import check_max_stack_depth
from pybpf.verifier.state import InsnAux
from pybpf.verifier.tracing import ATTACH_TYPES as TRACING_ATTACH_TYPES
from pybpf.verifier.tracing import BTF_MAX_TYPE, attach_target, default_attach_type, tracing_info

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


def _helper_uses(insns: Sequence[Insn], specs, prog_type: int, unpriv: bool) -> dict[int, int]:
    """The registers each helper call reads: its prototype's arguments (all five where the program type
    has no prototype for it, as 6.18 counts them)."""
    uses = {}
    for pc, spec in enumerate(specs):
        if spec is None or spec.kind is not Kind.CALL:
            continue
        imm = insns[pc].imm
        if not helper_allowed(imm, prog_type, unpriv):
            uses[pc] = 0b111110
        elif imm in PROTOS:
            uses[pc] = ((1 << (len(PROTOS[imm].args) + 1)) - 1) & ~1
    return uses


def _kfunc_calls(env: Env) -> list[int]:
    return [pc for pc, spec in enumerate(env.specs) if spec is not None and spec.kind is Kind.CALL_KFUNC]


def _names_a_func(btf: Btf, ins: Insn) -> bool:
    """Whether a kfunc call's ``imm`` is a FUNC of the kernel BTF (module BTFs, ``off``, are not modelled)."""
    return not ins.off and 0 < ins.imm < len(btf.types) and btf.types[ins.imm].kind == BtfKind.FUNC


def _kfunc_uses(env: Env, calls: list[int]) -> dict[int, int]:
    """The registers each kfunc call reads: as many as its BTF prototype has parameters (bpf_get_call_summary;
    a kfunc this program type may not call reads r1-r5, the default)."""
    if not calls:
        return {}
    btf = kfunc_btf(env)
    uses = {}
    for pc in calls:
        ins = env.insns[pc]
        if _names_a_func(btf, ins) and kfunc_allowed(env, ins):
            uses[pc] = ((1 << (len(btf.func_proto_of(ins.imm).params) + 1)) - 1) & ~1
    return uses


# Where a map "is" in the log: the kernel prints the address it put in the ld_imm64, which pybpf cannot
# know; a made-up kernel address of the same width keeps the comment column where the kernel's is.
_MAP_ADDR = 0xFFFF888100000000
_MAP_STRIDE = 0x10000
_VALUE_AT = 0x400


def _map_address(first: Insn, second: Insn) -> str | None:
    """The ld_imm64 of a map (or of a map value + offset) as an address, as the kernel prints it."""
    base = _MAP_ADDR + (first.imm & 0xFFFFFFFF) * _MAP_STRIDE
    if first.src in (Pseudo.MAP_FD, Pseudo.MAP_IDX):
        return f"{base:#x}"
    if first.src in (Pseudo.MAP_VALUE, Pseudo.MAP_IDX_VALUE):
        return f"{base + _VALUE_AT + (second.imm & 0xFFFFFFFF):#x}"
    return None


def _map_loads(env: Env) -> list[int]:
    return [pc for pc, spec in enumerate(env.specs) if spec is not None and spec.kind is Kind.LD_IMM64
            and env.insns[pc].src in (Pseudo.MAP_FD, Pseudo.MAP_IDX, Pseudo.MAP_VALUE, Pseudo.MAP_IDX_VALUE)]


def _hidden_address(first: Insn, second: Insn) -> str | None:
    """Without CAP_PERFMON (allow_ptr_leaks) the kernel prints a map's address as 0."""
    return None if _map_address(first, second) is None else "0x0"


def _log_symbols(env: Env, calls: list[int]) -> Symbols:
    """The log's names: maps as addresses, kfunc calls named from kernel BTF as the kernel names them
    (``call bpf_obj_new_impl#N``)."""
    imm64 = _hidden_address if env.unpriv else _map_address
    if not calls:
        return Symbols(imm64=imm64)
    btf = kfunc_btf(env)

    def name(ins: Insn) -> str | None:
        return btf.name_of(ins.imm) if _names_a_func(btf, ins) else None

    return Symbols(imm64=imm64, kfunc=name)


def _live_block(insns: Sequence[Insn], specs, aux: list[InsnAux], symbols: Symbols, scc: list[int]) -> str:
    """Each instruction with the registers live before it, after its loop's number (blank outside loops)."""
    lines = ["Live regs before insn:"]
    for pc, spec in enumerate(specs):
        if spec is None:
            continue
        live = aux[pc].live_regs_before
        mask = "".join(str(i) if live >> i & 1 else "." for i in range(10))
        loop = f"{scc[pc]:3d}" if scc[pc] else "   "
        lines.append(f"{loop} {pc:3d}: {mask} ({insns[pc].code:02x}) {format_insn(insns, pc, symbols)}")
    return "\n".join(lines) + "\n"


def _reason(log: str) -> str:
    """The line the kernel gives as the reason: the last one before the statistics."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line and not _STATS.match(line):
            return line
    return ""


def verify(insns: Sequence[Insn], *, prog_type: int = ProgType.SOCKET_FILTER, maps: Sequence[MapDesc] = (),
           log_level: int = 1, unpriv: bool = False, nr_cpu_ids: int | None = None,
           deadline: float | None = None, btf: Btf | None = None, kernel_btf: Btf | None = None,
           abi: str = "linux-6.18", attach_btf_id: int = 0, expected_attach_type: int = 0,
           func_info: bool | Sequence[FuncInfo] = False, sleepable: bool = False,
           line_info: Sequence[LineInfo] = ()) -> Verdict:
    """Judge ``insns`` as Linux 6.18 would for a program of ``prog_type`` loaded by root (or not: ``unpriv``).

    ``deadline`` (a ``time.monotonic()`` value) bounds the run: past it ``VerifierTimeout`` is raised.
    ``btf`` is the program's own BTF (the types ``bpf_obj_new`` allocates); ``kernel_btf`` the kernel BTF a
    kfunc call's ``imm`` names a FUNC of (default ``pybpf.abi.kernel_btf.kernel_btf()``, loaded at the first
    kfunc call); ``abi`` the kfunc profile (``pybpf.abi.profiles``); ``attach_btf_id`` the traced function.
    ``expected_attach_type`` of a tracing program (``AttachType``): 0 picks tp_btf for a typedef target, else fentry.
    ``func_info``: the program came with BTF func_info (callbacks need it); given as its records
    (``insn_off``, ``type_id`` into ``btf``), the subprograms BTF declares global are verified as Linux does.
    ``sleepable``: loaded with BPF_F_SLEEPABLE (``SEC("syscall")``, ``.s`` sections), as KF_SLEEPABLE kfuncs need.
    ``line_info``: the program's BTF line_info; the log shows each instruction's source line before it.
    """
    if abi not in PROFILES:
        raise InputError(f"unknown ABI profile {abi!r} (known: {', '.join(PROFILES)})")
    info = PROG_TYPES.get(prog_type)
    if info is None:
        raise InputError(f"program type {prog_type} is not modelled by pybpf's verifier")
    if unpriv and prog_type not in UNPRIV_PROG_TYPES:
        # bpf_prog_load refuses before the verifier runs: no log, no statistics
        return Verdict(False, errno.EPERM, "", "", 0, 0, 0, 0)
    if info.btf_ctx:
        kernel_btf = kernel_btf if kernel_btf is not None else default_kernel_btf()
        if not 0 <= attach_btf_id <= BTF_MAX_TYPE:
            # bpf_prog_load refuses an id no BTF can have, before the verifier: no log
            return Verdict(False, errno.EINVAL, "", "", 0, 0, 0, 0)
        expected_attach_type = expected_attach_type or default_attach_type(kernel_btf, attach_btf_id)
        if expected_attach_type not in TRACING_ATTACH_TYPES:
            raise InputError(f"tracing programs of attach type {expected_attach_type} are not modelled by pybpf")
        info = tracing_info(info, expected_attach_type)
    insns = list(insns)
    specs = _specs(insns)
    log = VerifierLog(log_level)
    aux = [InsnAux() for _ in insns]
    starts = subprog_starts(insns, specs)
    env = Env(insns, specs, prog_type, info, maps, log, unpriv, nr_cpu_ids or os.cpu_count() or 1, aux, starts)
    env.deadline = deadline
    env.func_info = bool(func_info)
    env.btf, env.kernel_btf, env.abi, env.attach_btf_id = btf, kernel_btf, abi, attach_btf_id
    env.sleepable = sleepable
    if not isinstance(func_info, bool):
        env.globals = global_funcs(env, func_info)
    log.set_line_info(line_info)
    env.expected_attach_type = expected_attach_type
    kfunc_pcs = _kfunc_calls(env)
    symbols = _log_symbols(env, kfunc_pcs) if log.level else VERIFIER_LOG
    if symbols is not VERIFIER_LOG:
        env.insn_lines.update({pc: format_insn_line(insns, pc, symbols) for pc in kfunc_pcs + _map_loads(env)})
    succ = successor_lists(insns, specs)
    n = len(insns)
    env.succ = [out if len(out) == 1 and 0 <= out[0] < n else [w for w in out if 0 <= w < n] for out in succ]
    err: Rejection | None = None
    if log.level & LOG_LEVEL2:
        for k, s in enumerate(starts):
            log.write(f"func#{k} @{s}\n")
    try:
        if not insns:
            raise rejection("empty_prog", 0)
        sanitize.check_calls(env)
        check_kfunc_ids(env, kfunc_pcs)
        check_subprogs(insns, specs, starts)
        if info.btf_ctx and kernel_btf is not None:
            env.trace = attach_target(kernel_btf, attach_btf_id, expected_attach_type)  # check_attach_btf_id
        check_map_prog_compatibility(env)  # resolve_pseudo_ldimm64's check of each map the program names
        check_opcodes(insns, specs)
        check_cfg(insns, specs, aux, allow_loops=not unpriv, succ=succ)
        uses = _helper_uses(insns, specs, prog_type, unpriv) | _kfunc_uses(env, kfunc_pcs)
        compute_live_registers(insns, specs, aux, uses, succ)
        if kfunc_pcs:
            mark_callback_calls(env, kfunc_pcs)
    except Rejection as e:
        log.write(e.message + "\n")
        err = e
    if err is None:
        if log.level & LOG_LEVEL2:
            log.write(_live_block(insns, specs, aux, symbols, scc_of(env)))
        if not isinstance(func_info, bool) and (note := main_func_note(env, func_info)):
            log.write(note + "\n")  # do_check_common's check of the main function's BTF: logged, not fatal
        try:
            do_check(env)
            do_check_subprogs(env)
            if not log.level & LOG_LEVEL2 and not env.verified_globals:
                # level 1 keeps nothing of paths found safe (with global functions, do_check_subprogs
                # did that, before the last "is safe" line); the stack depth check comes after
                log.reset(0)
            check_max_stack_depth(env)
        except Rejection as e:
            err = e
    if err is None:
        err = check_kfuncs_eliminated(env, kfunc_pcs)
    log.write(f"processed {env.insn_processed} insns (limit 1000000) max_states_per_insn {env.max_states_per_insn} "
              f"total_states {env.total_states} peak_states {env.peak_states} mark_read 0\n")
    text = log.text()
    first = "" if err is None else (_reason(text) if log.level else err.message)
    return Verdict(err is None, err.errno if err else 0, text, first,
                   env.insn_processed, env.total_states, env.peak_states, env.max_states_per_insn)
