"""``pybpf objdump OBJ``: what a BPF ELF object holds, as pybpf's (and libbpf's) reader sees it.

Programs (section, type, attach), maps (type, key/value size, entries, flags),
externs, the relocations a loader still has to make, then each linked
program disassembled in the kernel's syntax with its source lines from the
BTF line info (``; int x = ctx->len; @ file.c:12``), as ``bpftool prog dump
xlated linum`` prints a loaded program.  ``--jited [--arch A]`` adds each
program's machine code from pybpf's own back-end for ``A``, relocated as the
runtime loads it, under the BPF instruction it came from (``bpftool prog dump
jited`` style; capstone disassembles it).
"""

from __future__ import annotations

import argparse
import os
import sys

from pybpf.abi.uapi import AttachType, MapFlags, MapType, ProgType
from pybpf.errors import InputError, VmFault
from pybpf.isa.disasm import disassemble
from pybpf.jit.tiers import ARCHES, backend_for, host_arch, missing_jit_modules
from pybpf.obj import Object, Program, RelocKind, open_object
from pybpf.vm.helpers import Helper


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("objdump", help="show the programs, maps and code of a BPF ELF object",
                                   description="Show what a clang-built BPF object holds: programs, maps, "
                                               "externs, relocations and each program's code.")
    parser.add_argument("object", metavar="OBJ", help="a BPF ELF object (clang -target bpf -g -c)")
    parser.add_argument("--no-source", action="store_true", help="leave out the source lines of the line info")
    parser.add_argument("--jited", action="store_true",
                        help="then each program's machine code from pybpf's JIT back-end, under its BPF lines "
                             "(needs capstone: pip install 'pybpf[jit]')")
    parser.add_argument("--arch", choices=ARCHES, default=None,
                        help=f"the back-end of --jited (default: this host's, {host_arch()})")
    parser.set_defaults(func=run)


def _enum_name(enum, value: int | None) -> str:
    if value is None:
        return "-"
    try:
        return enum(value).name.lower()
    except ValueError:
        return str(value)


def _flags(value: int) -> str:
    if not value:
        return "0"
    names = [f.name for f in MapFlags if f.value and value & f.value and f.name]
    return f"{value:#x} ({'|'.join(names)})" if names else f"{value:#x}"


def summary(obj: Object) -> list[str]:
    lines = [f"{obj.path}: BPF object '{obj.name}', {obj.endian}-endian, license '{obj.license}'"
             + (f", kernel version {obj.kern_version:#x}" if obj.kern_version else "")]
    lines.append(f"\nPrograms ({len(obj.programs)}):")
    for p in obj.programs.values():
        attach = f" attach {p.attach_to}" if p.attach_to else ""
        flags = (" sleepable" if p.sleepable else "") + ("" if p.autoload else " no-autoload")
        lines.append(f"  {p.name}: section '{p.section}' type {_enum_name(ProgType, p.prog_type)} expected_attach "
                     f"{_enum_name(AttachType, p.expected_attach_type)}{attach}{flags} insns {len(p.insns)}")
    lines.append(f"\nMaps ({len(obj.maps)}):")
    for m in obj.maps.values():
        extra = "" if m.inner is None else f" inner {_enum_name(MapType, m.inner.map_type)}"
        slots = "".join(f" [{k}]={v}" for k, v in sorted(m.init_slots.items()))
        lines.append(f"  {m.name}: {m.kind.value} type {_enum_name(MapType, m.map_type)} key {m.key_size} value "
                     f"{m.value_size} max_entries {m.max_entries} flags {_flags(m.map_flags)}{extra}{slots}")
    lines.append(f"\nExterns ({len(obj.externs)}):")
    for e in obj.externs.values():
        value = "" if e.value is None else f" = {e.value!r}"
        lines.append(f"  {e.name}: {e.kind.value}{' weak' if e.weak else ''}{' typeless' if e.typeless else ''}"
                     f" btf_id {e.btf_id}{value}")
    lines.append("\nRelocations:")
    for p in obj.programs.values():
        for r in p.relocs:
            off = f"+{r.offset}" if r.kind in (RelocKind.MAP_VALUE, RelocKind.KCONFIG) else ""
            lines.append(f"  {p.name} insn {r.insn_idx}: {r.kind.value} {r.target}{off}")
    return lines


def _named(line: str, reloc) -> str:
    """Put the relocation's target where the kernel would print a map id or BTF id."""
    if reloc is None:
        return line
    if reloc.kind is RelocKind.MAP_FD:
        return f"{line.split(' = ')[0]} = map[{reloc.target}]"
    if reloc.kind in (RelocKind.MAP_VALUE, RelocKind.KCONFIG):
        map_part = "kconfig" if reloc.kind is RelocKind.KCONFIG else reloc.target
        return f"{line.split(' = ')[0]} = map[{map_part}][0]+{reloc.offset}" + (
            f" ({reloc.target})" if reloc.kind is RelocKind.KCONFIG else "")
    if reloc.kind is RelocKind.KFUNC_CALL:
        return line.replace("kernel-function", reloc.target)
    if reloc.kind is RelocKind.KSYM:
        return f"{line.split(' = ')[0]} = ksym[{reloc.target}]"
    if reloc.kind is RelocKind.FUNC_PTR:
        return f"{line.split(' = ')[0]} = subprog[{reloc.target}]"
    return line


def program_listing(prog: Program, source: bool = True) -> list[str]:
    lines = [f"\n{prog.name}: section '{prog.section}', {len(prog.insns)} insns"]
    by_insn = {r.insn_idx: r for r in prog.relocs}
    line_at = {li.insn_off: li for li in prog.line_info} if source else {}
    sub_at = {off: name for name, off in prog.subprogs}
    for text in disassemble(prog.insns):
        pc = int(text.split(":", 1)[0])
        if pc in sub_at:
            lines.append(f"{sub_at[pc]}:")
        li = line_at.get(pc)
        if li is not None and (li.line_text or li.line):
            lines.append(f"; {li.line_text.strip()} @ {os.path.basename(li.file_name)}:{li.line}")
        text = _named(text, by_insn.get(pc))
        lines.append(f"{pc:4d}: {text.split(': ', 1)[1]}")
    return lines


def _listed_kfunc(pc: int, insn) -> Helper:
    """A stand-in for a kfunc in a listing (one per BTF id): the code calls its gate, nothing runs it."""
    return Helper(0, f"kfunc {insn.imm}", _not_run)


def _not_run(ctx, *args: int) -> int:
    raise AssertionError("a listing's kfunc is never called")


def jited_listings(obj: Object, arch: str) -> list[str]:
    """Each program compiled by the ``arch`` back-end, relocated as the runtime loads it (a map
    reference is the handle value the runtime gives the map), disassembled under its BPF lines."""
    from pybpf.jit.common.gates import route
    from pybpf.jit.common.listing import listing
    from pybpf.runtime.instantiate import instantiate
    from pybpf.runtime.program import make_resolver

    backend = backend_for(arch)
    lines: list[str] = []
    with instantiate(obj, programs=list(obj.programs)) as inst:
        for made in inst.programs.values():
            head = f"\n{made.name}: jited for {arch}"
            if made.program is None:
                lines.append(f"{head}: not loaded: {made.message}")
                continue
            insns = list(made.program.insns)
            try:
                # kfunc calls become gate calls as the executors make them; the listing shows the code only
                routed = route(insns, inst.runtime.helpers, _listed_kfunc)
                image = backend.compile(routed.insns, helper_ids=[h.id for h in routed.helpers],
                                        resolve_imm64=make_resolver(made.program, inst.runtime.objects))
            except VmFault as fault:
                lines.append(f"{head}: not compiled: {fault}")
                continue
            lines.append(f"{head}, {len(image.code)} bytes at {image.code_base:#x}")
            lines.append(listing(image, insns, backend))
    return lines


def run(args: argparse.Namespace) -> int:
    if args.arch is not None and not args.jited:
        raise InputError(f"--arch {args.arch} goes with --jited")
    if args.jited and (why := missing_jit_modules("capstone")) is not None:
        print(f"pybpf: error: {why}", file=sys.stderr)
        return 2
    obj = open_object(args.object)
    out = summary(obj)
    for prog in obj.programs.values():
        out += program_listing(prog, not args.no_source)
    if args.jited:
        out += jited_listings(obj, args.arch or host_arch())
    sys.stdout.write("\n".join(out) + "\n")
    return 0
