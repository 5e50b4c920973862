"""``KernelTarget``: run a program in the live kernel, as bpf_conformance's kernel plugin does.

The test program becomes a BPF-to-BPF subprogram of a small XDP program::

    wrapper:  r2 = ctx->data_end; r1 = ctx->data         (with input memory)
              if r1 + LEN > r2 goto bad                  the check that gives r1 a range
              r2 = LEN                                   (without: r1 = 0, r2 = 0)
              call test
              r1 = &result_map[0]; *(u64 *)r1 = r0       the full 64-bit r0
              r0 = XDP_PASS; exit
    bad:      r0 = XDP_ABORTED; exit
    test:     the program, unchanged (its calls and jumps are pc-relative)

and runs by ``BPF_PROG_TEST_RUN`` over the input memory, padded with zeros to an
Ethernet header (the kernel refuses shorter XDP test packets); the check and r2
use the memory's own length, so the program never sees the padding.  XDP's
return value has only 32 bits, hence the ARRAY map for r0.

Because the bounds check needs the length as a constant, a loaded wrapper is
specific to one input length: ``load(data_len=)`` verifies for that length and
``run`` reloads (once per new length) when given another.
"""

from __future__ import annotations

import errno as errnos
import re
from dataclasses import dataclass, field

from pybpf.abi.uapi import AttachType, MapType, ProgType
from pybpf.errors import DecodeError, KernelError
from pybpf.harness.progfacts import call_depth, specs
from pybpf.harness.targets.base import Loaded, Target, TargetOutcome
from pybpf.isa import Insn, ld_imm64, validate_program
from pybpf.isa.opcodes import IMM, AluOp, CallSrc, Cls, JmpOp, Kind, Mode, OpSpec, Pseudo, Size, Src
from pybpf.kernel import available, maps, prog, testrun
from pybpf.kernel.fd import Fd
from pybpf.kernel.vlog import verdict

ETH_HLEN = 14  # bpf_prog_test_run_xdp() refuses packets shorter than an Ethernet header
MAX_CALL_FRAMES = 8  # the kernel's limit on the depth of BPF-to-BPF calls, the wrapper's frame included
XDP_ABORTED, XDP_PASS = 0, 2
R0_SIZE = 8

_R0, _R1, _R2, _R3 = 0, 1, 2, 3
_SHIFTS = frozenset({AluOp.LSH, AluOp.RSH, AluOp.ARSH})
_DIVISIONS = frozenset({AluOp.DIV, AluOp.MOD})
_INSN_LINE = re.compile(r"^(\d+): \(")  # "12: (bf) r3 = r1" in the log
_NAMED_INSN = re.compile(r"\binsn (\d+)")  # "unreachable insn 9" in a verdict

# What the kernel cannot run, by kind of instruction: the reason shown in the SKIP.
_NOT_IN_KERNEL: dict[Kind, str] = {
    Kind.CALLX: "callx: the kernel has no indirect calls",
    Kind.LD_ABS: "ldabs: legacy packet loads need a socket buffer; the kernel target runs XDP",
    Kind.LD_IND: "ldind: legacy packet loads need a socket buffer; the kernel target runs XDP",
    Kind.CALL_KFUNC: "call kfunc: needs a kernel function's BTF id, which a test cannot name",
    Kind.ADDR_SPACE_CAST: "addr_space_cast: needs a BPF arena map, which a test cannot provide",
}


def _mov_imm(dst: int, imm: int) -> Insn:
    return Insn(Cls.ALU64 | Src.K | AluOp.MOV, dst, 0, 0, imm)


def _exit() -> Insn:
    return Insn(Cls.JMP | JmpOp.EXIT)


def wrapper(data_len: int, result_map: int) -> list[Insn]:
    """The XDP program that calls a test appended right after it (``data_len`` 0: no input memory)."""
    if data_len:
        head = [
            Insn(Cls.LDX | Mode.MEM | Size.W, _R2, _R1, 4),  # r2 = ctx->data_end
            Insn(Cls.LDX | Mode.MEM | Size.W, _R1, _R1, 0),  # r1 = ctx->data
            Insn(Cls.ALU64 | Src.X | AluOp.MOV, _R3, _R1),
            Insn(Cls.ALU64 | Src.K | AluOp.ADD, _R3, 0, 0, data_len),
            None,  # if r3 > r2 goto bad: patched below once the distance is known
            _mov_imm(_R2, data_len),
        ]
    else:
        head = [_mov_imm(_R1, 0), _mov_imm(_R2, 0)]
    call_at = len(head)
    tail = [
        None,  # call test: patched below
        *ld_imm64(_R1, result_map, Pseudo.MAP_VALUE),  # value offset 0 in the second slot
        Insn(Cls.STX | Mode.MEM | Size.DW, _R1, _R0, 0),
        _mov_imm(_R0, XDP_PASS),
        _exit(),
    ]
    bad = [_mov_imm(_R0, XDP_ABORTED), _exit()] if data_len else []  # the verifier refuses unreachable code
    code = [*head, *tail, *bad]
    bad_at = len(head) + len(tail)
    test_at = len(code)
    if data_len:
        check_at = 4
        code[check_at] = Insn(Cls.JMP | Src.X | JmpOp.JGT, _R3, _R2, bad_at - check_at - 1)
    code[call_at] = Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.LOCAL, 0, test_at - call_at - 1)
    return code  # type: ignore[return-value]


def rejection(err: KernelError, wrapper_len: int) -> str:
    """One line for a refused load: the verifier's verdict and the test instruction it stopped at."""
    line = verdict(err.log) or err.message
    pcs = [int(m.group(1)) for m in map(_INSN_LINE.match, err.log.splitlines()) if m]
    named = _NAMED_INSN.search(line)
    where = ""
    if pcs or named:
        pc = (pcs[-1] if pcs else int(named.group(1))) - wrapper_len  # type: ignore[union-attr]
        where = f" (at test insn {pc})" if pc >= 0 else " (in the XDP wrapper)"
    return f"verifier: {line}{where}"


def _insn_reason(insn: Insn, spec: OpSpec) -> str | None:
    """Why the kernel cannot run this (valid) instruction as a conformance test means it, or None."""
    if spec.kind in _NOT_IN_KERNEL:
        return _NOT_IN_KERNEL[spec.kind]
    if spec.kind is Kind.ALU and IMM in spec.uses:
        bits = 64 if spec.is64 else 32
        if spec.op in _SHIFTS and not 0 <= insn.imm < bits:
            return (f"{spec.name} by immediate {insn.imm}: the verifier refuses immediate shift counts "
                    f"outside 0..{bits - 1} (RFC 9669 masks them)")
        if spec.op in _DIVISIONS and insn.imm == 0:
            return f"{spec.name} by immediate 0: the verifier refuses it (\"div by zero\"); RFC 9669 defines the result"
    if spec.kind is Kind.CALL:
        return f"call {insn.imm}: the conformance suite's helpers (5 = unwind) are not kernel helpers"
    if spec.kind is Kind.LD_IMM64 and insn.src != Pseudo.NONE:
        return (f"ld_imm64 src={insn.src} (BPF_PSEUDO_{Pseudo(insn.src).name}): names a kernel object "
                "(map fd, BTF id, subprogram) the test does not provide")
    return None


@dataclass
class KernelLoaded(Loaded):
    """The test's slots and one loaded wrapper per input length (key: the length)."""

    progs: dict[int, tuple[prog.LoadedProg, Fd]] = field(default_factory=dict)


class KernelTarget(Target):
    name = "kernel"

    def unavailable(self) -> str | None:
        return available()

    def cannot_express(self, insns: list[Insn]) -> str | None:
        try:
            validate_program(insns)
        except DecodeError:
            return None  # a malformed encoding is the verifier's to refuse, not a reason to skip
        for pc, spec in specs(insns):
            reason = _insn_reason(insns[pc], spec) if spec is not None else None
            if reason is not None:
                return f"{reason} (insn {pc})"
        frames = call_depth(insns)
        if frames is not None and frames + 1 > MAX_CALL_FRAMES:
            return (f"calls nest {frames} frames deep; with the XDP wrapper's frame that is "
                    f"{frames + 1}, over the kernel's limit of {MAX_CALL_FRAMES}")
        return None

    def load(self, insns: list[Insn], *, cpu: int, data_len: int = 0) -> KernelLoaded:
        loaded = KernelLoaded(list(insns))
        self._wrapped(loaded, data_len)
        return loaded

    def _wrapped(self, loaded: KernelLoaded, data_len: int) -> tuple[prog.LoadedProg, Fd]:
        """The wrapper for ``data_len`` (loading it on first use); raises KernelError when refused."""
        if data_len not in loaded.progs:
            result_map = maps.map_create(MapType.ARRAY, 4, R0_SIZE, 1, name="conf_r0")
            code = wrapper(data_len, result_map.fileno())
            try:
                try:
                    # log level 0 first: a log costs time, and only a refusal needs it
                    program = self._load(code + loaded.insns, log_level=0)
                except KernelError:
                    program = self._load(code + loaded.insns, log_level=1)
            except KernelError as err:
                result_map.close()
                if err.errno in (errnos.EPERM, errnos.ENOSYS):
                    raise
                raise KernelError(rejection(err, len(code)), errno=err.errno, log=err.log) from None
            loaded.progs[data_len] = (program, result_map)
        return loaded.progs[data_len]

    @staticmethod
    def _load(code: list[Insn], *, log_level: int) -> prog.LoadedProg:
        return prog.prog_load(code, prog_type=ProgType.XDP, expected_attach_type=AttachType.XDP,
                              name="conformance", log_level=log_level)

    def run(self, loaded: Loaded, data: bytes, *, repeat: int = 1) -> TargetOutcome:
        assert isinstance(loaded, KernelLoaded)
        try:
            program, result_map = self._wrapped(loaded, len(data))
        except KernelError as err:
            return TargetOutcome(None, err.message)
        key = bytes(4)
        maps.map_update(result_map.fileno(), key, bytes(R0_SIZE))
        packet = data.ljust(ETH_HLEN, b"\0")
        try:
            result = testrun.prog_test_run(program.fd.fileno(), packet, repeat=repeat)
        except KernelError as err:
            return TargetOutcome(None, f"test run: {err.message}")
        if result.retval == XDP_ABORTED and data:
            # bpf_prog_test_run_xdp() keeps one page less headroom and tailroom (3520 bytes with
            # 4 KiB pages) in the linear packet: longer input is cut and the bounds check fails
            return TargetOutcome(None, f"the kernel cut the {len(data)}-byte input: an XDP test packet "
                                       "holds about 3.5 KiB")
        if result.retval != XDP_PASS:
            return TargetOutcome(None, f"the wrapper returned {result.retval}, not XDP_PASS")
        value = maps.map_lookup(result_map.fileno(), key, R0_SIZE)
        if value is None:
            return TargetOutcome(None, "the result map has no element 0")
        return TargetOutcome(int.from_bytes(value, "little"), duration_ns=result.duration_ns)

    def close(self, loaded: Loaded) -> None:
        assert isinstance(loaded, KernelLoaded)
        for program, result_map in loaded.progs.values():
            program.close()
            result_map.close()
        loaded.progs.clear()
