"""The BPF instruction set: opcode table, codec, validation, kernel and conformance syntaxes."""

from pybpf.isa.asmsyntax import assemble, to_conformance_asm
from pybpf.isa.disasm import BPFTOOL, VERIFIER_LOG, Symbols, disassemble, format_insn, format_insn_line
from pybpf.isa.insn import Insn, decode_program, encode_program, imm64, ld_imm64
from pybpf.isa.opcodes import OPCODES, OpSpec, lookup
from pybpf.isa.validate import insn_spec, validate_insn, validate_program

__all__ = [
    "BPFTOOL",
    "OPCODES",
    "VERIFIER_LOG",
    "Insn",
    "OpSpec",
    "Symbols",
    "assemble",
    "decode_program",
    "disassemble",
    "encode_program",
    "format_insn",
    "format_insn_line",
    "imm64",
    "insn_spec",
    "ld_imm64",
    "lookup",
    "to_conformance_asm",
    "validate_insn",
    "validate_program",
]
