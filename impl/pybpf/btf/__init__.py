"""BTF, the kernel's type format: parse, write, query and dump it.

``parse(bytes)`` / ``load(path)`` give a ``Btf`` (``types`` by id, ``find``,
``resolve``, ``size_of``, ``member_offset``, ``decl_tags``...); ``write(btf)``
gives the bytes back; ``dump_raw`` prints what ``bpftool btf dump`` prints and
``dump_c`` a ``vmlinux.h``.  One module per concept: ``uapi`` (layouts),
``types`` (one dataclass per kind), ``parse``, ``write``, ``graph``, ``load``,
``dump_raw``, ``dump_c``.
"""

from pybpf.btf.dump_c import dump_c
from pybpf.btf.dump_raw import dump_raw
from pybpf.btf.errors import BtfError
from pybpf.btf.graph import Btf, DatasecVar, MemberInfo
from pybpf.btf.load import load
from pybpf.btf.parse import parse
from pybpf.btf.uapi import FuncLinkage, IntEncoding, Kind, VarLinkage
from pybpf.btf.write import write

__all__ = [
    "Btf",
    "BtfError",
    "DatasecVar",
    "FuncLinkage",
    "IntEncoding",
    "Kind",
    "MemberInfo",
    "VarLinkage",
    "dump_c",
    "dump_raw",
    "load",
    "parse",
    "write",
]
