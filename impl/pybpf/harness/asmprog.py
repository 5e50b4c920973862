"""Programs written in assembler files (``.s``, the verifier corpus format), for pybpf's verifier and the kernel's.

A file holds programs one after the other.  A program starts with ``## name: <name>``;
further ``##`` lines set ``prog_type: <ProgType name>`` (default socket_filter),
``maps: <type>:<key_size>:<value_size>:<max_entries>[,...]`` (MapType names;
``lddw %rN, <i>, map_fd`` refers to the i-th), ``prog_flags: <ProgFlags name>[,...]``,
``level2`` (its level-2 log is worth comparing), ``heavy`` (judged without a log,
for speed) and ``func_info`` (loaded with BTF declaring every subprogram a static
``int f(void)``, which Linux requires of programs taking a callback's address).
The text up to the next ``## name:`` is the program.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pybpf.abi.uapi import MapType, ProgFlags, ProgType
from pybpf.errors import InputError, KernelError
from pybpf.isa import assemble
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Pseudo
from pybpf.verifier.regs import MapDesc

_KEYS = frozenset({"name", "prog_type", "maps", "prog_flags", "level2", "heavy", "func_info"})


@dataclass(frozen=True)
class AsmProgram:
    name: str
    file: str
    prog_type: int
    maps: tuple[MapDesc, ...]
    insns: tuple[Insn, ...]
    level2: bool = False
    heavy: bool = False  # pybpf judges it without a log (a million instructions of level-1 log is slow)
    prog_flags: int = 0
    func_info: bool = False


def _enum_value(enum, name: str, what: str, file: str, lineno: int) -> int:
    try:
        return enum[name.strip().upper()]
    except KeyError:
        raise InputError(f"unknown {what} '{name.strip()}'", file=file, place=f"line {lineno}") from None


def _maps(text: str, file: str, lineno: int) -> tuple[MapDesc, ...]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        fields = part.split(":")
        if len(fields) != 4 or not all(f.strip().isdigit() for f in fields[1:]):
            raise InputError(f"map '{part}' is not <type>:<key_size>:<value_size>:<max_entries>", file=file,
                             place=f"line {lineno}")
        kind = _enum_value(MapType, fields[0], "map type", file, lineno)
        out.append(MapDesc(kind, int(fields[1]), int(fields[2]), int(fields[3])))
    return tuple(out)


def parse_asm_programs(text: str, file: str) -> list[AsmProgram]:
    """The programs of one file; InputError/AsmError (naming the file and line) on bad input."""
    blocks: list[tuple[dict[str, tuple[str, int]], list[str], int]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("##"):
            key, _, val = line[2:].partition(":")
            key = key.strip()
            if key not in _KEYS:
                raise InputError(f"unknown header '## {key}'", file=file, place=f"line {lineno}")
            if key == "name":
                blocks.append(({}, [], lineno + 1))
            elif not blocks:
                raise InputError("a header before the first '## name:'", file=file, place=f"line {lineno}")
            blocks[-1][0][key] = (val.strip(), lineno)
        elif blocks:
            blocks[-1][1].append(line)
        elif line.split("#", 1)[0].strip():
            raise InputError("an instruction before the first '## name:'", file=file, place=f"line {lineno}")
    progs = []
    for meta, lines, first in blocks:
        name = meta["name"][0]
        if not name:
            raise InputError("a program without a name", file=file, place=f"line {first - 1}")
        prog_type = ProgType.SOCKET_FILTER
        if "prog_type" in meta:
            prog_type = _enum_value(ProgType, meta["prog_type"][0], "program type", file, meta["prog_type"][1])
        flags = 0
        if "prog_flags" in meta:
            val, ln = meta["prog_flags"]
            for f in filter(None, (p.strip() for p in val.split(","))):
                flags |= _enum_value(ProgFlags, f, "program flag", file, ln)
        maps = _maps(meta["maps"][0], file, meta["maps"][1]) if "maps" in meta else ()
        insns = assemble("\n".join(lines), file=file, first_line=first)
        progs.append(AsmProgram(name, file, prog_type, maps, tuple(insns), "level2" in meta, "heavy" in meta, flags,
                                "func_info" in meta))
    return progs


def read_asm_programs(path: str | Path) -> list[AsmProgram]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=str(path)) from None
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text: {e.reason} at byte {e.start}", file=str(path)) from None
    return parse_asm_programs(text, str(path))


def with_map_fds(insns: Sequence[Insn], fds: Sequence[int]) -> list[Insn]:
    """The program as the kernel (or pybpf's runtime) takes it: ld_imm64 map indices replaced by the maps' fds."""
    out = list(insns)
    pc = 0
    while pc < len(out):
        ins = out[pc]
        if ins.code == 0x18:
            if ins.src in (Pseudo.MAP_FD, Pseudo.MAP_VALUE) and 0 <= ins.imm < len(fds):
                out[pc] = Insn(ins.code, ins.dst, ins.src, ins.off, fds[ins.imm])
            pc += 2
        else:
            pc += 1
    return out


def subprog_starts(insns: tuple[Insn, ...] | list[Insn]) -> list[int]:
    """First instructions of the subprograms: 0 and every target of a local call or a function address."""
    starts = {0}
    pc = 0
    while pc < len(insns):
        ins = insns[pc]
        if (ins.code == 0x85 and ins.src == 1) or (ins.code == 0x18 and ins.src == Pseudo.FUNC):
            starts.add(pc + 1 + ins.imm)
        pc += 2 if ins.code == 0x18 else 1
    return sorted(starts)


_BTF_KIND_INT, _BTF_KIND_FUNC, _BTF_KIND_FUNC_PROTO = 1, 12, 13


def func_btf(count: int) -> bytes:
    """(raw BTF, func_info records) declaring ``count`` subprograms ``static int f<i>(void)``."""
    names = b"\0int\0" + b"".join(f"f{i}".encode() + b"\0" for i in range(count))
    types = struct.pack("<IIII", 1, _BTF_KIND_INT << 24, 4, 1 << 24 | 32)  # [1] int: signed, 32 bits
    types += struct.pack("<III", 0, _BTF_KIND_FUNC_PROTO << 24, 1)  # [2] int (void)
    off = 5
    for i in range(count):
        types += struct.pack("<III", off, _BTF_KIND_FUNC << 24, 2)  # [3 + i] static f<i>
        off += len(f"f{i}") + 1
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(names))
    return header + types + names


@dataclass(frozen=True)
class KernelResult:
    """What the live kernel said of one program."""

    ok: bool
    errno: int
    log: str


def load_in_kernel(p: AsmProgram, log_level: int = 1) -> KernelResult:
    """Load ``p`` in the live kernel (creating its maps, closing everything after)."""
    from pybpf.kernel import map_create, prog_load
    from pybpf.kernel.btf import btf_load

    fds = [map_create(m.map_type, m.key_size, m.value_size, m.max_entries, map_flags=m.flags) for m in p.maps]
    try:
        insns = with_map_fds(p.insns, [int(f) for f in fds])
        extra: dict = {}
        if p.func_info:
            starts = [s for s in subprog_starts(p.insns) if 0 <= s < len(p.insns)]  # the kernel judges the rest
            raw = func_btf(len(starts))
            fds.append(btf_load(raw))
            extra = {"prog_btf_fd": fds[-1], "func_info_rec_size": 8,
                     "func_info": b"".join(struct.pack("<II", s, 3 + i) for i, s in enumerate(starts))}
        try:
            with prog_load(insns, prog_type=p.prog_type, log_level=log_level, prog_flags=p.prog_flags,
                           **extra) as loaded:
                return KernelResult(True, 0, loaded.log)
        except KernelError as e:
            return KernelResult(False, e.errno or 0, e.log or "")
    finally:
        for f in fds:
            f.close()
