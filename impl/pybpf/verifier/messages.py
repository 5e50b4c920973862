"""The kernel's verifier messages as data, and the one way to reject a program.

Templates keep Linux 6.18's words byte for byte (``str.format`` fields stand
for the kernel's ``%d``/``%s``).  ``reject`` writes the line to the log and
raises ``Rejection``; a bug of ours raises ``InternalError`` instead.
"""

from __future__ import annotations

import errno as E

from pybpf.errors import InternalError, PybpfError

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
    "ptr_offset": "{type} pointer offset {off} is not allowed",
    "ptr_oob": "value {val} makes {type} pointer be out of bounds",
    "partial_copy": "R{reg} partial copy of pointer",
    "stack_ptr_sub": "R{reg} subtraction from stack pointer prohibited",
    "ptr_arith": "R{reg} pointer arithmetic prohibited",
    # memory
    "invalid_mem_access": "R{reg} invalid mem access '{type}'",
    "stack_write_oob": "invalid write to stack R{reg} off={off} size={size}",
    "stack_read_oob": "invalid read from stack R{reg} off={off} size={size}",
    "stack_var_oob": "invalid variable-offset {access} stack R{reg} var_off={var_off} off={off} size={size}",
    "stack_var_unbounded": "invalid unbounded variable-offset {access} stack R{reg}",
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
    "indirect_uninit": "invalid read from stack R{reg} off {off}+{i} size {size}",
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
    # helpers' special arguments (calls.py, callbacks.py)
    "unknown_func": "unknown func {name}#{id}",
    "const_str_not_rdonly": "R{reg} does not point to a readonly map'",  # the stray quote is the kernel's
    "timer_var_off": "R{reg} doesn't have constant offset. bpf_timer has to be at the constant offset",
    "timer_map_no_btf": "map '{name}' has to have BTF in order to use bpf_timer",
    "timer_no_field": "map '{name}' has no valid bpf_timer",
    "timer_wrong_off": "off {off} doesn't point to 'struct bpf_timer' that is at {timer_off}",
    "missing_func_info": "missing btf func_info",
    "callback_map": "callback function not allowed for map",
    # unprivileged loads (sanitize.py; checked against the live kernel: tests/verifier/corpus_unpriv)
    "unpriv_bounds": "R{reg} has unknown scalar with mixed signed bounds, {err}",
    "unpriv_type": "R{reg} has pointer with unsupported alu operation, {err}",
    "unpriv_paths": "R{reg} tried to {op} from different maps, paths or scalars, {err}",
    "unpriv_limit": "R{reg} tried to {op} beyond pointer bounds, {err}",
    "unpriv_stack_var": "R{reg} variable stack access prohibited for !root, var_off={var_off} off={off}",
    "unpriv_stack_oob": "R{reg} stack pointer arithmetic goes out of range, prohibited for !root; off={off}",
    "unpriv_map_oob": "R{reg} pointer arithmetic of map value goes out of range, prohibited for !root",
    "corrupt_spilled_ptr": "attempt to corrupt spilled pointer on stack",
    "unpriv_calls": "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
    "leaking_ptr_stack": "leaking pointer from stack off {off}",
    "ptr_comparison": "R{reg} pointer comparison prohibited",
    "map_key_write": "write to change key R{reg} not allowed",
    "return_stack_ptr": "cannot return stack pointer to the caller",
    "callback_r0_type": "R0 not a scalar value",
    "callback_retval": "At callback return the register R0 has{have} should have been in [{lo}, {hi}]",
    "async_retval": "At async callback return the register R0 has{have} should have been in [{lo}, {hi}]",
    "async_retval_type": "At async callback return the register R0 is not a known value ({type})",
    "timer_map_mismatch": "timer pointer in R1 map_uid={uid1} doesn't match map pointer in R2 map_uid={uid2}",
    "func_not_supported": "func {name}#{id} not supported for program type {prog_type}",
    # bpf_spin_lock (locks.py); {what} is "bpf_spin" (6.18 shares the texts with bpf_res_spin_lock)
    "lock_var_off": "R{reg} doesn't have constant offset. {what}_lock has to be at the constant offset",
    "lock_map_no_btf": "map '{name}' has to have BTF in order to use {what}_lock",
    "lock_no_field": "{kind} '{name}' has no valid {what}_lock",
    "lock_wrong_off": "off {off} doesn't point to 'struct {what}_lock' that is at {lock_off}",
    "lock_two": "Locking two bpf_spin_locks are not allowed",
    "unlock_without_lock": "{what}_unlock without taking a lock",
    "unlock_different": "{what}_unlock of different lock",
    "call_while_locked": "function calls are not allowed while holding a lock",
    "map_access_forbidden": "{what} map forbidden, value_size={vs} off={off} size={size}",
    "global_call_locked": "use static function instead",  # after "global function calls ... holding a lock,"
    "global_call_args": "Caller passes invalid args into func#{n} ('{name}')",
    "global_exit_not_scalar": "At subprogram exit the register R0 is not a scalar value ({type})",
    "locked_region": "{prefix} cannot be used inside bpf_spin_lock-ed region",
    "exit_locked": "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region",
    # special fields of map values (fields.py); {field} is btf_field_type_name
    "field_direct": "{field} cannot be accessed directly by load/store",
    "kptr_indirect": "{field} cannot be accessed indirectly by helper",
    "kptr_var_off": "{field} access cannot have variable offset",
    "kptr_misaligned": "{field} access misaligned expected={expected} off={off}",
    "kptr_size": "{field} access size must be BPF_DW",
    "kptr_mode": "kptr in map can only be accessed using BPF_MEM instruction mode",
    "kptr_store_ref": "store to referenced kptr disallowed",
    "kptr_st_imm": "BPF_ST imm must be 0 when storing to kptr at off={off}",
    "map_prog_lock": "{what} progs cannot use bpf_spin_lock yet",
    "map_prog_graph": "tracing progs cannot use bpf_{{list_head,rb_root}} yet",
    "map_prog_field": "tracing progs cannot use {field} yet",
    # kptrs (kptrs.py)
    "kptr_bad_type": "invalid kptr access, R{reg} type={type}{name} expected={expected}",
    "kptr_map_no_btf": "map '{name}' has to have BTF in order to use bpf_kptr_xchg",
    "kptr_xchg_var_off": "R{reg} doesn't have constant offset. kptr has to be at the constant offset",
    "kptr_none": "R{reg} has no valid kptr",
    "kptr_not_at": "off={off} doesn't point to kptr",
    "kptr_not_ref": "off={off} kptr isn't referenced kptr",
    # kfunc calls (kfuncs.py, graph.py)
    "kfunc_not_func": "kernel btf_id {id} is not a function",
    "kfunc_not_allowed": "calling kernel function {name} is not allowed",
    "kfunc_not_eliminated": "invalid kernel function call not eliminated in verifier pass",
    "kfunc_not_scalar": "R{reg} is not a scalar",
    "kfunc_not_const": "R{reg} must be a known constant",
    "kfunc_null_trusted": "Possibly NULL pointer passed to trusted arg{i}",
    "kfunc_not_trusted": "R{reg} must be referenced or trusted",
    "kfunc_not_rcu": "R{reg} must be a rcu pointer",
    "kfunc_not_acquired": "kfunc {name}#{id} reference has not been acquired before",
    "kfunc_unrecognized": "Unrecognized arg#{i} type {kind}",
    "kfunc_sleepable": "program must be sleepable to call sleepable kfunc {name}",
    "kfunc_destructive": "destructive kfunc calls require CAP_SYS_BOOT capability",
    "kfunc_mem_len": "arg#{i} arg#{j} memory, len pair leads to invalid memory access",
    "kfunc_ctx": "arg#{i} expected pointer to ctx, but got {type}",
    "kfunc_const_str": "arg#{i} doesn't point to a const string",
    "kfunc_mem_size": "arg#{i} reference type('{kind} {name}') size cannot be determined: {err}",
    "const_str_not_const": "R{reg} is not a constant address'",  # the stray quote is the kernel's
    "const_str_unterminated": "string is not zero-terminated",
    "stack_read_special": "invalid read from stack R{reg} off {off}+{i} size {size}",
    "pkt_write_not_allowed": "the prog does not allow writes to packet data",
    "kfunc_release_unreferenced": "release kernel function {name} expects refcounted PTR_TO_BTF_ID",
    "kfunc_rcu_protected": "kernel func {name} requires RCU critical section protection",
    # iterators (iters.py)
    "iter_not_stack": "arg#{i} expected pointer to an iterator on stack",
    "iter_uninit_expected": "expected uninitialized iter_{type} as arg #{i}",
    "iter_init_expected": "expected an initialized iter_{type} as arg #{i}",
    # dynptrs (dynptr.py)
    "dynptr_not_stack": "arg#{i} expected pointer to stack or const struct bpf_dynptr",
    "dynptr_const_uninit": "cannot pass pointer to const bpf_dynptr, the helper mutates it",
    "dynptr_uninit_expected": "Dynptr has to be an uninitialized dynptr",
    "dynptr_init_expected": "Expected an initialized dynptr as arg #{i}",
    "kfunc_mem_type": "arg#{i} pointer type {kind} {name} must point to {unsized}scalar, or struct with scalar",
    "release_off": "R{reg} must have zero offset when passed to release func or trusted arg to kfunc",
    "modified_ptr": "dereference of modified {type} ptr R{reg} off={off} disallowed",
    "variable_ptr": "variable {type} access var_off={var_off} disallowed",
    "arg_expected_drop": "arg#{i} expected for {name}()",
    "arg_expected_alloc": "arg#{i} expected pointer to allocated object",
    "alloc_unreferenced": "allocated object must be referenced",
    "arg_expected_root": "arg#{i} expected pointer to map value or allocated object",
    "arg_expected_func": "arg{i} expected pointer to func",
    "graph_var_off": "R{reg} doesn't have constant offset. {field} has to be at the constant offset",
    "graph_not_found": "{field} not found at offset={off}",
    "graph_lock": "bpf_spin_lock at off={off} must be held for {field}",
    "lock_elsewhere": "held lock and object are not in the same allocation",
    "graph_node_type": "operation on {head} expects arg#1 {node} at offset={node_off} in struct {want}, "
                       "but arg is at offset={off} in struct {have}",
    "graph_node_off": "arg#1 offset={off}, but expected {node} at offset={node_off} in struct {want}",
    "rb_node_owner": "{name} can only take non-owning or refcounted bpf_rb_node pointer",
    "rbtree_cb": "{name} not allowed in rbtree cb",
    "refcounted_kind": "arg#{i} is neither owning or non-owning ref",
    "no_refcount": "arg#{i} doesn't point to a type with bpf_refcount field",
    "obj_new_range": "local type ID argument must be in range [0, U32_MAX]",
    "obj_new_btf": "bpf_obj_new/bpf_percpu_obj_new requires prog BTF",
    "obj_new_struct": "bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct",
    "percpu_size": "bpf_percpu_obj_new type size ({size}) is greater than {max}",
    "percpu_scalars": "bpf_percpu_obj_new type ID argument must be of a struct of scalars",
    "percpu_special": "bpf_percpu_obj_new type ID argument must not contain special fields",
    # PTR_TO_BTF_ID loads and stores (btf_ptr.py)
    "btf_priv": "'struct {name}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN",
    "btf_neg": "R{reg} is ptr_{name} invalid negative access: off={off}",
    "btf_var": "R{reg} is ptr_{name} invalid variable offset: off={off}, var_off={var_off}",
    "btf_percpu": "R{reg} is ptr_{name} access percpu memory: off={off}",
    "btf_read_only": "only read is supported",
    "btf_direct": "direct access to {field} is disallowed",
    "btf_not_struct": "Type '{name}' is not a struct",
    "btf_beyond": "access beyond struct {name} at off {off} size {size}",
    "btf_ptr_member": "cannot access ptr member {member} with moff {moff} in struct {name} with off {off} size {size}",
    "btf_member_end": "access beyond the end of member {member} (mend:{mend}) in struct {name} with off {off} "
                      "size {size}",
    "btf_no_field": "struct {name} doesn't have field at offset {off}",
    # tracing programs: the attach target and the BTF-typed context (tracing.py)
    "trace_no_btf_id": "Tracing programs must provide btf_id",
    "trace_bad_id": "attach_btf_id {id} is invalid",
    "trace_not_typedef": "attach_btf_id {id} is not a typedef",
    "trace_not_func": "attach_btf_id {id} is not a function",
    "trace_bad_name": "attach_btf_id {id} points to wrong type name {name}",
    "trace_off8": "func '{func}' offset {off} is not multiple of 8",
    "trace_no_arg": "func '{func}' doesn't have {n}-th argument",
    "trace_size8": "func '{func}' size {size} must be 8",
    "trace_not_ptr": "func '{func}' arg{arg} '{name}' has type {kind}. Only pointer access is allowed",
    "trace_not_struct": "func '{func}' arg{arg} type {kind} is not a struct",
    "trace_arg_btf": "func '{func}' arg{arg} has btf_id {id} type {kind} '{name}'",
}

# errno of each rejection (EACCES unless listed)
ERRNO: dict[str, int] = {
    "unpriv_calls": E.EPERM,
    "unreachable": E.EINVAL, "back_edge": E.EINVAL, "jump_out_of_range": E.EINVAL, "last_insn": E.EINVAL,
    "unknown_opcode": E.EINVAL, "invalid_insn_idx": E.EFAULT, "too_large": E.E2BIG, "infinite_loop": E.EINVAL,
    "div_by_zero": E.EINVAL, "invalid_shift": E.EINVAL, "invalid_func": E.EINVAL,
    "call_stack_too_deep": E.E2BIG, "combined_stack": E.EACCES, "retval_range": E.EINVAL,
    "retval_type": E.EINVAL, "unknown_func": E.EINVAL, "helper_not_allowed": E.EINVAL,
    "ctx_access": E.EACCES, "math_too_large": E.EINVAL, "ptr_offset": E.EINVAL, "math_unbounded_min": E.EINVAL,
    "ptr_oob": E.EINVAL, "invalid_reg": E.EINVAL, "ref_leak_exit": E.EINVAL, "map_func_compat": E.EINVAL,
    "tail_call_map": E.EINVAL,
    "bad_map_fd": E.EBADF, "bad_ld_imm64": E.EINVAL, "ld_abs_prog_type": E.EINVAL, "ld_abs_r6": E.EINVAL,
    "old_state": E.EINVAL, "empty_prog": E.EINVAL, "stack_var_oob": E.EINVAL,
    "timer_var_off": E.EINVAL, "timer_map_no_btf": E.EINVAL, "timer_no_field": E.EINVAL, "timer_wrong_off": E.EINVAL,
    "missing_func_info": E.EINVAL, "func_not_supported": 524,  # ENOTSUPP, a kernel-internal errno
    "callback_map": 524, "callback_retval": E.EINVAL, "async_retval": E.EINVAL, "async_retval_type": E.EINVAL,
    "timer_map_mismatch": E.EINVAL, "return_stack_ptr": E.EINVAL,
    "lock_var_off": E.EINVAL, "lock_map_no_btf": E.EINVAL, "lock_no_field": E.EINVAL, "lock_wrong_off": E.EINVAL,
    "lock_two": E.EINVAL, "unlock_without_lock": E.EINVAL, "unlock_different": E.EINVAL,
    "call_while_locked": E.EINVAL, "global_call_locked": E.EINVAL, "global_call_args": E.EINVAL,
    "global_exit_not_scalar": E.EINVAL,
    "locked_region": E.EINVAL, "exit_locked": E.EINVAL, "map_prog_lock": E.EINVAL, "map_prog_graph": E.EINVAL,
    "map_prog_field": E.EINVAL, "kptr_bad_type": E.EINVAL, "kptr_map_no_btf": E.EINVAL,
    "kptr_xchg_var_off": E.EINVAL, "kptr_none": E.EINVAL,
    "kfunc_not_func": E.EINVAL, "kfunc_not_eliminated": E.EINVAL, "kfunc_not_scalar": E.EINVAL,
    "kfunc_not_const": E.EINVAL,
    "kfunc_not_trusted": E.EINVAL, "kfunc_not_rcu": E.EINVAL, "kfunc_unrecognized": E.EINVAL,
    "kfunc_mem_type": E.EINVAL, "kfunc_ctx": E.EINVAL, "kfunc_const_str": E.EINVAL, "kfunc_mem_size": E.EINVAL,
    "const_str_unterminated": E.EINVAL, "dynptr_not_stack": E.EINVAL, "dynptr_const_uninit": E.EINVAL,
    "dynptr_uninit_expected": E.EINVAL, "dynptr_init_expected": E.EINVAL, "pkt_write_not_allowed": E.EINVAL,
    "kfunc_release_unreferenced": E.EINVAL, "iter_not_stack": E.EINVAL, "iter_uninit_expected": E.EINVAL,
    "iter_init_expected": E.EINVAL,
    "release_off": E.EINVAL, "arg_expected_drop": E.EINVAL,
    "arg_expected_alloc": E.EINVAL, "alloc_unreferenced": E.EINVAL, "arg_expected_root": E.EINVAL,
    "arg_expected_func": E.EINVAL, "graph_var_off": E.EINVAL, "graph_not_found": E.EINVAL, "graph_lock": E.EINVAL,
    "graph_node_type": E.EINVAL, "graph_node_off": E.EINVAL, "rb_node_owner": E.EINVAL, "rbtree_cb": E.EINVAL,
    "refcounted_kind": E.EINVAL, "no_refcount": E.EINVAL, "obj_new_range": E.EINVAL, "obj_new_btf": E.EINVAL,
    "obj_new_struct": E.EINVAL, "percpu_size": E.EINVAL, "percpu_scalars": E.EINVAL, "percpu_special": E.EINVAL,
    "btf_not_struct": E.EINVAL, "btf_no_field": E.EINVAL,
    "trace_no_btf_id": E.EINVAL, "trace_bad_id": E.EINVAL, "trace_not_typedef": E.EINVAL,
    "trace_not_func": E.EINVAL, "trace_bad_name": E.EINVAL,
}  # fmt: skip


class Rejection(PybpfError):
    """The program is refused: ``message`` is the kernel's reason line."""

    def __init__(self, errno: int, insn_idx: int, message: str):
        super().__init__(message, place=f"insn {insn_idx}")
        self.errno = errno
        self.insn_idx = insn_idx


def template(key: str, abi: str | None = None) -> str | None:
    """Message ``key``'s words under ABI profile ``abi`` (None: 6.18's); None where that kernel has no such
    message (``pybpf.abi.profiles.Profile.messages``)."""
    if abi is None:
        return MSG[key]
    from pybpf.abi.profiles import profile

    return profile(abi).messages.get(key, MSG[key])


def text(key: str, abi: str | None = None, **kw: object) -> str:
    words = template(key, abi)
    if words is None:
        raise InternalError(f"message {key!r} does not exist under ABI profile {abi}")
    return words.format(**kw)


def rejection(key: str, insn_idx: int, **kw: object) -> Rejection:
    """The Rejection for message ``key`` (the log line is written by ``reject`` or the caller)."""
    return Rejection(ERRNO.get(key, E.EACCES), insn_idx, text(key, **kw))
