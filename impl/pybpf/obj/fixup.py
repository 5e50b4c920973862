"""The BTF fixups libbpf makes before anything reads a DATASEC (``bpf_object_fixup_btf``).

Clang leaves a DATASEC's size and its variables' offsets at zero: they are
filled from the ELF section's size and the variables' symbols.  A global
variable with hidden (or internal) visibility is made static, which is what
keeps a map of only such variables from being mmap()able.  Variables end up
sorted by offset.  Global functions with hidden visibility are made static
too (the verifier then checks them with their caller's context).
"""

from __future__ import annotations

from dataclasses import replace

from pybpf.btf.graph import Btf
from pybpf.btf.types import Datasec, Func, Var
from pybpf.btf.uapi import FuncLinkage, VarLinkage
from pybpf.obj.elffile import ElfObject
from pybpf.obj.errors import ObjectError, at
from pybpf.obj.externs import KCONFIG_SECTION, KSYMS_SECTION


def _var_symbols(elf: ElfObject) -> dict[str, object]:
    """libbpf's find_elf_var_sym: global/weak OBJECT symbols by name."""
    return {s.name: s for s in elf.symbols if s.type == "STT_OBJECT" and s.bind in ("STB_GLOBAL", "STB_WEAK")}


def fixup_datasecs(elf: ElfObject, btf: Btf) -> None:
    syms = _var_symbols(elf)
    for sec_id, t in enumerate(btf.types):
        if isinstance(t, Datasec):
            _fixup_one(elf, btf, sec_id, t, syms)


def _fixup_one(elf: ElfObject, btf: Btf, sec_id: int, sec: Datasec, syms: dict) -> None:
    file = elf.path
    name = btf.str_at(sec.name_off)
    if name in (KCONFIG_SECTION, KSYMS_SECTION):
        btf.set_type(sec_id, replace(sec, vars=tuple(sorted(sec.vars, key=lambda v: v.offset))))
        return
    size, fix_offsets = sec.size, False
    if size == 0:
        elf_sec = elf.section_by_name(name)
        if elf_sec is None or elf_sec.size == 0:
            raise ObjectError(f"DATASEC '{name}' [{sec_id}]: failed to determine its size: no such ELF section",
                              file=file, place=at(".BTF"))
        size, fix_offsets = elf_sec.size, True
    new_vars = []
    for vi in sec.vars:
        var = btf.types[vi.type] if vi.type < len(btf.types) else None
        if not isinstance(var, Var):
            raise ObjectError(f"DATASEC '{name}' [{sec_id}]: entry type [{vi.type}] is not a VAR", file=file,
                              place=at(".BTF"))
        if var.linkage in (VarLinkage.STATIC, VarLinkage.GLOBAL_EXTERN):
            new_vars.append(vi)
            continue
        var_name = btf.name_of(var)
        sym = syms.get(var_name)
        if sym is None:
            raise ObjectError(f"DATASEC '{name}': no ELF symbol for VAR '{var_name}'", file=file, place=at(".BTF"))
        if fix_offsets:
            vi = replace(vi, offset=sym.value)
        if sym.hidden:
            btf.set_type(vi.type, replace(var, linkage=VarLinkage.STATIC))
        new_vars.append(vi)
    new_vars.sort(key=lambda v: v.offset)
    btf.set_type(sec_id, replace(sec, size=size, vars=tuple(new_vars)))


def mark_hidden_funcs_static(elf: ElfObject, btf: Btf, text_index: int) -> None:
    """Hidden global subprograms in ``.text`` get static FUNC linkage (libbpf's mark_btf_static)."""
    hidden = {s.name for s in elf.symbols
              if s.shndx == text_index and s.type == "STT_FUNC" and s.bind == "STB_GLOBAL" and s.hidden}
    if not hidden:
        return
    for tid, t in enumerate(btf.types):
        if isinstance(t, Func) and t.linkage == FuncLinkage.GLOBAL and btf.name_of(t) in hidden:
            btf.set_type(tid, replace(t, linkage=FuncLinkage.STATIC))
