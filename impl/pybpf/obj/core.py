"""CO-RE: re-targeting field offsets, sizes, type ids and enum values to the kernel a program runs on.

A relocation names a local type (``type_id`` in the object's BTF), an access
path (``"0:1:2"``: an index into the root, then member or element indexes)
and what is wanted.  Candidates are the target BTF's types of the same kind
whose name matches once ``___flavor`` suffixes are dropped; the local path is
replayed on each by member *name* (anonymous structs and unions are looked
through), and the first candidate that matches gives the value.  All matching
candidates must agree.  The instruction is patched as libbpf patches it: an
ALU immediate, a load/store offset (and its size, for unsigned integers and
pointers that changed width), or an ld_imm64 value.  A relocation whose
target cannot be found poisons its instruction (``call 0xbad2310``) unless
the kind asks about existence, whose answer is then 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pybpf.btf.graph import Btf, MemberInfo
from pybpf.btf.load import VMLINUX_BTF, load
from pybpf.btf.types import COMPOSITE_KINDS, ENUM_KINDS, Array, Int, Ptr
from pybpf.btf.uapi import IntEncoding, Kind
from pybpf.isa.insn import Insn, imm64
from pybpf.isa.opcodes import SIZE_BYTES, Cls
from pybpf.obj.errors import ObjectError
from pybpf.obj.model import CoreRelo, CoreResult, Program
from pybpf.obj.model import CoreReloKind as K

POISON_IMM = 0xBAD2310  # libbpf's "bad relo" helper id
MAX_DEPTH = 32
_FIELD_KINDS = frozenset({K.FIELD_BYTE_OFFSET, K.FIELD_BYTE_SIZE, K.FIELD_EXISTS, K.FIELD_SIGNED,
                          K.FIELD_LSHIFT_U64, K.FIELD_RSHIFT_U64})
_TYPE_KINDS = frozenset({K.TYPE_ID_LOCAL, K.TYPE_ID_TARGET, K.TYPE_EXISTS, K.TYPE_SIZE, K.TYPE_MATCHES})
_ENUM_KINDS = frozenset({K.ENUMVAL_EXISTS, K.ENUMVAL_VALUE})
# Without a target these answer 0 instead of poisoning the instruction.
_ZERO_WHEN_MISSING = frozenset({K.FIELD_EXISTS, K.TYPE_EXISTS, K.TYPE_MATCHES, K.TYPE_ID_TARGET, K.ENUMVAL_EXISTS})
_SIZE_BY_BYTES = {v: k for k, v in SIZE_BYTES.items()}


class CoreError(ObjectError):
    """A CO-RE record that cannot be applied at all (bad path, unexpected instruction)."""


def essential_name(name: str) -> str:
    """``task_struct___old`` -> ``task_struct``: what a flavored local type stands for."""
    cut = name.rfind("___")
    return name if cut <= 0 else name[:cut]


@dataclass(frozen=True)
class Access:
    """One step of a path after the root index: a named member or an array element."""

    name: str  # "" for an array element
    index: int


@dataclass(frozen=True)
class Spec:
    """A path resolved in one BTF: where it ends and what is there."""

    btf: Btf
    root_id: int
    steps: tuple[Access, ...]
    bit_offset: int = 0
    field_type: int = 0
    bitfield_size: int = 0
    enum_name: str = ""
    enum_value: int = 0


# -- the local side ----------------------------------------------------------------------------------

def _parse_access(text: str) -> list[int]:
    try:
        out = [int(p) for p in text.split(":")]
    except ValueError:
        raise ValueError(f"bad access string '{text}'") from None
    if not out or any(v < 0 for v in out):
        raise ValueError(f"bad access string '{text}'")
    return out


def local_spec(btf: Btf, relo: CoreRelo) -> Spec:
    """Resolve ``relo``'s path in the object's own BTF."""
    access = _parse_access(relo.access_str)
    root = relo.type_id if relo.kind in _TYPE_KINDS else btf.resolve(relo.type_id)
    t = btf.type_by_id(btf.resolve(root))
    if relo.kind in _TYPE_KINDS:
        if access != [0]:
            raise ValueError(f"type relocation with access string '{relo.access_str}' (want '0')")
        return Spec(btf, relo.type_id, ())
    if relo.kind in _ENUM_KINDS:
        if t.kind not in ENUM_KINDS or len(access) != 1 or access[0] >= len(t.values):
            raise ValueError(f"enum relocation '{relo.access_str}' on {btf.describe(root)}")
        value = t.values[access[0]]
        return Spec(btf, relo.type_id, (), enum_name=btf.str_at(value.name_off), enum_value=value.val)
    cur = root
    bit = access[0] * btf.size_of(root) * 8
    steps: list[Access] = []
    bitfield = 0
    for idx in access[1:]:
        t = btf.types[btf.resolve(cur)]
        if t.kind in COMPOSITE_KINDS:
            members = btf.members(cur)
            if idx >= len(members):
                raise ValueError(f"member index {idx} past {btf.describe(btf.resolve(cur))}")
            m = members[idx]
            bit += m.bit_offset
            bitfield = m.bitfield_size
            if m.name:
                steps.append(Access(m.name, idx))
            cur = m.type
        elif isinstance(t, Array):
            bit += idx * btf.size_of(t.type) * 8
            steps.append(Access("", idx))
            bitfield, cur = 0, t.type
        else:
            raise ValueError(f"access '{relo.access_str}' steps into {t.kind.name}")
    return Spec(btf, root, tuple(steps), bit, cur, bitfield)


# -- compatibility -----------------------------------------------------------------------------------

def _kinds_compat(a, b) -> bool:
    return a.kind == b.kind or (a.kind in ENUM_KINDS and b.kind in ENUM_KINDS)


def types_compat(lb: Btf, lid: int, tb: Btf, tid: int, depth: int = MAX_DEPTH) -> bool:
    """libbpf's bpf_core_types_are_compat: same kinds all the way down, names not compared."""
    if depth <= 0:
        return False
    lt, tt = lb.types[lb.resolve(lid)], tb.types[tb.resolve(tid)]
    if not _kinds_compat(lt, tt):
        return False
    if lt.kind in (Kind.UNKN, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FWD, Kind.FLOAT):
        return True
    if isinstance(lt, Int):
        return lt.offset == 0 and tt.offset == 0
    if isinstance(lt, (Ptr, Array)):
        return types_compat(lb, lt.type, tb, tt.type, depth - 1)
    if lt.kind == Kind.FUNC_PROTO:
        if len(lt.params) != len(tt.params):
            return False
        return all(types_compat(lb, a.type, tb, b.type, depth - 1) for a, b in zip(lt.params, tt.params,
                                                                                  strict=True)) and \
            types_compat(lb, lt.type, tb, tt.type, depth - 1)
    return False


def fields_compat(lb: Btf, lid: int, tb: Btf, tid: int, depth: int = MAX_DEPTH) -> bool:
    """libbpf's bpf_core_fields_are_compat: what a field may have become and still be read the same way."""
    if depth <= 0:
        return False
    lt, tt = lb.types[lb.resolve(lid)], tb.types[tb.resolve(tid)]
    if lt.kind in COMPOSITE_KINDS and tt.kind in COMPOSITE_KINDS:
        return True
    if not _kinds_compat(lt, tt):
        return False
    if lt.kind in (Kind.FWD, Kind.PTR, Kind.FLOAT, Kind.ENUM, Kind.ENUM64):
        return True
    if isinstance(lt, Int):
        return lt.offset == 0 and tt.offset == 0
    if isinstance(lt, Array):
        return fields_compat(lb, lt.type, tb, tt.type, depth - 1)
    return False


def types_match(lb: Btf, lid: int, tb: Btf, tid: int, depth: int = MAX_DEPTH) -> bool:
    """TYPE_MATCHES: like compat, but names of composites/enums and of their members must match too."""
    if depth <= 0:
        return False
    lid, tid = lb.resolve(lid), tb.resolve(tid)
    lt, tt = lb.types[lid], tb.types[tid]
    if not _kinds_compat(lt, tt):
        return False
    named = lt.kind in COMPOSITE_KINDS or lt.kind in ENUM_KINDS or lt.kind == Kind.FWD
    if named and essential_name(lb.name_of(lt)) != essential_name(tb.name_of(tt)):
        return False
    if lt.kind in COMPOSITE_KINDS:
        targ = {m.name: m for m in tb.members(tid)}
        return all(m.name in targ and types_match(lb, m.type, tb, targ[m.name].type, depth - 1)
                   for m in lb.members(lid))
    if lt.kind in ENUM_KINDS:
        names = {tb.str_at(v.name_off) for v in tt.values}
        return all(lb.str_at(v.name_off) in names for v in lt.values)
    if isinstance(lt, Int):
        return lt.size == tt.size and bool(lt.encoding & IntEncoding.SIGNED) == bool(tt.encoding & IntEncoding.SIGNED)
    if isinstance(lt, Ptr):
        return types_match(lb, lt.type, tb, tt.type, depth - 1)
    if isinstance(lt, Array):
        return lt.nelems == tt.nelems and types_match(lb, lt.type, tb, tt.type, depth - 1)
    return types_compat(lb, lid, tb, tid, depth)


# -- the target side ---------------------------------------------------------------------------------

def _find_member(btf: Btf, tid: int, name: str, depth: int = MAX_DEPTH) -> MemberInfo | None:
    """A member by name, looking through anonymous structs/unions; bit offset from ``tid``'s start."""
    if depth <= 0:
        return None
    for m in btf.members(tid):
        if m.name == name:
            return m
        if not m.name and btf.types[btf.resolve(m.type)].kind in COMPOSITE_KINDS:
            inner = _find_member(btf, m.type, name, depth - 1)
            if inner is not None:
                return MemberInfo(inner.name, inner.type, m.bit_offset + inner.bit_offset, inner.bitfield_size)
    return None


def match_candidate(local: Spec, relo: CoreRelo, target: Btf, cand: int, root_index: int) -> Spec | None:
    """Replay the local path on target type ``cand``; None when it does not fit."""
    lb = local.btf
    if relo.kind in _TYPE_KINDS:
        ok = (types_match if relo.kind == K.TYPE_MATCHES else types_compat)(lb, local.root_id, target, cand)
        return Spec(target, cand, ()) if ok else None
    if relo.kind in _ENUM_KINDS:
        t = target.types[target.resolve(cand)]
        want = essential_name(local.enum_name)
        for v in t.values:
            if essential_name(target.str_at(v.name_off)) == want:
                return Spec(target, cand, (), enum_name=target.str_at(v.name_off), enum_value=v.val)
        return None
    cur, lcur = cand, local.root_id
    bit = root_index * target.size_of(cand) * 8
    bitfield = 0
    for step in local.steps:
        t = target.types[target.resolve(cur)]
        if step.name:
            if t.kind not in COMPOSITE_KINDS:
                return None
            m = _find_member(target, cur, step.name)
            lm = _find_member(lb, lcur, step.name)
            if m is None or lm is None or not fields_compat(lb, lm.type, target, m.type):
                return None
            bit += m.bit_offset
            bitfield, cur, lcur = m.bitfield_size, m.type, lm.type
        else:
            if not isinstance(t, Array) or (t.nelems and step.index >= t.nelems):
                return None
            bit += step.index * target.size_of(t.type) * 8
            bitfield, cur = 0, t.type
            lcur = lb.types[lb.resolve(lcur)].type
    return Spec(target, cand, local.steps, bit, cur, bitfield)


def candidates(local: Btf, local_id: int, target: Btf) -> list[int]:
    lt = local.types[local_id]
    name = essential_name(local.name_of(lt))
    if not name:
        return []
    return [tid for tid in target.find_all(name) if _kinds_compat(lt, target.types[tid])]


# -- values ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Value:
    value: int
    size: int = 0  # the field's byte size (FIELD_BYTE_OFFSET: for memory-size adjustment)
    type_id: int = 0


def _field_value(spec: Spec, kind: K) -> _Value:
    btf = spec.btf
    if kind == K.FIELD_EXISTS:
        return _Value(1)
    ftype = btf.types[btf.resolve(spec.field_type)]
    bit_off, bit_sz = spec.bit_offset, spec.bitfield_size
    if not bit_sz:
        byte_sz = btf.size_of(spec.field_type)
        byte_off, bit_sz = bit_off // 8, byte_sz * 8
    else:
        byte_sz = ftype.size
        byte_off = bit_off // 8 // byte_sz * byte_sz
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8:
            if byte_sz >= 8:
                raise ValueError("bitfield cannot be read with a 64-bit load")
            byte_sz *= 2
            byte_off = bit_off // 8 // byte_sz * byte_sz
    if kind == K.FIELD_BYTE_OFFSET:
        return _Value(byte_off, byte_sz, btf.resolve(spec.field_type))
    if kind == K.FIELD_BYTE_SIZE:
        return _Value(byte_sz)
    if kind == K.FIELD_SIGNED:
        if ftype.kind in ENUM_KINDS:
            return _Value(int(ftype.signed))
        return _Value(int(isinstance(ftype, Int) and bool(ftype.encoding & IntEncoding.SIGNED)))
    if kind == K.FIELD_LSHIFT_U64:  # little-endian: the field's top bit to bit 63
        return _Value(64 - (bit_off + bit_sz - byte_off * 8))
    return _Value(64 - bit_sz)  # FIELD_RSHIFT_U64


def compute(spec: Spec | None, relo: CoreRelo, local: Spec) -> _Value | None:
    """The value ``relo`` gets from ``spec`` (None: poison)."""
    kind = relo.kind
    if spec is None:
        return _Value(0) if kind in _ZERO_WHEN_MISSING else None
    if kind in _FIELD_KINDS:
        return _field_value(spec, kind)
    if kind == K.TYPE_ID_LOCAL:
        return _Value(local.root_id)
    if kind == K.TYPE_ID_TARGET:
        return _Value(spec.root_id)
    if kind in (K.TYPE_EXISTS, K.TYPE_MATCHES, K.ENUMVAL_EXISTS):
        return _Value(1)
    if kind == K.TYPE_SIZE:
        return _Value(spec.btf.size_of(spec.root_id))
    return _Value(spec.enum_value)  # ENUMVAL_VALUE


# -- patching ----------------------------------------------------------------------------------------

def _poison(insns: list[Insn], idx: int) -> None:
    poison = Insn(Cls.JMP | 0x80, 0, 0, 0, POISON_IMM)
    if insns[idx].code == 0x18 and idx + 1 < len(insns):
        insns[idx + 1] = poison
    insns[idx] = poison


def _current(insns: list[Insn], idx: int) -> int:
    i = insns[idx]
    cls = i.code & 0x07
    if cls in (Cls.ALU, Cls.ALU64):
        return i.imm & 0xFFFFFFFF
    if cls in (Cls.LDX, Cls.ST, Cls.STX):
        return i.off
    return imm64(i, insns[idx + 1])


def _patch(insns: list[Insn], idx: int, new: _Value, orig: _Value, memsz_ok: bool, relo: CoreRelo) -> str:
    """Write ``new`` into the instruction; returns "" or why the instruction was poisoned instead."""
    i = insns[idx]
    cls = i.code & 0x07
    if cls in (Cls.ALU, Cls.ALU64):
        if i.code & 0x08:
            raise ValueError(f"insn #{idx}: ALU with a register operand cannot be relocated")
        insns[idx] = replace(i, imm=_s32(new.value))
        return ""
    if cls in (Cls.LDX, Cls.ST, Cls.STX):
        if not -(1 << 15) <= new.value < (1 << 15):
            raise ValueError(f"insn #{idx}: offset {new.value} does not fit a load/store")
        code = i.code
        if relo.kind == K.FIELD_BYTE_OFFSET and new.size and orig.size and new.size != orig.size:
            if not memsz_ok or new.size not in _SIZE_BY_BYTES:
                _poison(insns, idx)
                return f"cannot adjust the access size from {orig.size} to {new.size} bytes"
            code = (code & ~0x18) | _SIZE_BY_BYTES[new.size]
        insns[idx] = replace(i, code=code, off=new.value)
        return ""
    if i.code == 0x18 and i.src == 0 and idx + 1 < len(insns):
        v = new.value & 0xFFFFFFFFFFFFFFFF
        insns[idx] = replace(i, imm=_s32(v))
        insns[idx + 1] = replace(insns[idx + 1], imm=_s32(v >> 32))
        return ""
    raise ValueError(f"insn #{idx} (code {i.code:#04x}) cannot carry a CO-RE relocation")


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _memsz_adjustable(lb: Btf, lid: int, tb: Btf, tid: int) -> bool:
    """A field's load size may change only for pointers and unsigned integers (zero-extension keeps the value)."""
    lt, tt = lb.types[lid], tb.types[tid]
    if isinstance(lt, Ptr) and isinstance(tt, Ptr):
        return True
    return (isinstance(lt, Int) and isinstance(tt, Int) and not lt.encoding & IntEncoding.SIGNED
            and not tt.encoding & IntEncoding.SIGNED)


def _validate(insns: list[Insn], idx: int, orig: _Value) -> None:
    """The instruction must hold the local value clang computed (libbpf refuses it otherwise)."""
    i = insns[idx]
    cls = i.code & 0x07
    if cls in (Cls.ALU, Cls.ALU64):
        ok = (i.imm & 0xFFFFFFFF) == (orig.value & 0xFFFFFFFF)
    elif cls in (Cls.LDX, Cls.ST, Cls.STX):
        ok = i.off == orig.value
    elif i.code == 0x18 and idx + 1 < len(insns):
        ok = imm64(i, insns[idx + 1]) == orig.value & 0xFFFFFFFFFFFFFFFF
    else:
        raise ValueError(f"insn #{idx} (code {i.code:#04x}) cannot carry a CO-RE relocation")
    if not ok:
        raise ValueError(f"insn #{idx} does not hold the local value {orig.value}")


def _resolve(relo: CoreRelo, local: Spec, local_btf: Btf, target: Btf) -> Spec | None:
    """The target spec of the first matching candidate; all matching candidates must agree."""
    if relo.kind == K.TYPE_ID_LOCAL:
        return local
    root_index = int(relo.access_str.split(":")[0]) if relo.kind in _FIELD_KINDS else 0
    results = []
    for cand in candidates(local_btf, relo.type_id, target):
        spec = match_candidate(local, relo, target, cand, root_index)
        if spec is not None:
            results.append((spec, compute(spec, relo, local)))
    if not results:
        return None
    values = {value.value for _, value in results}
    if len(values) > 1 and relo.kind != K.TYPE_ID_TARGET:
        raise ValueError(f"relocation decision ambiguity: candidates give {sorted(values)}")
    return results[0][0]


def apply_one(insns: list[Insn], relo: CoreRelo, local_btf: Btf, target: Btf, file: str = "") -> CoreResult:
    """Apply one relocation to ``insns`` in place."""
    idx = relo.insn_idx
    place = f"CO-RE relocation at insn {idx}"
    if not 0 <= idx < len(insns):
        raise CoreError(f"instruction {idx} is outside the program", file=file or None, place=place)
    try:
        local = local_spec(local_btf, relo)
        orig = compute(local, relo, local)
        _validate(insns, idx, orig)
        old = _current(insns, idx)
        found = _resolve(relo, local, local_btf, target)
        new = compute(found, relo, local)
        target_id = found.root_id if found is not None and relo.kind != K.TYPE_ID_LOCAL else None
        if new is None:
            _poison(insns, idx)
            return CoreResult(relo, False, old, POISON_IMM, None, f"no {_what(relo)} in the target BTF")
        memsz_ok = True
        if relo.kind == K.FIELD_BYTE_OFFSET and found is not None:
            memsz_ok = _memsz_adjustable(local_btf, orig.type_id, found.btf, new.type_id)
        why = _patch(insns, idx, new, orig, memsz_ok, relo)
        if why:
            return CoreResult(relo, False, old, POISON_IMM, target_id, why)
        return CoreResult(relo, True, old, new.value, target_id)
    except ObjectError:
        raise
    except Exception as err:  # ValueError of ours, BtfError for a bad type id in the record
        raise CoreError(str(err), file=file or None, place=place) from None


def _what(relo: CoreRelo) -> str:
    if relo.kind in _FIELD_KINDS:
        return f"field '{relo.access_str}'"
    if relo.kind in _ENUM_KINDS:
        return "enumerator"
    return "type"


def default_target() -> Btf:
    """The running kernel's BTF (``/sys/kernel/btf/vmlinux``); load it once and pass it around."""
    return load(VMLINUX_BTF)


def apply_core(program: Program, local_btf: Btf | None, target_btf: Btf | None = None,
               file: str = "") -> list[CoreResult]:
    """Apply every CO-RE relocation of ``program`` in place; one result per relocation, in order.

    ``target_btf`` defaults to the running kernel's.  A relocation that cannot
    be resolved poisons its instruction (``ok`` False); a malformed one raises.
    """
    if not program.core_relos:
        return []
    if local_btf is None:
        raise CoreError("CO-RE relocations without BTF", file=file or None, place=f"program '{program.name}'")
    target = target_btf if target_btf is not None else default_target()
    return [apply_one(program.insns, relo, local_btf, target, file) for relo in program.core_relos]
