"""The type-graph API on progs/kinds.c: every expected number is one the C source asserts with _Static_assert."""

from __future__ import annotations

import pytest
from _btf_helpers import need_tool, run
from pybpf.btf.dump_c import dump_c
from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf
from pybpf.btf.load import load
from pybpf.btf.parse import parse
from pybpf.btf.types import VOID, Enum64, Float, Fwd, Int, Member, Ptr, Struct
from pybpf.btf.uapi import IntEncoding, Kind
from pybpf.btf.write import write


@pytest.fixture(scope="module")
def kinds(kinds_obj) -> Btf:
    return load(kinds_obj)


def test_void_and_names(kinds):
    assert kinds.types[0] is VOID and kinds.name_of(0) == ""
    bits = kinds.find("bits", Kind.STRUCT)
    assert kinds.name_of(bits) == "bits" and kinds.name_of(kinds.types[bits]) == "bits"
    assert kinds.describe(bits) == f"[{bits}] STRUCT 'bits'"


def test_find(kinds):
    assert kinds.find("tagged", Kind.FUNC) is None
    assert kinds.find("nothing by this name") is None
    tagged = kinds.find_all("tagged")
    assert [kinds.types[t].kind for t in tagged] == [Kind.STRUCT]
    assert kinds.types[kinds.find("tagged_func", Kind.FUNC)].kind == Kind.FUNC
    assert isinstance(kinds.types[kinds.find("fwd_s")], Fwd) and not kinds.types[kinds.find("fwd_s")].union
    assert kinds.types[kinds.find("fwd_u")].union


def test_struct_bits_layout(kinds):
    bits = kinds.find("bits", Kind.STRUCT)
    assert kinds.size_of(bits) == 48 and kinds.align_of(bits) == 8
    got = [(m.name, m.bit_offset, m.bitfield_size) for m in kinds.members(bits)]
    assert got == [("a", 0, 3), ("b", 3, 5), ("c", 8, 10), ("d", 64, 0), ("u", 128, 0), ("", 160, 0),
                   ("in", 192, 0), ("tail", 320, 0)]


@pytest.mark.parametrize(("path", "byte_offset", "kind"), [
    ("d", 8, Kind.INT), ("u.y", 16, Kind.FLOAT), ("u.x", 16, Kind.INT), ("z", 20, Kind.INT), ("w", 22, Kind.INT),
    ("in[1].i", 36, Kind.INT), ("in[1]", 32, Kind.STRUCT), ("tail", 40, Kind.INT),
])
def test_member_paths(kinds, path, byte_offset, kind):
    bits = kinds.find("bits_t", Kind.TYPEDEF)  # through the typedef, like a program would
    info = kinds.member_offset(bits, path)
    assert info.byte_offset == byte_offset and info.bit_offset == byte_offset * 8
    assert kinds.types[kinds.resolve(info.type)].kind == kind
    assert not info.is_bitfield


def test_bitfield_path(kinds):
    info = kinds.member_offset(kinds.find("bits", Kind.STRUCT), "b")
    assert (info.bit_offset, info.bitfield_size, info.is_bitfield) == (3, 5, True)
    assert kinds.member_offset(kinds.find("bits", Kind.STRUCT), "c").bitfield_size == 10


def test_packed_and_aligned(kinds):
    pk = kinds.find("pk", Kind.STRUCT)
    assert (kinds.size_of(pk), kinds.align_of(pk), kinds.is_packed(pk)) == (5, 1, True)
    assert kinds.member_offset(pk, "b").byte_offset == 1
    outer = kinds.find("outer", Kind.STRUCT)
    assert kinds.size_of(outer) == 64 and kinds.align_of(outer) == 16  # __int128's alignment
    assert kinds.member_offset(outer, "w").byte_offset == 16 and kinds.member_offset(outer, "big").byte_offset == 32
    assert kinds.size_of(kinds.find("wide", Kind.STRUCT)) == 16
    assert not kinds.is_packed(kinds.find("bits", Kind.STRUCT))


def test_resolve_and_sizes(kinds):
    assert kinds.resolve(kinds.find("bits_t")) == kinds.find("bits", Kind.STRUCT)
    cv = kinds.types[kinds.resolve(kinds.find("cv_int"))]
    assert isinstance(cv, Int) and kinds.name_of(cv) == "int" and cv.encoding == IntEncoding.SIGNED
    assert kinds.size_of(kinds.find("g_matrix")) == 12  # char[3][4], through the VAR
    assert kinds.size_of(kinds.find("rptr")) == 8 and kinds.size_of(kinds.find("callback_t")) == 8
    assert kinds.align_of(kinds.types[kinds.find("g_matrix")].type) == 1
    assert isinstance(kinds.types[kinds.resolve(kinds.types[kinds.find("g_float")].type)], Float)
    user_ptr = kinds.types[kinds.types[kinds.find("g_user_ptr")].type]
    assert isinstance(user_ptr, Ptr) and kinds.types[user_ptr.type].kind == Kind.TYPE_TAG
    assert kinds.name_of(kinds.resolve(user_ptr.type)) == "int"  # resolve walks through the type tag
    with pytest.raises(BtfError, match=r"\[\d+\] FWD 'fwd_s' has no size"):
        kinds.size_of(kinds.find("fwd_s"))


def test_decl_tags(kinds):
    tagged = kinds.find("tagged", Kind.STRUCT)
    assert kinds.decl_tags(tagged) == ["struct_tag"]
    assert kinds.decl_tags(tagged, 1) == ["member_tag"] and kinds.decl_tags(tagged, 0) == []
    func = kinds.find("tagged_func", Kind.FUNC)
    assert kinds.decl_tags(func) == ["comment:test_expect_msg=R0 invalid mem access", "comment:second"]
    assert kinds.decl_tags(func, 0) == ["param_tag"] and kinds.decl_tags(func, 1) == []
    assert kinds.decl_tags(kinds.find("g_head", Kind.VAR)) == ["contains:node_data:link"]
    assert kinds.decl_tags(kinds.find("bits", Kind.STRUCT)) == []


def test_functions(kinds):
    func = kinds.find("tagged_func", Kind.FUNC)
    proto = kinds.func_proto_of(func)
    assert [kinds.str_at(p.name_off) for p in proto.params] == ["t", "n"]
    assert kinds.name_of(proto.type) == "int"
    assert kinds.resolve(kinds.types[proto.params[0].type].type) == kinds.find("tagged", Kind.STRUCT)
    assert int(kinds.types[func].linkage) == 1  # global
    assert int(kinds.types[kinds.find("helper")].linkage) == 0  # static
    assert int(kinds.types[kinds.find("ext_fn")].linkage) == 2  # extern
    cb = kinds.types[kinds.resolve(kinds.find("callback_t"))]
    varargs = kinds.func_proto_of(cb.type)
    assert varargs.params[-1].type == 0 and varargs.params[-1].name_off == 0  # the "..."


def test_datasecs(kinds):
    bss = kinds.datasec_vars(kinds.find(".bss", Kind.DATASEC))
    sizes = {v.name: v.size for v in bss}
    assert sizes["g_bits"] == 48 and sizes["g_pk"] == 5 and sizes["g_outer"] == 64 and sizes["g_matrix"] == 12
    assert {v.name for v in kinds.datasec_vars(kinds.find(".ksyms"))} == {"ext_fn", "ext_var"}
    (rodata,) = kinds.datasec_vars(kinds.find(".rodata"))
    assert rodata.name == "g_rodata" and kinds.name_of(kinds.resolve(rodata.type)) == "int"
    assert [v.name for v in kinds.datasec_vars(kinds.find(".data.custom"))] == ["g_custom"]


def test_enums(kinds):
    color = kinds.types[kinds.find("color")]
    assert [(kinds.str_at(v.name_off), v.val) for v in color.values] == [("RED", 0), ("GREEN", 5), ("BLUE", 6)]
    anon = kinds.types[kinds.resolve(kinds.find("anon_enum_t"))]
    assert anon.name_off == 0 and [v.val for v in anon.values] == [1, 2]


def test_signed_and_64_bit_enums(kinds_pahole):
    """clang 14 emits neither; pahole does, from the same source."""
    host = load(kinds_pahole)
    sgn = host.types[host.find("sgn")]
    assert sgn.signed and [v.val for v in sgn.values] == [-2, 3]
    big = host.types[host.find("big")]
    assert isinstance(big, Enum64) and big.values[0].val == 1 << 32


def test_old_style_bitfields():
    """Without kind_flag, a bitfield is a member whose INT says so (btf.rst, BTF_KIND_STRUCT)."""
    btf = Btf()
    s = btf.add_string
    u32 = btf.add_type(Int(s("unsigned int"), 4, IntEncoding(0), 0, 32))
    bf = btf.add_type(Int(s("unsigned int"), 4, IntEncoding(0), 2, 5))
    st = btf.add_type(Struct(s("old"), 8, (Member(s("x"), u32, 0), Member(s("f"), bf, 32))))
    again = parse(write(btf))
    assert [(m.name, m.bit_offset, m.bitfield_size) for m in again.members(st)] == [("x", 0, 0), ("f", 34, 5)]


def test_vmlinux_member_path_agrees_with_clang(vmlinux, tmp_path):
    task = vmlinux.find("task_struct", Kind.STRUCT)
    paths = ["pid", "tgid", "se.vruntime", "thread_info.flags", "comm[3]"]
    header = tmp_path / "vmlinux.h"
    header.write_text(dump_c(vmlinux))
    asserts = [f"_Static_assert(__builtin_offsetof(struct task_struct, {p}) == "
               f"{vmlinux.member_offset(task, p).byte_offset}, \"{p}\");" for p in paths]
    asserts.append(f"_Static_assert(sizeof(struct task_struct) == {vmlinux.size_of(task)}, \"size\");")
    src = tmp_path / "offsets.c"
    src.write_text(f'#include "{header}"\n' + "\n".join(asserts) + "\n")
    run([need_tool("clang"), "-target", "bpf", "-fsyntax-only", str(src)])
