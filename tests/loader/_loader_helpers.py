"""Shared by the loader tests: where programs are, compiling them, running bpftool."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pybpf.kernel.info import MapInfo, map_info
from pybpf.kernel.pin import obj_get
from pybpf.toolchain import compile_bpf

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROGS = Path(__file__).resolve().parent / "progs"
BPFFS_CANDIDATES = (Path("/sys/fs/bpf"),)
BPF_FS_MAGIC = 0xCAFE4A11

# libbpf's words when a program fails: "libbpf: prog 'bad': failed to load: -13".
_FAILED_PROG = re.compile(r"prog '([^']+)': failed to load: -(\d+)")


def compile_prog(src: Path, out_dir: Path) -> Path:
    """``src`` compiled with the selftests' flags (examples/ on the include path), into ``out_dir``."""
    return compile_bpf(src, include_dirs=[EXAMPLES], output=out_dir / (src.stem + ".bpf.o"))


def bpffs_root() -> Path | None:
    """A mounted bpf filesystem (the usual /sys/fs/bpf), None if there is none."""
    import os

    for path in BPFFS_CANDIDATES:
        try:
            if os.statvfs(path) and _is_bpffs(path):
                return path
        except OSError:
            continue
    return None


def _is_bpffs(path: Path) -> bool:
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == str(path) and line.split()[2] == "bpf" for line in f)


@dataclass
class BpftoolLoad:
    """What ``bpftool prog loadall`` did with one object."""

    ok: bool
    stderr: str
    failed_prog: str | None = None  # the program libbpf stopped at
    failed_errno: int = 0
    programs: dict[str, dict] = field(default_factory=dict)  # name -> `bpftool -j prog show` of its pin
    maps: dict[str, MapInfo] = field(default_factory=dict)  # pin name -> the pinned map's info


def bpftool_loadall(bpftool: str, obj: Path, pin_dir: Path) -> BpftoolLoad:
    """``bpftool prog loadall OBJ DIR pinmaps DIR/maps``; on success the pinned programs' info."""
    done = subprocess.run([bpftool, "prog", "loadall", str(obj), str(pin_dir), "pinmaps", str(pin_dir / "maps")],
                          capture_output=True, text=True, timeout=120, check=False)
    result = BpftoolLoad(done.returncode == 0, done.stderr)
    match = _FAILED_PROG.search(done.stderr)
    if match:
        result.failed_prog, result.failed_errno = match.group(1), int(match.group(2))
    if result.ok:
        for pin in sorted(p for p in pin_dir.iterdir() if p.is_file()):
            show = subprocess.run([bpftool, "-j", "prog", "show", "pinned", str(pin)], capture_output=True,
                                  text=True, timeout=60, check=True)
            result.programs[pin.name] = json.loads(show.stdout)
        maps_dir = pin_dir / "maps"
        for pin in sorted(maps_dir.iterdir()) if maps_dir.is_dir() else ():
            with obj_get(pin) as fd:
                result.maps[pin.name] = map_info(fd)
    return result


def bpftool_map_dump(bpftool: str, pinned: Path) -> list:
    done = subprocess.run([bpftool, "-j", "map", "dump", "pinned", str(pinned)], capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)
