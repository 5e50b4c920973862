"""Running one program of a selftest object as its annotations ask, on the kernel, on pybpf, or on both.

Each target gives an ``Attempt``: loaded or not, the verifier log, the return
value of a test run, and whether that is what the ``RunSpec`` expects.  The
checks follow the kernel's test_loader in its order: the load's verdict
(``__success``/``__failure``), ``__msg``/``__not_msg`` on the verifier log,
``__xlated`` on the program as loaded, ``__jited`` on its machine code, then,
for a program that loaded and has a ``__retval``, one test run on a 64-byte
zeroed packet (no input at all for ``BPF_PROG_TYPE_SYSCALL``) and, after it,
``__stderr``/``__stdout`` on the program's BPF streams (kernel only).
``__btf_path("file")`` reopens the object with its CO-RE relocations made
against that BTF instead of the running kernel's, for both targets.  The words
of a failure are test_loader's (``unexpected_load_success``, ``Unexpected
retval: 1 != 0``, the MATCHED/EXPECTED report).

``__jited`` on the pybpf target checks pybpf's own JIT back-end for the item's
architecture (``pybpf.jit.<arch>``), disassembled into the same text.  The
kernel's ``__jited`` expectations describe Linux's JIT, so ours may
legitimately emit other code: such a mismatch is reported as a failure on the
pybpf target all the same, because that is what per-architecture reports are
for (they show where our JIT differs from Linux's).  Where our back-end cannot
compile the program at all, the check is skipped with the reason.

Only the tested program (and the object's ``__auxiliary`` programs) is loaded,
with test_loader's flags: ``BPF_F_TEST_RND_HI32 | BPF_F_TEST_REG_INVARIANTS``
changed by ``__flag``.  pybpf's side is its verifier (``pybpf.verifier.verify``,
or the ``verify`` a caller passes, e.g. one with a deadline) then the runtime.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import SupportsIndex

from pybpf.abi.uapi import ProgFlags, ProgType
from pybpf.errors import KernelError, PybpfError
from pybpf.harness.selftest.annotations import LoadMode, RunSpec, TestSpec
from pybpf.harness.selftest.jited import ARCHS as JITED_ARCHS
from pybpf.harness.selftest.jited import kernel_jited_text, pybpf_jited_text
from pybpf.harness.selftest.match import Pattern, Stream, match, mismatch_report
from pybpf.harness.selftest.results import Status, VerifierStats, parse_verifier_stats
from pybpf.isa.disasm import BPFTOOL, disassemble
from pybpf.isa.insn import decode_program
from pybpf.kernel.vlog import verdict as last_word
from pybpf.obj.model import Object, Program
from pybpf.verifier import verify as pybpf_verify

KERNEL_ABI = "linux-6.18"  # the kfunc profile of the kernel the runner talks to
TEST_DATA_LEN = 64  # test_loader's input: this many zero bytes
TEST_DATA_OUT = TEST_DATA_LEN << 2
TESTING_FLAGS = ProgFlags.TEST_RND_HI32 | ProgFlags.TEST_REG_INVARIANTS  # what test_loader starts from on 6.18
UNPRIV_SYSCTL = Path("/proc/sys/kernel/unprivileged_bpf_disabled")
JIT_SYSCTL = Path("/proc/sys/net/core/bpf_jit_enable")
PRIVILEGED_CAPS = 1 << 38 | 1 << 39  # CAP_PERFMON | CAP_BPF: with both the verifier treats the loader as root
NO_STREAMS = "pybpf's runtime has no BPF streams yet"
STREAM_READ_SIZE = 1 << 20  # what one read of a program's stream takes at most


class TargetName(StrEnum):
    PYBPF = "pybpf"
    KERNEL = "kernel"
    BOTH = "both"


@dataclass(frozen=True)
class Case:
    """One run of one program: the object, the program's spec, which run (priv/unpriv), the aux programs."""

    obj: Object
    spec: TestSpec
    run: RunSpec
    auxiliary: tuple[str, ...] = ()
    abi: str = KERNEL_ABI  # the kfunc profile pybpf's verifier and runtime take the program's kfuncs from

    @property
    def program(self) -> Program:
        return self.obj.programs[self.spec.program]


@dataclass(frozen=True)
class Attempt:
    """What one target made of a ``Case``; ``status`` says whether that is what the annotations expect."""

    target: str
    status: Status
    reason: str = ""
    log: str = ""
    loaded: bool | None = None  # None: never judged (skipped before the load)
    first_error: str = ""
    retval: int | None = None
    stats: VerifierStats | None = None
    verify_s: float | None = None
    run_s: float | None = None


def _skip(target: str, why: str) -> Attempt:
    return Attempt(target, Status.SKIPPED, why)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def run_input(prog_type: int) -> bytes:
    """The packet test_loader runs a program on (syscall programs get none)."""
    return b"" if prog_type == ProgType.SYSCALL else bytes(TEST_DATA_LEN)


def xlated_text(insns: Sequence) -> str:
    """``N: text`` per instruction, as test_loader prints a program for ``__xlated``."""
    lines = disassemble(list(insns), BPFTOOL)
    return "".join(f"{line.split(' ', 2)[0]} {line.split(' ', 2)[2]}\n" for line in lines)


# ------------------------------------------------------------------ the checks, shared by both targets

def check_load(run: RunSpec, loaded: bool, log: str) -> str | None:
    """None when the verdict and the log are what ``run`` expects, else the report of the first mismatch."""
    if run.expect_failure and loaded:
        return "unexpected_load_success"
    if not run.expect_failure and not loaded:
        return f"unexpected_load_failure: {last_word(log) or 'no log'}"
    return check_patterns(log, run.msgs, Stream.VERIFIER_LOG)


def check_patterns(text: str, patterns: Sequence[Pattern], stream: Stream) -> str | None:
    if not patterns:
        return None
    result = match(text, patterns)
    return None if result.ok else mismatch_report(result, text, stream)


def check_retval(run: RunSpec, got: int) -> str | None:
    if run.retval_matches(got):
        return None
    signed = (got + (1 << 31)) % (1 << 32) - (1 << 31)
    return f"Unexpected retval: {signed} != {run.retval}"


def should_run(case: Case) -> bool:
    return case.run.execute and not case.run.expect_failure


def unsupported(case: Case) -> str | None:
    """What the spec asks that pybpf's runner does not check yet: a skip, never a silent pass."""
    if case.spec.btf_func_path:
        return "__btf_func_path is not supported by pybpf's selftest runner yet"
    return None


def btf_path_file(case: Case) -> Path:
    """Where ``__btf_path``'s file is: as given when absolute, else next to the source, the object, or in the
    working directory (test_progs opens it relative to its own directory)."""
    given = Path(case.spec.btf_path or "")
    if given.is_absolute():
        return given
    for root in (Path(case.spec.file).parent, Path(case.obj.path).parent, Path.cwd()):
        if (root / given).is_file():
            return root / given
    return given


def with_btf_path(case: Case) -> Case:
    """``case`` with its object reopened so CO-RE is done against ``__btf_path``'s BTF (raises PybpfError)."""
    if not case.spec.btf_path:
        return case
    from pybpf.btf import load
    from pybpf.obj import open_object

    obj = open_object(case.obj.path, target_btf=load(btf_path_file(case)))
    return replace(case, obj=obj)


# ------------------------------------------------------------------ the live kernel

def kernel_attempt(case: Case, *, host_arch: str, arch: str) -> Attempt:
    from pybpf.kernel.probe import available  # late: importing it is cheap, probing is not

    target = TargetName.KERNEL
    why = available()
    if why is not None:
        return _skip(target, f"the kernel cannot be used: {why}")
    if arch != host_arch:
        return _skip(target, f"the live kernel runs {host_arch}, not {arch}")
    if case.run.unpriv:
        from pybpf.kernel.unpriv import unpriv_available

        sysctl = _read_int(UNPRIV_SYSCTL)
        if sysctl:
            return _skip(target, f"kernel.unprivileged_bpf_disabled={sysctl}: unprivileged runs are skipped, "
                                 "as the kernel's test_loader does")
        why = unpriv_available()
        if why is not None:
            return _skip(target, f"cannot load as an unprivileged process: {why}")
    jit = _read_int(JIT_SYSCTL)
    if case.spec.load_mode is LoadMode.NO_JITED and jit:
        return _skip(target, "__load_if_no_JITed: the kernel's JIT is on")
    if case.spec.load_mode is LoadMode.JITED and not jit:
        return _skip(target, "__load_if_JITed: the kernel's JIT is off")
    if case.run.jited and not jit:
        return _skip(target, "__jited: the kernel's JIT is off (net.core.bpf_jit_enable=0)")
    if case.run.jited and arch not in JITED_ARCHS:
        return _skip(target, f"__jited: no {arch} disassembler set up for JIT text yet")
    return _kernel_load(case, arch)


def check_streams(run: RunSpec, fd: SupportsIndex) -> str | None:
    """``__stderr`` then ``__stdout`` against what the program wrote to its BPF streams, read once each."""
    from pybpf.kernel.streams import StreamId, prog_stream_read

    for stream_id, patterns, stream in ((StreamId.STDERR, run.stderr, Stream.STDERR),
                                        (StreamId.STDOUT, run.stdout, Stream.STDOUT)):
        if not patterns:
            continue
        try:
            text = prog_stream_read(fd, stream_id, STREAM_READ_SIZE).decode(errors="replace")
        except KernelError as err:
            return f"Unexpected error from get_stream(): {err}"
        if not text:
            return f"Unexpected retval from get_stream(): 0: the program's {stream.lower()} stream is empty"
        problem = check_patterns(text, patterns, stream)
        if problem is not None:
            return problem
    return None


def _kernel_load(case: Case, arch: str) -> Attempt:
    from pybpf.kernel.info import prog_xlated
    from pybpf.kernel.objload import load_object
    from pybpf.kernel.testrun import prog_test_run
    from pybpf.kernel.unpriv import load_object_unpriv

    target = TargetName.KERNEL
    name = case.spec.program
    flags = case.spec.prog_flags(case.program.prog_flags | TESTING_FLAGS)
    programs = {n: replace(p, prog_flags=flags) if n == name else p for n, p in case.obj.programs.items()}
    obj = replace(case.obj, programs=programs)
    started = time.perf_counter()
    try:
        if case.run.unpriv:  # the whole object, as test_loader loads it with capabilities dropped
            loaded = load_object_unpriv(obj, [name, *case.auxiliary], log_level=case.spec.log_level,
                                        caps=case.run.caps)
        else:
            loaded = load_object(obj, programs=[name, *case.auxiliary], log_level=case.spec.log_level)
    except KernelError as err:
        return Attempt(target, Status.FAILED, f"the object did not load: {err}", log=err.log, loaded=False)
    with loaded:
        verify_s = time.perf_counter() - started
        lp = loaded.programs[name]
        stats = parse_verifier_stats(lp.log) or (VerifierStats(lp.verified_insns) if lp.ok else None)
        base = Attempt(target, Status.PASSED, log=lp.log, loaded=lp.ok, first_error="" if lp.ok else last_word(lp.log),
                       stats=stats, verify_s=verify_s)
        problem = check_load(case.run, lp.ok, lp.log)
        if problem is None and lp.ok and case.run.xlated:
            text = xlated_text(decode_program(prog_xlated(lp.fd)))
            problem = check_patterns(text, case.run.xlated, Stream.XLATED)
        if problem is None and lp.ok and case.run.jited:
            text = kernel_jited_text(lp.fd, arch=arch)
            if not text:
                return replace(base, status=Status.SKIPPED, reason="__jited: the kernel did not JIT the program")
            problem = check_patterns(text, case.run.jited, Stream.JITED)
        if problem is not None:
            return replace(base, status=Status.FAILED, reason=problem)
        if not (lp.ok and should_run(case)):
            return base
        data = run_input(case.program.prog_type)
        started = time.perf_counter()
        try:
            # BPF_PROG_TYPE_SYSCALL runs take no input, no output and repeat=0 (EINVAL otherwise)
            out = prog_test_run(lp.fd, data, data_size_out=TEST_DATA_OUT if data else 0,
                                repeat=0 if case.program.prog_type == ProgType.SYSCALL else 1)
        except KernelError as err:
            return replace(base, status=Status.FAILED, reason=f"Unexpected bpf_prog_test_run error: {err}")
        run_s = time.perf_counter() - started
        problem = check_retval(case.run, out.retval) or check_streams(case.run, lp.fd)
        return replace(base, retval=out.retval, run_s=run_s,
                       status=Status.FAILED if problem else Status.PASSED, reason=problem or "")


# ------------------------------------------------------------------ pybpf

Verify = Callable[..., object]


def _pybpf_jited(case: Case, arch: str) -> Attempt | None:
    """``__jited`` against pybpf's own back-end for ``arch`` (see the module's docstring): None when it matches,
    a failed attempt on a mismatch, a skipped one where our JIT cannot compile the program at all."""
    from pybpf.harness.verify import pybpf_inputs

    target = TargetName.PYBPF
    if arch not in JITED_ARCHS:
        return _skip(target, f"__jited: no {arch} disassembler set up for JIT text yet")
    try:
        insns, _ = pybpf_inputs(case.obj, case.program, abi=case.abi)
        text = pybpf_jited_text(insns, arch=arch, helper_ids=_helper_ids(insns))
    except ModuleNotFoundError:
        return _skip(target, f"__jited: pybpf has no JIT back-end for {arch}")
    except PybpfError as err:
        return _skip(target, f"__jited: pybpf's {arch} JIT cannot compile it: {err}")
    problem = check_patterns(text, case.run.jited, Stream.JITED)
    return None if problem is None else Attempt(target, Status.FAILED, problem)


def _helper_ids(insns: list) -> set[int]:
    from pybpf.isa.opcodes import Cls, JmpOp

    call = Cls.JMP | JmpOp.CALL
    return {i.imm for i in insns if i.code == call and i.src == 0}


def verifies_unprivileged(run: RunSpec) -> bool:
    """pybpf's verifier knows one unprivileged mode: a run that raises CAP_BPF and CAP_PERFMON again is root's."""
    return run.unpriv and run.caps & PRIVILEGED_CAPS != PRIVILEGED_CAPS


def pybpf_attempt(case: Case, *, verify: Verify = pybpf_verify, arch: str) -> Attempt:
    from pybpf.harness.verify import NEEDS_KERNEL, pybpf_inputs, verify_context

    target = TargetName.PYBPF
    prog = case.program
    kernel_only = next((r for r in prog.relocs if r.kind in NEEDS_KERNEL), None)
    if kernel_only is not None:
        return _skip(target, f"{NEEDS_KERNEL[kernel_only.kind]} '{kernel_only.target}' needs the kernel")
    if case.spec.load_mode is LoadMode.JITED:
        return _skip(target, "__load_if_JITed: pybpf runs the interpreter")
    if case.run.stderr or case.run.stdout:
        return _skip(target, NO_STREAMS)
    started = time.perf_counter()
    try:
        insns, descs = pybpf_inputs(case.obj, prog, abi=case.abi)
        verdict = verify(insns, prog_type=prog.prog_type, maps=descs, log_level=case.spec.log_level or 1,
                         unpriv=verifies_unprivileged(case.run), **verify_context(case.obj, case.abi, prog))
    except PybpfError as err:
        return _skip(target, f"pybpf's verifier cannot judge it: {err}")
    verify_s = time.perf_counter() - started
    log = verdict.log if (verdict.ok is False or case.spec.log_level) else ""
    stats = VerifierStats(verdict.insn_processed, verdict.total_states, verdict.peak_states,
                          verdict.max_states_per_insn)
    base = Attempt(target, Status.PASSED, log=log, loaded=verdict.ok, first_error=verdict.first_error,
                   stats=stats, verify_s=verify_s)
    problem = check_load(case.run, verdict.ok, log)
    if problem is None and verdict.ok and case.run.xlated:
        problem = check_patterns(xlated_text(insns), case.run.xlated, Stream.XLATED)
    if problem is not None:
        return replace(base, status=Status.FAILED, reason=problem)
    if base.loaded and case.run.jited:
        jited = _pybpf_jited(case, arch)
        if jited is not None:
            return jited if jited.status is Status.SKIPPED else replace(base, status=jited.status, reason=jited.reason)
    if not (base.loaded and should_run(case)):
        return base
    return _pybpf_run(case, base, arch)


# The selftest runner's architecture -> pybpf's machine-code back-end that runs its programs.
JIT_BACKENDS = {"x86_64": "x86_64", "aarch64": "arm64", "s390x": "s390x"}


def execution_tier(arch: str) -> str:
    """What runs a program for ``arch``: its JIT back-end under unicorn, else the interpreter."""
    from pybpf.jit.tiers import missing_jit_modules

    if arch in JIT_BACKENDS and missing_jit_modules("unicorn") is None:
        return f"jit-{JIT_BACKENDS[arch]}"
    return "interpreter"


def _pybpf_run(case: Case, base: Attempt, arch: str) -> Attempt:
    from pybpf.jit.tiers import Tier, executor_factory
    from pybpf.runtime import Runtime
    from pybpf.runtime.instantiate import instantiate

    tier = execution_tier(arch)
    executor = executor_factory(Tier.JIT, JIT_BACKENDS[arch]) if tier != "interpreter" else executor_factory(
        Tier.INTERP)
    started = time.perf_counter()
    try:
        with instantiate(case.obj, programs=[case.spec.program, *case.auxiliary],
                         runtime=Runtime(executor=executor, abi=case.abi)) as inst:
            made = inst.programs[case.spec.program]
            if not made.ok:
                return replace(base, status=Status.FAILED, reason=f"pybpf's runtime did not load it: {made.message}")
            out = made.run(run_input(case.program.prog_type))
    except PybpfError as err:
        return replace(base, status=Status.FAILED, reason=f"Unexpected test run error: {err}")
    problem = check_retval(case.run, out.retval)
    return replace(base, retval=out.retval, run_s=time.perf_counter() - started,
                   status=Status.FAILED if problem else Status.PASSED, reason=problem or "")


# ------------------------------------------------------------------ both: the differential

def differential(kernel: Attempt, ours: Attempt) -> Attempt:
    """Each side's own verdict, and where both judged: the same verdict, refusal message and return value."""
    problems = [f"{a.target}: {a.reason}" for a in (kernel, ours) if a.status is Status.FAILED]
    if kernel.loaded is not None and ours.loaded is not None:
        if kernel.loaded != ours.loaded:
            say = {True: "loaded", False: "refused"}
            problems.append(f"verdicts differ: the kernel {say[kernel.loaded]} it"
                            f"{'' if kernel.loaded else f' ({kernel.first_error})'}, pybpf {say[ours.loaded]} it"
                            f"{'' if ours.loaded else f' ({ours.first_error})'}")
        elif not kernel.loaded and kernel.first_error != ours.first_error:
            problems.append(f"refusal messages differ: kernel '{kernel.first_error}', pybpf '{ours.first_error}'")
    if kernel.retval is not None and ours.retval is not None and kernel.retval != ours.retval:
        problems.append(f"return values differ: kernel {kernel.retval}, pybpf {ours.retval}")
    skipped = [f"{a.target}: {a.reason}" for a in (kernel, ours) if a.status is Status.SKIPPED]
    log = "".join(f"--- {a.target} ---\n{a.log}" for a in (kernel, ours) if a.log)
    status = Status.FAILED if problems else Status.SKIPPED if skipped else Status.PASSED
    return Attempt(TargetName.BOTH, status, "\n".join(problems or skipped), log, kernel.loaded, kernel.first_error,
                   kernel.retval, kernel.stats or ours.stats, kernel.verify_s, kernel.run_s)


def kfuncs_of_other_abis(case: Case) -> list[str]:
    """The kfuncs the program calls that its ABI profile lacks and another profile has."""
    from pybpf.abi.profiles import PROFILES, profile
    from pybpf.kernel.objload_relo import essential_name
    from pybpf.obj.model import RelocKind

    own = profile(case.abi)
    called = sorted({essential_name(r.target) for r in case.program.relocs if r.kind is RelocKind.KFUNC_CALL})
    return [n for n in called if own.by_name(n) is None and any(p.by_name(n) for p in PROFILES.values())]


def under_abi(case: Case) -> Case | str:
    """``case`` with its spec as its ABI profile sees it (``__msg_abi``...), or why the program is not for it:
    ``__abi``, or a call of a kfunc only another profile has (a kernel without it would not load it)."""
    spec = case.spec
    if not spec.runs_under(case.abi):
        return f"program needs ABI {', '.join(sorted(spec.abis or ()))}"
    foreign = kfuncs_of_other_abis(case)
    if foreign:
        from pybpf.abi.profiles import PROFILES

        have = sorted(name for name, p in PROFILES.items() if all(p.by_name(k) for k in foreign))
        return f"program needs ABI {', '.join(have) or 'other than ' + case.abi}: it calls {', '.join(foreign)}"
    scoped = spec.under(case.abi)
    if scoped is spec:
        return case
    run = scoped.unpriv if case.run.unpriv else scoped.priv
    return replace(case, spec=scoped, run=run or case.run)


def attempt(case: Case, target: TargetName, *, arch: str, host_arch: str, verify: Verify = pybpf_verify) -> Attempt:
    """Run ``case`` on ``target`` (``both``: the differential)."""
    scoped = under_abi(case)
    if isinstance(scoped, str):
        return _skip(target, scoped)
    case = scoped
    why = unsupported(case)
    if why is not None:
        return _skip(target, why)
    try:
        case = with_btf_path(case)
    except PybpfError as err:
        return Attempt(target, Status.FAILED, f"__btf_path: {err}")
    if target is TargetName.KERNEL:
        return _kernel_or_skip(case, host_arch=host_arch, arch=arch)
    if target is TargetName.PYBPF:
        return pybpf_attempt(case, verify=verify, arch=arch)
    return differential(_kernel_or_skip(case, host_arch=host_arch, arch=arch),
                        pybpf_attempt(case, verify=verify, arch=arch))


def _kernel_or_skip(case: Case, *, host_arch: str, arch: str) -> Attempt:
    """The kernel's attempt; the running kernel has only its own kfuncs, so another ABI profile is skipped."""
    if case.abi != KERNEL_ABI:
        return _skip(TargetName.KERNEL, f"the running kernel implements ABI {KERNEL_ABI}, not {case.abi}")
    return kernel_attempt(case, host_arch=host_arch, arch=arch)
