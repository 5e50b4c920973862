"""An ``Object`` brought to life in pybpf's ``Runtime``: its maps created, its programs relocated and loaded.

The same steps as the kernel loader (``pybpf.kernel.objload``), on the
runtime instead of ``bpf(2)``: each ``MapSpec`` becomes a runtime map with
the attributes the kernel would be given (``objload_maps.create_args``), the
inner template first for map-in-map; global data is written and ``.rodata``
/ KCONFIG maps are frozen (and read-only to programs); map-in-map and prog
array slots are filled; each program's relocations are done by the kernel
loader's own ``relocate`` with the runtime's fds, and the runtime decodes it,
resolving ld_imm64 map references through its ``resolve_imm64`` hook.

The runtime does not judge programs: ``pybpf.api`` runs pybpf's verifier on
each one first, as the kernel's loader would, and lets only what it accepts run.

kfuncs.  A call of a kfunc of the runtime's ABI profile (``Runtime(abi=...)``:
``bpf_obj_new_impl``, ``bpf_list_push_back_impl``... ``pybpf.abi.profiles``) is
bound to the runtime's implementation (``runtime.kfuncs``) over the object's
heap: the objects ``bpf_obj_new`` allocates are typed by the object's BTF (its
type ids, as the kernel's verifier takes them from the program's BTF), and each
map whose value type has special fields is attached to that heap, so updates,
deletes and the teardown (``close``) free what values hold.  Any other kfunc,
and ``__ksym`` variables, need a kernel: a program using them fails with a
verdict naming the first one.

Program contexts: the kernel rewrites context accesses (``ctx->data`` of an
XDP program is a 32-bit field holding a packet pointer) in the verifier; the
runtime has no such rewrite, so for XDP the ``struct xdp_md`` handed to the
program holds the packet's guest addresses, which fit in 32 bits (the
runtime's addresses start at 0x10000000); skb programs get the ``struct
__sk_buff`` of ``pybpf.runtime.skb`` the same way.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from pybpf.abi.uapi import MapType, ProgType
from pybpf.btf.record import LEGACY_CONTAINS, BtfRecordError
from pybpf.errors import InternalError, PybpfError, VmFault
from pybpf.kernel.objload import select_programs
from pybpf.kernel.objload_ksyms import KernelType
from pybpf.kernel.objload_maps import FROZEN_KINDS, MAP_IN_MAP, MapCreateArgs, create_args
from pybpf.kernel.objload_relo import FdArray, ResolvedExtern, essential_name, relocate
from pybpf.obj.model import MapKind, MapSpec, Object, Program, Reloc, RelocKind
from pybpf.runtime.heap import Heap
from pybpf.runtime.kfuncs import KfuncResolver, kfunc_table, numbered
from pybpf.runtime.maps.base import BpfMap
from pybpf.runtime.program import Program as RuntimeProgram
from pybpf.runtime.runtime import Runtime
from pybpf.runtime.skb import SKB_PROG_TYPES, skb_input, with_addresses
from pybpf.runtime.skb import ctx_out as skb_ctx_out
from pybpf.vm.memory import Region, RegionKind

LOADED = "loaded into the runtime"
_XDP_MD = struct.Struct("<6I")  # data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
_LOOPBACK_IFINDEX = 1
# The headroom bpf_xdp_adjust_head/meta may take in a test run: XDP_PACKET_HEADROOM (256) less the
# struct xdp_frame the kernel keeps at its start (40 bytes), as Linux 6.18 shows.
_XDP_HEADROOM = 216
_U32_LIMIT = 1 << 32
_NEEDS_KERNEL = {RelocKind.KFUNC_CALL: "kfunc call", RelocKind.KSYM: "__ksym variable"}


class InstantiateError(PybpfError):
    """The object cannot be set up in the runtime (a map it cannot create): no program can run."""


@dataclass(frozen=True)
class RunOutcome:
    """A test run, as ``BPF_PROG_TEST_RUN`` reports it: u32 return value, mean ns per run, the packet after."""

    retval: int
    duration_ns: int
    data_out: bytes
    insns_executed: int = 0
    ctx_out: bytes = b""  # an skb program's __sk_buff after the run, when a ctx was given


class MapView:
    """The user-space side of one runtime map, in the byte-level shape ``pybpf.api`` uses for every target."""

    def __init__(self, bpf_map: BpfMap, cpus: int):
        self.map = bpf_map
        self.cpus = cpus

    def lookup(self, key: bytes) -> bytes | None:
        return self.map.lookup_bytes(key)

    def update(self, key: bytes, value: bytes, flags: int) -> None:
        self.map.update_bytes(key, value, flags)

    def delete(self, key: bytes) -> bool:
        return self.map.delete_bytes(key)

    def next_key(self, key: bytes | None) -> bytes | None:
        return self.map.next_key_bytes(key)


@dataclass
class InstantiatedProgram:
    """One program in the runtime: ``program`` when it loaded, else ``message`` says why not."""

    name: str
    section: str
    prog_type: int
    runtime: Runtime = field(repr=False)
    program: RuntimeProgram | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.program is not None

    @property
    def verdict(self) -> str:
        return LOADED if self.ok else f"failed: {self.message}"

    def run(self, data: bytes = b"", ctx: bytes | None = None, repeat: int = 1) -> RunOutcome:
        """Run ``repeat`` times on fresh copies of ``data``/``ctx``; a fault raises VmFault."""
        if self.program is None:
            raise InternalError(f"program '{self.name}' did not load: {self.message}")
        started = time.perf_counter_ns()
        for _ in range(repeat):
            outcome, packet, ctx_after = self._run_once(data, ctx)
            if outcome.fault is not None:
                raise outcome.fault
        elapsed = (time.perf_counter_ns() - started) // repeat
        return RunOutcome(outcome.r0 & 0xFFFFFFFF, elapsed, packet, outcome.insns_executed,
                          b"" if ctx is None else ctx_after)

    def _run_once(self, data: bytes, ctx: bytes | None):
        """(the outcome, the packet after, the context after: only an skb program's, as the kernel gives it)."""
        rt, prog = self.runtime, self.program
        if self.prog_type == ProgType.XDP and ctx is None:
            return (*self._run_xdp(data), b"")
        if self.prog_type in SKB_PROG_TYPES:
            return self._run_skb(data, ctx)
        if self.prog_type == ProgType.SYSCALL:  # no packet: r1 is the context (NULL without one)
            if ctx is None:
                return rt.run(prog, args=(0,)), b"", b""
            return rt.run(prog, b"", bytearray(ctx)), b"", b""
        packet = bytearray(data)
        return rt.run(prog, packet, None if ctx is None else bytearray(ctx)), bytes(packet), b""

    def _run_skb(self, data: bytes, ctx: bytes | None):
        made = skb_input(self.prog_type, data, ctx)
        memory = self.runtime.memory
        regions: list[Region] = []
        try:
            packet = memory.add(RegionKind.PACKET, bytearray(made.visible), name="packet")
            regions.append(packet)
            if packet.end >= _U32_LIMIT:
                raise VmFault(f"packet at {packet.base:#x}: past 4 GiB, its address no longer fits __sk_buff")
            sk_buff = memory.add(RegionKind.CTX, with_addresses(made.sk_buff, packet.base, packet.end),
                                 name="__sk_buff")
            regions.append(sk_buff)
            outcome = self.runtime.run(self.program, args=(sk_buff.base,))
            after = skb_ctx_out(ctx, bytes(sk_buff.data)) if ctx is not None else b""
            return outcome, made.data_out(bytes(packet.data)), after
        finally:
            for region in regions:
                memory.remove(region)

    def _run_xdp(self, data: bytes):
        memory = self.runtime.memory
        regions: list[Region] = []
        try:
            packet = memory.add(RegionKind.PACKET, bytearray(_XDP_HEADROOM) + bytearray(data), name="packet")
            regions.append(packet)
            if packet.end >= _U32_LIMIT:
                raise VmFault(f"packet at {packet.base:#x}: past 4 GiB, its address no longer fits xdp_md")
            start = packet.base + _XDP_HEADROOM
            md = _XDP_MD.pack(start, packet.end, start, _LOOPBACK_IFINDEX, 0, 0)
            ctx = memory.add(RegionKind.CTX, bytearray(md), name="xdp_md")
            regions.append(ctx)
            outcome = self.runtime.run(self.program, args=(ctx.base,))
            # the test run gives back data_meta..data_end, which bpf_xdp_adjust_head/meta may have moved
            _, data_end, data_meta, *_ = _XDP_MD.unpack(ctx.data)
            return outcome, bytes(packet.data[data_meta - packet.base : data_end - packet.base])
        finally:
            for region in regions:
                memory.remove(region)


@dataclass
class InstantiatedObject:
    """An object in a ``Runtime``: maps and programs by name (``close`` releases them)."""

    object: Object
    runtime: Runtime
    maps: dict[str, MapView] = field(default_factory=dict)
    programs: dict[str, InstantiatedProgram] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    heap: Heap | None = None  # bpf_obj_new's objects, typed by the object's BTF (None: the object has no BTF)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.programs.values())

    def close(self) -> None:
        """Drop the programs, then the maps: what their values hold is freed, as at the kernel's map teardown."""
        for prog in self.programs.values():
            if prog.program is not None:
                self.runtime.remove(prog.program)
                prog.program = None
        for view in self.maps.values():
            self.runtime.remove(view.map)
        self.maps.clear()

    def __enter__(self) -> InstantiatedObject:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def instantiate(obj: Object, *, programs: Iterable[str] | None = None, runtime: Runtime | None = None) -> \
        InstantiatedObject:
    """Create ``obj``'s maps in ``runtime`` (a new one by default) and load its selected programs.

    ``programs`` are globs of names or sections (default: the autoload
    programs).  Raises InstantiateError when a map cannot be created; a
    program that cannot be loaded is recorded with the reason.
    """
    rt = runtime or Runtime()
    inst = InstantiatedObject(obj, rt)
    inst.heap = _heap(obj, rt, inst.warnings)
    for name, spec in obj.maps.items():
        inst.maps[name] = MapView(_create(rt, spec), rt.ncpus if _percpu(spec.map_type) else 0)
        if inst.heap is not None:
            _attach(inst.heap, spec, inst.maps[name].map)
    for name, spec in obj.maps.items():
        if spec.map_type in MAP_IN_MAP:
            _fill(spec, inst.maps[name].map, {i: inst.maps[t].map.fd for i, t in spec.init_slots.items()})
    kconfig = next((n for n, s in obj.maps.items() if s.kind is MapKind.KCONFIG), None)
    map_fds = {name: view.map.fd for name, view in inst.maps.items()}
    kfuncs = _Kfuncs.of(obj, rt, inst.heap)
    for prog in select_programs(obj, programs):
        inst.programs[prog.name] = _load(rt, prog, map_fds, kconfig, kfuncs)
    for name, spec in obj.maps.items():
        if spec.map_type == MapType.PROG_ARRAY:
            loaded = {i: inst.programs[p].program.fd for i, p in spec.init_slots.items()
                      if p in inst.programs and inst.programs[p].ok}
            _fill(spec, inst.maps[name].map, loaded)
    return inst


def _percpu(map_type: int) -> bool:
    try:
        return MapType(map_type).percpu
    except ValueError:
        return False


def _create(rt: Runtime, spec: MapSpec) -> BpfMap:
    inner = _create(rt, spec.inner) if spec.inner is not None else None
    args: MapCreateArgs = create_args(spec, btf=False)
    try:
        created = rt.create_map(args.map_type, args.key_size, args.value_size, args.max_entries,
                                map_flags=args.map_flags, name=args.name,
                                inner_map_fd=inner.fd if inner is not None else None, map_extra=args.map_extra)
    except PybpfError as err:
        raise InstantiateError(f"map '{spec.name}': {err.message}") from None
    finally:
        if inner is not None:
            rt.objects.remove(inner)  # only a template, as in the kernel
    if spec.kind.internal:
        if spec.initial and any(spec.initial):
            created.update_bytes(bytes(4), spec.initial.ljust(spec.value_size, b"\0")[: spec.value_size])
        if spec.frozen or spec.kind in FROZEN_KINDS:
            created.freeze()
    return created


def _fill(spec: MapSpec, bpf_map: BpfMap, slots: dict[int, int]) -> None:
    for index, fd in slots.items():
        try:
            bpf_map.update_bytes(index.to_bytes(spec.key_size or 4, "little"), fd.to_bytes(4, "little"))
        except PybpfError as err:
            raise InstantiateError(f"map '{spec.name}': filling slot [{index}]: {err.message}") from None


def _heap(obj: Object, rt: Runtime, warnings: list[str]) -> Heap | None:
    if obj.btf is None:
        return None
    try:
        return Heap(rt.memory, obj.btf, legacy_contains=rt.profile.contains_prefix == LEGACY_CONTAINS,
                    locks=rt.env.locks)
    except BtfRecordError as err:  # BPF_BTF_LOAD would refuse it: no local kptrs, kfunc calls need the kernel
        warnings.append(f"BTF: {err.message}: bpf_obj_new and the graph kfuncs are not available")
        return None


def _attach(heap: Heap, spec: MapSpec, bpf_map: BpfMap) -> None:
    value_type = spec.btf_value_type or spec.value_type_id
    if not value_type:
        return
    try:
        heap.attach(bpf_map, value_type)
    except BtfRecordError as err:
        raise InstantiateError(f"map '{spec.name}': {err.message}") from None


@dataclass(frozen=True)
class _Kfuncs:
    """The kfuncs of the runtime's profile bound to the object's heap, and the id each call carries.

    The ids are ``numbered(profile)``'s, not the running kernel's: a runtime
    program never meets the kernel, and the ids stay the same on every host.
    """

    externs: dict[str, ResolvedExtern]  # the object's kfunc externs the profile has, resolved to their ids
    resolver: KfuncResolver | None

    @classmethod
    def of(cls, obj: Object, rt: Runtime, heap: Heap | None) -> _Kfuncs:
        if heap is None:
            return cls({}, None)
        numbers = numbered(rt.profile)
        ids = {name: tid for tid, name in numbers.items()}
        externs = {name: ResolvedExtern(ext, found=KernelType(essential_name(name), ids[essential_name(name)]))
                   for name, ext in obj.externs.items() if essential_name(name) in ids}  # fmt: skip
        return cls(externs, KfuncResolver(kfunc_table(rt.profile, rt.env, heap), numbers))

    def lacks(self, reloc: Reloc) -> bool:
        """Whether ``reloc`` (a kfunc call or ksym use) is not one of these kfuncs: then it needs a kernel."""
        return reloc.kind is not RelocKind.KFUNC_CALL or reloc.target not in self.externs


def _load(rt: Runtime, prog: Program, map_fds: dict[str, int], kconfig: str | None,
          kfuncs: _Kfuncs) -> InstantiatedProgram:  # fmt: skip
    made = InstantiatedProgram(prog.name, prog.section, prog.prog_type, rt)
    kernel_only = next((r for r in prog.relocs if r.kind in _NEEDS_KERNEL and kfuncs.lacks(r)), None)
    if kernel_only is not None:
        made.message = (f"{_NEEDS_KERNEL[kernel_only.kind]} '{kernel_only.target}' at insn {kernel_only.insn_idx} "
                        "needs the kernel (use --target kernel)")
        return made
    try:
        insns = relocate(prog, map_fds, kfuncs.externs, FdArray(), kconfig_map=kconfig)
        made.program = rt.load(insns, name=prog.name, resolve_kfunc=kfuncs.resolver)
    except PybpfError as err:
        made.message = str(err)
    return made
