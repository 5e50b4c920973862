"""``pybpf series``: the suite at each commit (a fake suite here), worktrees cleaned up, conflicts named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pybpf.cli.main import main
from pybpf.errors import PybpfError
from pybpf.harness.selftest import series as series_mod
from pybpf.harness.selftest.gitam import parse_am, parse_combined_diff, with_hunks
from pybpf.harness.selftest.results import ItemResult, Status
from pybpf.harness.selftest.series import State, format_series, run_mbox, run_range

if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

DENYLIST = "tools/testing/selftests/bpf/DENYLIST.s390x"
DENY_HEAD = (
    "# TEMPORARY\n"
    "verify_pkcs7_sig                         # JIT does not support calling kernel function"
    "                                (kfunc)\n"
    "kfunc_dynptr_param                       # JIT does not support calling kernel function"
    "                                (kfunc)\n"
    "deny_namespace                           # failed to attach: ERROR: strerror_r(-524)=22"
    "                                (trampoline)\n"
)
OURS = ("libbpf_get_fd_by_id_opts                 # failed to attach: ERROR: strerror_r(-524)=22"
        "                                (trampoline)")
THEIRS = "linked_list\t\t\t\t # JIT does not support calling kernel function                                (kfunc)"


@pytest.fixture(autouse=True)
def _git_env(monkeypatch, tmp_path_factory):
    """No user or system git configuration; an identity for the commits the tests make."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def verdicts(text: str) -> dict[str, str]:
    return dict(line.split() for line in text.splitlines() if line.strip())


class FakeSuite:
    """Reads ``verdicts.txt`` ("program pass|fail" lines) in the worktree; remembers where it ran."""

    def __init__(self, interrupt_at: int | None = None, error_at: int | None = None):
        self.trees: list[Path] = []
        self.interrupt_at, self.error_at = interrupt_at, error_at

    def __call__(self, tree: Path, archs) -> list[ItemResult]:
        self.trees.append(tree)
        n = len(self.trees)
        if n == self.interrupt_at:
            raise KeyboardInterrupt
        if n == self.error_at:
            raise PybpfError("the suite did not build")
        table = verdicts((tree / "verdicts.txt").read_text())
        return [ItemResult("progs/series.c", prog, arch, "kernel",
                           Status.PASSED if v == "pass" else Status.FAILED, reason="" if v == "pass" else "EXPECTED")
                for prog, v in table.items() for arch in archs]


@pytest.fixture
def repo(tmp_path) -> tuple[Path, list[str]]:
    """base, then three commits: the second breaks prog_b."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    shas = [commit(r, "base", {"verdicts.txt": "prog_a pass\nprog_b pass\n"}),
            commit(r, "add prog_c", {"verdicts.txt": "prog_a pass\nprog_b pass\nprog_c pass\n"}),
            commit(r, "break prog_b", {"verdicts.txt": "prog_a pass\nprog_b fail\nprog_c pass\n"}),
            commit(r, "touch the readme", {"README": "hello\n"})]
    return r, shas


def worktrees(repo: Path) -> list[str]:
    return [ln for ln in git(repo, "worktree", "list", "--porcelain").splitlines() if ln.startswith("worktree ")]


def test_range_names_the_first_breaking_commit(repo):
    r, shas = repo
    suite = FakeSuite()
    result = run_range(r, f"{shas[0]}..main", ["x86_64", "s390x"], suite)
    assert [s.sha for s in result.steps] == shas
    assert [s.state for s in result.steps] == [State.RAN] * 4
    assert result.first_break is result.steps[2] and result.steps[2].subject == "break prog_b"
    assert result.broken(2) == [("series/prog_b", "s390x", "kernel"), ("series/prog_b", "x86_64", "kernel")]
    assert result.broken(3) == []  # still failing, but not newly
    text = format_series(result)
    assert f"first breaking commit: {shas[2][:12]} break prog_b" in text
    assert "  series/prog_b [x86_64/kernel] fails" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("2 "))
    assert row.count("FAIL 1 (new 1), 2 passed") == 2
    # the worktree is gone, the repository untouched
    assert len(worktrees(r)) == 1 and not any(t.exists() for t in suite.trees)
    assert git(r, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(r, "status", "--porcelain") == ""


def test_worktree_removed_on_ctrl_c(repo):
    r, shas = repo
    suite = FakeSuite(interrupt_at=2)
    with pytest.raises(KeyboardInterrupt):
        run_range(r, f"{shas[0]}..{shas[-1]}", ["x86_64"], suite)
    assert len(worktrees(r)) == 1 and not suite.trees[0].exists()
    assert not suite.trees[0].parent.exists()


def test_a_suite_that_cannot_run_breaks_the_commit(repo):
    r, shas = repo
    result = run_range(r, f"{shas[0]}..{shas[-1]}", ["x86_64"], FakeSuite(error_at=2))
    assert result.steps[1].state is State.ERROR and result.first_break is result.steps[1]
    assert "the suite could not run: the suite did not build" in format_series(result)
    assert not result.ok


def test_bad_ranges(repo):
    r, _ = repo
    for rev_range, why in [("main", "not a range"), ("nope..main", "'nope' is not a commit"),
                           ("main..main", "has no commits")]:
        with pytest.raises(series_mod.SeriesError, match=why):
            run_range(r, rev_range, ["x86_64"], FakeSuite())
    with pytest.raises(series_mod.SeriesError, match="not a git repository"):
        run_range(r.parent, "a..b", ["x86_64"], FakeSuite())


@pytest.fixture
def mbox_repo(tmp_path) -> tuple[Path, Path]:
    """A series of three patches made on A, the last one adding a DENYLIST.s390x line; main has moved on
    to B, which adds another line at the same place (the conflict of the seed's linked-list series)."""
    r = tmp_path / "kernel"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    commit(r, "A", {DENYLIST: DENY_HEAD, "verdicts.txt": "linked_list pass\n"})
    git(r, "checkout", "-q", "-b", "series")
    commit(r, "bpf: Introduce bpf_kptr_new", {"kernel/bpf/helpers.c": "kptr_new\n"})
    commit(r, "selftests/bpf: Add __contains macro", {"verdicts.txt": "linked_list pass\ncontains pass\n"})
    commit(r, "selftests/bpf: Add BPF linked list API tests", {DENYLIST: DENY_HEAD + THEIRS + "\n"})
    mbox = tmp_path / "series.mbox"
    mbox.write_text(git(r, "format-patch", "--stdout", "main..series"))
    git(r, "checkout", "-q", "main")
    commit(r, "B", {DENYLIST: DENY_HEAD + OURS + "\n"})
    return r, mbox


def test_mbox_conflict_names_file_and_hunk(mbox_repo):
    r, mbox = mbox_repo
    suite = FakeSuite()
    result = run_mbox(r, "main", mbox, ["s390x"], suite)
    assert [(s.label, s.state) for s in result.steps] == [
        ("base", State.RAN), ("1", State.RAN), ("2", State.RAN), ("3", State.NO_APPLY)]
    assert [s.subject for s in result.steps[1:]] == [
        "bpf: Introduce bpf_kptr_new", "selftests/bpf: Add __contains macro",
        "selftests/bpf: Add BPF linked list API tests"]
    failure = result.no_apply.failure
    assert failure.number == 3 and failure.subject == "selftests/bpf: Add BPF linked list API tests"
    (conflict,) = failure.conflicts
    assert (conflict.path, conflict.kind) == (DENYLIST, "content")
    (hunk,) = conflict.hunks
    assert (hunk.header, hunk.line) == ("@@@ -2,4 -2,4 +2,8 @@@", 2)  # three lines of context before
    assert hunk.ours == (OURS,) and hunk.theirs == (THEIRS,)
    assert hunk.theirs_label.endswith("selftests/bpf: Add BPF linked list API tests")
    text = format_series(result)
    assert f"CONFLICT (content) in {DENYLIST}" in text and hunk.header in text and THEIRS in text
    assert not result.ok and result.first_break is None
    assert len(worktrees(r)) == 1 and not any(t.exists() for t in suite.trees)
    assert git(r, "log", "-1", "--format=%s").strip() == "B"


def test_mbox_later_patches_are_not_run(mbox_repo, tmp_path):
    r, _ = mbox_repo
    # the conflicting patch first, then one that would apply: the second is listed as not run
    git(r, "checkout", "-q", "series")
    commit(r, "selftests/bpf: one more", {"extra.txt": "x\n"})
    mbox2 = tmp_path / "two.mbox"
    mbox2.write_text(git(r, "format-patch", "--stdout", "HEAD~2..HEAD"))
    git(r, "checkout", "-q", "main")
    result = run_mbox(r, "main", mbox2, ["x86_64"], FakeSuite())
    assert [s.state for s in result.steps] == [State.RAN, State.NO_APPLY, State.NOT_RUN]
    assert result.steps[2].subject == "selftests/bpf: one more"


# What git am printed for the seed's series (v1 of "Local kptrs, BPF linked lists", patch 25 of 25).
SEED_AM = """Applying: selftests/bpf: Add __contains macro to bpf_experimental.h
Applying: selftests/bpf: Add BPF linked list API tests
Using index info to reconstruct a base tree...
M	tools/testing/selftests/bpf/DENYLIST.s390x
Falling back to patching base and 3-way merge...
Auto-merging tools/testing/selftests/bpf/DENYLIST.s390x
CONFLICT (content): Merge conflict in tools/testing/selftests/bpf/DENYLIST.s390x
Patch failed at 0025 selftests/bpf: Add BPF linked list API tests
When you have resolved this problem, run "git am --continue".
error: Failed to merge in the changes.
"""
SEED_DIFF = f"""diff --cc tools/testing/selftests/bpf/DENYLIST.s390x
index beef1232a47a,1a59524516df..000000000000
--- a/tools/testing/selftests/bpf/DENYLIST.s390x
+++ b/tools/testing/selftests/bpf/DENYLIST.s390x
@@@ -76,4 -76,4 +76,8 @@@ lookup_ke
  deny_namespace                           # failed to attach: ERROR: strerror_r(-524)=22
++<<<<<<< HEAD
 +{OURS}
++=======
+ {THEIRS}
++>>>>>>> selftests/bpf: Add BPF linked list API tests
"""


def test_parse_the_seed_conflict():
    failure = with_hunks(parse_am(SEED_AM), SEED_DIFF)
    assert (failure.number, failure.subject) == (25, "selftests/bpf: Add BPF linked list API tests")
    (conflict,) = failure.conflicts
    assert conflict.path == DENYLIST
    (hunk,) = parse_combined_diff(SEED_DIFF)[DENYLIST]
    assert conflict.hunks == (hunk,)
    assert (hunk.header, hunk.line) == ("@@@ -76,4 -76,4 +76,8 @@@ lookup_ke", 76)
    assert (hunk.ours, hunk.theirs) == ((OURS,), (THEIRS,))
    assert (hunk.ours_label, hunk.theirs_label) == ("HEAD", "selftests/bpf: Add BPF linked list API tests")
    text = failure.describe()
    assert text.splitlines()[:3] == [
        'patch 25 "selftests/bpf: Add BPF linked list API tests" does not apply',
        f"  CONFLICT (content) in {DENYLIST}",
        "    @@@ -76,4 -76,4 +76,8 @@@ lookup_ke (line 76)"]


def test_parse_a_patch_that_does_not_apply_at_all():
    out = ("Applying: foo\nerror: patch failed: tools/x.c:12\nerror: tools/x.c: patch does not apply\n"
           "Patch failed at 0002 foo\n")
    failure = parse_am(out)
    assert failure.number == 2
    assert [(c.path, c.kind, c.line) for c in failure.conflicts] == [("tools/x.c", "patch does not apply", 12)]
    assert "CONFLICT (patch does not apply) in tools/x.c at line 12" in failure.describe()


def test_cli(monkeypatch, repo, capsys):
    r, shas = repo
    seen = {}

    def fake_default(extra_args=()):
        seen["args"] = list(extra_args)
        return FakeSuite()

    monkeypatch.setattr("pybpf.cli.series.default_runner_available", lambda: None)
    monkeypatch.setattr("pybpf.cli.series.default_run_suite", fake_default)
    status = main(["series", str(r), f"{shas[0]}..main", "--arch", "x86_64,arm64", "--", "-k", "prog_b"])
    out, err = capsys.readouterr()
    assert status == 1 and seen["args"] == ["-k", "prog_b"]
    assert "first breaking commit" in out and "aarch64" in out.splitlines()[0]
    assert err.count("pybpf series: ") == 4


def test_cli_without_a_runner_is_one_error_line(monkeypatch, repo, capsys):
    r, shas = repo
    monkeypatch.setattr("pybpf.cli.series.default_runner_available", lambda: "no `pybpf selftest` here")
    assert main(["series", str(r), f"{shas[0]}..main"]) == 2
    assert capsys.readouterr().err == "pybpf: error: no `pybpf selftest` here\n"
    assert len(worktrees(r)) == 1


def test_cli_bad_arch(repo, capsys):
    r, shas = repo
    assert main(["series", str(r), f"{shas[0]}..main", "--arch", "vax"]) == 2
    assert "unknown architecture 'vax'" in capsys.readouterr().err
