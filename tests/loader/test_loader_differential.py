"""The differential test: our kernel loader against ``bpftool prog loadall`` (libbpf), program by program.

Every C program under ``tests/obj/progs/``, ``tests/loader/progs/``,
``examples/`` and ``selftests/progs/`` is compiled and loaded twice: by
``pybpf.kernel.objload`` and by ``bpftool prog loadall OBJ DIR`` into a fresh
directory of the bpf filesystem (removed afterwards).

The comparison has to be fair to an all-or-nothing tool.  bpftool loads an
object's programs in order and stops at the first one the kernel refuses,
unloading everything (exit 255, ``libbpf: prog 'X': failed to load: -ERRNO``);
our loader gives every program its own verdict.  So:

- bpftool succeeded  <=> every program of ours loaded; and then each program
  has the same kernel tag (the tag is a hash of the instructions with map fds
  zeroed: equal tags mean we handed the kernel the very same program) and the
  same number of verified instructions;
- bpftool failed at X with -E  <=> X is our first refused program (in load
  order), with errno E; every program before X loaded for both;
- bpftool failed before any program (libbpf refused the object at open, or a
  map) <=> we refused the object too (an ObjectError or a map KernelError).

Programs after X have no bpftool verdict; ``test_loader_kernel`` checks their
verdicts on their own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _loader_helpers import EXAMPLES, PROGS, ROOT, bpftool_loadall
from pybpf.errors import InputError, KernelError
from pybpf.kernel.info import map_info, prog_info
from pybpf.kernel.objload import load_object
from pybpf.obj import open_object
from pybpf.toolchain import CompileError, compile_bpf

# What the installed bpftool's libbpf (1.1) does not know yet; the object reader follows current libbpf.
# A match in bpftool's output skips the comparison with this reason.
OLD_LIBBPF = {
    re.compile(r"elf: skipping section\(\d+\) \.bss\."): "bpftool's libbpf predates .bss.* sections",
}

SOURCE_DIRS = (ROOT / "tests" / "obj" / "progs", PROGS, EXAMPLES, ROOT / "selftests" / "progs")
SELFTEST_INCLUDE = ROOT / "selftests" / "include"


def _sources() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS if d.is_dir() for p in d.glob("*.c"))


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    out = tmp_path_factory.mktemp("differential")

    def build(src: Path) -> Path:
        includes = [src.parent, EXAMPLES, *([SELFTEST_INCLUDE] if SELFTEST_INCLUDE.is_dir() else [])]
        try:
            return compile_bpf(src, include_dirs=includes, output=out / f"{src.parent.name}_{src.stem}.bpf.o")
        except CompileError as err:
            pytest.skip(f"{src.relative_to(ROOT)} does not compile here: {str(err).splitlines()[0]}")

    return build


@pytest.mark.kernel
@pytest.mark.parametrize("source", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_same_verdicts_as_bpftool(source, objects, bpftool, pin_dir, vmlinux):
    obj_path = objects(source)
    pinned = [m.name for m in _maps_of(obj_path) if m.pinning]
    if pinned:
        pytest.skip(f"maps {pinned} are pinned by name: libbpf would pin them outside the test's directory")
    theirs = bpftool_loadall(bpftool, obj_path, pin_dir)
    for pattern, why in OLD_LIBBPF.items():
        if pattern.search(theirs.stderr):
            pytest.skip(why)
    try:
        obj = open_object(obj_path, target_btf=vmlinux)
        ours = load_object(obj)
    except (InputError, KernelError) as err:
        assert not theirs.ok, f"we refused the object ({err}) but bpftool loaded it"
        assert theirs.failed_prog is None, (f"bpftool got as far as program {theirs.failed_prog!r}; "
                                            f"we refused the whole object: {err}")
        return
    with ours:
        order = [name for name in obj.programs if obj.programs[name].autoload]
        verdicts = {name: ours.programs[name] for name in order}
        if theirs.ok:
            refused = {n: p.verdict for n, p in verdicts.items() if not p.ok}
            assert not refused, f"bpftool loaded every program, we did not: {refused}"
            for name, prog in verdicts.items():
                pinned = theirs.programs.get(name)
                assert pinned is not None, f"bpftool pinned no program {name!r} (pins: {sorted(theirs.programs)})"
                info = prog_info(prog.fd)
                assert info.tag == pinned["tag"], f"{name}: our instructions differ from libbpf's"
                assert info.verified_insns == pinned.get("verified_insns", info.verified_insns)
            _same_maps(ours.maps, theirs.maps)
            return
        first_refused = next((n for n in order if not verdicts[n].ok), None)
        if theirs.failed_prog is None:
            pytest.fail(f"bpftool refused the object before any program ({theirs.stderr.strip()[-300:]}); "
                        f"our verdicts: { {n: p.verdict for n, p in verdicts.items()} }")
        assert first_refused == theirs.failed_prog, (
            f"bpftool stopped at {theirs.failed_prog!r} (errno {theirs.failed_errno}); "
            f"our first refusal is {first_refused!r}")
        assert verdicts[first_refused].errno == theirs.failed_errno, verdicts[first_refused].verdict


def _maps_of(obj_path: Path):
    try:
        return list(open_object(obj_path).maps.values())
    except InputError:
        return []


# What must agree between our map and bpftool's (map_info fields): everything BPF_MAP_CREATE was given.
MAP_FIELDS = ("type", "key_size", "value_size", "max_entries", "map_flags", "btf_key_type_id", "btf_value_type_id",
              "btf_vmlinux_value_type_id", "map_extra")


def _same_maps(ours: dict, theirs: dict) -> None:
    """Each of our maps was created as libbpf created it (pins replace '.' in names by '_')."""
    for name, fd in ours.items():
        pin = name.replace(".", "_")
        assert pin in theirs, f"bpftool pinned no map {pin!r} (pins: {sorted(theirs)})"
        mine, libbpf = map_info(fd), theirs[pin]
        for field in MAP_FIELDS:
            assert getattr(mine, field) == getattr(libbpf, field), f"map {name}: {field} differs"
        assert mine.name == libbpf.name
