"""The parsed BPF ELF object: plain dataclasses, the contract between the reader and the loaders.

``open_object`` fills these the way libbpf's ``bpf_object__open`` fills its
structures: every program already carries its subprograms (appended as
``bpf_object__relocate_calls`` does, BPF-to-BPF call offsets fixed up), its
func/line info and CO-RE records at the final instruction indexes, and the
relocations that only a loader can finish (map fds, kfunc BTF ids, kernel
symbol addresses).

What a loader does with a ``Reloc`` (``insn = program.insns[reloc.insn_idx]``):

========== =====================================================================
MAP_FD      ``insn.imm = fd of maps[target]`` (``src`` is already ``MAP_FD``)
MAP_VALUE   ``insn.imm = fd of maps[target]`` (``src`` is ``MAP_VALUE``; the next
            slot's ``imm`` already holds ``offset``)
KCONFIG     same as MAP_VALUE on the object's KCONFIG map; ``target`` is the extern
KFUNC_CALL  ``insn.imm = kernel BTF id of target``, ``insn.off = fd index`` (``src`` is 2)
KSYM        typed: ``src`` is ``BTF_ID``: ``imm = BTF id``, next ``imm = BTF obj fd``;
            typeless: the ld_imm64 value becomes the symbol's kallsyms address
FUNC_PTR    nothing: already resolved (``src`` is ``FUNC``); kept so tools can name it
========== =====================================================================

Programs are mutable (a loader patches ``insns`` in place or on a copy);
records are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

from pybpf.btf.graph import Btf
from pybpf.isa.insn import Insn

BPF_OBJ_NAME_LEN = 16  # the kernel's map/prog name buffer, NUL included


class MapKind(Enum):
    """Where a map comes from: a ``.maps`` definition or one of the global-data sections."""

    USER = "user"  # a BTF-defined map in ``.maps``
    DATA = "data"  # ``.data``, ``.data.*``
    RODATA = "rodata"  # ``.rodata``, ``.rodata.*`` (BPF_F_RDONLY_PROG, frozen after load)
    BSS = "bss"  # ``.bss``, ``.bss.*`` (zero-filled)
    PRIVATE_BSS = "private_bss"  # a ``.bss.*`` section whose variables are all hidden: never mmap()ed
    KCONFIG = "kconfig"  # the ``__kconfig`` externs (read-only, frozen)

    @property
    def internal(self) -> bool:
        """Global data made into a map by the loader (libbpf's "internal maps")."""
        return self is not MapKind.USER


class RelocKind(Enum):
    """What a relocated ld_imm64 or call still needs at load time."""

    MAP_FD = "map_fd"
    MAP_VALUE = "map_value"
    KFUNC_CALL = "kfunc_call"
    KSYM = "ksym"
    KCONFIG = "kconfig"
    FUNC_PTR = "func_ptr"

    @property
    def at_load(self) -> bool:
        """Whether a loader has to act (FUNC_PTR is resolved when the object is opened)."""
        return self is not RelocKind.FUNC_PTR


class ExternKind(Enum):
    KFUNC = "kfunc"  # ``extern int f(...) __ksym;``: a kernel function called with src=2
    KSYM = "ksym"  # ``extern const T v __ksym;`` (typed) or ``extern const void v __ksym;`` (typeless)
    KCONFIG = "kconfig"  # ``extern T CONFIG_X __kconfig;`` or ``LINUX_KERNEL_VERSION``


# The brief's spellings, for readers who look for them.
EXTERN_KFUNC, EXTERN_KSYM, EXTERN_KCONFIG = ExternKind.KFUNC, ExternKind.KSYM, ExternKind.KCONFIG


class CoreReloKind(IntEnum):
    """``enum bpf_core_relo_kind`` of include/uapi/linux/bpf.h."""

    FIELD_BYTE_OFFSET = 0
    FIELD_BYTE_SIZE = 1
    FIELD_EXISTS = 2
    FIELD_SIGNED = 3
    FIELD_LSHIFT_U64 = 4
    FIELD_RSHIFT_U64 = 5
    TYPE_ID_LOCAL = 6
    TYPE_ID_TARGET = 7
    TYPE_EXISTS = 8
    TYPE_SIZE = 9
    ENUMVAL_EXISTS = 10
    ENUMVAL_VALUE = 11
    TYPE_MATCHES = 12


class Pinning(IntEnum):
    """``pinning`` of a ``.maps`` definition (libbpf's LIBBPF_PIN_*)."""

    NONE = 0
    BY_NAME = 1


@dataclass(frozen=True)
class Reloc:
    """One instruction a loader must finish; see the module docstring for each kind.

    ``insn_idx`` is the slot index in ``Program.insns`` (after linking).
    ``target`` is a key of ``Object.maps`` (MAP_FD, MAP_VALUE), of ``Object.externs``
    (KFUNC_CALL, KSYM, KCONFIG) or a subprogram's function name (FUNC_PTR).
    ``offset`` is the byte offset into the map value (MAP_VALUE, KCONFIG), else 0.
    """

    insn_idx: int
    kind: RelocKind
    target: str
    offset: int = 0


@dataclass(frozen=True)
class FuncInfo:
    """``struct bpf_func_info`` with ``insn_off`` in instructions (as the kernel takes it)."""

    insn_off: int
    type_id: int


@dataclass(frozen=True)
class LineInfo:
    """``struct bpf_line_info`` plus the strings it points at.

    ``file_name_off`` and ``line_off`` are offsets in the object's BTF string
    section (what the kernel is given); ``file_name`` and ``line_text`` are the
    strings themselves; ``line``/``col`` unpack ``line_col`` (line << 10 | col).
    """

    insn_off: int
    file_name: str
    line_text: str
    line: int
    col: int
    file_name_off: int = 0
    line_off: int = 0

    @property
    def line_col(self) -> int:
        return (self.line << 10) | self.col


@dataclass(frozen=True)
class CoreRelo:
    """``struct bpf_core_relo``: ``insn_idx`` in instructions of the linked program.

    ``type_id`` is a type of the object's BTF; ``access_str`` is e.g. ``"0:1:2"``
    (a field path), ``"0"`` (a type) or an enumerator index.
    """

    insn_idx: int
    type_id: int
    access_str: str
    kind: CoreReloKind


@dataclass(frozen=True)
class CoreResult:
    """What applying one CO-RE relocation did.

    ``ok`` False means no target candidate matched: the instruction was poisoned
    (a call to helper ``0xbad2310``) as libbpf does, unless the relocation kind
    tolerates absence (FIELD_EXISTS, TYPE_EXISTS... give 0).  ``old``/``new`` are
    the values at the patched spot (offset, immediate or 64-bit value).
    """

    relo: CoreRelo
    ok: bool
    old: int
    new: int
    target_type_id: int | None = None
    message: str = ""


@dataclass
class MapSpec:
    """A map to create: a ``.maps`` definition or a global-data section.

    ``name`` is the name libbpf gives the map (``.maps`` variable name; for
    internal maps the object-name-prefixed section name, at most 15 chars).
    ``key_type_id``/``value_type_id`` are BTF ids in the object's BTF (0: none);
    for global data ``btf_value_type`` is the DATASEC's id (and ``value_type_id``
    too, as libbpf passes it to BPF_MAP_CREATE).  ``initial`` is the value a
    global-data map is filled with (zeros for ``.bss``; the resolved externs for
    KCONFIG), empty for ``.maps`` maps.  ``inner`` is the inner map's template for
    map-in-map; ``init_slots`` maps an index of ``values = {...}`` to the name of
    the map (map-in-map) or program (PROG_ARRAY) put there after creation.
    """

    name: str
    kind: MapKind
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int = 0
    numa_node: int = 0
    key_type_id: int = 0
    value_type_id: int = 0
    btf_value_type: int = 0
    inner: MapSpec | None = None
    pinning: Pinning = Pinning.NONE
    initial: bytes = b""
    section: str = ""
    mmapable: bool = False
    frozen: bool = False
    map_extra: int = 0
    sec_offset: int = 0  # where the definition (``.maps``) or nothing (global data) sits in its section
    init_slots: dict[int, str] = field(default_factory=dict)
    real_name: str = ""  # the unprefixed name: the section name for global data, else ``name``


@dataclass(frozen=True)
class Extern:
    """An ``extern`` the object uses: a kfunc, a kernel variable or a Kconfig value.

    ``btf_id`` is the VAR (or FUNC) in the object's BTF; ``type_id`` what it has
    (the FUNC_PROTO of a kfunc, the variable's type, 0 for typeless).  For
    KCONFIG, ``offset``/``size`` place it in the KCONFIG map and ``value`` is what
    was resolved: 0 for a weak extern no Kconfig line sets, None for a strong one
    (a loader must then refuse the object, as libbpf does: "value not found").
    """

    name: str
    kind: ExternKind
    btf_id: int
    typeless: bool = False
    weak: bool = False
    type_id: int = 0
    offset: int = 0
    size: int = 0
    value: int | bytes | None = None


@dataclass
class Program:
    """One entry point and everything it calls, ready for BPF_PROG_LOAD but for ``relocs``.

    ``name`` is the function; ``section`` the ELF section (``SEC()`` name, ``?``
    stripped); ``attach_to`` the part after the section prefix's ``/`` for
    definitions that take one (``fentry/do_unlinkat`` -> ``do_unlinkat``).
    ``insns`` are the entry function's slots followed by each subprogram it
    reaches, in libbpf's order.  ``sec_insn_off``/``sec_insn_cnt`` place the entry
    function in its section (in instructions); ``subprogs`` lists
    ``(name, insn_off)`` of the appended subprograms.
    """

    name: str
    section: str
    prog_type: int
    expected_attach_type: int | None
    attach_to: str | None
    sleepable: bool
    autoload: bool
    insns: list[Insn]
    relocs: list[Reloc] = field(default_factory=list)
    func_info: list[FuncInfo] = field(default_factory=list)
    line_info: list[LineInfo] = field(default_factory=list)
    core_relos: list[CoreRelo] = field(default_factory=list)
    sec_insn_off: int = 0
    sec_insn_cnt: int = 0
    subprogs: list[tuple[str, int]] = field(default_factory=list)
    prog_flags: int = 0  # BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS as the section name asks
    core_results: list[CoreResult] = field(default_factory=list)


@dataclass
class Object:
    """A whole BPF ELF object as libbpf's ``bpf_object__open`` sees it.

    ``name`` is libbpf's object name (the file's base name up to the first
    ``.``); ``btf`` the object's BTF after the fixups libbpf makes before load
    (DATASEC sizes and offsets, hidden globals made static, ``.ksyms``/``.kconfig``
    rewritten), None when the object has none; ``endian`` is ``"little"`` or ``"big"``.
    Dicts keep the ELF's order (programs by section then offset, maps as libbpf
    creates them: ``.maps`` first, then global data in section order, KCONFIG last).
    """

    path: str
    name: str
    programs: dict[str, Program]
    maps: dict[str, MapSpec]
    externs: dict[str, Extern]
    btf: Btf | None
    license: str
    kern_version: int
    endian: str
