"""Test helpers: reading objects back with pyelftools (not pybpf's own ELF code), a compiler that counts."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from pybpf.toolchain import Compiler, find_compiler

EM_BPF = "EM_BPF"


@dataclass(frozen=True)
class ObjectFacts:
    machine: str
    elfclass: int
    little_endian: bool
    sections: frozenset[str]
    functions: dict[str, str]  # function symbol -> its section's name
    undefined: frozenset[str]  # symbols the object needs from elsewhere


def read_object(path: Path) -> ObjectFacts:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        names = [s.name for s in elf.iter_sections()]
        functions: dict[str, str] = {}
        undefined: set[str] = set()
        for sect in elf.iter_sections():
            if not isinstance(sect, SymbolTableSection):
                continue
            for sym in sect.iter_symbols():
                shndx = sym["st_shndx"]
                if shndx == "SHN_UNDEF" and sym.name:
                    undefined.add(sym.name)
                elif sym["st_info"]["type"] == "STT_FUNC" and isinstance(shndx, int):
                    functions[sym.name] = names[shndx]
        return ObjectFacts(
            machine=elf["e_machine"], elfclass=elf.elfclass, little_endian=elf.little_endian,
            sections=frozenset(names), functions=functions, undefined=frozenset(undefined),
        )


@dataclass(frozen=True)
class CountingCompiler:
    """A wrapper around the real compiler that logs one line (its pid) per compile (``-c``) run.

    If the file ``hang`` exists in its directory, a compile sleeps instead (as ``exec sleep``,
    so the logged pid is the sleeping process); ``delay`` seconds are slept before each compile.
    """

    script: Path
    log: Path
    hang: Path

    def runs(self) -> int:
        return len(self.log.read_text().split()) if self.log.exists() else 0

    def pids(self) -> list[int]:
        return [int(p) for p in self.log.read_text().split()] if self.log.exists() else []

    def compiler(self) -> Compiler:
        return find_compiler({"PYBPF_CLANG": str(self.script), "PATH": os.environ.get("PATH", "")})


def make_counting_compiler(folder: Path, real: Compiler, delay: float = 0.0) -> CountingCompiler:
    folder.mkdir(parents=True, exist_ok=True)
    log, hang, script = folder / "runs.log", folder / "hang", folder / "cc-wrapper"
    script.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" -c "*)\n'
        f'  echo "$$" >> {shlex.quote(str(log))}\n'
        f"  if [ -e {shlex.quote(str(hang))} ]; then exec sleep 600; fi\n"
        f"  sleep {delay}\n"
        "esac\n"
        f'exec {shlex.join(real.argv)} "$@"\n'
    )
    script.chmod(0o755)
    return CountingCompiler(script, log, hang)
