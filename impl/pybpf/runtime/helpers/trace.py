"""Tracing helpers: trace_printk (6), probe_read/_kernel/_str (4, 113, 115), perf_event_output (25),
get_stackid (27), get_stack (67).

The runtime has no kernel memory: a probe read copies guest memory where the
runtime backs the address; where it does not, the destination is zeroed and the
error is the kernel's for that address (-ERANGE for a kernel read of a user
address, as the runtime's are, else -EFAULT).  No run has a call stack
to sample, so the stack helpers answer as the kernel does when it gets no
callchain (-EFAULT).  No perf event can be opened on a runtime map slot, so
perf_event_output finds none (-ENOENT).
"""

from __future__ import annotations

import errno as errnos
import re
from dataclasses import dataclass

from pybpf.errors import VmFault
from pybpf.runtime.context import ExecEnv
from pybpf.vm.helpers import HelperContext
from pybpf.vm.memory import Memory

MAX_PRINTF_ARGS = 3  # trace_printk's: fmt, fmt_size and three values
MAX_STRING = 512  # what a %s may copy (the kernel's bprintf buffer)
BPF_F_INDEX_MASK = 0xFFFFFFFF
BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK
BPF_F_SKIP_FIELD_MASK = 0xFF
BPF_F_USER_STACK = 1 << 8
BPF_F_FAST_STACK_CMP = 1 << 9
BPF_F_REUSE_STACKID = 1 << 10
BPF_F_USER_BUILD_ID = 1 << 11
STACKID_FLAGS = BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID
STACK_FLAGS = BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID
KERNEL_HALF = 0xFFFF800000000000  # x86-64's first canonical kernel address (4-level paging)
STACK_ELEM, BUILD_ID_ELEM = 8, 32  # sizeof(u64) and sizeof(struct bpf_stack_build_id)

# One conversion: flags, width, length modifier, conversion (and %p's extension).
_SPEC = re.compile(rb"%([-+ 0]*)([1-9][0-9]*)?(ll|l|z|h|hh)?([diuxXcs%]|p[Kxs]?)")


@dataclass(frozen=True)
class _Conversion:
    flags: str
    width: int
    length: bytes
    kind: bytes


def _conversions(fmt: bytes) -> list[tuple[int, int, _Conversion]] | None:
    """The conversions of ``fmt`` as (start, end, conversion), None if it has one trace_printk refuses."""
    found, at = [], 0
    while (start := fmt.find(b"%", at)) >= 0:
        m = _SPEC.match(fmt, start)
        if m is None or m.group(3) in (b"h", b"hh"):
            return None
        flags, width, length, kind = m.groups()
        found.append((start, m.end(), _Conversion(flags.decode(), int(width or 0), length or b"", kind)))
        at = m.end()
    return found


def _integer(conv: _Conversion, value: int) -> str:
    bits = 64 if conv.length else 32
    value &= (1 << bits) - 1
    if conv.kind in (b"d", b"i") and value >> (bits - 1):
        value -= 1 << bits
    text = {b"x": f"{value:x}", b"X": f"{value:X}"}.get(conv.kind, str(value))
    if conv.kind in (b"d", b"i") and value >= 0 and ("+" in conv.flags or " " in conv.flags):
        text = ("+" if "+" in conv.flags else " ") + text
    return text


def _pad(conv: _Conversion, text: str) -> str:
    if "-" in conv.flags:
        return text.ljust(conv.width)
    if "0" in conv.flags and conv.kind not in (b"s", b"c"):
        sign = text[0] if text[:1] in ("-", "+", " ") else ""
        return sign + text[len(sign):].rjust(conv.width - len(sign), "0")
    return text.rjust(conv.width)


def _unsafe_string(memory: Memory, addr: int, limit: int) -> bytes | None:
    """The NUL-terminated string at ``addr`` (at most ``limit - 1`` bytes), None where memory is not backed."""
    out = bytearray()
    while len(out) < limit - 1:
        try:
            byte = memory.read(addr + len(out), 1)
        except VmFault:
            return None
        if byte == b"\0":
            break
        out += byte
    return bytes(out)


def _render(memory: Memory, conv: _Conversion, value: int) -> str:
    if conv.kind == b"%":
        return "%"
    if conv.kind == b"c":
        return _pad(conv, chr(value & 0xFF))
    if conv.kind in (b"s", b"ps"):
        text = _unsafe_string(memory, value, MAX_STRING) or b""  # an unreadable string prints as empty
        return _pad(conv, text.decode("latin-1"))
    if conv.kind.startswith(b"p"):
        return _pad(conv, f"{value & (1 << 64) - 1:016x}")
    return _pad(conv, _integer(conv, value))


def format_trace(memory: Memory, fmt: bytes, args: tuple[int, ...]) -> str | None:
    """``fmt`` (up to its NUL) with ``args``, as trace_printk prints it; None when the kernel says -EINVAL."""
    fmt = fmt.split(b"\0", 1)[0]
    if any(not (32 <= b < 127 or b in b"\t\n\v\f\r") for b in fmt):
        return None
    convs = _conversions(fmt)
    if convs is None or sum(c.kind != b"%" for _, _, c in convs) > MAX_PRINTF_ARGS:
        return None
    out, at, next_arg = [], 0, 0
    for start, end, conv in convs:
        out.append(fmt[at:start].decode())
        value = 0
        if conv.kind != b"%":
            value, next_arg = args[next_arg], next_arg + 1
        out.append(_render(memory, conv, value))
        at = end
    out.append(fmt[at:].decode())
    return "".join(out)


def trace_printk(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The formatted text goes to ``env.trace``; returns its length, -EINVAL for a format the kernel refuses
    (no NUL within ``fmt_size``, an unknown conversion, more than three values)."""
    fmt = ctx.memory.read(r1, r2 & 0xFFFFFFFF)
    if b"\0" not in fmt:
        return -errnos.EINVAL
    text = format_trace(ctx.memory, fmt, (r3, r4, r5))
    if text is None:
        return -errnos.EINVAL
    env.trace.append(text)
    return len(text.encode("latin-1"))


def _unbacked(addr: int, size: int, kernel: bool) -> int:
    """The errno of a probe read the runtime cannot back: a kernel read of a user-half or non-canonical
    address is refused before it is tried (-ERANGE, x86-64), anything else faults (-EFAULT)."""
    if kernel and not KERNEL_HALF <= addr <= (1 << 64) - max(size, 1):
        return -errnos.ERANGE
    return -errnos.EFAULT


def _probe(ctx: HelperContext, dst: int, size: int, src: int, kernel: bool) -> int:
    size &= 0xFFFFFFFF
    try:
        data = ctx.memory.read(src, size)
    except VmFault:
        ctx.memory.write(dst, bytes(size))
        return _unbacked(src, size, kernel)
    ctx.memory.write(dst, data)
    return 0


def probe_read(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The old helper reads user memory below the kernel half on x86-64, so a bad address there is -EFAULT."""
    return _probe(ctx, r1, r2, r3, r3 >= KERNEL_HALF)


def probe_read_kernel(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return _probe(ctx, r1, r2, r3, True)


def probe_read_kernel_str(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Copies the string with its NUL (cut to ``size - 1`` bytes); returns the bytes copied, NUL included."""
    size = r2 & 0xFFFFFFFF
    if size == 0:
        return 0
    text = _unsafe_string(ctx.memory, r3, size)
    if text is None:
        ctx.memory.write(r1, bytes(size))
        return _unbacked(r3, 1, True)
    ctx.memory.write(r1, text + b"\0")
    return len(text) + 1


def perf_event_output(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    m = env.map_arg(r2, "bpf_perf_event_output", reg=2)
    ctx.memory.read(r4, r5 & 0xFFFFFFFF)  # the sample must be readable, as the kernel copies it
    if r3 & ~BPF_F_INDEX_MASK & (1 << 64) - 1:
        return -errnos.EINVAL
    index = env.state.cpu if r3 & BPF_F_INDEX_MASK == BPF_F_CURRENT_CPU else r3 & BPF_F_INDEX_MASK
    if index >= m.max_entries:
        return -errnos.E2BIG
    return -errnos.ENOENT  # no perf event is open on any slot: the runtime cannot open one


def get_stackid(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    env.map_arg(r2, "bpf_get_stackid", reg=2)
    if r3 & ~STACKID_FLAGS & (1 << 64) - 1:
        return -errnos.EINVAL
    return -errnos.EFAULT  # no callchain


def get_stack(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The buffer is zeroed; -EINVAL for bad flags or a size not a whole number of entries, else -EFAULT."""
    size = r3 & 0xFFFFFFFF
    ctx.memory.write(r2, bytes(size))
    build_id = bool(r4 & BPF_F_USER_BUILD_ID)
    if r4 & ~STACK_FLAGS & (1 << 64) - 1 or (build_id and not r4 & BPF_F_USER_STACK):
        return -errnos.EINVAL
    if size % (BUILD_ID_ELEM if build_id else STACK_ELEM):
        return -errnos.EINVAL
    return -errnos.EFAULT  # no callchain
