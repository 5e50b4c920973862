"""The kernel's verifier messages as data, and the one way to reject a program.

Templates keep Linux 6.18's words byte for byte (``str.format`` fields stand
for the kernel's ``%d``/``%s``).  ``reject`` writes the line to the log and
raises ``Rejection``; a bug of ours raises ``InternalError`` instead.
"""

from __future__ import annotations

import errno as E

from pybpf.errors import PybpfError

MSG: dict[str, str] = {
    # registers
    "not_read_ok": "R{reg} !read_ok",
    "fp_read_only": "frame pointer is read only",
    "invalid_reg": "R{reg} is invalid",
    # cfg
    "unreachable": "unreachable insn {insn}",
    "back_edge": "back-edge from insn {frm} to {to}",
    "jump_out_of_range": "jump out of range from insn {frm} to {to}",
    "last_insn": "last insn is not an exit or jmp",
    "unknown_opcode": "unknown opcode {code:02x}",
    "invalid_insn_idx": "invalid insn idx {insn} insn_cnt {cnt}",
    "too_large": "BPF program is too large. Processed {n} insn",
    "infinite_loop": "infinite loop detected at insn {insn}",
    # alu
    "div_by_zero": "div by zero",
    "invalid_shift": "invalid shift {shift}",
    "ptr32": "R{reg} 32-bit pointer arithmetic prohibited",
    "ptr_null_arith": "R{reg} pointer arithmetic on {type} prohibited, null-check it first",
    "ptr_arith_prohibited": "R{reg} pointer arithmetic on {type} prohibited",
    "ptr_ptr": "R{reg} pointer {op} pointer prohibited",
    "ptr_bitwise": "R{reg} bitwise operator {op} on pointer prohibited",
    "ptr_op": "R{reg} pointer arithmetic with {op} operator prohibited",
    "sub_ptr_from_scalar": "R{reg} tried to subtract pointer from scalar",
    "math_unbounded_min": "math between {type} pointer and register with unbounded min value is not allowed",
    "math_too_large": "math between {type} pointer and {val} is not allowed",
    "ptr_oob": "value {val} makes {type} pointer be out of bounds",
    "partial_copy": "R{reg} partial copy of pointer",
    "stack_ptr_sub": "R{reg} subtraction from stack pointer prohibited",
    "ptr_arith": "R{reg} pointer arithmetic prohibited",
    # memory
    "invalid_mem_access": "R{reg} invalid mem access '{type}'",
    "stack_write_oob": "invalid write to stack R{reg} off={off} size={size}",
    "stack_read_oob": "invalid read from stack R{reg} off={off} size={size}",
    "stack_var_oob": "invalid variable-offset {access} stack R{reg} var_off={var_off} off={off} size={size}",
    "stack_uninit_read": "invalid read from stack off {off}+{i} size {size}",
    "misaligned": "misaligned {desc}access off {var_off}+{off}+{ioff} size {size}",
    "ctx_access": "invalid bpf_context access off={off} size={size}",
    "modified_ctx": "dereference of modified ctx ptr R{reg} off={off} disallowed",
    "variable_ctx": "variable ctx access var_off={var_off} off={off} size={size}",
    "map_min_oob": "R{reg} min value is outside of the allowed memory range",
    "map_max_oob": "R{reg} max value is outside of the allowed memory range",
    "min_negative": "R{reg} min value is negative, either use unsigned index or do a if (index >=0) check.",
    "unbounded_access": "R{reg} unbounded memory access, make sure to bounds check any such access",
    "pkt_offset": "R{reg} offset is outside of the packet",
    "cannot_write_pkt": "cannot write into packet",
    "invalid_fill": "invalid size of register fill",
    "spill_ptr_partial": "invalid size of register spill",
    "leaks_addr": "R{reg} leaks addr into {what}",
    "cannot_write_rdonly": "R{reg} cannot write into {type}",
    # calls
    "invalid_func": "invalid func unknown#{id}",
    "helper_not_allowed": "program of this type cannot use helper {name}#{id}",
    "arg_type": "R{reg} type={type} expected={expected}",
    "min_neg_size": "R{reg} min value is negative, either use unsigned or 'var &= const'",
    "unbounded_size": "R{reg} unbounded memory access, use 'var &= const' or 'if (var < const)'",
    "zero_size": "R{reg} invalid zero-sized read: u64=[{umin},{umax}]",
    "indirect_uninit": "invalid indirect read from stack R{reg} off {off}+{i} size {size}",
    "call_stack_too_deep": "the call stack of {n} frames is too deep",
    "combined_stack": "combined stack size of {n} calls is {size}. Too large",
    "unreleased_ref": "Unreleased reference id={id} alloc_insn={insn}",
    "ref_leak_exit": "BPF_EXIT instruction in main prog would lead to reference leak",
    "zero_sized_read": "invalid zero-sized read",
    "not_const": "R{reg} is not a known constant'",  # the stray quote is the kernel's
    "map_func_compat": "cannot pass map_type {map_type} into func {name}#{id}",
    "tail_call_map": "expected prog array map for tail call",
    "bad_map_fd": "fd {fd} is not pointing to valid bpf_map",
    "bad_ld_imm64": "invalid bpf_ld_imm64 insn",
    "atomic_store": "BPF_ATOMIC stores into R{reg} {type} is not allowed",
    "ld_abs_prog_type": "BPF_LD_[ABS|IND] instructions not allowed for this program type",
    "ld_abs_r6": "at the time of BPF_LD_ABS|IND R6 != pointer to skb",
    "old_state": "old state:{state}",
    "empty_prog": "empty program",
    "release_bad": "R{reg} must be referenced when passed to release function",
    # exit
    "retval_range": "At program exit the register R0 has{have} should have been in [{lo}, {hi}]",
    "retval_type": "At program exit the register R0 is not a known value ({type})",
    "leaks_retval": "R0 leaks addr as return value",
}

# errno of each rejection (EACCES unless listed)
ERRNO: dict[str, int] = {
    "unreachable": E.EINVAL, "back_edge": E.EINVAL, "jump_out_of_range": E.EINVAL, "last_insn": E.EINVAL,
    "unknown_opcode": E.EINVAL, "invalid_insn_idx": E.EFAULT, "too_large": E.E2BIG, "infinite_loop": E.EINVAL,
    "div_by_zero": E.EINVAL, "invalid_shift": E.EINVAL, "invalid_func": E.EINVAL,
    "call_stack_too_deep": E.E2BIG, "combined_stack": E.EACCES, "retval_range": E.EINVAL,
    "retval_type": E.EINVAL, "unknown_func": E.EINVAL, "helper_not_allowed": E.EINVAL,
    "ctx_access": E.EACCES, "math_too_large": E.EINVAL, "math_unbounded_min": E.EINVAL,
    "ptr_oob": E.EINVAL, "invalid_reg": E.EINVAL, "ref_leak_exit": E.EINVAL, "map_func_compat": E.EINVAL,
    "tail_call_map": E.EINVAL,
    "bad_map_fd": E.EBADF, "bad_ld_imm64": E.EINVAL, "ld_abs_prog_type": E.EINVAL, "ld_abs_r6": E.EINVAL,
    "old_state": E.EINVAL, "empty_prog": E.EINVAL, "stack_var_oob": E.EINVAL,
}  # fmt: skip


class Rejection(PybpfError):
    """The program is refused: ``message`` is the kernel's reason line."""

    def __init__(self, errno: int, insn_idx: int, message: str):
        super().__init__(message, place=f"insn {insn_idx}")
        self.errno = errno
        self.insn_idx = insn_idx


def text(key: str, **kw: object) -> str:
    return MSG[key].format(**kw)


def rejection(key: str, insn_idx: int, **kw: object) -> Rejection:
    """The Rejection for message ``key`` (the log line is written by ``reject`` or the caller)."""
    return Rejection(ERRNO.get(key, E.EACCES), insn_idx, text(key, **kw))
