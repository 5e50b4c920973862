"""kfunc calls, allocated objects and PTR_TO_BTF_ID, on hand-assembled programs (no kernel needed).

The kernel BTF is pybpf's bundled 6.18 subset (``kernel_btf(live=False)``), the
program's BTF a small one built here.  Every expected text is what Linux 6.18
printed for the same situation in ``selftests/progs/linked_list_fail.c`` (see
``test_kfuncs_objects.py``, which checks those programs against the live kernel).
"""

from __future__ import annotations

import pytest
from pybpf.abi.kernel_btf import kernel_btf, kfunc_id
from pybpf.abi.uapi import ProgType
from pybpf.btf import Btf, IntEncoding
from pybpf.btf.types import Int, Member, Ptr, Struct
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import AluOp, CallSrc, Cls, JmpOp, Mode, Size, Src
from pybpf.verifier import verify

KBTF = kernel_btf(live=False)


def _prog_btf() -> tuple[Btf, int, int]:
    """struct foo { int a; int b; long c; struct foo *next; } and int: (btf, foo id, int id)."""
    btf = Btf()
    i32 = btf.add_type(Int(btf.add_string("int"), 4, IntEncoding.SIGNED, 0, 32))
    i64 = btf.add_type(Int(btf.add_string("long"), 8, IntEncoding.SIGNED, 0, 64))
    foo_name = btf.add_string("foo")
    ptr = btf.add_type(Ptr(0, len(btf.types) + 1))
    foo = btf.add_type(Struct(foo_name, 24, (Member(btf.add_string("a"), i32, 0), Member(btf.add_string("b"), i32, 32),
                                             Member(btf.add_string("c"), i64, 64),
                                             Member(btf.add_string("next"), ptr, 128))))
    assert ptr + 1 == foo
    return btf, foo, i32


BTF, FOO, INT = _prog_btf()


def kcall(name: str) -> Insn:
    return Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, kfunc_id(KBTF, name))


def mov(dst: int, imm: int = 0, src: int | None = None) -> Insn:
    if src is not None:
        return Insn(Cls.ALU64 | AluOp.MOV | Src.X, dst, src, 0, 0)
    return Insn(Cls.ALU64 | AluOp.MOV | Src.K, dst, 0, 0, imm)


def add(dst: int, imm: int) -> Insn:
    return Insn(Cls.ALU64 | AluOp.ADD | Src.K, dst, 0, 0, imm)


def ldx(dst: int, src: int, off: int, size: Size = Size.W) -> Insn:
    return Insn(Cls.LDX | Mode.MEM | size, dst, src, off, 0)


def st(dst: int, off: int, imm: int, size: Size = Size.W) -> Insn:
    return Insn(Cls.ST | Mode.MEM | size, dst, 0, off, imm)


def jeq0(reg: int, off: int) -> Insn:
    return Insn(Cls.JMP | JmpOp.JEQ | Src.K, reg, 0, off, 0)


EXIT = Insn(Cls.JMP | JmpOp.EXIT)


def obj_new(type_id: int = FOO) -> list[Insn]:
    """r0 = bpf_obj_new_impl(type_id, NULL), as clang emits bpf_obj_new()."""
    return [*ld_imm64(1, type_id), mov(2), kcall("bpf_obj_new_impl")]


def obj_drop(reg: int) -> list[Insn]:
    return [mov(1, src=reg), mov(2), kcall("bpf_obj_drop_impl")]


def run(insns: list[Insn], **kw):
    kw.setdefault("btf", BTF)
    return verify(insns, prog_type=ProgType.SCHED_CLS, kernel_btf=KBTF, **kw)


def first_error(insns: list[Insn], **kw) -> str:
    v = run(insns, **kw)
    assert not v.ok, v.log
    return v.first_error


def new_checked(*body: Insn) -> list[Insn]:
    """r6 = bpf_obj_new(struct foo); if (!r6) return 0; body...; return 0."""
    return [*obj_new(), mov(6, src=0), jeq0(6, len(body) + 2), *body, mov(0), EXIT, mov(0), EXIT]


def test_new_use_drop_is_accepted():
    v = run(new_checked(st(6, 0, 1), ldx(7, 6, 4), st(6, 8, 3, Size.DW), *obj_drop(6)))
    assert v.ok, v.log


def test_new_result_in_the_log_as_6_18_prints_it():
    v = run(new_checked(*obj_drop(6)), log_level=2)
    assert v.ok
    assert "R0=ptr_or_null_foo(id=2,ref_obj_id=2) refs=2" in v.log
    assert f"call bpf_obj_new_impl#{kfunc_id(KBTF, 'bpf_obj_new_impl')}" in v.log
    # past the NULL check the object keeps its ids (struct foo has no lock: the id is dropped)
    assert "R6=ptr_foo(ref_obj_id=2)" in v.log


def test_leak_names_the_reference():
    v = run(new_checked())
    assert not v.ok
    assert "Unreleased reference id=2 alloc_insn=3\n" in v.log
    assert v.first_error == "BPF_EXIT instruction in main prog would lead to reference leak"


def test_type_id_must_be_constant():
    prog = [Insn(Cls.JMP | JmpOp.CALL, 0, 0, 0, 7), mov(1, src=0), mov(2), kcall("bpf_obj_new_impl"), mov(0), EXIT]
    assert first_error(prog) == "R1 must be a known constant"


def test_type_id_must_be_a_struct():
    prog = [*obj_new(INT), mov(0), EXIT]
    assert first_error(prog) == "bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct"


def test_no_program_btf():
    assert first_error([*obj_new(), mov(0), EXIT], btf=None) == "bpf_obj_new/bpf_percpu_obj_new requires prog BTF"


def test_use_before_null_check():
    prog = [*obj_new(), st(0, 0, 1), mov(0), EXIT]
    assert first_error(prog) == "R0 invalid mem access 'ptr_or_null_'"


def test_arithmetic_before_null_check():
    prog = [*obj_new(), add(0, 4), mov(0), EXIT]
    assert first_error(prog) == "R0 pointer arithmetic on ptr_or_null_ prohibited, null-check it first"


def test_access_beyond_struct():
    assert first_error(new_checked(ldx(7, 6, 24))) == "access beyond struct foo at off 24 size 4"


def test_negative_access():
    assert first_error(new_checked(ldx(7, 6, -8))) == "R6 is ptr_foo invalid negative access: off=-8"


def test_pointer_member_of_an_object_reads_as_scalar():
    v = run(new_checked(ldx(7, 6, 16, Size.DW), st(7, 0, 0), *obj_drop(6)))
    assert v.first_error == "R7 invalid mem access 'scalar'"


def test_drop_twice():
    assert first_error(new_checked(*obj_drop(6), *obj_drop(6))) == "R1 must be referenced or trusted"


def test_use_after_drop():
    assert first_error(new_checked(*obj_drop(6), ldx(0, 6, 0))) == "R6 invalid mem access 'scalar'"


def test_drop_inner_pointer():
    prog = new_checked(mov(7, src=6), add(7, 4), *obj_drop(7))
    assert first_error(prog) == "R1 must have zero offset when passed to release func or trusted arg to kfunc"


def test_drop_context():
    prog = [mov(2), kcall("bpf_obj_drop_impl"), mov(0), EXIT]
    assert first_error(prog) == "R1 must be referenced or trusted"


def test_percpu_drop_of_plain_object():
    prog = new_checked(mov(1, src=6), mov(2), kcall("bpf_percpu_obj_drop_impl"))
    assert first_error(prog) == "arg#0 expected for bpf_obj_drop_impl()"


def test_refcount_acquire_needs_refcount():
    prog = new_checked(mov(1, src=6), mov(2), kcall("bpf_refcount_acquire_impl"))
    assert first_error(prog) == "arg#0 doesn't point to a type with bpf_refcount field"


def test_list_head_on_the_stack():
    prog = [mov(1, src=10), add(1, -16), st(10, -16, 0, Size.DW), st(10, -8, 0, Size.DW), kcall("bpf_list_pop_front"),
            mov(0), EXIT]
    assert first_error(prog) == "arg#0 expected pointer to map value or allocated object"


def test_list_head_not_in_object():
    prog = new_checked(mov(1, src=6), kcall("bpf_list_pop_front"))
    assert first_error(prog) == "bpf_list_head not found at offset=0"


def test_not_a_function():
    proto_id = KBTF.types[kfunc_id(KBTF, "bpf_obj_new_impl")].type
    prog = [Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, proto_id), mov(0), EXIT]
    assert first_error(prog) == f"kernel btf_id {proto_id} is not a function"


def test_kfunc_of_another_profile_is_not_allowed():
    prog = [*obj_new(), mov(0), EXIT]
    assert first_error(prog, abi="rfc-2022") == "calling kernel function bpf_obj_new_impl is not allowed"


def test_unknown_profile_is_bad_input():
    from pybpf.errors import InputError

    with pytest.raises(InputError, match="unknown ABI profile"):
        run([mov(0), EXIT], abi="linux-5.0")


def test_not_a_function_is_refused_before_exploring():
    v = run([Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, 5), mov(0), EXIT])
    assert v.first_error == "kernel btf_id 5 is not a function"
    assert v.insn_processed == 0


def test_absent_weak_kfunc_reached():
    v = run([Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, 0), mov(0), EXIT])
    assert not v.ok
    assert v.first_error == "invalid kernel function call not eliminated in verifier pass"
    assert v.insn_processed == 3


def test_absent_weak_kfunc_in_dead_code():
    never = Insn(Cls.JMP | JmpOp.JNE | Src.K, 0, 0, 1, 0)
    v = run([mov(0), never, EXIT, Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, 0), EXIT])
    assert v.ok, v.log


def test_kernel_function_that_is_no_kfunc():
    live = kernel_btf()
    schedule = kfunc_id(live, "schedule")
    if schedule is None:
        pytest.skip("this kernel BTF has no 'schedule' (the bundled subset keeps kfuncs only)")
    v = verify([mov(0), Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, schedule), mov(0), EXIT],
               prog_type=ProgType.SCHED_CLS, kernel_btf=live)
    assert v.first_error == "calling kernel function schedule is not allowed"
    assert v.errno == 13
