"""Functions of the executable sections and the relocations recorded against them (before linking).

Like libbpf's ``bpf_object__add_programs`` and ``bpf_program__record_reloc``:
every STT_FUNC symbol in an executable section is a function; those in
``.text`` are subprograms, the others entry points.  Each relocation of a
function's instructions is classified (call, function address, map, global
data, extern) with the checks libbpf makes, and ld_imm64 of a function
address is marked ``BPF_PSEUDO_FUNC`` at once.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from enum import Enum

from pybpf.isa.insn import INSN_SIZE, Insn
from pybpf.isa.opcodes import CallSrc, Pseudo
from pybpf.obj.elffile import SHN_LORESERVE, SHN_UNDEF, ElfObject, ElfSection
from pybpf.obj.errors import ObjectError, at
from pybpf.obj.externs import ExternDesc
from pybpf.obj.model import MapKind, MapSpec

TEXT = ".text"
CALL = 0x85  # BPF_JMP | BPF_CALL
LD_IMM64 = 0x18  # BPF_LD | BPF_IMM | BPF_DW


class RawKind(Enum):
    """libbpf's reloc_type, less what the object layer does not see (CO-RE is separate)."""

    CALL = "call"
    SUBPROG_ADDR = "subprog_addr"
    LD64 = "ld64"  # a .maps map
    DATA = "data"  # a global-data map
    EXTERN_LD64 = "extern_ld64"
    EXTERN_CALL = "extern_call"


@dataclass(frozen=True)
class RawReloc:
    insn_idx: int  # relative to the function's first instruction
    kind: RawKind
    sym_off: int = 0
    target: str = ""  # map or extern name
    place: str = ""


@dataclass
class Func:
    """One function of an executable section (libbpf's ``struct bpf_program`` before relocation)."""

    name: str
    sec_index: int
    sec_name: str
    sec_insn_off: int
    insns: list[Insn]
    is_subprog: bool
    relocs: list[RawReloc] = field(default_factory=list)

    @property
    def sec_insn_cnt(self) -> int:
        return len(self.insns)

    def contains(self, sec_index: int, insn_idx: int) -> bool:
        return sec_index == self.sec_index and self.sec_insn_off <= insn_idx < self.sec_insn_off + len(self.insns)


def is_subprog_call(i: Insn) -> bool:
    return i.code == CALL and i.src == CallSrc.LOCAL and i.dst == 0 and i.off == 0


def is_pseudo_func(i: Insn) -> bool:
    return i.code == LD_IMM64 and i.src == Pseudo.FUNC


def decode_insns(data: bytes, little: bool) -> list[Insn]:
    if little:
        return [Insn.decode(data, pos) for pos in range(0, len(data), INSN_SIZE)]
    out = []
    for pos in range(0, len(data), INSN_SIZE):  # big-endian: dst is the high nibble, off/imm big-endian
        regs = data[pos + 1]
        out.append(Insn(data[pos], regs >> 4, regs & 0x0F, int.from_bytes(data[pos + 2:pos + 4], "big", signed=True),
                        int.from_bytes(data[pos + 4:pos + 8], "big", signed=True)))
    return out


def collect_functions(elf: ElfObject) -> list[Func]:
    """Every function of every non-empty executable PROGBITS section, sorted by (section, offset)."""
    file = elf.path
    funcs = []
    for sec in elf.sections:
        if sec.type != "SHT_PROGBITS" or not sec.executable or not sec.size:
            continue
        if sec.size % INSN_SIZE:
            raise ObjectError(f"section size {sec.size:#x} is not a multiple of {INSN_SIZE}", file=file,
                              place=at(sec.name, sec.size - sec.size % INSN_SIZE))
        insns = decode_insns(sec.data, elf.little_endian)
        for sym in elf.symbols:
            if sym.shndx != sec.index or sym.type != "STT_FUNC":
                continue
            place = at(sec.name, sym.value)
            if sym.value % INSN_SIZE or sym.size % INSN_SIZE or sym.size == 0:
                raise ObjectError(f"corrupted program '{sym.name}' (offset {sym.value:#x}, size {sym.size:#x})",
                                  file=file, place=place)
            if sym.value + sym.size > sec.size:
                raise ObjectError(f"program '{sym.name}' ({sym.size:#x} bytes) crosses the section's end", file=file,
                                  place=place)
            if sec.name != TEXT and sym.bind == "STB_LOCAL":
                raise ObjectError(f"program '{sym.name}' is static and not supported", file=file, place=place)
            first = sym.value // INSN_SIZE
            funcs.append(Func(sym.name, sec.index, sec.name, first, insns[first:first + sym.size // INSN_SIZE],
                              sec.name == TEXT))
    funcs.sort(key=lambda f: (f.sec_index, f.sec_insn_off))
    return funcs


class FuncIndex:
    """Find the function holding an instruction of a section (libbpf's find_prog_by_sec_insn)."""

    def __init__(self, funcs: list[Func]):
        self.funcs = funcs
        self.keys = [(f.sec_index, f.sec_insn_off) for f in funcs]

    def find(self, sec_index: int, insn_idx: int) -> Func | None:
        pos = bisect_right(self.keys, (sec_index, insn_idx)) - 1
        if pos >= 0 and self.funcs[pos].contains(sec_index, insn_idx):
            return self.funcs[pos]
        return None


@dataclass(frozen=True)
class RelocContext:
    elf: ElfObject
    text_index: int
    maps_index: int
    maps: list[MapSpec]
    externs: dict[int, ExternDesc]  # by symbol index


def _record(ctx: RelocContext, func: Func, insn_idx: int, sym, place: str) -> RawReloc:
    file = ctx.elf.path
    insn = func.insns[insn_idx]
    name = sym.name or ctx.elf.section_name(sym.shndx)
    is_call = insn.code == CALL
    if not is_call and insn.code != LD_IMM64:
        raise ObjectError(f"prog '{func.name}': invalid relocation against '{name}' for insns[{insn_idx}].code "
                          f"{insn.code:#x}", file=file, place=place)
    if not is_call and insn_idx + 1 >= len(func.insns):
        raise ObjectError(f"prog '{func.name}': ld_imm64 at insns[{insn_idx}] lacks its second slot", file=file,
                          place=place)
    if sym.is_extern:
        ext = ctx.externs.get(sym.index)
        if ext is None:
            raise ObjectError(f"relocation against undefined symbol '{name}'", file=file, place=place)
        return RawReloc(insn_idx, RawKind.EXTERN_CALL if is_call else RawKind.EXTERN_LD64, target=ext.name,
                        place=place)
    if is_call:
        if insn.src != CallSrc.LOCAL:
            raise ObjectError(f"prog '{func.name}': incorrect bpf_call opcode (src_reg {insn.src})", file=file,
                              place=place)
        if sym.shndx == SHN_UNDEF:
            raise ObjectError(f"relocation against undefined symbol '{name}'", file=file, place=place)
        if sym.shndx != ctx.text_index:
            raise ObjectError(f"prog '{func.name}': bad call relocation against '{name}' in section "
                              f"'{ctx.elf.section_name(sym.shndx)}'", file=file, place=place)
        if sym.value % INSN_SIZE:
            raise ObjectError(f"prog '{func.name}': bad call relocation against '{name}' at offset {sym.value}",
                              file=file, place=place)
        return RawReloc(insn_idx, RawKind.CALL, sym.value, place=place)
    if sym.shndx == SHN_UNDEF:
        raise ObjectError(f"relocation against undefined symbol '{name}'", file=file, place=place)
    if sym.shndx >= SHN_LORESERVE or sym.shndx >= len(ctx.elf.sections):
        raise ObjectError(f"prog '{func.name}': invalid relocation against '{name}' in special section "
                          f"{sym.shndx:#x}; forgot to initialize global var?", file=file, place=place)
    in_text = sym.shndx == ctx.text_index and ((sym.bind == "STB_LOCAL" and sym.type == "STT_SECTION")
                                               or (sym.bind == "STB_GLOBAL" and sym.type == "STT_FUNC"))
    if in_text:
        if sym.value % INSN_SIZE or insn.imm % INSN_SIZE:
            raise ObjectError(f"prog '{func.name}': bad subprog address relocation against '{name}' at offset "
                              f"{sym.value}+{insn.imm}", file=file, place=place)
        return RawReloc(insn_idx, RawKind.SUBPROG_ADDR, sym.value, place=place)
    sec_name = ctx.elf.section_name(sym.shndx)
    if sym.shndx == ctx.maps_index:
        target = next((m for m in ctx.maps if m.kind is MapKind.USER and m.sec_offset == sym.value), None)
        if target is None:
            raise ObjectError(f"prog '{func.name}': map relocation found no map in '{sec_name}' at offset "
                              f"{sym.value:#x}", file=file, place=place)
        return RawReloc(insn_idx, RawKind.LD64, target=target.name, place=place)
    data_map = next((m for m in ctx.maps if m.kind.internal and m.section == sec_name
                     and m.kind is not MapKind.KCONFIG), None)
    if data_map is None:
        raise ObjectError(f"prog '{func.name}': bad map/data relocation against '{name}' in section '{sec_name}'",
                          file=file, place=place)
    return RawReloc(insn_idx, RawKind.DATA, sym.value, target=data_map.name, place=place)


def record_relocations(ctx: RelocContext, funcs: list[Func]) -> None:
    """Attach each executable section's relocations to the function they patch."""
    elf, file = ctx.elf, ctx.elf.path
    index = FuncIndex(funcs)
    for sec_index, (rel_sec, rels) in sorted(elf.rels.items()):
        target: ElfSection = elf.sections[sec_index]
        if not target.executable:
            continue
        for rel in rels:
            place = at(target.name, rel.offset)
            if rel.sym >= len(elf.symbols):
                raise ObjectError(f"relocation against symbol #{rel.sym}, which does not exist", file=file,
                                  place=at(rel_sec.name, rel.at))
            sym = elf.symbols[rel.sym]
            if rel.offset % INSN_SIZE or rel.offset >= target.size:
                raise ObjectError(f"relocation offset {rel.offset:#x} is not an instruction of the section",
                                  file=file, place=at(rel_sec.name, rel.at))
            func = index.find(sec_index, rel.offset // INSN_SIZE)
            if func is None:  # code no symbol covers (a dropped weak function): libbpf skips it too
                continue
            func.relocs.append(_record(ctx, func, rel.offset // INSN_SIZE - func.sec_insn_off, sym, place))
    for func in funcs:
        func.relocs.sort(key=lambda r: r.insn_idx)
        for r in func.relocs:
            if r.kind is RawKind.SUBPROG_ADDR:
                func.insns[r.insn_idx] = replace(func.insns[r.insn_idx], src=Pseudo.FUNC)
