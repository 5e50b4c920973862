"""The compile cache: hits without running clang, invalidation by any input, many processes at once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from _toolchain_helpers import EM_BPF, make_counting_compiler, read_object
from pybpf.errors import InputError
from pybpf.toolchain import (
    CompileCache,
    CompileError,
    compile_bpf,
    compile_bpf_result,
    find_compiler,
    user_cache_dir,
)
from pybpf.toolchain.cache import CACHE_ENV

HEADER = "#define VALUE {value}\n"
SOURCE = """\
#include "value.h"
__attribute__((section("tc"), used)) int prog(void *ctx) { return VALUE; }
"""


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "value.h").write_text(HEADER.format(value=1))
    (tmp_path / "prog.c").write_text(SOURCE)
    return tmp_path


def _compile(project: Path, cc, cache: CompileCache, **kw):
    return compile_bpf_result(project / "prog.c", include_dirs=[project / "inc"], compiler=cc, cache=cache, **kw)


def test_second_compile_is_a_hit_without_running_clang(project, counting, cache):
    cc = counting.compiler()
    first = _compile(project, cc, cache)
    second = _compile(project, cc, cache)
    assert counting.runs() == 1
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.object == first.object
    assert read_object(second.object).machine == EM_BPF
    assert cache.stats().entries == 1 and cache.stats().objects == 1


def test_editing_an_included_header_invalidates(project, counting, cache):
    cc = counting.compiler()
    old = _compile(project, cc, cache).object.read_bytes()
    (project / "inc" / "value.h").write_text(HEADER.format(value=2))
    edited = _compile(project, cc, cache)
    assert not edited.cache_hit and counting.runs() == 2
    assert edited.object.read_bytes() != old
    (project / "inc" / "value.h").write_text(HEADER.format(value=1))  # back to the first content: hit again
    restored = _compile(project, cc, cache)
    assert restored.cache_hit and counting.runs() == 2
    assert restored.object.read_bytes() == old


def test_editing_the_source_invalidates(project, counting, cache):
    cc = counting.compiler()
    _compile(project, cc, cache)
    (project / "prog.c").write_text(SOURCE.replace("return VALUE;", "return VALUE + 1;"))
    assert not _compile(project, cc, cache).cache_hit
    assert counting.runs() == 2


def test_a_removed_header_is_never_a_stale_hit(project, counting, cache):
    cc = counting.compiler()
    _compile(project, cc, cache)
    (project / "inc" / "value.h").unlink()
    with pytest.raises(CompileError, match=r"value\.h"):
        _compile(project, cc, cache)
    assert counting.runs() == 2


@pytest.mark.parametrize("change", [
    {"defines": ["EXTRA=1"]}, {"cpu": "v2"}, {"extra_flags": ["-fno-inline"]}, {"arch": "aarch64"},
])
def test_different_flags_are_a_different_entry(project, counting, cache, change):
    cc = counting.compiler()
    base = _compile(project, cc, cache)
    other = _compile(project, cc, cache, **change)
    assert not other.cache_hit and counting.runs() == 2
    assert other.object != base.object
    assert cache.stats().entries == 2
    assert _compile(project, cc, cache).cache_hit  # the first entry is still there


def test_a_different_compiler_is_a_different_entry(project, counting, compiler, cache):
    _compile(project, counting.compiler(), cache)
    assert not _compile(project, compiler, cache).cache_hit


def test_headers_with_spaces_and_hashes_in_their_path(tmp_path, counting, cache):
    # clang escapes these in its dependency file; a misread path would never invalidate
    inc = tmp_path / "my headers #1"
    inc.mkdir()
    (inc / "the value.h").write_text(HEADER.format(value=1))
    src = tmp_path / "p.c"
    src.write_text(SOURCE.replace('"value.h"', '"the value.h"'))
    cc = counting.compiler()
    first = compile_bpf_result(src, include_dirs=[inc], compiler=cc, cache=cache)
    assert compile_bpf_result(src, include_dirs=[inc], compiler=cc, cache=cache).cache_hit
    (inc / "the value.h").write_text(HEADER.format(value=5))
    edited = compile_bpf_result(src, include_dirs=[inc], compiler=cc, cache=cache)
    assert not edited.cache_hit and counting.runs() == 2
    assert edited.object.read_bytes() != first.object.read_bytes()


def test_an_unusable_cache_directory_is_an_input_error(project, counting, tmp_path):
    (tmp_path / "a-file").write_text("")
    broken = CompileCache(tmp_path / "a-file" / "cache")
    with pytest.raises(InputError) as info:
        _compile(project, counting.compiler(), broken)
    assert info.value.file == str(broken.root)
    assert "cannot use the compile cache" in str(info.value)


def test_clear_and_stats(project, counting, cache):
    cc = counting.compiler()
    _compile(project, cc, cache)
    stats = cache.stats()
    assert (stats.entries, stats.objects) == (1, 1) and stats.bytes > 0
    cache.clear()
    assert (cache.stats().entries, cache.stats().objects, cache.stats().bytes) == (0, 0, 0)
    assert not _compile(project, cc, cache).cache_hit
    assert counting.runs() == 2


def test_user_cache_dir_order(tmp_path):
    assert user_cache_dir({CACHE_ENV: str(tmp_path / "a"), "XDG_CACHE_HOME": "/x"}) == tmp_path / "a"
    assert user_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "pybpf"
    assert user_cache_dir({}) == Path.home() / ".cache" / "pybpf"
    assert CompileCache.default({CACHE_ENV: str(tmp_path)}).root == tmp_path / "compile"


def _worker(project: str, script: str, cache_root: str, barrier, results) -> None:
    cc = find_compiler({"PYBPF_CLANG": script, "PATH": os.environ.get("PATH", "")})
    barrier.wait()
    result = compile_bpf_result(Path(project) / "prog.c", include_dirs=[Path(project) / "inc"], compiler=cc,
                                cache=CompileCache(Path(cache_root)))
    results.put((str(result.object), result.object.read_bytes(), result.cache_hit))


def test_concurrent_compiles_share_one_clang_run(project, compiler, cache, tmp_path):
    # The wrapper sleeps before compiling, so all four are inside compile_bpf at once.
    slow = make_counting_compiler(tmp_path / "slow", compiler, delay=0.5)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(project), str(slow.script), str(cache.root), barrier, results))
             for _ in range(4)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    paths, blobs, hits = zip(*got, strict=True)
    assert len(set(paths)) == 1 and len(set(blobs)) == 1
    assert blobs[0][:4] == b"\x7fELF"
    assert read_object(Path(paths[0])).machine == EM_BPF
    assert slow.runs() == 1
    assert sorted(hits) == [False, True, True, True]


def _hold_the_lock(project: str, script: str, cache_root: str) -> None:
    cc = find_compiler({"PYBPF_CLANG": script, "PATH": os.environ.get("PATH", "")})
    compile_bpf(Path(project) / "prog.c", include_dirs=[Path(project) / "inc"], compiler=cc,
                cache=CompileCache(Path(cache_root)))


def test_a_killed_compiling_process_does_not_block_the_others(project, compiler, cache, tmp_path):
    stuck = make_counting_compiler(tmp_path / "stuck", compiler)
    stuck.hang.touch()
    ctx = multiprocessing.get_context("spawn")
    holder = ctx.Process(target=_hold_the_lock, args=(str(project), str(stuck.script), str(cache.root)))
    holder.start()
    deadline = time.monotonic() + 60
    while stuck.runs() == 0 and time.monotonic() < deadline:  # the holder is compiling, lock held
        time.sleep(0.05)
    assert stuck.runs() == 1
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=30)
    os.kill(stuck.pids()[0], signal.SIGKILL)  # the orphaned `sleep` the wrapper became
    stuck.hang.unlink()

    done: list = []
    waiter = threading.Thread(target=lambda: done.append(_compile(project, stuck.compiler(), cache)), daemon=True)
    waiter.start()
    waiter.join(timeout=60)
    assert done, "compile_bpf blocked on a lock whose holder was killed"
    assert not done[0].cache_hit and stuck.runs() == 2
    assert read_object(done[0].object).machine == EM_BPF
