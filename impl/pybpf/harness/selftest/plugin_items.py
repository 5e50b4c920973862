"""The pytest nodes of the selftest runner: a program file, one item per program run, one for a file that breaks.

``SelftestFile`` compiles its ``.c`` file (through the cache, once for every
worker), opens the object and yields a ``ProgramItem`` per program, per run
(``prog``, and ``prog[unpriv]`` where the annotations ask for an
unprivileged run) and, with several ``--arch``, per architecture
(``prog[x86_64]``, ``prog[unpriv-s390x]``).  ``__auxiliary`` programs are
loaded with the tests, never run as one.  A file that does not compile or
open becomes one ``BrokenFileItem`` that fails with the compiler's (or the
reader's) words; a program whose annotations are malformed, one failing item.
A file none of whose programs carries an annotation is a C test's object
(the kernel's ``prog_tests/`` drive those), not a test of its own: no items.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pybpf.errors import PybpfError
from pybpf.harness.selftest import build
from pybpf.harness.selftest.annotations import RunSpec, TestSpec, read_tags, source_line, test_spec
from pybpf.harness.selftest.execute import KERNEL_ABI, Attempt, Case, Verify, attempt
from pybpf.harness.selftest.lists import Decision, Verdict
from pybpf.harness.selftest.results import Durations, ItemResult, Status
from pybpf.obj import Object, open_object
from pybpf.obj.model import CoreReloKind

if TYPE_CHECKING:
    from pybpf.harness.selftest.plugin import SelftestState

COMPILE_ITEM = "(compile)"


class SelftestFailure(Exception):
    """An item's failure: ``report`` is what test_progs would print (the mismatch report, the reason)."""

    def __init__(self, report: str, log: str = ""):
        super().__init__(report)
        self.report = report
        self.log = log


def with_timeout(verify: Verify, seconds: float) -> Verify:
    """``verify`` stopped after ``seconds``: a ``SelftestFailure`` "timed out after N s" (not a verdict, so an
    expected ``__failure`` cannot pass by it; the runner's own errors would make it a skip)."""
    from pybpf.harness.verify import timed_out
    from pybpf.verifier.env import VerifierTimeout

    def bounded(*args, **kw):
        try:
            return verify(*args, deadline=time.monotonic() + seconds, **kw)
        except VerifierTimeout as err:
            raise SelftestFailure(f"pybpf's verifier {timed_out(seconds)} ({err})") from None

    return bounded


def test_name(path: Path) -> str:
    """test_progs' name of a program file: its stem (``linked_list.c`` -> ``linked_list``)."""
    return path.name.split(".", 1)[0]


test_name.__test__ = False


class SelftestItem(pytest.Item):
    """What every selftest item shares: the ``ItemResult`` it leaves for the reports, the failure text."""

    result: ItemResult | None = None

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, SelftestFailure):
            return excinfo.value.report
        return super().repr_failure(excinfo, style=style)

    def error_result(self, reason: str) -> ItemResult:
        """The result of a run that ended in an unexpected error (a bug of the runner, not a test's verdict)."""
        raise NotImplementedError

    def skip(self, reason: str) -> None:
        """A skip reported at the item (its file and program), not at this line of the runner."""
        raise pytest.skip.Exception(reason, _use_item_location=True)

    def fail(self, report: str, log: str = "") -> None:
        if log:
            self.add_report_section("call", "verifier log", log)
        raise SelftestFailure(report, log)


class BrokenFileItem(SelftestItem):
    """A file that does not compile or cannot be opened: one failing item, the rest of the run goes on."""

    def __init__(self, *, error: str, arch: str, target: str, rel: str, seconds: float | None, **kw):
        super().__init__(**kw)
        self.error, self.arch, self.target, self.rel, self.seconds = error, arch, target, rel, seconds

    def error_result(self, reason: str) -> ItemResult:
        return ItemResult(self.rel, COMPILE_ITEM, self.arch, self.target, Status.FAILED, reason=reason,
                          node_id=self.nodeid)

    def runtest(self) -> None:
        self.result = ItemResult(self.rel, COMPILE_ITEM, self.arch, self.target, Status.FAILED, reason=self.error,
                                 node_id=self.nodeid, durations=Durations(compile_s=self.seconds))
        self.fail(self.error)

    def reportinfo(self):
        return self.path, 0, f"{self.rel}: does not build"


@dataclass(frozen=True)
class ItemPlan:
    """What one ``ProgramItem`` runs."""

    spec: TestSpec | None  # None: the annotations could not be read (``error`` says why)
    run: RunSpec | None
    arch: str
    unpriv: bool
    decision: Decision
    error: str = ""


class ProgramItem(SelftestItem):
    """One run (priv or unpriv) of one program on one architecture."""

    def __init__(self, *, plan: ItemPlan, obj: Object | None, rel: str, compile_s: float | None,
                 auxiliary: tuple[str, ...], **kw):
        super().__init__(**kw)
        self.plan, self.obj, self.rel, self.compile_s, self.auxiliary = plan, obj, rel, compile_s, auxiliary
        self.program = kw["name"].partition("[")[0]

    @property
    def state(self) -> SelftestState:
        from pybpf.harness.selftest.plugin import state_of

        return state_of(self.config)

    def _result(self, status: Status, reason: str = "", got: Attempt | None = None) -> ItemResult:
        spec = self.plan.spec
        return ItemResult(
            file=self.rel, program=self.program, arch=self.plan.arch, target=self.state.target.value, status=status,
            unpriv=self.plan.unpriv, reason=reason, node_id=self.nodeid,
            description=spec.description if spec else None, stats=got.stats if got else None,
            durations=Durations(self.compile_s, got.verify_s if got else None, got.run_s if got else None),
            log=got.log if got else "")

    def error_result(self, reason: str) -> ItemResult:
        return self._result(Status.FAILED, reason)

    def runtest(self) -> None:
        plan = self.plan
        if plan.decision.verdict is Verdict.DENIED:
            self.result = self._result(Status.DENIED, plan.decision.reason)
            self.skip(f"denied: {plan.decision.reason}")
        if plan.spec is None or plan.run is None:
            self.result = self._result(Status.FAILED, plan.error)
            self.fail(plan.error)
        spec = plan.spec
        why = spec.skip and f"__skip: {spec.skip}"
        if not why and not spec.on_this_arch:
            why = f"__arch_*: for {', '.join(sorted(spec.archs or ()))} only, not {plan.arch}"
        if why:
            self.result = self._result(Status.SKIPPED, why)
            self.skip(why)
        state = self.state
        try:
            got = attempt(Case(self.obj, spec, plan.run, self.auxiliary, state.abi), state.target, arch=plan.arch,
                          host_arch=state.host_arch, verify=state.verify)
        except SelftestFailure as timeout:
            self.result = self._result(Status.FAILED, timeout.report)
            raise
        self.result = self._result(got.status, got.reason, got)
        if got.status is Status.SKIPPED:
            self.skip(got.reason)
        if got.status is Status.FAILED:
            self.fail(got.reason, got.log)
        if got.log:
            self.add_report_section("call", "verifier log", got.log)

    def reportinfo(self):
        return self.path, 0, f"{test_name(self.path)}/{self.plan.run.name if self.plan.run else self.program}"


def is_annotated(obj: Object) -> bool:
    """Whether any program of ``obj`` carries a test annotation: only such files are test_loader's."""
    if obj.btf is None:
        return False
    for name in obj.programs:
        try:
            _, tags = read_tags(obj.btf, name)
        except PybpfError:
            continue
        if any(t.key.startswith("test_") or t.key == "load_mode" for t in tags):
            return True
    return False


def _item_name(program: str, unpriv: bool, arch: str, many_archs: bool) -> str:
    params = [p for p in ("unpriv" if unpriv else "", arch if many_archs else "") if p]
    return program + (f"[{'-'.join(params)}]" if params else "")


class SelftestFile(pytest.File):
    """A BPF C program file of the kernel's selftest kind."""

    def collect(self) -> Iterator[pytest.Item]:
        from pybpf.harness.selftest.plugin import state_of

        state = state_of(self.config)
        rel = state.relative(self.path)
        started = time.perf_counter()
        try:
            obj, compile_s = self._build(state)
        except PybpfError as err:
            seconds = time.perf_counter() - started
            for arch in state.archs:
                yield BrokenFileItem.from_parent(self, name=_item_name(COMPILE_ITEM, False, arch, len(state.archs) > 1),
                                                 error=str(err), arch=arch, target=state.target.value, rel=rel,
                                                 seconds=seconds)
            return
        yield from self._programs(state, obj, rel, compile_s)

    def _build(self, state: SelftestState) -> tuple[Object, float]:
        includes = [*state.include_dirs, *build.default_include_dirs(self.path)]
        vmlinux = None
        if build.needs_vmlinux_h(self.path, includes) and state.btf_path is not None:
            vmlinux = build.vmlinux_h_dir(state.btf_path)
        built = build.compile_source(self.path, includes, vmlinux_dir=vmlinux, abi=state.abi)
        obj = open_object(built.object)
        # CO-RE and kernel externs need the target BTF, which takes a while to read: only then.  Another ABI
        # profile's kfuncs are not the kernel's (pybpf's verifier and runtime take them from the profile), and
        # its objects are opened as they are: clang already wrote the local type ids bpf_obj_new passes.
        if state.abi != KERNEL_ABI:
            needs_target = any(r.kind is not CoreReloKind.TYPE_ID_LOCAL for p in obj.programs.values()
                               for r in p.core_relos)
        else:
            needs_target = bool(obj.externs) or any(p.core_relos for p in obj.programs.values())
        if needs_target:
            obj = open_object(built.object, target_btf=state.target_btf())
        return obj, built.seconds

    def _locate(self, err: PybpfError, program: str) -> PybpfError:
        """``err`` with the source line of the annotation at fault, where the source shows it."""
        try:
            source = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return err
        line = source_line(source, program, getattr(err, "tag", None))
        return err if line is None else err.located(place=str(line))

    def _programs(self, state: SelftestState, obj: Object, rel: str, compile_s: float) -> Iterator[pytest.Item]:
        if not is_annotated(obj):
            return  # a program file of a C test (test_progs' prog_tests/), not a declarative one
        test = test_name(self.path)
        many = len(state.archs) > 1
        for arch in state.archs:
            plans: list[tuple[str, ItemPlan]] = []
            auxiliary: list[str] = []
            for name, prog in obj.programs.items():
                try:
                    spec = test_spec(obj.btf, name, arch=arch, file=rel, prog_type=prog.prog_type)
                except PybpfError as err:
                    decision = state.selectors[arch].decide(test, (name,))
                    plans.append((name, ItemPlan(None, None, arch, False, decision, str(self._locate(err, name)))))
                    continue
                if spec.auxiliary:
                    auxiliary.append(name)
                    continue
                for run in spec.runs:
                    names = tuple(dict.fromkeys((run.name, run.display_name)))
                    decision = state.selectors[arch].decide(test, names)
                    plans.append((name, ItemPlan(spec, run, arch, run.unpriv, decision)))
            for i, (name, plan) in enumerate(plans):
                # the file's compile time goes to its first item only, so that sums over items stay true
                yield ProgramItem.from_parent(self, name=_item_name(name, plan.unpriv, arch, many), plan=plan, obj=obj,
                                              rel=rel, compile_s=None if i else compile_s, auxiliary=tuple(auxiliary))
