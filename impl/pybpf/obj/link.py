"""Linking an entry function with the subprograms it reaches, as libbpf's ``bpf_object__relocate_calls`` does.

For each entry point: walk its calls (and function-address ld_imm64s); the
first time a subprogram is reached it is appended to the end of the program
and walked in turn (depth first), then every call's ``imm`` is set to the
subprogram's new position.  Each appended copy brings its relocations,
func/line info and CO-RE records along, shifted to its new place.  Finally
the data relocations are turned into what a loader finishes (``model.Reloc``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pybpf.btf.graph import Btf
from pybpf.isa.insn import INSN_SIZE, Insn
from pybpf.isa.opcodes import CallSrc, Pseudo
from pybpf.obj.btfext import BtfExt, ExtRecord, string_at
from pybpf.obj.errors import ObjectError
from pybpf.obj.externs import ExternDesc
from pybpf.obj.model import CoreRelo, CoreReloKind, ExternKind, FuncInfo, LineInfo, Reloc, RelocKind
from pybpf.obj.progs import Func, FuncIndex, RawKind, RawReloc, is_pseudo_func, is_subprog_call


@dataclass
class Linked:
    insns: list[Insn]
    relocs: list[Reloc]
    func_info: list[FuncInfo]
    line_info: list[LineInfo]
    core_relos: list[CoreRelo]
    subprogs: list[tuple[str, int]]


@dataclass(frozen=True)
class LinkContext:
    file: str
    text_index: int
    index: FuncIndex
    externs: dict[str, ExternDesc]
    btf: Btf | None
    ext: BtfExt | None


class _Linker:
    def __init__(self, ctx: LinkContext, main: Func):
        self.ctx, self.main = ctx, main
        self.insns = list(main.insns)
        self.placed: dict[int, int] = {id(main): 0}  # function -> its first insn in this program
        self.raw: list[tuple[int, RawReloc]] = []  # (base, reloc)
        self.subprogs: list[tuple[str, int]] = []
        self.order: list[Func] = [main]

    def link(self) -> None:
        self.raw += [(0, r) for r in self.main.relocs]
        self._reloc_code(self.main)

    def _reloc_code(self, func: Func) -> None:
        base = self.placed[id(func)]
        by_insn = {r.insn_idx: r for r in func.relocs}
        for idx in range(func.sec_insn_cnt):
            insn = self.insns[base + idx]
            if not is_subprog_call(insn) and not is_pseudo_func(insn):
                continue
            relo = by_insn.get(idx)
            if relo is not None and relo.kind is RawKind.EXTERN_CALL:
                continue
            place = relo.place if relo else f"section '{func.sec_name}' offset {(func.sec_insn_off + idx) * 8:#x}"
            if relo is not None and relo.kind not in (RawKind.CALL, RawKind.SUBPROG_ADDR):
                raise ObjectError(f"prog '{func.name}': unexpected {relo.kind.value} relocation on a call",
                                  file=self.ctx.file, place=place)
            if relo is not None:
                if relo.kind is RawKind.CALL:
                    sub_idx = relo.sym_off // INSN_SIZE + insn.imm + 1
                else:
                    sub_idx = (relo.sym_off + insn.imm) // INSN_SIZE
            elif is_pseudo_func(insn):
                raise ObjectError(f"prog '{func.name}': missing subprog address relocation", file=self.ctx.file,
                                  place=place)
            else:  # a call to a static function of the same section: imm is already relative
                sub_idx = func.sec_insn_off + idx + insn.imm + 1
            sub = self.ctx.index.find(self.ctx.text_index, sub_idx)
            if sub is None:
                raise ObjectError(f"prog '{func.name}': call to instruction {sub_idx} of .text, where no "
                                  f"subprogram is", file=self.ctx.file, place=place)
            if id(sub) not in self.placed:
                self.placed[id(sub)] = len(self.insns)
                self.subprogs.append((sub.name, len(self.insns)))
                self.order.append(sub)
                self.insns += sub.insns
                self.raw += [(self.placed[id(sub)], r) for r in sub.relocs]
                self._reloc_code(sub)
            at = base + idx
            self.insns[at] = replace(self.insns[at], imm=self.placed[id(sub)] - at - 1)

    # -- what a loader finishes ------------------------------------------------------------------

    def relocs(self) -> list[Reloc]:
        out = []
        for base, r in self.raw:
            at = base + r.insn_idx
            made = self._patch(at, r)
            if made is not None:
                out.append(made)
        out.sort(key=lambda r: r.insn_idx)
        return out

    def _sub_name(self, at: int) -> str:
        target = at + 1 + self.insns[at].imm
        return next((name for name, off in reversed(self.subprogs) if off <= target), self.main.name)

    def _patch(self, at: int, r: RawReloc) -> Reloc | None:
        insns = self.insns
        first = insns[at]
        if r.kind is RawKind.CALL:
            return None
        if r.kind is RawKind.SUBPROG_ADDR:
            return Reloc(at, RelocKind.FUNC_PTR, self._sub_name(at))
        if r.kind is RawKind.LD64:
            insns[at] = replace(first, src=Pseudo.MAP_FD, imm=0)
            return Reloc(at, RelocKind.MAP_FD, r.target)
        if r.kind is RawKind.DATA:
            offset = (first.imm + r.sym_off) & 0xFFFFFFFF
            insns[at] = replace(first, src=Pseudo.MAP_VALUE, imm=0)
            insns[at + 1] = replace(insns[at + 1], imm=_s32(offset))
            return Reloc(at, RelocKind.MAP_VALUE, r.target, offset)
        ext = self.ctx.externs[r.target]
        if r.kind is RawKind.EXTERN_CALL:
            if ext.kind is not ExternKind.KFUNC:
                raise ObjectError(f"call to '{ext.name}', which is not a function", file=self.ctx.file,
                                  place=r.place)
            insns[at] = replace(first, src=CallSrc.KFUNC, imm=0, off=0)
            return Reloc(at, RelocKind.KFUNC_CALL, ext.name)
        if ext.kind is ExternKind.KCONFIG:
            insns[at] = replace(first, src=Pseudo.MAP_VALUE, imm=0)
            insns[at + 1] = replace(insns[at + 1], imm=ext.offset)
            return Reloc(at, RelocKind.KCONFIG, ext.name, ext.offset)
        # a kfunc's address (``if (kfunc)``, bpf_ksym_exists) is a typed ksym of a FUNC
        src = Pseudo.NONE if ext.typeless else Pseudo.BTF_ID
        insns[at] = replace(first, src=src, imm=0)
        insns[at + 1] = replace(insns[at + 1], imm=0)
        return Reloc(at, RelocKind.KSYM, ext.name)

    # -- .BTF.ext ----------------------------------------------------------------------------------

    def _records(self, block: dict[str, list[ExtRecord]], func: Func) -> list[tuple[int, ExtRecord]]:
        """The records inside ``func``, with their instruction index in this program."""
        shift = self.placed[id(func)] - func.sec_insn_off
        out = []
        for rec in block.get(func.sec_name, ()):
            idx = rec.insn_off // INSN_SIZE
            if func.sec_insn_off <= idx < func.sec_insn_off + func.sec_insn_cnt:
                out.append((idx + shift, rec))
        return out

    def ext_info(self) -> tuple[list[FuncInfo], list[LineInfo], list[CoreRelo]]:
        ext, btf, file = self.ctx.ext, self.ctx.btf, self.ctx.file
        if ext is None or btf is None:
            return [], [], []
        funcs, lines, cores = [], [], []
        want_funcs = want_lines = True
        for n, func in enumerate(self.order):
            f_recs = self._records(ext.func_info, func)
            l_recs = self._records(ext.line_info, func)
            if n == 0:
                want_funcs, want_lines = bool(f_recs), bool(l_recs)
            elif (want_funcs and not f_recs) or (want_lines and not l_recs):
                what = "function" if want_funcs and not f_recs else "line"
                raise ObjectError(f"prog '{func.name}': missing .BTF.ext {what} info", file=file,
                                  place=f"section '.BTF.ext' ({func.sec_name})")
            if want_funcs:
                funcs += [FuncInfo(idx, rec.fields[0]) for idx, rec in f_recs]
            if want_lines:
                for idx, rec in l_recs:
                    name_off, line_off, line_col = rec.fields[:3]
                    lines.append(LineInfo(idx, string_at(btf, name_off, file), string_at(btf, line_off, file),
                                          line_col >> 10, line_col & 0x3FF, name_off, line_off))
            for idx, rec in self._records(ext.core_relos, func):
                type_id, access_off, kind = rec.fields[:3]
                if kind not in _CORE_KINDS:
                    raise ObjectError(f"CO-RE relocation of unknown kind {kind}", file=file,
                                      place=f"section '.BTF.ext' ({func.sec_name} insn {idx})")
                cores.append(CoreRelo(idx, type_id, string_at(btf, access_off, file), CoreReloKind(kind)))
        return funcs, lines, cores


_CORE_KINDS = frozenset(int(k) for k in CoreReloKind)


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def link_program(ctx: LinkContext, main: Func) -> Linked:
    linker = _Linker(ctx, main)
    linker.link()
    relocs = linker.relocs()
    funcs, lines, cores = linker.ext_info()
    return Linked(linker.insns, relocs, funcs, lines, cores, linker.subprogs)
