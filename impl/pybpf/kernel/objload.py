"""Loading a whole ``Object`` into the live kernel, as libbpf's ``bpf_object__load`` does.

Order: the object's BTF (``BPF_BTF_LOAD``, sanitized for what the kernel
lacks), every map (``objload_maps``), kernel lookups for externs, then each
selected program: relocations patched on a copy, attach target found,
func/line info encoded with the kernel's record sizes, ``BPF_PROG_LOAD``.
Unlike libbpf, a program the verifier refuses does not stop the others: its
``LoadedProgram`` carries the errno and the verifier's log, and the rest
load.  What every program may depend on fails the whole object with a
KernelError, as in libbpf: a map that cannot be created, a strong kfunc or
ksym the kernel lacks or declares with another type.

CO-RE relocations are not done here: ``open_object(path, target_btf=...)``
has applied them against the kernel's BTF already.
"""

from __future__ import annotations

import errno as errnos
import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pybpf.abi.uapi import BPF_OBJ_NAME_LEN, MapType
from pybpf.btf.write import write
from pybpf.errors import KernelError
from pybpf.kernel.btf import btf_load
from pybpf.kernel.fd import Fd
from pybpf.kernel.info import prog_info
from pybpf.kernel.objload_attach import attach_target, needs_attach_btf, struct_ops_users
from pybpf.kernel.objload_btf import BtfFeatures, needs_sanitizing, probe_btf_features, sanitize
from pybpf.kernel.objload_ksyms import KernelBtf
from pybpf.kernel.objload_maps import create_map, fill_slots, pinned_or_created
from pybpf.kernel.objload_relo import (
    FUNC_INFO,
    LINE_INFO,
    FdArray,
    ResolvedExtern,
    func_info_bytes,
    line_info_bytes,
    relocate,
    resolve_externs,
)
from pybpf.kernel.prog import prog_load
from pybpf.kernel.syscall import errno_text
from pybpf.kernel.vlog import MAX_LOG_SIZE, verdict
from pybpf.obj.model import Extern, ExternKind, MapKind, MapSpec, Object, Program

LOADED = "loaded"


@dataclass
class LoadedProgram:
    """One program's fate: ``fd`` when the kernel took it, else ``errno`` and the reason.

    ``log`` is the verifier's log (asked for at ``log_level``, or at level 1
    after a refusal so there is always a reason to show); ``verdict`` is one
    line for people (``loaded`` or ``failed: EACCES: R0 !read_ok``);
    ``insn_cnt`` the slots handed to the kernel, ``verified_insns`` what the
    verifier reports it processed.
    """

    name: str
    section: str
    prog_type: int
    fd: Fd | None
    insn_cnt: int
    log: str = ""
    errno: int = 0
    message: str = ""
    verified_insns: int = 0

    @property
    def ok(self) -> bool:
        return self.fd is not None

    @property
    def verdict(self) -> str:
        if self.ok:
            return LOADED
        return f"failed: {self.message}"

    def close(self) -> None:
        if self.fd is not None:
            self.fd.close()


@dataclass
class KernelObject:
    """An ``Object`` living in the kernel: program and map fds, closed by ``close()`` or ``with``."""

    object: Object
    programs: dict[str, LoadedProgram] = field(default_factory=dict)
    maps: dict[str, Fd] = field(default_factory=dict)
    btf_fd: Fd | None = None
    features: BtfFeatures = field(default_factory=BtfFeatures)
    sanitized: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every program that was to be loaded loaded."""
        return all(p.ok for p in self.programs.values())

    def close(self) -> None:
        for prog in self.programs.values():
            prog.close()
        for fd in self.maps.values():
            fd.close()
        if self.btf_fd is not None:
            self.btf_fd.close()

    def __enter__(self) -> KernelObject:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def select_programs(obj: Object, patterns: Iterable[str] | None) -> list[Program]:
    """The programs to load: those matching a glob of ``patterns`` (by name or section), else the autoload ones."""
    if patterns is None:
        return [p for p in obj.programs.values() if p.autoload]
    globs = list(patterns)
    return [p for p in obj.programs.values()
            if any(fnmatch.fnmatchcase(p.name, g) or fnmatch.fnmatchcase(p.section, g) for g in globs)]


def load_object(
    obj: Object,
    *,
    programs: Iterable[str] | None = None,
    log_level: int = 0,
    log_size: int = MAX_LOG_SIZE,
    btf_features: BtfFeatures | None = None,
    kernel_btf: KernelBtf | None = None,
    pin_root: str | os.PathLike[str] | None = None,
) -> KernelObject:
    """Load ``obj`` into the kernel: BTF, maps, then each selected program (a glob list; default: autoload ones).

    ``btf_features`` overrides what the kernel is probed for (turn one off to
    force the sanitizing an old kernel would need).  ``kernel_btf`` may be
    shared between loads to parse vmlinux once.  Maps pinned by name are
    reused from, or pinned in, ``pin_root`` (none: created, not pinned).  Raises KernelError for what
    fails the whole object (a map, a strong extern); a refused program is
    recorded in its ``LoadedProgram``, not raised.
    """
    features = btf_features if btf_features is not None else probe_btf_features()
    loaded = KernelObject(obj, features=features)
    own_kernel = kernel_btf is None
    kernel = kernel_btf or KernelBtf()
    try:
        _load_btf(obj, loaded)
        _create_maps(obj, loaded, kernel, None if pin_root is None else Path(pin_root))
        selected = select_programs(obj, programs)
        externs = resolve_externs(_kernel_externs(obj), kernel, obj.btf)
        struct_ops = struct_ops_users(obj.maps)
        for prog in selected:
            loaded.programs[prog.name] = _load_program(obj, prog, loaded, kernel, externs, struct_ops,
                                                       log_level=log_level, log_size=log_size)
        _fill_prog_arrays(obj, loaded)
    except BaseException:
        loaded.close()
        raise
    finally:
        if own_kernel:
            kernel.close()
    return loaded


def _load_btf(obj: Object, loaded: KernelObject) -> None:
    """``BPF_BTF_LOAD`` of the object's BTF; a refusal is a warning (maps and programs go on without it)."""
    if obj.btf is None or not loaded.features.btf:
        return
    btf = obj.btf
    if needs_sanitizing(btf, loaded.features):
        btf = sanitize(btf, loaded.features)
        loaded.sanitized = True
    try:
        loaded.btf_fd = btf_load(write(btf, "<" if obj.endian == "little" else ">"), log_level=0)
    except KernelError as err:
        loaded.warnings.append(f"BTF_LOAD of the object's BTF failed ({err}); continuing without BTF")


def _create_maps(obj: Object, loaded: KernelObject, kernel: KernelBtf, pin_root: Path | None) -> None:
    for name, spec in obj.maps.items():
        def create(spec: MapSpec = spec) -> Fd:
            return create_map(spec, btf_fd=loaded.btf_fd, warnings=loaded.warnings, obj_btf=obj.btf,
                              vmlinux=lambda: kernel.vmlinux)

        loaded.maps[name] = pinned_or_created(spec, pin_root, create, loaded.warnings)
    for name, spec in obj.maps.items():
        if spec.map_type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS) and spec.init_slots:
            fill_slots(spec, loaded.maps[name], {i: loaded.maps[target] for i, target in spec.init_slots.items()})


def _fill_prog_arrays(obj: Object, loaded: KernelObject) -> None:
    """Prog array slots named in ``values = {...}``: filled with the programs that loaded."""
    for name, spec in obj.maps.items():
        if spec.map_type != MapType.PROG_ARRAY or not spec.init_slots:
            continue
        fds = {i: loaded.programs[p].fd for i, p in spec.init_slots.items()
               if p in loaded.programs and loaded.programs[p].ok}
        fill_slots(spec, loaded.maps[name], fds)


def _kernel_externs(obj: Object) -> dict[str, Extern]:
    """The kfunc and ksym externs: all of them are looked up, used or not, as libbpf does."""
    return {name: ext for name, ext in obj.externs.items() if ext.kind is not ExternKind.KCONFIG}


def _kconfig_map(obj: Object) -> str | None:
    return next((name for name, spec in obj.maps.items() if spec.kind is MapKind.KCONFIG), None)


def _failed(prog: Program, err: KernelError, insn_cnt: int) -> LoadedProgram:
    """The record of a refusal: ``Permission denied (EACCES): <the verifier's last word>``."""
    reason = errno_text(err.errno) if err.errno else "error"
    if err.log:
        detail = verdict(err.log)
    elif err.message.startswith("BPF_"):  # the syscall's own words: nothing beyond the errno
        detail = "the kernel gave no log"
    else:
        detail = err.message
    return LoadedProgram(prog.name, prog.section, prog.prog_type, None, insn_cnt, log=err.log, errno=err.errno,
                         message=f"{reason}: {detail}")


def _load_program(obj: Object, prog: Program, loaded: KernelObject, kernel: KernelBtf,
                  externs: dict[str, ResolvedExtern], struct_ops: dict[str, tuple[MapSpec, int]], *, log_level: int,
                  log_size: int) -> LoadedProgram:
    fd_array = FdArray()
    try:
        insns = relocate(prog, loaded.maps, externs, fd_array, kconfig_map=_kconfig_map(obj))
        target = attach_target(prog, kernel, struct_ops, obj.btf) if needs_attach_btf(prog) else None
    except KernelError as err:
        return _failed(prog, err, len(prog.insns))
    with_info = loaded.btf_fd is not None and loaded.features.func
    expected = prog.expected_attach_type
    if target is not None and target.expected_attach_type is not None:
        expected = target.expected_attach_type
    attach_obj_fd = target.target.btf_fd if target is not None and target.target is not None else None
    kwargs = dict(
        prog_type=prog.prog_type,
        name=prog.name[: BPF_OBJ_NAME_LEN - 1],
        license=obj.license or "",
        expected_attach_type=expected,
        attach_btf_id=target.btf_id if target is not None else 0,
        attach_btf_obj_fd=attach_obj_fd or 0,
        prog_btf_fd=loaded.btf_fd if with_info else None,
        func_info=func_info_bytes(prog.func_info) if with_info else b"",
        func_info_rec_size=FUNC_INFO.size if with_info and prog.func_info else 0,
        line_info=line_info_bytes(prog.line_info) if with_info else b"",
        line_info_rec_size=LINE_INFO.size if with_info and prog.line_info else 0,
        prog_flags=prog.prog_flags,
        fd_array=fd_array.fds if fd_array else None,
        kern_version=obj.kern_version,
        log_size=log_size,
    )
    try:
        result = prog_load(insns, log_level=log_level, **kwargs)
    except KernelError as err:
        if log_level == 0 and err.errno not in (errnos.ENOSPC,):
            err = _with_log(insns, kwargs, err)  # ask again to have the verifier say why
        return _failed(prog, err, len(insns))
    info = prog_info(result.fd)
    return LoadedProgram(prog.name, prog.section, prog.prog_type, result.fd, len(insns), log=result.log,
                         verified_insns=info.verified_insns)


def _with_log(insns: list, kwargs: dict, first: KernelError) -> KernelError:
    """The same refusal at log level 1, for its log; the first error if the retry somehow loads."""
    try:
        prog_load(insns, log_level=1, **kwargs).close()
    except KernelError as err:
        return err
    return first
