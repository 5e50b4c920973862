"""The pytest plugin of the selftest runner: ``pytest selftests/`` runs the kernel-style BPF selftests.

Registered through the ``pytest11`` entry point, so it is active wherever
pybpf is installed; it only acts on ``.c`` files under a ``selftests/progs``
directory or given on the command line (a file, or a directory holding it),
so other suites are left alone.  ``pybpf selftest`` runs pytest with it.

Options (group "pybpf selftests"): ``--bpf-target pybpf|kernel|both``,
``--bpf-abi linux-6.18|rfc-2022`` (the kfunc profile: the compile's define,
pybpf's verifier and runtime; named in the reports),
``--bpf-arch A`` (repeatable; default this machine), ``--bpf-include DIR``,
``--bpf-lists DIR`` (DENYLIST/ALLOWLIST files; default the rootdir),
``--bpf-allow``/``--bpf-deny NAMES|@FILE`` (test_progs' ``-a``/``-d``),
``--bpf-reports DIR``, ``--bpf-report-json FILE``, ``--bpf-btf FILE``.

Every item leaves an ``ItemResult`` in its report's ``user_properties``; the
process that owns the session (the xdist controller, or the only process)
gathers them, writes the reports when the session ends (a partial, still
valid one after Ctrl-C) and prints the test file x arch table.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from pybpf import __version__
from pybpf.abi.profiles import LINUX_6_18, PROFILES
from pybpf.btf.graph import Btf
from pybpf.errors import PybpfError
from pybpf.harness.selftest import arch as arches
from pybpf.harness.selftest.build import KERNEL_BTF
from pybpf.harness.selftest.execute import TargetName, Verify, execution_tier
from pybpf.harness.selftest.lists import Selector, selector_for
from pybpf.harness.selftest.plugin_items import SelftestFile, SelftestItem, test_name, with_timeout
from pybpf.harness.selftest.reports import table, write_reports
from pybpf.harness.selftest.results import ItemResult, from_json, to_json_obj, write_json

RESULT_KEY = "pybpf_selftest_result"
_STATE = pytest.StashKey["SelftestState"]()
_COMPLETE = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED)


@dataclass
class SelftestState:
    """The run's settings and, in the process that owns the session, the results gathered so far."""

    rootpath: Path
    target: TargetName
    archs: tuple[str, ...]
    host_arch: str
    include_dirs: tuple[Path, ...]
    selectors: dict[str, Selector]
    btf_path: Path | None
    reports_dir: Path | None
    report_json: Path | None
    explicit: tuple[Path, ...]  # paths given on the command line
    abi: str = LINUX_6_18.name  # the kfunc profile (pybpf.abi.profiles) programs are built and judged for
    timeout: float | None = None  # seconds one verification by pybpf may take
    results: list[ItemResult] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)

    @cached_property
    def verify(self) -> Verify:
        from pybpf.verifier import verify

        return verify if self.timeout is None else with_timeout(verify, self.timeout)

    def target_btf(self) -> Btf | None:
        return self._btf

    @cached_property
    def _btf(self) -> Btf | None:
        from pybpf.btf.load import load

        return load(self.btf_path) if self.btf_path is not None else None

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.rootpath))
        except ValueError:
            return str(path)

    def wants(self, path: Path) -> bool:
        """A ``.c`` file under ``selftests/progs``, or given (itself or its directory) on the command line."""
        if path.suffix != ".c":
            return False
        parts = path.parts
        if any(parts[i:i + 2] == ("selftests", "progs") for i in range(len(parts) - 1)):
            return True
        return path in self.explicit or path.parent in self.explicit


def state_of(config: pytest.Config) -> SelftestState:
    return config.stash[_STATE]


# ------------------------------------------------------------------ options and configuration

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pybpf selftests", "BPF selftests (progs/*.c with __success, __msg...)")
    group.addoption("--bpf-target", choices=[t.value for t in TargetName], default=TargetName.PYBPF.value,
                    help="where programs are verified and run: pybpf (its verifier and interpreter), the live "
                         "kernel, or both (differential: fails where they disagree); default pybpf")
    group.addoption("--bpf-abi", choices=list(PROFILES), default=LINUX_6_18.name,
                    help="the kfunc profile: compiled with its define, verified and run by pybpf with it "
                         f"(default {LINUX_6_18.name})")
    group.addoption("--bpf-arch", action="append", default=[], metavar="ARCH",
                    help="architecture whose lists and __arch_* apply (repeatable; default this machine)")
    group.addoption("--bpf-include", action="append", default=[], metavar="DIR",
                    help="extra include directory for the programs (e.g. a kernel's tools/testing/selftests/bpf)")
    group.addoption("--bpf-lists", metavar="DIR", default=None,
                    help="directory of DENYLIST[.arch]/ALLOWLIST[.arch] (default: the rootdir)")
    group.addoption("--bpf-allow", action="append", default=[], metavar="NAMES|@FILE",
                    help="run only these tests (test_progs' -a: TEST[/SUBTEST] globs, comma-separated)")
    group.addoption("--bpf-deny", action="append", default=[], metavar="NAMES|@FILE",
                    help="do not run these tests (test_progs' -d); they are reported as denied")
    group.addoption("--bpf-reports", metavar="DIR", default=None,
                    help="write report.json, junit.xml, summary.md, report.html here (default: ROOTDIR/reports)")
    group.addoption("--bpf-report-json", metavar="FILE", default=None, help="also write report.json to FILE")
    group.addoption("--bpf-timeout", metavar="SECONDS", type=float, default=None,
                    help="fail a program whose verification by pybpf takes longer than SECONDS")
    group.addoption("--bpf-btf", metavar="FILE", default=None,
                    help=f"target BTF for CO-RE and the generated vmlinux.h (default: {KERNEL_BTF})")


def host_arch() -> str:
    """This machine's architecture, canonical where the runner knows it (an unknown one must not break pytest)."""
    try:
        return arches.canonical(platform.machine())
    except PybpfError:
        return platform.machine()


def _archs(values: list[str]) -> tuple[str, ...]:
    if not values:
        return (host_arch(),)
    names = values
    try:
        return tuple(dict.fromkeys(arches.canonical(a) for v in names for a in v.split(",") if a))
    except PybpfError as err:
        raise pytest.UsageError(str(err)) from None


def pytest_configure(config: pytest.Config) -> None:
    opt = config.option
    archs = _archs(opt.bpf_arch)
    lists_dir = Path(opt.bpf_lists) if opt.bpf_lists else config.rootpath
    try:
        selectors = {a: selector_for(lists_dir, a, deny_args=opt.bpf_deny, allow_args=opt.bpf_allow) for a in archs}
    except PybpfError as err:
        raise pytest.UsageError(str(err)) from None
    btf = Path(opt.bpf_btf) if opt.bpf_btf else KERNEL_BTF
    reports = Path(opt.bpf_reports) if opt.bpf_reports else None
    explicit = tuple(Path(a.split("::")[0]).resolve() for a in config.args)
    config.stash[_STATE] = SelftestState(
        rootpath=config.rootpath, target=TargetName(opt.bpf_target), archs=archs,
        host_arch=host_arch(), include_dirs=tuple(Path(d).resolve() for d in opt.bpf_include),
        selectors=selectors, btf_path=btf if btf.is_file() else None, reports_dir=reports,
        report_json=Path(opt.bpf_report_json) if opt.bpf_report_json else None, explicit=explicit,
        timeout=opt.bpf_timeout, abi=opt.bpf_abi)
    if not hasattr(config, "workerinput"):  # an xdist worker's results reach the controller in its reports
        config.pluginmanager.register(Gatherer(config), "pybpf-selftest-gatherer")
    if config.pluginmanager.hasplugin("xdist"):
        from pybpf.harness.selftest import plugin_xdist

        config.pluginmanager.register(plugin_xdist, "pybpf-selftest-xdist")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if state_of(parent.config).wants(file_path):
        return SelftestFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Items no allow entry covers are deselected, as test_progs does not list them."""
    from pybpf.harness.selftest.lists import Verdict
    from pybpf.harness.selftest.plugin_items import ProgramItem

    dropped = [i for i in items if isinstance(i, ProgramItem) and i.plan.decision.verdict is Verdict.NOT_SELECTED]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in set(dropped)]


# ------------------------------------------------------------------ results: from the item to the owner of the session

def encode(result: ItemResult) -> str:
    return json.dumps(to_json_obj([result]))


def decode(text: str) -> ItemResult:
    return from_json(text).results[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item):
    report = yield
    if report.when == "call" and isinstance(item, SelftestItem):
        result = item.result
        if result is None and report.failed:  # an error of the runner itself: the report must still count it
            result = item.error_result(str(report.longrepr))
        if result is not None:
            report.user_properties.append((RESULT_KEY, encode(result)))
    return report


# ------------------------------------------------------------------ the end of the run

def _meta(config: pytest.Config, state: SelftestState) -> dict[str, Any]:
    return {"pybpf": __version__, "target": state.target.value, "abi": state.abi, "archs": list(state.archs),
            "kernel": platform.release(), "host": state.host_arch, "args": list(config.invocation_params.args),
            "compiler": _compiler(), "verifier": "pybpf",
            "tier": {a: execution_tier(a) for a in state.archs},
            "crashed_workers": state.crashed}


def _compiler() -> str:
    """Which clang compiled the objects (every report names it)."""
    from pybpf.toolchain import find_compiler

    try:
        return find_compiler().describe()
    except PybpfError as err:
        return f"none: {err}"


def _unmatched(state: SelftestState) -> list[str]:
    lines = []
    for arch, selector in state.selectors.items():
        names = [(r.test, tuple(n for n in (r.subtest, r.description) if n)) for r in state.results if r.arch == arch]
        lines += [f"{e.where}: '{e.text}' matches no test" + (f" ({arch})" if len(state.archs) > 1 else "")
                  for e in selector.unmatched(names)]
        lines += [str(p) for p in selector.problems]
    return list(dict.fromkeys(lines))


class Gatherer:
    """The per-run hooks of the process that owns the session: gather results, write the reports, print the table.

    Registered by ``pytest_configure`` as a plugin object, so the hooks that receive no config find the state.
    """

    def __init__(self, config: pytest.Config):
        self.config = config
        self.state = state_of(config)

    @property
    def directory(self) -> Path:
        return self.state.reports_dir or self.config.rootpath / "reports"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == RESULT_KEY:
                self.state.results.append(decode(value))

    def write(self, *, complete: bool) -> None:
        """Every report file; ``pybpf series`` reads ``--bpf-report-json``, so that one is written even when empty."""
        state = self.state
        if not state.results and state.report_json is None:
            return  # not a selftest run (the plugin is active in every pytest session)
        meta = _meta(self.config, state)
        complete = complete and not state.crashed
        if state.results:
            write_reports(self.directory, state.results, complete=complete, meta=meta)
        if state.report_json is not None:
            write_json(state.report_json, state.results, complete=complete, meta=meta)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.write(complete=exitstatus in _COMPLETE and not session.shouldstop and not session.shouldfail)

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.write(complete=False)

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int) -> None:
        state = self.state
        if not state.results:
            return
        tr = terminalreporter
        tr.section(f"BPF selftests ({state.target.value}, ABI {state.abi})")
        tr.write(table(state.results, complete=exitstatus in _COMPLETE))
        for line in _unmatched(state):
            tr.write_line(f"warning: {line}", yellow=True)
        tr.write_line(f"compiled with: {_compiler()}")
        tr.write_line(f"reports: {self.directory}/")


__all__ = ["RESULT_KEY", "Gatherer", "SelftestState", "decode", "encode", "state_of", "test_name"]
