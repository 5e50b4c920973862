"""``extern`` symbols: kfuncs and kernel variables (``.ksyms``), Kconfig values (``.kconfig``).

Found as libbpf's ``bpf_object__collect_externs`` finds them: an undefined
global/weak NOTYPE symbol whose BTF VAR or FUNC (extern linkage) sits in the
``.ksyms`` or ``.kconfig`` DATASEC.  The object's BTF is then rewritten as
libbpf rewrites it before load: ``.ksyms`` entries become 4-byte allocated
int VARs (kfunc entries point at one added ``dummy_ksym`` VAR, their FUNCs
become global with every parameter named), ``.kconfig`` VARs get their place
in the KCONFIG map.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from pybpf.btf.graph import Btf
from pybpf.btf.types import Array, Datasec, Enum64, Func, FuncProto, Int, Var, VarSecinfo
from pybpf.btf.types import Enum as BtfEnum
from pybpf.btf.uapi import FuncLinkage, IntEncoding, Kind, VarLinkage
from pybpf.obj.btfload import btf_call
from pybpf.obj.elffile import ElfObject, ElfSymbol
from pybpf.obj.errors import ObjectError, at
from pybpf.obj.model import ExternKind

KSYMS_SECTION = ".ksyms"
KCONFIG_SECTION = ".kconfig"
DUMMY_KSYM = "dummy_ksym"


class KcfgType(Enum):
    """How a Kconfig value is stored (libbpf's kcfg_type)."""

    BOOL = "bool"
    CHAR = "char"
    TRISTATE = "tristate"
    INT = "int"
    CHAR_ARR = "char_arr"


@dataclass
class ExternDesc:
    """An extern while the object is read; ``model.Extern`` is what is handed out."""

    name: str
    kind: ExternKind
    btf_id: int
    sym_idx: int
    weak: bool
    type_id: int = 0
    kcfg: KcfgType | None = None
    size: int = 0
    align: int = 1
    signed: bool = False
    offset: int = 0

    @property
    def typeless(self) -> bool:
        return self.kind is ExternKind.KSYM and self.type_id == 0

    def sort_key(self) -> tuple:
        # libbpf's cmp_externs: kconfig first; by descending alignment, ascending size, then name
        if self.kind is ExternKind.KCONFIG:
            return (0, -self.align, self.size, self.name)
        return (1, 0, 0, self.name)


def _kcfg_type(btf: Btf, tid: int) -> tuple[KcfgType | None, bool]:
    t = btf.types[btf.resolve(tid)]
    if isinstance(t, Int):
        if t.encoding & IntEncoding.BOOL:
            return (KcfgType.BOOL if t.size == 1 else None), False
        signed = bool(t.encoding & IntEncoding.SIGNED)
        if t.size == 1:
            return KcfgType.CHAR, signed
        return (KcfgType.INT if t.size in (2, 4, 8) else None), signed
    if isinstance(t, (BtfEnum, Enum64)):
        ok = btf.name_of(t) == "libbpf_tristate" and (isinstance(t, Enum64) or t.size == 4)
        return (KcfgType.TRISTATE if ok else None), False
    if isinstance(t, Array) and t.nelems and _kcfg_type(btf, t.type)[0] is KcfgType.CHAR:
        return KcfgType.CHAR_ARR, False
    return None, False


def _find_extern_btf(btf: Btf, name: str) -> int | None:
    """The VAR/FUNC named ``name``; None when absent, -1 when present without extern linkage."""
    for tid in btf.find_all(name):
        t = btf.types[tid]
        if isinstance(t, Var):
            return tid if t.linkage == VarLinkage.GLOBAL_EXTERN else -1
        if isinstance(t, Func):
            return tid if t.linkage == FuncLinkage.EXTERN else -1
    return None


def _datasec_of(btf: Btf, tid: int) -> int | None:
    for sid, t in enumerate(btf.types):
        if isinstance(t, Datasec) and any(v.type == tid for v in t.vars):
            return sid
    return None


def _reference_place(elf: ElfObject, sym: ElfSymbol) -> str:
    """Where ``sym`` is first relocated against (its symbol table entry if nowhere)."""
    for target, (_, rels) in sorted(elf.rels.items()):
        for rel in rels:
            if rel.sym == sym.index:
                return at(elf.section_name(target), rel.offset)
    return at(elf.symtab.name, sym.index * 24)


def collect_externs(elf: ElfObject, btf: Btf | None) -> list[ExternDesc]:
    """Every extern, in libbpf's order (Kconfig ones laid out in the KCONFIG map)."""
    file = elf.path
    out: list[ExternDesc] = []
    for sym in elf.symbols:
        if not sym.is_extern or not sym.name:
            continue
        tid = _find_extern_btf(btf, sym.name) if btf is not None else None
        if tid is None or tid < 0:
            why = "no BTF for it" if tid is None else "its BTF does not say extern"
            raise ObjectError(f"relocation against undefined symbol '{sym.name}' ({why}: declare it "
                              f"__ksym or __kconfig)", file=file, place=_reference_place(elf, sym))
        place = _reference_place(elf, sym)
        t = btf.types[tid]
        sec_id = _datasec_of(btf, tid)
        sec_name = btf.name_of(sec_id) if sec_id is not None else ""
        weak = sym.bind == "STB_WEAK"
        if sec_name == KCONFIG_SECTION:
            if isinstance(t, Func):
                raise ObjectError(f"extern function '{sym.name}' is unsupported under {KCONFIG_SECTION}",
                                  file=file, place=place)
            size = btf_call(file, place, btf.size_of, t.type)
            align = btf_call(file, place, btf.align_of, t.type)
            kcfg, signed = btf_call(file, place, _kcfg_type, btf, t.type)
            if kcfg is None or size <= 0:
                raise ObjectError(f"extern (kcfg) '{sym.name}': type is unsupported", file=file, place=place)
            out.append(ExternDesc(sym.name, ExternKind.KCONFIG, tid, sym.index, weak, t.type, kcfg, size, align,
                                  signed))
        elif sec_name == KSYMS_SECTION:
            kind = ExternKind.KFUNC if isinstance(t, Func) else ExternKind.KSYM
            type_id = btf_call(file, place, btf.resolve, t.type)
            out.append(ExternDesc(sym.name, kind, tid, sym.index, weak, type_id))
        else:
            raise ObjectError(f"unrecognized extern section '{sec_name or '(none)'}' for '{sym.name}'",
                              file=file, place=place)
    out.sort(key=ExternDesc.sort_key)
    off = 0
    for ext in out:
        if ext.kind is ExternKind.KCONFIG:
            ext.offset = -(-off // ext.align) * ext.align
            off = ext.offset + ext.size
    if btf is not None:
        _rewrite_ksyms(btf, out, file)
        _rewrite_kconfig(btf, out, off, file)
    return out


def _int32_id(btf: Btf) -> int:
    return next((tid for tid, t in enumerate(btf.types) if isinstance(t, Int) and t.bits == 32), 0)


def _rewrite_ksyms(btf: Btf, externs: list[ExternDesc], file: str) -> None:
    sec_id = btf.find(KSYMS_SECTION, Kind.DATASEC)
    if sec_id is None:
        return
    sec: Datasec = btf.types[sec_id]
    int_id = _int32_id(btf)
    dummy_id = dummy_name = 0
    if any(isinstance(btf.types[v.type], Func) for v in sec.vars):
        dummy_name = btf.add_string(DUMMY_KSYM)
        dummy_id = btf.add_type(Var(dummy_name, int_id, VarLinkage.GLOBAL_ALLOCATED))
    by_name = {e.name: e for e in externs}
    new_vars = []
    for i, vs in enumerate(sec.vars):
        vt = btf.types[vs.type]
        name = btf.name_of(vt)
        if name not in by_name:
            raise ObjectError(f"no extern symbol for BTF {vt.kind.name} '{name}' in {KSYMS_SECTION}", file=file,
                              place=at(".BTF"))
        if isinstance(vt, Func):
            proto = btf.types[vt.type]
            if isinstance(proto, FuncProto):
                params = tuple(replace(p, name_off=dummy_name) if p.type and not p.name_off else p
                               for p in proto.params)
                btf.set_type(vt.type, replace(proto, params=params))
            btf.set_type(vs.type, replace(vt, linkage=FuncLinkage.GLOBAL))
            new_vars.append(VarSecinfo(dummy_id, i * 4, 4))
        else:
            btf.set_type(vs.type, replace(vt, type=int_id, linkage=VarLinkage.GLOBAL_ALLOCATED))
            new_vars.append(VarSecinfo(vs.type, i * 4, 4))
    btf.set_type(sec_id, replace(sec, size=len(sec.vars) * 4, vars=tuple(new_vars)))


def _rewrite_kconfig(btf: Btf, externs: list[ExternDesc], size: int, file: str) -> None:
    sec_id = btf.find(KCONFIG_SECTION, Kind.DATASEC)
    if sec_id is None:
        return
    sec: Datasec = btf.types[sec_id]
    by_name = {e.name: e for e in externs if e.kind is ExternKind.KCONFIG}
    new_vars = []
    for vs in sec.vars:
        vt = btf.types[vs.type]
        ext = by_name.get(btf.name_of(vt))
        if ext is None:
            raise ObjectError(f"no extern symbol for BTF var '{btf.name_of(vt)}' in {KCONFIG_SECTION}", file=file,
                              place=at(".BTF"))
        btf.set_type(vs.type, replace(vt, linkage=VarLinkage.GLOBAL_ALLOCATED))
        new_vars.append(replace(vs, offset=ext.offset))
    new_vars.sort(key=lambda v: v.offset)
    btf.set_type(sec_id, replace(sec, size=size, vars=tuple(new_vars)))
