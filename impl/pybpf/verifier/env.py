"""bpf_verifier_env: everything one verification carries (program, aux data, log, counters, branch stack)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pybpf.btf.graph import Btf
from pybpf.errors import PybpfError
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import OpSpec
from pybpf.verifier.log import VerifierLog
from pybpf.verifier.messages import ERRNO, Rejection, text
from pybpf.verifier.progtypes import ProgTypeInfo
from pybpf.verifier.regs import MapDesc, RegState
from pybpf.verifier.state import FuncState, InsnAux, VerifierState

if TYPE_CHECKING:
    from pybpf.verifier.globalfunc import GlobalFunc
    from pybpf.verifier.liveness import StackLiveness
    from pybpf.verifier.scc import SccVisit
    from pybpf.verifier.tracing import TraceTarget

BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000
DEADLINE_CHECK_INSNS = 4096  # how often do_check looks at the clock: rarely enough to cost nothing


class VerifierTimeout(PybpfError):
    """The verification ran past ``Env.deadline`` (a pybpf limit, not a kernel verdict)."""

    def __init__(self, insn_processed: int):
        super().__init__(f"verification timed out after {insn_processed} processed insns")
        self.insn_processed = insn_processed


@dataclass
class StackElem:
    """A pushed branch: the state to explore from ``insn_idx``, and where the log stood."""

    st: VerifierState
    insn_idx: int
    prev_insn_idx: int
    log_pos: int


@dataclass
class Env:
    insns: Sequence[Insn]
    specs: Sequence[OpSpec | None]
    prog_type: int
    info: ProgTypeInfo
    maps: Sequence[MapDesc]
    log: VerifierLog
    unpriv: bool
    nr_cpu_ids: int
    aux: list[InsnAux]
    subprog_starts: list[int]
    cur: VerifierState = field(default_factory=VerifierState)
    head: list[StackElem] = field(default_factory=list)
    insn_idx: int = 0
    prev_insn_idx: int = -1
    id_gen: int = 0
    insn_processed: int = 0
    prev_insn_processed: int = 0
    jmps_processed: int = 0
    prev_jmps_processed: int = 0
    total_states: int = 0
    peak_states: int = 0
    explored_states_size: int = 0  # checkpoints on the explored lists
    bucket_sizes: dict[int, int] = field(default_factory=dict)  # checkpoints per explored_state() hash bucket
    free_list_size: int = 0  # checkpoints evicted from them but still the parent of a path being explored
    num_backedges: int = 0  # loop hits waiting for their loop's marks to be final (scc.py)
    scc_of: list[int] | None = None  # each instruction's loop, computed at the first checkpoint (scc.py)
    scc_visits: dict[tuple[int, ...], SccVisit] = field(default_factory=dict)
    stack_seen: int = 0  # bumped at each stack access noted in aux (mem.py): stack_live_before's cache key
    stack_live: tuple[int, list[int]] | None = None  # (stack_seen, slots live before each insn) (states.py)
    max_states_per_insn: int = 0
    stack_depth: dict[int, int] = field(default_factory=dict)  # subprog start -> deepest stack byte used
    succ: list[list[int]] = field(default_factory=list)  # control-flow successors of each instruction
    insn_lines: dict[int, str] = field(default_factory=dict)  # each instruction's log text, formatted once
    bt_masks: list[int] | None = None  # what each instruction can do to a precision walk (backtrack.py)
    liveness: StackLiveness | None = None  # log level 2 only: 6.18's stack-liveness lines (liveness.py)
    deadline: float | None = None  # time.monotonic() past which do_check gives up with VerifierTimeout
    func_info: bool = False  # the program has BTF func_info (its subprograms may be callbacks)
    btf: Btf | None = None  # the program's own BTF: the types bpf_obj_new allocates
    kernel_btf: Btf | None = None  # where kfunc calls' imm and kernel type ids point (kfuncs.py loads it lazily)
    abi: str = "linux-6.18"  # the kfunc profile (pybpf.abi.profiles)
    sleepable: bool = False  # BPF_F_SLEEPABLE: KF_SLEEPABLE kfuncs may be called
    attach_btf_id: int = 0  # fentry/fexit: the traced function in kernel BTF
    expected_attach_type: int = 0  # tracing programs: tp_btf, fentry, fexit or fmod_ret
    trace: TraceTarget | None = None  # tracing programs: the attach target typing the context
    globals: dict[int, GlobalFunc] = field(default_factory=dict)  # global subprograms by first insn
    called_globals: set[int] = field(default_factory=set)  # the ones a call site reached
    verified_globals: set[int] = field(default_factory=set)
    explore_alu_limits: bool = False  # unprivileged pointer arithmetic with an unknown offset: prune on exact scalars

    @property
    def allow_ptr_leaks(self) -> bool:
        return not self.unpriv

    @property
    def allow_uninit_stack(self) -> bool:
        return not self.unpriv

    def update_peak_states(self) -> None:
        self.peak_states = max(self.peak_states, self.explored_states_size + self.free_list_size + self.num_backedges)

    def new_id(self) -> int:
        self.id_gen += 1
        return self.id_gen

    def regs(self) -> list[RegState]:
        return self.cur.frames[-1].regs

    def func(self, reg: RegState) -> FuncState:
        """The frame whose stack ``reg`` (a PTR_TO_STACK) points into (the kernel's func(env, reg))."""
        return self.cur.frames[reg.frameno]

    def reject(self, key: str, *before: str, **kw: object) -> Rejection:
        """Write ``before`` lines and the message ``key`` to the log; return the Rejection to raise."""
        line = text(key, self.abi, **kw)
        for b in before:
            self.log.write(b + "\n")
        self.log.write(line + "\n")
        return Rejection(ERRNO.get(key, 13), self.insn_idx, line)

    def subprog_of(self, pc: int) -> int:
        start = 0
        for s in self.subprog_starts:
            if s <= pc:
                start = s
        return start
