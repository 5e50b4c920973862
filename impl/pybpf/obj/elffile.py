"""The ELF container of a BPF object, read once through pyelftools into plain records.

Only this module talks to pyelftools; everything it returns is a frozen record
(``ElfSection``, ``ElfSymbol``, ``ElfRel``) so the rest of the reader never
meets a half-parsed structure or a pyelftools exception.  Checks are libbpf's
(``bpf_object__elf_init``/``elf_collect``): a 64-bit relocatable object for
EM_BPF (or EM_NONE, as old LLVM wrote) in the host's byte order, one symbol
table, sections and strings inside the file.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from pybpf.obj.errors import ObjectError, at, in_header

EM_BPF = 247
EM_NONE = 0
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2
SYM_SIZE = 24  # sizeof(Elf64_Sym)
REL_SIZE = 16  # sizeof(Elf64_Rel)

# Where the header fields we check sit (for error places).
_EI_CLASS, _EI_DATA, _E_TYPE, _E_MACHINE, _E_SHOFF = 4, 5, 16, 18, 0x28

_SPECIAL_SHNDX = {"SHN_UNDEF": SHN_UNDEF, "SHN_ABS": SHN_ABS, "SHN_COMMON": SHN_COMMON}
# What pyelftools raises on malformed input besides ELFError.
_PARSE_ERRORS = (ELFError, ValueError, struct.error, IndexError, KeyError, UnicodeDecodeError, OverflowError,
                 EOFError, OSError, AssertionError, zlib.error)  # zlib: SHF_COMPRESSED sections


@dataclass(frozen=True)
class ElfSection:
    index: int
    name: str
    type: str  # pyelftools' spelling: "SHT_PROGBITS", "SHT_NOBITS", "SHT_REL", ...
    flags: int
    size: int
    offset: int  # in the file
    link: int
    info: int
    entsize: int
    data: bytes  # b"" for SHT_NOBITS

    @property
    def executable(self) -> bool:
        return bool(self.flags & 0x4)  # SHF_EXECINSTR


@dataclass(frozen=True)
class ElfSymbol:
    index: int
    name: str
    value: int
    size: int
    type: str  # "STT_FUNC", "STT_OBJECT", "STT_SECTION", "STT_NOTYPE", ...
    bind: str  # "STB_LOCAL", "STB_GLOBAL", "STB_WEAK"
    visibility: str  # "STV_DEFAULT", "STV_HIDDEN", ...
    shndx: int

    @property
    def is_extern(self) -> bool:
        """libbpf's extern: undefined, global or weak, no type."""
        return self.shndx == SHN_UNDEF and self.bind in ("STB_GLOBAL", "STB_WEAK") and self.type == "STT_NOTYPE"

    @property
    def hidden(self) -> bool:
        return self.visibility in ("STV_HIDDEN", "STV_INTERNAL")


@dataclass(frozen=True)
class ElfRel:
    offset: int  # r_offset: byte offset in the target section
    sym: int  # symbol index
    type: int  # R_BPF_*
    at: int  # this entry's byte offset in its .rel section


@dataclass(frozen=True)
class ElfObject:
    path: str
    little_endian: bool
    sections: tuple[ElfSection, ...]
    symbols: tuple[ElfSymbol, ...]
    symtab: ElfSection
    rels: dict[int, tuple[ElfSection, tuple[ElfRel, ...]]]  # target section index -> (.rel section, entries)

    def section_by_name(self, name: str) -> ElfSection | None:
        for sec in self.sections:
            if sec.name == name:
                return sec
        return None

    def section_name(self, index: int) -> str:
        if 0 <= index < len(self.sections):
            return self.sections[index].name
        return f"#{index}"


@contextmanager
def _guard(file: str, place: str) -> Iterator[None]:
    """Turn whatever pyelftools raises on bad bytes into one ObjectError at ``place``."""
    try:
        yield
    except ObjectError:
        raise
    except _PARSE_ERRORS as err:
        raise ObjectError(f"malformed ELF: {err}", file=file, place=place) from None


def _check_ident(data: bytes, file: str) -> bool:
    """libbpf's header checks, done on the raw bytes so the message can be exact; returns little-endian."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        what = "truncated ELF header" if data[:4] == b"\x7fELF" else "not an ELF file (no \\x7fELF magic)"
        raise ObjectError(f"{what} ({len(data)} bytes)", file=file, place=in_header(0))
    if data[_EI_CLASS] != 2:
        raise ObjectError(f"not a 64-bit ELF object (EI_CLASS {data[_EI_CLASS]})", file=file,
                          place=in_header(_EI_CLASS))
    if data[_EI_DATA] not in (1, 2):
        raise ObjectError(f"bad EI_DATA {data[_EI_DATA]} (1: little-endian, 2: big-endian)", file=file,
                          place=in_header(_EI_DATA))
    little = data[_EI_DATA] == 1
    if little != (sys.byteorder == "little"):
        raise ObjectError(f"endianness mismatch: the object is {'little' if little else 'big'}-endian, "
                          f"this host is {sys.byteorder}-endian", file=file, place=in_header(_EI_DATA))
    order = "<" if little else ">"
    e_type, e_machine = struct.unpack_from(order + "HH", data, _E_TYPE)
    if e_type != 1:  # ET_REL
        raise ObjectError(f"not a relocatable object (e_type {e_type}, want 1: ET_REL)", file=file,
                          place=in_header(_E_TYPE))
    if e_machine not in (EM_BPF, EM_NONE):
        raise ObjectError(f"not a BPF object (e_machine {e_machine}, want {EM_BPF}: EM_BPF)", file=file,
                          place=in_header(_E_MACHINE))
    return little


def _section(elf: ELFFile, index: int, file: str, file_size: int, names_size: int) -> ElfSection:
    with _guard(file, f"section #{index} header"):
        sec = elf.get_section(index)
        hdr = sec.header
        name = sec.name
    if hdr["sh_name"] >= names_size:  # pyelftools would make it '' and the reader a section with no name
        raise ObjectError(f"name offset {hdr['sh_name']:#x} past the end of the section name table "
                          f"(size {names_size:#x})", file=file, place=f"section #{index} header")
    place = at(name or f"#{index}")
    stype = hdr["sh_type"] if isinstance(hdr["sh_type"], str) else f"SHT_{hdr['sh_type']:#x}"
    data = b""
    if stype != "SHT_NOBITS" and hdr["sh_size"]:
        if hdr["sh_offset"] + hdr["sh_size"] > file_size:  # before reading: pyelftools fails on huge values
            raise ObjectError(f"section data ({hdr['sh_size']:#x} bytes at file offset {hdr['sh_offset']:#x}) "
                              f"runs past the end of the file", file=file, place=place)
        with _guard(file, place):
            data = sec.data()
        if len(data) != hdr["sh_size"]:
            raise ObjectError(f"section data ({hdr['sh_size']:#x} bytes at file offset {hdr['sh_offset']:#x}) "
                              f"runs past the end of the file", file=file, place=place)
    return ElfSection(index, name, stype, hdr["sh_flags"], hdr["sh_size"], hdr["sh_offset"], hdr["sh_link"],
                      hdr["sh_info"], hdr["sh_entsize"], data)


def _strtab_string(strtab: ElfSection, off: int, file: str, place: str) -> str:
    if off >= len(strtab.data):
        raise ObjectError(f"name offset {off:#x} past the end of '{strtab.name}' (size {len(strtab.data):#x})",
                          file=file, place=place)
    end = strtab.data.find(b"\0", off)
    if end < 0:
        raise ObjectError(f"name at {off:#x} in '{strtab.name}' is not NUL-terminated", file=file, place=place)
    return strtab.data[off:end].decode("utf-8", "surrogateescape")


def _symbols(elf: ELFFile, symtab: ElfSection, sections: list[ElfSection], file: str) -> list[ElfSymbol]:
    if symtab.entsize != SYM_SIZE or symtab.size % SYM_SIZE:
        raise ObjectError(f"symbol table entry size {symtab.entsize} (want {SYM_SIZE}) or size {symtab.size:#x} "
                          f"is wrong", file=file, place=at(symtab.name))
    if not 0 < symtab.link < len(sections) or sections[symtab.link].type != "SHT_STRTAB":
        raise ObjectError(f"symbol table's string section #{symtab.link} is missing or not a string table",
                          file=file, place=at(symtab.name))
    strtab = sections[symtab.link]
    out = []
    sym_struct = elf.structs.Elf_Sym
    for i in range(symtab.size // SYM_SIZE):
        place = at(symtab.name, i * SYM_SIZE)
        with _guard(file, place):
            entry = sym_struct.parse(symtab.data[i * SYM_SIZE:(i + 1) * SYM_SIZE])
        shndx = entry["st_shndx"]
        shndx = _SPECIAL_SHNDX.get(shndx, SHN_ABS) if isinstance(shndx, str) else shndx
        name = _strtab_string(strtab, entry["st_name"], file, place) if entry["st_name"] else ""
        info, other = entry["st_info"], entry["st_other"]
        out.append(ElfSymbol(i, name, entry["st_value"], entry["st_size"], str(info["type"]), str(info["bind"]),
                             str(other["visibility"]), shndx))
    return out


def _rels(elf: ELFFile, sec: ElfSection, file: str) -> tuple[ElfRel, ...]:
    if sec.entsize != REL_SIZE or sec.size % REL_SIZE:
        raise ObjectError(f"relocation entry size {sec.entsize} (want {REL_SIZE}) or size {sec.size:#x} is wrong",
                          file=file, place=at(sec.name))
    rel_struct = elf.structs.Elf_Rel
    out = []
    for i in range(sec.size // REL_SIZE):
        with _guard(file, at(sec.name, i * REL_SIZE)):
            entry = rel_struct.parse(sec.data[i * REL_SIZE:(i + 1) * REL_SIZE])
        out.append(ElfRel(entry["r_offset"], entry["r_info_sym"], entry["r_info_type"], i * REL_SIZE))
    return tuple(out)


def read_elf(data: bytes, file: str) -> ElfObject:
    """Every section, symbol and relocation of a BPF ELF object's bytes."""
    little = _check_ident(data, file)
    with _guard(file, in_header(_E_SHOFF)):
        elf = ELFFile(io.BytesIO(data))
        count = elf.num_sections()
        if elf["e_shoff"] + count * elf["e_shentsize"] > len(data) or (count and elf["e_shentsize"] != 64):
            raise ObjectError(f"section header table ({count} entries at {elf['e_shoff']:#x}) runs past the end "
                              f"of the file or has the wrong entry size", file=file, place=in_header(_E_SHOFF))
        shstrndx = elf["e_shstrndx"]
        if count and not 0 < shstrndx < count:
            raise ObjectError(f"section name table index {shstrndx} out of range", file=file,
                              place=in_header(0x3E))
        names_size = elf.get_section(shstrndx).header["sh_size"] if count else 0
    sections = [_section(elf, i, file, len(data), names_size) for i in range(count)]
    symtabs = [s for s in sections if s.type == "SHT_SYMTAB"]
    if not symtabs:
        raise ObjectError("no symbol table (stripped object?)", file=file, place=in_header(_E_SHOFF))
    if len(symtabs) > 1:
        raise ObjectError("more than one symbol table", file=file, place=at(symtabs[1].name))
    symtab = symtabs[0]
    symbols = _symbols(elf, symtab, sections, file)
    rels: dict[int, tuple[ElfSection, tuple[ElfRel, ...]]] = {}
    for sec in sections:
        if sec.type == "SHT_REL":
            if not 0 < sec.info < len(sections):
                raise ObjectError(f"relocations for section #{sec.info}, which does not exist", file=file,
                                  place=at(sec.name))
            rels[sec.info] = (sec, _rels(elf, sec, file))
    return ElfObject(file, little, tuple(sections), tuple(symbols), symtab, rels)
