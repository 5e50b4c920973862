"""btf_record against the live kernel: the same BTF is loaded (BPF_BTF_LOAD, then BPF_MAP_CREATE of an
array whose value is ``struct map_value``) and the errno it gives must be the one we predict."""

from __future__ import annotations

import errno
import re
from dataclasses import replace
from pathlib import Path

import pytest
from pybpf.btf.load import load
from pybpf.btf.record import FieldType, btf_record, struct_metas
from pybpf.btf.types import Ptr, TypeTag, Volatile
from pybpf.btf.uapi import Kind
from pybpf.btf.write import write
from pybpf.errors import KernelError
from pybpf.kernel import available
from pybpf.toolchain import compile_bpf

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
HEAD = '#include <linux/bpf.h>\n#include "bpf_experimental.h"\n'

# "@NAME" stands for a map_value with a lock and a list of NAME linked through its member "node"
LOCKED_HEAD = "struct map_value {{ struct bpf_spin_lock lock; struct bpf_list_head head __contains({}, node); }};"

# name -> (types, the parameters of a function that makes clang emit them)
CASES = {
    "list_ok": ("struct foo { struct bpf_list_node node; int data; };"
                "struct map_value { struct bpf_spin_lock lock; struct bpf_list_head head __contains(foo, node); };",
                "struct foo *f"),
    "rbtree_ok": ("struct rbe { struct bpf_rb_node rb; int key; };"
                  "struct map_value { struct bpf_spin_lock lock; struct bpf_rb_root r __contains(rbe, rb); };",
                  "struct rbe *r"),
    "two_level_ok": ("struct bar { struct bpf_list_node node; };"
                     "struct fo2 { struct bpf_list_node node; struct bpf_spin_lock lock;"
                     " struct bpf_list_head head __contains(bar, node); };"
                     "@fo2",
                     "struct bar *b, struct fo2 *f2"),
    # clang-14 drops btf_type_tag: _tag_kptrs puts "kptr"/"kptr_untrusted" (and a volatile) in by hand
    "kptrs_ok": ("struct foo { int data; };"
                 "struct map_value { struct foo *p; struct foo *q; struct foo *vp; };",
                 "struct foo *f"),
    "lock_array_ignored": ("struct map_value { struct bpf_spin_lock lock; struct bpf_spin_lock l2[2]; };", "int x"),
    "packed_head_at_4": ("struct foo { struct bpf_list_node node; };"
                         "struct map_value { struct bpf_spin_lock lock;"
                         " struct bpf_list_head head __contains(foo, node); } __attribute__((packed));",
                         "struct foo *f"),
    "duplicate_lock": ("struct map_value { struct bpf_spin_lock lock; struct bpf_spin_lock lock2; };", "int x"),
    "duplicate_lock_array1": ("struct map_value { struct bpf_spin_lock lock; struct bpf_spin_lock l2[1]; };",
                              "int x"),
    "missing_struct": ("struct map_value { struct bpf_spin_lock lock; struct bpf_list_head head __contains(bar, n); };",
                       "int x"),
    "missing_member": ("struct foo { struct bpf_list_node node; };"
                       "struct map_value { struct bpf_spin_lock lock; struct bpf_list_head h __contains(foo, nope); };",
                       "struct foo *f"),
    "member_not_a_node": ("struct foo { struct bpf_list_node node; int data; };"
                          "struct map_value { struct bpf_spin_lock lock;"
                          " struct bpf_list_head h __contains(foo, data); };", "struct foo *f"),
    "list_of_rb_nodes": ("struct rbe { struct bpf_rb_node rb; };"
                         "struct map_value { struct bpf_spin_lock lock; struct bpf_list_head h __contains(rbe, rb); };",
                         "struct rbe *r"),
    "no_contains": ("struct map_value { struct bpf_spin_lock lock; struct bpf_list_head head; };", "int x"),
    "legacy_contains": ("struct foo { struct bpf_list_node node; };"
                        "struct map_value { struct bpf_spin_lock lock; struct bpf_list_head head"
                        ' __attribute__((btf_decl_tag("contains:struct:foo:node"))); };', "struct foo *f"),
    "head_without_lock": ("struct foo { struct bpf_list_node node; };"
                          "struct map_value { int x; struct bpf_list_head head __contains(foo, node); };",
                          "struct foo *f"),
    "root_without_lock": ("struct rbe { struct bpf_rb_node rb; };"
                          "struct map_value { int x; struct bpf_rb_root r __contains(rbe, rb); };", "struct rbe *r"),
    "nested_head_without_lock": ("struct foo { struct bpf_list_node node; };"
                                 "struct inner { struct bpf_list_head head __contains(foo, node); };"
                                 "struct map_value { struct bpf_spin_lock lock; struct inner in; };", "struct foo *f"),
    "list_and_rb_node_no_refcount": ("struct both { struct bpf_list_node n; struct bpf_rb_node r; };"
                                     "struct map_value { int x; };", "struct both *b"),
    "list_and_rb_node_refcount": ("struct both { struct bpf_list_node n; struct bpf_rb_node r;"
                                  " struct bpf_refcount c; }; struct map_value { int x; };", "struct both *b"),
    "owns_itself": ("struct map_value { struct bpf_spin_lock lock; struct bpf_list_head head __contains(map_value, n);"
                    " struct bpf_list_node n; };", "int x"),
    "mutual_ownership": ("struct b2; struct a2 { struct bpf_list_node node; struct bpf_spin_lock lock;"
                         " struct bpf_list_head head __contains(b2, node); };"
                         "struct b2 { struct bpf_list_node node; struct bpf_spin_lock lock;"
                         " struct bpf_list_head head __contains(a2, node); };"
                         "@a2",
                         "struct a2 *a, struct b2 *b"),
    "three_levels": ("struct baz { struct bpf_list_node node; };"
                     "struct bar { struct bpf_list_node node; struct bpf_spin_lock lock;"
                     " struct bpf_list_head head __contains(baz, node); };"
                     "struct fo2 { struct bpf_list_node node; struct bpf_spin_lock lock;"
                     " struct bpf_list_head head __contains(bar, node); };"
                     "@fo2",
                     "struct bar *b, struct fo2 *f2, struct baz *z"),
    "misaligned_lock": ("struct map_value { char c; struct bpf_spin_lock lock; } __attribute__((packed));", "int x"),
    "misaligned_node": ("struct fx { char c; struct bpf_list_node node; } __attribute__((packed));"
                        "@fx",
                        "struct fx *x"),
}


def _btf(name: str, tmp_path: Path):
    types, params = CASES[name]
    types = re.sub(r"@(\w+)", lambda m: LOCKED_HEAD.format(m[1]), types)
    src = tmp_path / f"{name}.c"
    src.write_text(f"{HEAD}{types}\nint f(struct map_value *v, {params}) {{ return 0; }}\n")
    obj = compile_bpf(src, include_dirs=[INCLUDE], output=tmp_path / f"{name}.o", cache=None)
    btf = load(obj)
    value_id = btf.find("map_value", Kind.STRUCT)
    if name.startswith("kptrs"):
        _tag_kptrs(btf, value_id, {"p": ("kptr", False), "q": ("kptr_untrusted", False), "vp": ("kptr", True)})
    return btf, value_id


def _tag_kptrs(btf, struct_id: int, tags: dict[str, tuple[str, bool]]) -> None:
    """Make member NAME a ``[volatile] PTR -> TYPE_TAG(tag) -> pointee``, as a newer clang writes ``__kptr``."""
    t = btf.types[struct_id]
    members = list(t.members)
    for i, m in enumerate(members):
        if m.name_off and btf.str_at(m.name_off) in tags:
            tag, volatile = tags[btf.str_at(m.name_off)]
            pointee = btf.types[m.type].type
            tagged = btf.add_type(TypeTag(btf.add_string(tag), pointee))
            ptr = btf.add_type(Ptr(0, tagged))
            members[i] = replace(m, type=btf.add_type(Volatile(0, ptr)) if volatile else ptr)
    btf.set_type(struct_id, replace(t, members=tuple(members)))


def _ours(btf, value_id: int) -> int:
    try:
        struct_metas(btf)
        btf_record(btf, value_id)
    except Exception as err:  # BtfRecordError
        return getattr(err, "errno", -1)
    return 0


def _kernel(btf, value_id: int) -> int:
    from pybpf.kernel.btf import btf_load
    from pybpf.kernel.maps import map_create

    try:
        fd = btf_load(write(btf), log_level=0)
    except KernelError as err:
        return err.errno
    try:
        with fd:
            m = map_create(2, 4, btf.size_of(value_id), 1, btf_fd=fd, btf_key_type_id=btf.find("int"),
                           btf_value_type_id=value_id)  # fmt: skip
            m.close()
    except KernelError as err:
        return err.errno
    return 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_verdict_as_the_kernel(name: str, tmp_path: Path) -> None:
    reason = available()
    if reason is not None:
        pytest.skip(f"bpf() unavailable: {reason}")
    btf, value_id = _btf(name, tmp_path)
    kernel = _kernel(btf, value_id)
    ours = _ours(btf, value_id)
    assert errno.errorcode.get(ours, ours) == errno.errorcode.get(kernel, kernel)


def test_list_record_layout(tmp_path: Path) -> None:
    btf, value_id = _btf("two_level_ok", tmp_path)
    rec = btf_record(btf, value_id)
    assert rec.spin_lock_off == 0
    (head,) = rec.of(FieldType.LIST_HEAD)
    assert (head.offset, head.size) == (8, 16)  # after the 4-byte lock, 8-aligned
    assert head.graph_root is not None and head.graph_root.value_name == "fo2"
    fo2 = btf_record(btf, head.graph_root.value_type)
    assert [(f.type, f.offset) for f in fo2.fields] == [
        (FieldType.LIST_NODE, 0), (FieldType.SPIN_LOCK, 24), (FieldType.LIST_HEAD, 32)]
    assert head.graph_root.node_offset == 0


def test_kptrs_and_legacy_contains(tmp_path: Path) -> None:
    btf, value_id = _btf("kptrs_ok", tmp_path)
    kinds = [(f.type, f.offset, f.size) for f in btf_record(btf, value_id).fields]
    assert kinds == [(FieldType.KPTR_REF, 0, 8), (FieldType.KPTR_UNREF, 8, 8), (FieldType.KPTR_REF, 16, 8)]
    btf, value_id = _btf("legacy_contains", tmp_path)
    (head,) = btf_record(btf, value_id, legacy_contains=True).of(FieldType.LIST_HEAD)
    assert head.graph_root is not None and head.graph_root.node_name == "node"


def test_lock_offsets_the_kernel_names(tmp_path: Path) -> None:
    """linked_list_fail.c's messages say "bpf_spin_lock at off=0" for struct map_value's list and
    "off=40" for struct foo's: the records' spin_lock_off."""
    progs = INCLUDE.parent / "progs"
    obj = compile_bpf(progs / "linked_list.c", include_dirs=[INCLUDE, progs], output=tmp_path / "ll.o", cache=None)
    btf = load(obj)
    assert btf_record(btf, btf.find("map_value", Kind.STRUCT)).spin_lock_off == 0
    foo = btf_record(btf, btf.find("foo", Kind.STRUCT))
    assert foo.spin_lock_off == 40
    assert [f.offset for f in foo.of(FieldType.LIST_NODE)] == [0, 48]
