"""pyjit: BPF programs translated to Python source, one function per subprogram (see ``codegen``)."""

from pybpf.jit.pyjit.jit import PyJit

__all__ = ["PyJit"]
