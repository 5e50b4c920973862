"""BTF feature probes and the rewriting of kinds an old kernel lacks (forced on: Linux 6.18 has them all)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pybpf.btf.graph import Btf
from pybpf.btf.types import Enum64, EnumValue
from pybpf.btf.uapi import Kind
from pybpf.btf.write import write
from pybpf.kernel.objload_btf import (
    BtfFeatures,
    kernel_accepts,
    needs_sanitizing,
    probe_blob,
    probe_btf_features,
    sanitize,
)
from pybpf.obj import open_object

KINDS_C = Path(__file__).resolve().parents[1] / "btf" / "progs" / "kinds.c"

# Which kinds each missing feature must leave no trace of.
GONE = {
    "datasec": {Kind.VAR, Kind.DATASEC},
    "func": {Kind.FUNC, Kind.FUNC_PROTO},
    "float": {Kind.FLOAT},
    "decl_tag": {Kind.DECL_TAG},
    "type_tag": {Kind.TYPE_TAG},
    "enum64": {Kind.ENUM64},
}


def _kernel_release() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int(minor)


@pytest.fixture(scope="module")
def kinds_btf(build) -> Btf:
    """kinds.c's BTF (every kind clang emits) as the object reader fixes it up, plus an ENUM64 clang 14 cannot emit."""
    btf = open_object(build(KINDS_C)).btf
    btf.add_type(Enum64(btf.add_string("wide"), 8, (EnumValue(btf.add_string("WIDE_ONE"), 1 << 40),
                                                     EnumValue(btf.add_string("WIDE_TWO"), 2 << 40))))
    return btf


def test_probes_find_every_feature_on_this_kernel(live):
    # Every feature probed has been in Linux since 6.0 (ENUM64, the last, came in 6.0).
    if _kernel_release() < (6, 0):
        pytest.skip(f"kernel {os.uname().release} predates ENUM64")
    assert probe_btf_features() == BtfFeatures()


def test_a_probe_the_kernel_must_refuse_reads_as_missing(live):
    # kind 31 does not exist: the same probe path has to say no
    blob = bytearray(probe_blob("float"))
    type_start = 24
    info_at = type_start + 4
    info = int.from_bytes(blob[info_at:info_at + 4], "little")
    blob[info_at:info_at + 4] = ((info & ~(0x1F << 24)) | (31 << 24)).to_bytes(4, "little")
    assert kernel_accepts(bytes(blob)) is False


def test_nothing_to_rewrite_with_every_feature(kinds_btf):
    assert not needs_sanitizing(kinds_btf, BtfFeatures())
    assert write(sanitize(kinds_btf, BtfFeatures())) == write(kinds_btf)


@pytest.mark.parametrize("feature", sorted(GONE))
def test_sanitized_btf_has_no_missing_kind_and_loads(feature, kinds_btf, live):
    features = BtfFeatures().without(feature)
    assert needs_sanitizing(kinds_btf, features)
    out = sanitize(kinds_btf, features)
    kinds = {t.kind for t in out.types[1:]}
    assert not kinds & GONE[feature]
    # one type in, one type out: ids other parts of the object use stay valid (each ENUM64 adds its integer;
    # a clang >= 15 emits ENUM64s of its own beside the one the fixture adds)
    enum64s = sum(isinstance(t, Enum64) for t in kinds_btf.types)
    assert len(out.types) == len(kinds_btf.types) + (enum64s if feature == "enum64" else 0)
    assert kernel_accepts(write(out)), f"the kernel refused BTF sanitized for missing {feature}"


def test_all_features_off_at_once_still_loads(kinds_btf, live):
    features = BtfFeatures().without(*GONE, "func_global")
    out = sanitize(kinds_btf, features)
    assert not {t.kind for t in out.types[1:]} & set().union(*GONE.values())
    assert kernel_accepts(write(out))


def test_global_functions_become_static_without_func_linkage(kinds_btf):
    out = sanitize(kinds_btf, BtfFeatures().without("func_global"))
    funcs = [t for t in out.types if t.kind == Kind.FUNC]
    assert funcs and all(int(t.linkage) == 0 for t in funcs)
    assert any(int(t.linkage) != 0 for t in kinds_btf.types if t.kind == Kind.FUNC)


def test_datasec_becomes_a_struct_with_its_variables(kinds_btf):
    sec_id = next(i for i, t in enumerate(kinds_btf.types) if t.kind == Kind.DATASEC and t.vars)
    before = kinds_btf.types[sec_id]
    out = sanitize(kinds_btf, BtfFeatures().without("datasec"))
    after = out.types[sec_id]
    assert after.kind == Kind.STRUCT and after.size == before.size
    assert [m.bit_offset for m in after.members] == [v.offset * 8 for v in before.vars]
    assert "." not in out.name_of(after)


def test_the_original_is_left_alone(kinds_btf):
    before = write(kinds_btf)
    sanitize(kinds_btf, BtfFeatures().without(*GONE))
    assert write(kinds_btf) == before


def test_unknown_feature_name_is_refused():
    with pytest.raises(ValueError, match="unknown BTF features: bogus"):
        BtfFeatures().without("bogus")
