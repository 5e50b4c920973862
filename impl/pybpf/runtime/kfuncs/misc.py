"""Kfuncs of the argument-suffix tests that are not dynptrs: user strings, kernel strings, the program's stream,
the task iterator's constructor and destructor.

pybpf's runtime has no user address space: every user pointer faults, so
``bpf_copy_from_user_str`` returns -EFAULT as the kernel does for an address no
process maps.  Streams are not kept: ``bpf_stream_vprintk_impl`` checks its
format string and returns what the kernel returns for a message it accepted.
The runtime has no tasks: ``bpf_iter_task_new`` checks its flags as the kernel
does and leaves an iterator that would yield nothing.
"""

from __future__ import annotations

import errno

from pybpf.abi.profiles import KfuncSpec
from pybpf.errors import VmFault
from pybpf.runtime.kfuncs.graph import KfuncEnv
from pybpf.vm.helpers import HelperContext

M64 = (1 << 64) - 1
U32 = 0xFFFFFFFF
BPF_F_PAD_ZEROS = 1 << 0
XATTR_SIZE_MAX = 1 << 16  # bpf_strlen and the other string kfuncs stop looking there
BPF_TASK_ITER_ALL_PROCS, BPF_TASK_ITER_ALL_THREADS, BPF_TASK_ITER_PROC_THREADS = 0, 1, 2
BPF_ITER_TASK_SIZE = 24  # struct bpf_iter_task


def copy_from_user_str(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                       r5: int) -> int:  # fmt: skip
    size = r2 & U32
    if r4 & ~BPF_F_PAD_ZEROS:
        return -errno.EINVAL & M64
    if not size:
        return 0
    if r4 & BPF_F_PAD_ZEROS:
        ctx.memory.write(r1, bytes(size))
    return -errno.EFAULT & M64


def strlen(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
           r5: int) -> int:  # fmt: skip
    for n in range(XATTR_SIZE_MAX):
        try:
            if ctx.memory.read(r1 + n, 1) == b"\0":
                return n
        except VmFault:
            return -errno.EFAULT & M64
    return -errno.E2BIG & M64


def stream_vprintk(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                   r5: int) -> int:  # fmt: skip
    ctx.memory.read(r3, r4 & U32)  # the arguments must be readable, as the kernel copies them
    return 0


def tracing_only(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                 r5: int) -> int:  # fmt: skip
    raise VmFault(f"{spec.name}: the runtime has no kernel tasks (and runs no tracing program)")


def iter_task_new(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                  r5: int) -> int:  # fmt: skip
    ctx.memory.write(r1, bytes(BPF_ITER_TASK_SIZE))
    flags = r3 & U32
    if flags not in (BPF_TASK_ITER_ALL_PROCS, BPF_TASK_ITER_ALL_THREADS, BPF_TASK_ITER_PROC_THREADS) or (
            flags == BPF_TASK_ITER_PROC_THREADS and not r2):
        return -errno.EINVAL & M64
    return 0


def iter_task_destroy(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                      r5: int) -> int:  # fmt: skip
    return 0


__all__ = ["copy_from_user_str", "iter_task_destroy", "iter_task_new", "stream_vprintk", "strlen", "tracing_only"]
