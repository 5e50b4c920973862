"""Judging an object's programs: pybpf's verifier and the live kernel's, side by side (veristat-like).

``verify_with_pybpf`` gives a program of an opened ``Object`` to pybpf's
verifier with its maps described (map loads point at indexes into the list of
``MapDesc``, as ``verify`` expects); ``verify_with_kernel`` loads the program
alone through pybpf's kernel loader.  Both give a ``ProgVerdict``: the rows of
``pybpf verify``'s table, and the facts the selftest runner compares.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pybpf.abi.kernel_btf import kernel_btf, kfunc_id
from pybpf.abi.profiles import profile
from pybpf.abi.uapi import ProgType
from pybpf.btf.graph import Btf
from pybpf.btf.record import LEGACY_CONTAINS, BtfRecord, BtfRecordError, btf_record, struct_metas
from pybpf.errors import InputError, KernelError, PybpfError
from pybpf.harness.asmprog import AsmProgram, KernelResult, load_in_kernel, with_map_fds
from pybpf.isa import Insn
from pybpf.kernel.objload_attach import ATTACH_NAMES
from pybpf.kernel.objload_ksyms import KernelType
from pybpf.kernel.objload_maps import NO_BTF_TYPES, create_args
from pybpf.kernel.objload_relo import FdArray, ResolvedExtern, essential_name, relocate
from pybpf.obj.model import MapKind, MapSpec, Object, Program, RelocKind
from pybpf.verifier import Verdict, verify
from pybpf.verifier.env import VerifierTimeout
from pybpf.verifier.fields import check_map_fields
from pybpf.verifier.regs import MapDesc

# Relocations only the live kernel can resolve (pybpf's verifier has no kernel symbols); kfunc calls name
# FUNCs of pybpf.abi.kernel_btf's BTF.
NEEDS_KERNEL = {RelocKind.KSYM: "__ksym variable"}


@dataclass(frozen=True)
class ProgVerdict:
    """One program judged by one target.  ``verdict`` is "success", "failure" or "skipped"."""

    file: str
    program: str
    target: str
    verdict: str
    first_error: str = ""
    total_insns: int | None = None
    total_states: int | None = None
    peak_states: int | None = None
    duration_us: int | None = None
    log: str = ""


def map_descs(obj: Object, *, legacy_contains: bool = False) -> tuple[dict[str, int], list[MapDesc]]:
    """(map name -> index, the MapDescs) for ``verify``'s ``maps``, in the object's map order.

    ``legacy_contains``: graph roots are tagged ``contains:struct:NAME:NODE`` (the rfc-2022 profile).
    """
    index = {name: i for i, name in enumerate(obj.maps)}
    descs = []
    btf_loads = _btf_loads(obj, legacy_contains)
    for spec in obj.maps.values():
        args = create_args(spec, btf=False)
        value_id, record = value_record(obj, spec, legacy_contains) if btf_loads else (0, None)
        descs.append(MapDesc(args.map_type, args.key_size, args.value_size, args.max_entries, args.map_flags,
                             args.name, record, value_id, obj.btf if value_id else None,
                             spec.initial if spec.frozen else None))
    return index, descs


def _btf_loads(obj: Object, legacy_contains: bool = False) -> bool:
    """BPF_BTF_LOAD would take the object's BTF (it refuses bad special-field layouts of program types)."""
    if obj.btf is None:
        return False
    try:
        struct_metas(obj.btf, legacy_contains=legacy_contains)
    except BtfRecordError:
        return False
    return True


def value_record(obj: Object, spec: MapSpec, legacy_contains: bool = False) -> tuple[int, BtfRecord | None]:
    """(BTF value type id, its btf_record) as BPF_MAP_CREATE gets them: a ``.maps`` value type or a DATASEC.

    A map the kernel refuses with its BTF (a bad layout, a field its type cannot hold) the loader
    creates again without BTF, as libbpf does: (0, None) then, and the verifier sees a map without BTF.
    """
    value_id = spec.value_type_id or spec.btf_value_type
    if obj.btf is None or not value_id or spec.map_type in NO_BTF_TYPES:
        return 0, None
    args = create_args(spec, btf=False)
    try:
        record = btf_record(obj.btf, value_id, legacy_contains=legacy_contains)
        check_map_fields(args.name, args.map_type, args.map_flags, record)
    except InputError:  # BtfRecordError too
        return 0, None
    return value_id, record if record.fields else None


def pybpf_inputs(obj: Object, prog: Program, *, abi: str = "linux-6.18") -> tuple[list[Insn], list[MapDesc]]:
    """``prog``'s instructions relocated for pybpf's verifier (kfuncs for profile ``abi``), and the maps they index."""
    kernel_only = next((r for r in prog.relocs if r.kind in NEEDS_KERNEL), None)
    if kernel_only is not None:
        raise PybpfError(f"{NEEDS_KERNEL[kernel_only.kind]} '{kernel_only.target}' needs the kernel")
    kconfig = next((n for n, s in obj.maps.items() if s.kind is MapKind.KCONFIG), None)
    index, descs = map_descs(obj, legacy_contains=_legacy(abi))
    return relocate(prog, index, kfunc_externs(obj, prog, abi), FdArray(), kconfig_map=kconfig), descs


def _legacy(abi: str) -> bool:
    return profile(abi).contains_prefix == LEGACY_CONTAINS


def kfunc_externs(obj: Object, prog: Program, abi: str = "linux-6.18") -> dict[str, ResolvedExtern]:
    """The kfuncs ``prog`` calls, as FUNC ids of ``kfunc_btf(obj, abi)`` (the BTF ``verify`` reads them from).

    A weak kfunc that BTF lacks resolves as libbpf resolves it: a call of id 0, which the verifier
    refuses with the kernel's words unless the call is dead code; a strong one fails as libbpf fails.
    """
    calls = sorted({r.target for r in prog.relocs if r.kind is RelocKind.KFUNC_CALL})
    if not calls:
        return {}
    kbtf = kfunc_btf(obj, abi)
    out = {}
    for name in calls:
        ext = obj.externs[name]
        func_id = None if kbtf is None else kfunc_id(kbtf, essential_name(name))
        if func_id is None and not ext.weak:
            raise InputError(f"extern (func ksym) '{name}': not found in the kernel BTF of ABI profile {abi}",
                             file=obj.path)
        found = None if func_id is None else KernelType(essential_name(name), func_id)
        out[name] = ResolvedExtern(ext, found=found)
    return out


def kfunc_btf(obj: Object, abi: str = "linux-6.18") -> Btf | None:
    """Where the kfuncs of profile ``abi`` are declared: 6.18's kernel BTF; for the 2022 series, which no
    kernel we can ask has, the object's own BTF (its extern FUNCs carry the series' prototypes)."""
    if abi == "linux-6.18":
        return kernel_btf()
    return obj.btf


def verify_context(obj: Object, abi: str = "linux-6.18", prog: Program | None = None) -> dict[str, object]:
    """``verify``'s keyword arguments that come from the object itself: its BTF, the kernel BTF of its kfuncs,
    and whether ``prog`` comes with BTF func_info (its subprograms may then be callbacks) and line_info."""
    kfuncs = any(r.kind is RelocKind.KFUNC_CALL for p in obj.programs.values() for r in p.relocs)
    context: dict[str, object] = {"btf": obj.btf, "kernel_btf": kfunc_btf(obj, abi) if kfuncs else None, "abi": abi}
    if prog is not None:
        context["func_info"] = list(prog.func_info)  # its records: the verifier finds global functions by them
        context["line_info"] = list(prog.line_info)  # the log's source lines
        context["sleepable"] = prog.sleepable
        attach = attach_context(obj, prog)
        if attach and context["kernel_btf"] not in (None, attach["kernel_btf"]):
            # one kernel BTF holds both the kfuncs and the attach target: the 2022 profiles keep theirs elsewhere
            raise InputError(f"prog '{prog.name}': a tracing program's kfuncs are judged for linux-6.18 only",
                             file=obj.path)
        context.update(attach)
    return context


def attach_context(obj: Object, prog: Program) -> dict[str, object]:
    """A tracing program's target (``SEC("tp_btf/sched_switch")``) as ``verify`` takes it: resolved by name, as
    libbpf resolves it, in the kernel BTF pybpf's verifier reads; nothing for other programs."""
    naming = ATTACH_NAMES.get((prog.prog_type, prog.expected_attach_type))
    if prog.prog_type != ProgType.TRACING or naming is None:
        return {}
    kbtf = kernel_btf()
    name = naming.prefix + (prog.attach_to or "")
    btf_id = kbtf.find(name, naming.kind) if prog.attach_to else None
    if btf_id is None:
        raise InputError(f"prog '{prog.name}': attach target {naming.kind.name} '{name}' is not in kernel BTF",
                         file=obj.path, place=f"section {prog.section}")
    return {"kernel_btf": kbtf, "attach_btf_id": btf_id, "expected_attach_type": prog.expected_attach_type}


def pybpf_verdict(obj: Object, prog: Program, *, log_level: int = 1, unpriv: bool = False,
                  timeout: float | None = None, abi: str = "linux-6.18") -> Verdict:
    """pybpf's verifier on ``prog``; raises a PybpfError when it cannot judge the program at all
    (``VerifierTimeout`` when it runs longer than ``timeout`` seconds)."""
    insns, descs = pybpf_inputs(obj, prog, abi=abi)
    deadline = None if timeout is None else time.monotonic() + timeout
    return verify(insns, prog_type=prog.prog_type, maps=descs, log_level=log_level, unpriv=unpriv, deadline=deadline,
                  **verify_context(obj, abi, prog))


def timed_out(seconds: float) -> str:
    """The verdict text of a verification stopped by ``--timeout``."""
    return f"timed out after {seconds:g} s"


def _timeout_verdict(file: str, name: str, err: VerifierTimeout, seconds: float, started: float) -> ProgVerdict:
    return ProgVerdict(file, name, "pybpf", "timeout", first_error=timed_out(seconds), total_insns=err.insn_processed,
                       duration_us=int((time.perf_counter() - started) * 1e6))


def verify_with_pybpf(obj: Object, name: str, *, log_level: int = 1, unpriv: bool = False,
                      timeout: float | None = None, abi: str = "linux-6.18") -> ProgVerdict:
    """``timeout`` seconds at most: past it the verdict is "timeout" (``first_error`` "timed out after N s")."""
    started = time.perf_counter()
    try:
        v = pybpf_verdict(obj, obj.programs[name], log_level=log_level, unpriv=unpriv, timeout=timeout, abi=abi)
    except VerifierTimeout as err:
        return _timeout_verdict(obj.path, name, err, timeout or 0, started)
    except PybpfError as err:
        return ProgVerdict(obj.path, name, "pybpf", "skipped", first_error=f"pybpf cannot judge it: {err}")
    return ProgVerdict(obj.path, name, "pybpf", "success" if v.ok else "failure", v.first_error or "",
                       v.insn_processed, v.total_states, v.peak_states,
                       int((time.perf_counter() - started) * 1e6), v.log)


def verify_with_kernel(obj: Object, name: str, *, log_level: int = 1, unpriv: bool = False) -> ProgVerdict:
    """The live kernel's verdict; ``unpriv``: the whole object loaded by a child without capabilities."""
    from pybpf.kernel import available
    from pybpf.kernel.objload import load_object
    from pybpf.kernel.unpriv import load_object_unpriv, unpriv_available
    from pybpf.kernel.vlog import verdict as reason_line

    why = unpriv_available() if unpriv else available()
    if why is not None:
        return ProgVerdict(obj.path, name, "kernel", "skipped", first_error=f"the kernel cannot be used: {why}")
    started = time.perf_counter()
    try:
        if unpriv:
            loaded = load_object_unpriv(obj, [name], log_level=max(log_level, 1))
        else:
            loaded = load_object(obj, programs=[name], log_level=max(log_level, 1))
    except KernelError as err:
        return ProgVerdict(obj.path, name, "kernel", "failure", reason_line(err.log) or err.message, log=err.log)
    with loaded:
        lp = loaded.programs[name]
        stats = _stats(lp.log)
        return ProgVerdict(obj.path, name, "kernel", "success" if lp.ok else "failure",
                           "" if lp.ok else (reason_line(lp.log) or lp.message), *stats,
                           int((time.perf_counter() - started) * 1e6), lp.log)


def _stats(log: str) -> tuple[int | None, int | None, int | None]:
    """(processed, total_states, peak_states) from the kernel's last statistics line."""
    from pybpf.harness.selftest.results import parse_verifier_stats

    s = parse_verifier_stats(log)
    if s is None:
        return None, None, None
    return s.processed_insns, s.total_states, s.peak_states


def verify_asm_with_pybpf(p: AsmProgram, *, log_level: int = 1, unpriv: bool = False,
                          timeout: float | None = None) -> ProgVerdict:
    """pybpf's verifier on a program of an assembler file (``pybpf.harness.asmprog``); ``timeout`` as in
    ``verify_with_pybpf``."""
    started = time.perf_counter()
    try:
        v = verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=0 if p.heavy else log_level,
                   unpriv=unpriv, deadline=None if timeout is None else time.monotonic() + timeout,
                   func_info=p.func_info)
    except VerifierTimeout as err:
        return _timeout_verdict(p.file, p.name, err, timeout or 0, started)
    except PybpfError as err:
        return ProgVerdict(p.file, p.name, "pybpf", "skipped", first_error=f"pybpf cannot judge it: {err}")
    return ProgVerdict(p.file, p.name, "pybpf", "success" if v.ok else "failure", v.first_error or "",
                       v.insn_processed, v.total_states, v.peak_states,
                       int((time.perf_counter() - started) * 1e6), v.log)


def load_asm_unpriv(p: AsmProgram, log_level: int = 1) -> KernelResult:
    """Load ``p`` as an unprivileged process (``pybpf.kernel.unpriv``): its maps are created here, as root."""
    from pybpf.kernel import map_create
    from pybpf.kernel.unpriv import prog_load_unpriv

    fds = [map_create(m.map_type, m.key_size, m.value_size, m.max_entries, map_flags=m.flags) for m in p.maps]
    try:
        res = prog_load_unpriv(with_map_fds(p.insns, [int(f) for f in fds]), prog_type=p.prog_type,
                               log_level=log_level, prog_flags=p.prog_flags)
        return KernelResult(res.ok, res.errno, res.log)
    finally:
        for f in fds:
            f.close()


def verify_asm_with_kernel(p: AsmProgram, *, log_level: int = 1, unpriv: bool = False) -> ProgVerdict:
    """The live kernel's verifier on a program of an assembler file (``unpriv``: loaded by an unprivileged child)."""
    from pybpf.kernel import available
    from pybpf.kernel.unpriv import unpriv_available
    from pybpf.kernel.vlog import verdict as reason_line

    why = unpriv_available() if unpriv else available()
    if why is not None:
        return ProgVerdict(p.file, p.name, "kernel", "skipped", first_error=f"the kernel cannot be used: {why}")
    started = time.perf_counter()
    res = load_asm_unpriv(p, max(log_level, 1)) if unpriv else load_in_kernel(p, max(log_level, 1))
    stats = _stats(res.log)
    return ProgVerdict(p.file, p.name, "kernel", "success" if res.ok else "failure",
                       "" if res.ok else reason_line(res.log), *stats,
                       int((time.perf_counter() - started) * 1e6), res.log)
