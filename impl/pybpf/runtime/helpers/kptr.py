"""bpf_kptr_xchg (194): swap the pointer in a kptr field of a map value or an object, return the old one.

The verifier checks that r1 points at a kptr field and r2 is an owned pointer of
its type (or NULL); unverified here, r1 must at least be an 8-aligned slot of a
map value or an object.  The swap is atomic against other threads' swaps, as the
kernel's ``xchg`` is.  What the field holds when the value goes is released by
the map (``maps.fields``), as ``bpf_obj_free_fields`` does.
"""

from __future__ import annotations

from pybpf.errors import VmFault
from pybpf.runtime.context import ExecEnv
from pybpf.vm.helpers import HelperContext
from pybpf.vm.memory import RegionKind

KPTR_SIZE = 8
_HOLDERS = (RegionKind.MAP_VALUE, RegionKind.HEAP)


def kptr_xchg(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    ctx.memory.check_aligned(r1, KPTR_SIZE, "bpf_kptr_xchg")
    region = ctx.memory.find(r1, KPTR_SIZE, True)
    if region.kind not in _HOLDERS:
        raise VmFault(f"bpf_kptr_xchg at {r1:#x}: a kptr lives in a map value or an object, not in "
                      f"{region.describe()}")  # fmt: skip
    with env.atomics:
        old = ctx.memory.load(r1, KPTR_SIZE)
        ctx.memory.store(r1, KPTR_SIZE, r2)
    return old
