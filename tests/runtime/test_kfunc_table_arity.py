"""A kfunc the ABI profile gives no argument kinds reads as many registers as its BTF prototype has parameters.

Reading all five would make the interpreter fault on a correct three-argument call whose r4 was never
written (the kernel's verifier checks only the prototype's arguments).
"""

from __future__ import annotations

from pybpf.abi.profiles import LINUX_6_18
from pybpf.btf import Btf
from pybpf.runtime import Runtime
from pybpf.runtime.heap import Heap
from pybpf.runtime.kfuncs import kfunc_table

# the prototypes in Linux 6.18's BTF (and the bundled copy): (ctx, flags, ptr__uninit), (ptr, off, buf, sz)
ARITY = {"bpf_dynptr_from_skb": 3, "bpf_dynptr_from_xdp": 3, "bpf_dynptr_slice": 4, "bpf_dynptr_slice_rdwr": 4,
         "bpf_dynptr_clone": 2}


def test_arity_comes_from_btf() -> None:
    rt = Runtime(seed=1)
    table = kfunc_table(LINUX_6_18, rt.env, Heap(rt.memory, Btf()))
    assert {name: table[name].nargs for name in ARITY} == ARITY
