"""pybpf's public object API: libbpf's object / program / map model in a few lines of Python.

::

    import pybpf

    obj = pybpf.open_object("examples/xdp_count.bpf.o")   # or pybpf.compile_and_open("prog.c")
    with obj.load(target="pybpf") as loaded:              # or target="kernel"
        prog = loaded.programs["xdp_count"]
        result = prog.run(data=bytes(12) + b"\\x08\\x00" + bytes(50), repeat=3)
        print(result.retval)                              # 2 (XDP_PASS)
        print(dict(loaded.maps["counts"].items()))        # {8: 3}: EtherType 0x0800 read little-endian
        print(loaded.globals["packets"])                  # 3

Keys and values are bytes; where the map's BTF says the key or value is an
integer, ints are accepted and returned instead.  A ``LoadedObject`` owns
file descriptors (kernel) or guest memory (pybpf): close it, or use ``with``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pybpf.abi.uapi import MapType, ProgType
from pybpf.btf.graph import Btf
from pybpf.btf.types import Enum, Enum64, Int
from pybpf.btf.uapi import IntEncoding
from pybpf.errors import InputError, KernelUnavailable, PybpfError
from pybpf.kernel.fd import Fd
from pybpf.kernel.maps import exchange_sizes, map_delete, map_get_next_key, map_lookup, map_update, possible_cpus
from pybpf.kernel.objload import load_object
from pybpf.kernel.objload_ksyms import KernelBtf
from pybpf.kernel.probe import available
from pybpf.kernel.testrun import TestRun, prog_test_run
from pybpf.obj.model import ExternKind, MapKind, MapSpec, Object, Program

Target = Literal["pybpf", "kernel", "interp", "pyjit", "jit"]
TARGETS: tuple[Target, ...] = ("pybpf", "kernel", "interp", "pyjit", "jit")
# the pybpf runtime with a chosen execution tier (``pybpf.jit.tiers``); "pybpf" is "interp"
TIER_TARGETS = ("interp", "pyjit", "jit")
Key = bytes | int
Value = bytes | int


@dataclass(frozen=True)
class RunResult:
    """One test run: the program's return value, the mean time of a run, the packet and the context afterwards
    (``ctx_out``: an skb program's ``__sk_buff`` when a ``ctx`` was given, as ``BPF_PROG_TEST_RUN`` gives it back)."""

    retval: int
    duration_ns: int
    data_out: bytes
    ctx_out: bytes = b""


# -- what a target gives the API ------------------------------------------------------------------

class MapBackend(Protocol):
    """Byte-level access to one map of a loaded object (kernel fd or pybpf runtime map).

    For a per-CPU map ``cpus`` is the number of value slots a lookup returns,
    each padded to 8 bytes as the kernel exchanges them; 0 for other maps.
    """

    cpus: int

    def lookup(self, key: bytes) -> bytes | None: ...
    def update(self, key: bytes, value: bytes, flags: int) -> None: ...
    def delete(self, key: bytes) -> bool: ...
    def next_key(self, key: bytes | None) -> bytes | None: ...


class RunReport(Protocol):
    """What a target reports of a test run (the kernel's ``TestRun``, the runtime's ``RunOutcome``)."""

    retval: int
    duration_ns: int
    data_out: bytes
    ctx_out: bytes


class ProgramBackend(Protocol):
    """A loaded program that can be test-run."""

    def run(self, data: bytes, ctx: bytes | None, repeat: int) -> RunReport: ...


class Closable(Protocol):
    def close(self) -> None: ...


# -- values as the BTF describes them -------------------------------------------------------------

@dataclass(frozen=True)
class Codec:
    """How one key or value type goes between Python and bytes: an int for BTF integers, else bytes."""

    size: int
    byteorder: Literal["little", "big"] = "little"
    integer: bool = False
    signed: bool = False

    @classmethod
    def of(cls, btf: Btf | None, type_id: int, size: int, byteorder: Literal["little", "big"]) -> Codec:
        if btf is None or not type_id:
            return cls(size, byteorder)
        t = btf.types[btf.resolve(type_id)]
        if isinstance(t, Int) and t.size == size and t.bits == size * 8 and not t.offset and size <= 16:
            return cls(size, byteorder, True, bool(t.encoding & IntEncoding.SIGNED))
        if isinstance(t, Enum | Enum64) and t.size == size:
            return cls(size, byteorder, True, t.signed)
        return cls(size, byteorder)

    def encode(self, value: Key, what: str) -> bytes:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return value.to_bytes(self.size, self.byteorder, signed=self.signed and value < 0)
            except OverflowError:
                raise InputError(f"{what} {value} does not fit in {self.size} bytes") from None
        raw = bytes(value)
        if len(raw) != self.size:
            raise InputError(f"{what} must be {self.size} bytes (or an int), not {len(raw)}")
        return raw

    def decode(self, raw: bytes) -> Value:
        if self.integer:
            return int.from_bytes(raw, self.byteorder, signed=self.signed)
        return raw


class MapHandle:
    """A map of a loaded object: ``lookup``, ``update``, ``delete``, ``keys``, ``items`` (also ``m[k]``)."""

    def __init__(self, spec: MapSpec, backend: MapBackend, btf: Btf | None, byteorder: Literal["little", "big"]):
        self.spec = spec
        self.name = spec.name
        self._backend = backend
        self.key_codec = Codec.of(btf, spec.key_type_id, spec.key_size, byteorder)
        self.value_codec = Codec.of(btf, spec.value_type_id, spec.value_size, byteorder)
        self.cpus = getattr(backend, "cpus", 0)

    def _encode_value(self, value: Value | list[Value]) -> bytes:
        if not self.cpus:
            return self.value_codec.encode(value, "value")
        per_cpu = value if isinstance(value, list) else [value] * self.cpus
        if len(per_cpu) != self.cpus:
            raise InputError(f"a per-CPU value needs {self.cpus} values, not {len(per_cpu)}")
        stride = (self.spec.value_size + 7) & ~7
        return b"".join(self.value_codec.encode(v, "value").ljust(stride, b"\0") for v in per_cpu)

    def _decode_value(self, raw: bytes) -> Value | list[Value]:
        if not self.cpus:
            return self.value_codec.decode(raw)
        stride = (self.spec.value_size + 7) & ~7
        return [self.value_codec.decode(raw[at : at + self.spec.value_size]) for at in range(0, len(raw), stride)]

    def __repr__(self) -> str:
        spec = self.spec
        return f"<MapHandle {self.name!r} type {spec.map_type} key {spec.key_size} value {spec.value_size}>"

    def lookup(self, key: Key) -> Value | list[Value] | None:
        """The value under ``key`` (a list, one per CPU, for per-CPU maps); None if there is none."""
        raw = self._backend.lookup(self.key_codec.encode(key, "key"))
        return None if raw is None else self._decode_value(raw)

    def update(self, key: Key, value: Value | list[Value], flags: int = 0) -> None:
        """Store ``value`` under ``key`` (``flags``: ``pybpf.kernel.ElemFlags`` ANY, NOEXIST, EXIST).

        A per-CPU map takes one value per CPU, or one value for all of them.
        """
        self._backend.update(self.key_codec.encode(key, "key"), self._encode_value(value), flags)

    def delete(self, key: Key) -> bool:
        """Remove ``key``; False if it was not there."""
        return self._backend.delete(self.key_codec.encode(key, "key"))

    def lookup_raw(self, key: bytes) -> bytes | None:
        """The value's bytes as the target exchanges them (per-CPU values concatenated)."""
        return self._backend.lookup(key)

    def update_raw(self, key: bytes, value: bytes, flags: int = 0) -> None:
        self._backend.update(key, value, flags)

    def keys(self) -> Iterator[Value]:
        key: bytes | None = None
        while (key := self._backend.next_key(key)) is not None:
            yield self.key_codec.decode(key)

    def items(self) -> Iterator[tuple[Value, Value]]:
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:  # deleted meanwhile
                yield key, value

    def values(self) -> Iterator[Value]:
        return (value for _, value in self.items())

    def __getitem__(self, key: Key) -> Value:
        value = self.lookup(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Key, value: Value) -> None:
        self.update(key, value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes | int) and self.lookup(key) is not None

    def __iter__(self) -> Iterator[Value]:
        return self.keys()


class ProgramHandle:
    """A program of a loaded object: its verdict, its log, and ``run``."""

    def __init__(self, name: str, section: str, verdict: str, ok: bool, log: str, errno: int,
                 backend: ProgramBackend | None):
        self.name = name
        self.section = section
        self.verdict = verdict
        self.ok = ok
        self.log = log
        self.errno = errno
        self._backend = backend

    def __repr__(self) -> str:
        return f"<ProgramHandle {self.name!r} ({self.section}): {self.verdict}>"

    def run(self, data: bytes = b"", *, ctx: bytes | None = None, repeat: int = 1) -> RunResult:
        """Run the program ``repeat`` times on ``data`` (a packet) and/or ``ctx``; the last run's packet comes back."""
        if self._backend is None:
            raise InputError(f"program '{self.name}' is not loaded ({self.verdict})")
        if repeat < 1:
            raise InputError(f"repeat must be at least 1, not {repeat}")
        out = self._backend.run(bytes(data), None if ctx is None else bytes(ctx), repeat)
        return RunResult(out.retval, out.duration_ns, out.data_out, out.ctx_out)


class Globals(Mapping[str, Value]):
    """The object's global variables (``.data``, ``.bss``, ``.rodata``...) by name, read from their maps."""

    def __init__(self, obj: Object, maps: dict[str, MapHandle]):
        self._btf = obj.btf
        self._where: dict[str, tuple[MapHandle, int, int, Codec]] = {}
        if obj.btf is None:
            return
        order: Literal["little", "big"] = "big" if obj.endian == "big" else "little"
        for spec in obj.maps.values():
            if spec.kind in (MapKind.USER, MapKind.KCONFIG) or not spec.btf_value_type:
                continue
            for var in obj.btf.datasec_vars(spec.btf_value_type):
                codec = Codec.of(obj.btf, var.type, var.size, order)
                self._where.setdefault(var.name, (maps[spec.name], var.offset, var.size, codec))

    def _place(self, name: str) -> tuple[MapHandle, int, int, Codec]:
        try:
            return self._where[name]
        except KeyError:
            raise KeyError(name) from None

    def __getitem__(self, name: str) -> Value:
        handle, offset, size, codec = self._place(name)
        raw = handle.lookup_raw(bytes(handle.spec.key_size)) or bytes(handle.spec.value_size)
        return codec.decode(raw[offset : offset + size])

    def __setitem__(self, name: str, value: Value) -> None:
        """Write one variable (its map's other bytes are kept); fails on a frozen ``.rodata`` in the kernel."""
        handle, offset, size, codec = self._place(name)
        key = bytes(handle.spec.key_size)
        raw = handle.lookup_raw(key) or bytes(handle.spec.value_size)
        handle.update_raw(key, raw[:offset] + codec.encode(value, f"global '{name}'") + raw[offset + size :])

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


class LoadedObject:
    """An object loaded into a target: ``programs`` and ``maps`` by name, ``globals``, ``close()``."""

    def __init__(self, obj: Object, target: Target, programs: dict[str, ProgramHandle], maps: dict[str, MapHandle],
                 closer: Closable | None, warnings: Iterable[str] = ()):
        self.object = obj
        self.target = target
        self.programs = programs
        self.maps = maps
        self.globals = Globals(obj, maps)
        self.warnings = list(warnings)
        self._closer = closer

    @property
    def ok(self) -> bool:
        """Every program that was to be loaded loaded."""
        return all(p.ok for p in self.programs.values())

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()
            self._closer = None

    def __enter__(self) -> LoadedObject:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<LoadedObject {self.object.name!r} on {self.target}: "
                f"{len(self.programs)} programs, {len(self.maps)} maps>")


# -- the kernel target ----------------------------------------------------------------------------

class _KernelMap:
    """A map fd of a ``KernelObject`` behind the ``MapBackend`` protocol."""

    def __init__(self, fd: Fd, cpus: int):
        self.fd = fd
        self.key_size, self.value_size = exchange_sizes(fd)  # per-CPU values: every CPU's slot
        self.cpus = cpus

    def lookup(self, key: bytes) -> bytes | None:
        return map_lookup(self.fd, key, self.value_size)

    def update(self, key: bytes, value: bytes, flags: int) -> None:
        map_update(self.fd, key, value, flags)

    def delete(self, key: bytes) -> bool:
        return map_delete(self.fd, key)

    def next_key(self, key: bytes | None) -> bytes | None:
        return map_get_next_key(self.fd, key, self.key_size)


class _KernelProgram:
    """A program fd of a ``KernelObject``, run with ``BPF_PROG_TEST_RUN``."""

    def __init__(self, fd: Fd, prog_type: int):
        self.fd = fd
        self.prog_type = prog_type

    def run(self, data: bytes, ctx: bytes | None, repeat: int) -> TestRun:
        if self.prog_type != ProgType.SYSCALL:
            from pybpf.runtime.skb import SK_BUFF_SIZE, SKB_PROG_TYPES

            # the context comes back only where a test run gives it (others refuse ctx_out: EINVAL), with room for
            # the whole struct even when a shorter one was given (else ENOSPC)
            room = max(len(ctx), SK_BUFF_SIZE) if ctx is not None and self.prog_type in SKB_PROG_TYPES else 0
            return prog_test_run(self.fd, data, ctx_in=ctx, repeat=repeat, ctx_size_out=room)
        # The kernel runs a syscall program once per call and refuses repeat, data and a duration: time it here.
        started = time.perf_counter_ns()
        for _ in range(repeat):
            last = prog_test_run(self.fd, ctx_in=ctx, repeat=0)
        return TestRun(last.retval, (time.perf_counter_ns() - started) // repeat, b"", b"")


def _load_kernel(obj: Object, programs: Iterable[str] | None, log_level: int, kernel_btf: KernelBtf,
                 pin_root: str | os.PathLike[str] | None = None) -> LoadedObject:
    why = available()
    if why is not None:
        raise KernelUnavailable(f"the kernel target is not usable here: {why}")
    loaded = load_object(obj, programs=programs, log_level=log_level, kernel_btf=kernel_btf, pin_root=pin_root)
    order = _byteorder(obj)
    maps = {}
    for name, fd in loaded.maps.items():
        spec = obj.maps[name]
        cpus = possible_cpus() if _percpu(spec.map_type) else 0
        maps[name] = MapHandle(spec, _KernelMap(fd, cpus), obj.btf, order)
    progs = {name: ProgramHandle(p.name, p.section, p.verdict, p.ok, p.log, p.errno,
                                 _KernelProgram(p.fd, p.prog_type) if p.fd is not None else None)
             for name, p in loaded.programs.items()}
    return LoadedObject(obj, "kernel", progs, maps, loaded, loaded.warnings)


# -- the pybpf target -----------------------------------------------------------------------------

ACCEPTED = "accepted"


@dataclass(frozen=True)
class Judgement:
    """pybpf's verifier on one program: ``verdict`` for people; ``runnable`` unless the verifier refused it.

    A program the verifier cannot judge at all (it raises) stays runnable, its verdict "not verified: <why>".
    """

    verdict: str
    runnable: bool
    log: str = ""
    errno: int = 0


def judge(obj: Object, prog: Program, *, log_level: int = 0, abi: str = "linux-6.18") -> Judgement:
    """Verify ``prog`` with pybpf's verifier before the runtime may run it, as the kernel does at load.

    The log is kept at ``log_level`` (a refusal always comes with its level-1 log, as the kernel loader retries).
    """
    from pybpf.harness.verify import pybpf_verdict
    from pybpf.kernel.syscall import errno_text

    try:
        v = pybpf_verdict(obj, prog, log_level=max(log_level, 1), abi=abi)
    except PybpfError as err:
        return Judgement(f"not verified: {err.message}", True)
    if v.ok:
        return Judgement(ACCEPTED, True, v.log if log_level else "")
    reason = errno_text(v.errno) if v.errno else "error"
    return Judgement(f"failed: {reason}: {v.first_error or 'refused by the verifier'}", False, v.log, v.errno)


def _load_pybpf(obj: Object, programs: Iterable[str] | None, tier: str, abi: str, log_level: int) -> LoadedObject:
    from pybpf.jit.tiers import executor_factory
    from pybpf.runtime import Runtime
    from pybpf.runtime.instantiate import instantiate

    inst = instantiate(obj, programs=programs, runtime=Runtime(executor=executor_factory(tier), abi=abi))
    order = _byteorder(obj)
    maps = {name: MapHandle(obj.maps[name], m, obj.btf, order) for name, m in inst.maps.items()}
    progs = {}
    for name, p in inst.programs.items():
        if not p.ok:
            progs[name] = ProgramHandle(p.name, p.section, p.verdict, False, "", 0, None)
            continue
        j = judge(obj, obj.programs[name], log_level=log_level, abi=abi)
        progs[name] = ProgramHandle(p.name, p.section, j.verdict, j.runnable, j.log, j.errno,
                                    p if j.runnable else None)
    return LoadedObject(obj, "pybpf", progs, maps, inst, inst.warnings)


def _percpu(map_type: int) -> bool:
    try:
        return MapType(map_type).percpu
    except ValueError:
        return False


def _byteorder(obj: Object) -> Literal["little", "big"]:
    return "big" if obj.endian == "big" else "little"


# -- opening --------------------------------------------------------------------------------------

class OpenObject:
    """A BPF ELF object read but not loaded (libbpf's ``bpf_object__open``): inspect it, then ``load``.

    CO-RE relocations depend on where the object goes, so ``load`` re-reads
    the object against the kernel's BTF for ``target="kernel"``.
    """

    def __init__(self, path: str | os.PathLike[str], obj: Object):
        self.path = Path(path)
        self.object = obj
        self._kernel_btf: KernelBtf | None = None

    @property
    def name(self) -> str:
        return self.object.name

    @property
    def programs(self) -> dict[str, Program]:
        """Every program (entry point) by function name, with its section, type and instructions."""
        return self.object.programs

    @property
    def maps(self) -> dict[str, MapSpec]:
        """Every map to be created: ``.maps`` definitions, then global data."""
        return self.object.maps

    def __repr__(self) -> str:
        return f"<OpenObject {self.name!r}: programs {list(self.programs)}, maps {list(self.maps)}>"

    def load(self, target: Target = "pybpf", *, programs: Iterable[str] | None = None, log_level: int = 0,
             pin_root: str | os.PathLike[str] | None = None, abi: str = "linux-6.18") -> LoadedObject:
        """Create the maps and load the programs (globs of names; default the autoload ones) into ``target``.

        ``pybpf`` (or ``interp``): the runtime's maps and the interpreter;
        ``pyjit``/``jit``: the runtime with that execution tier; each program is
        first judged by pybpf's verifier (``judge``): a refused one cannot run;
        ``kernel``: the live kernel through ``bpf(2)``.  A program that fails to
        load is reported in its ``verdict``, it does not raise.  ``pin_root``
        (kernel): where maps pinned by name are reused from or pinned.  ``abi``
        (runtime): the kfunc profile of local kptrs and lists, ``linux-6.18``
        or ``rfc-2022`` (``pybpf.abi.PROFILES``).
        """
        if target == "kernel":
            if self._kernel_btf is None:
                self._kernel_btf = KernelBtf()
            obj = self.object
            if _needs_kernel_btf(obj):  # CO-RE is done against the kernel's BTF: read the object again for it
                obj = _open(self.path, target_btf=self._kernel_btf.vmlinux)
            return _load_kernel(obj, programs, log_level, self._kernel_btf, pin_root)
        if target == "pybpf" or target in TIER_TARGETS:
            return _load_pybpf(self.object, programs, "interp" if target == "pybpf" else target, abi, log_level)
        raise InputError(f"unknown target {target!r} (choose from {', '.join(TARGETS)})")


def _needs_kernel_btf(obj: Object) -> bool:
    """Whether opening against the kernel's BTF changes anything: CO-RE relocations or kernel externs."""
    kernel_externs = any(e.kind is not ExternKind.KCONFIG for e in obj.externs.values())
    return kernel_externs or any(p.core_relos for p in obj.programs.values())


def _open(path: str | os.PathLike[str], *, target_btf: Btf | None = None) -> Object:
    from pybpf.obj import open_object as open_elf

    return open_elf(os.fspath(path), target_btf=target_btf)


def open_object(path: str | os.PathLike[str]) -> OpenObject:
    """Read a BPF ELF object (programs, maps, BTF); raises an InputError naming the file and place."""
    return OpenObject(path, _open(path))


def compile_and_open(source: str | os.PathLike[str], *, include_dirs: Iterable[str | os.PathLike[str]] = (),
                     defines: Iterable[str] = (), output: str | os.PathLike[str] | None = None) -> OpenObject:
    """Compile BPF C with ``pybpf.toolchain`` (the kernel selftests' flags, cached), then open the object."""
    from pybpf.toolchain import compile_bpf

    return open_object(compile_bpf(source, include_dirs=tuple(include_dirs), defines=tuple(defines), output=output))


__all__ = [
    "TARGETS",
    "Codec",
    "Globals",
    "Judgement",
    "LoadedObject",
    "MapHandle",
    "OpenObject",
    "ProgramHandle",
    "RunResult",
    "compile_and_open",
    "judge",
    "open_object",
]
