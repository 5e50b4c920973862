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

from pybpf.errors import KernelError, PybpfError
from pybpf.isa import Insn
from pybpf.kernel.objload_maps import create_args
from pybpf.kernel.objload_relo import FdArray, relocate
from pybpf.obj.model import MapKind, Object, Program, RelocKind
from pybpf.verifier import Verdict, verify
from pybpf.verifier.regs import MapDesc

# Relocations only the live kernel can resolve (pybpf's verifier has no kernel BTF ids or symbols).
NEEDS_KERNEL = {RelocKind.KFUNC_CALL: "kfunc", RelocKind.KSYM: "__ksym variable"}


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


def map_descs(obj: Object) -> tuple[dict[str, int], list[MapDesc]]:
    """(map name -> index, the MapDescs) for ``verify``'s ``maps``, in the object's map order."""
    index = {name: i for i, name in enumerate(obj.maps)}
    descs = []
    for spec in obj.maps.values():
        args = create_args(spec, btf=False)
        descs.append(MapDesc(args.map_type, args.key_size, args.value_size, args.max_entries, args.map_flags,
                             args.name))
    return index, descs


def pybpf_inputs(obj: Object, prog: Program) -> tuple[list[Insn], list[MapDesc]]:
    """``prog``'s instructions relocated for pybpf's verifier, and the maps they index."""
    kernel_only = next((r for r in prog.relocs if r.kind in NEEDS_KERNEL), None)
    if kernel_only is not None:
        raise PybpfError(f"{NEEDS_KERNEL[kernel_only.kind]} '{kernel_only.target}' needs the kernel")
    kconfig = next((n for n, s in obj.maps.items() if s.kind is MapKind.KCONFIG), None)
    index, descs = map_descs(obj)
    return relocate(prog, index, {}, FdArray(), kconfig_map=kconfig), descs


def pybpf_verdict(obj: Object, prog: Program, *, log_level: int = 1, unpriv: bool = False) -> Verdict:
    """pybpf's verifier on ``prog``; raises a PybpfError when it cannot judge the program at all."""
    insns, descs = pybpf_inputs(obj, prog)
    return verify(insns, prog_type=prog.prog_type, maps=descs, log_level=log_level, unpriv=unpriv)


def verify_with_pybpf(obj: Object, name: str, *, log_level: int = 1, unpriv: bool = False) -> ProgVerdict:
    started = time.perf_counter()
    try:
        v = pybpf_verdict(obj, obj.programs[name], log_level=log_level, unpriv=unpriv)
    except PybpfError as err:
        return ProgVerdict(obj.path, name, "pybpf", "skipped", first_error=f"pybpf cannot judge it: {err}")
    return ProgVerdict(obj.path, name, "pybpf", "success" if v.ok else "failure", v.first_error or "",
                       v.insn_processed, v.total_states, v.peak_states,
                       int((time.perf_counter() - started) * 1e6), v.log)


def verify_with_kernel(obj: Object, name: str, *, log_level: int = 1) -> ProgVerdict:
    from pybpf.kernel import available
    from pybpf.kernel.objload import load_object
    from pybpf.kernel.vlog import verdict as reason_line

    why = available()
    if why is not None:
        return ProgVerdict(obj.path, name, "kernel", "skipped", first_error=f"the kernel cannot be used: {why}")
    started = time.perf_counter()
    try:
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
