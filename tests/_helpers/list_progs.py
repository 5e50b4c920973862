"""A hand-assembled list program over ``struct map_value`` (a spin lock at 0, a ``bpf_list_head``
of ``struct foo`` at 8, ``foo.data`` at 24), for the runtime's and every execution tier's tests.

Texts are bpf_conformance assembly with ``{name}`` holes: ``m`` the array map's fd, ``foo`` the BTF id
of ``struct foo``, and every kfunc's name its number (``pybpf.runtime.kfuncs.numbered``).
Helpers 93 and 94 are bpf_spin_lock and bpf_spin_unlock.
"""

# r6 = the map's value 0 (or return -1)
LOOKUP = """
    stw [%r10-4], 0
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, fail
    mov %r6, %r0
"""
# push one new foo with data = r9's value (the program's argument r1) to the back of the value's list
PUSH = """
    mov %r9, %r1
""" + LOOKUP + """
    mov %r1, {foo}
    mov %r2, 0
    call kfunc {bpf_obj_new_impl}
    jeq %r0, 0, fail
    mov %r7, %r0
    stxw [%r7+24], %r9
    mov %r1, %r6
    call 93
    mov %r1, %r6
    add %r1, 8
    mov %r2, %r7
    mov %r3, 0
    mov %r4, 0
    call kfunc {bpf_list_push_back_impl}
    mov %r8, %r0
    mov %r1, %r6
    call 94
    mov %r0, %r8
    exit
fail:
    mov %r0, -1
    exit
"""
# pop the front element: its data, or -1 when the list is empty
POP = LOOKUP + """
    mov %r1, %r6
    call 93
    mov %r1, %r6
    add %r1, 8
    call kfunc {bpf_list_pop_front}
    mov %r7, %r0
    mov %r1, %r6
    call 94
    jeq %r7, 0, fail
    ldxw %r8, [%r7+24]
    mov %r1, %r7
    mov %r2, 0
    call kfunc {bpf_obj_drop_impl}
    mov %r0, %r8
    exit
fail:
    mov %r0, -1
    exit
"""
