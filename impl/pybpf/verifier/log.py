"""The verifier log (kernel/bpf/log.c): a text buffer that can be rewound, and the state printers.

Level 1 keeps the path that failed: popping a pushed branch rewinds the log to
where it stood when the branch was pushed; after a success only the statistics
line remains.  Level 2 keeps everything.  Instruction lines get the registers
and stack slots the instruction touched ("scratched") as a ``; R0=0`` comment,
aligned like the kernel does (at column 40, or further at a multiple of 8).
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Sequence

from pybpf.obj.model import LineInfo
from pybpf.verifier.locks import format_refs
from pybpf.verifier.regs import MAX_BPF_REG, RegType, format_reg
from pybpf.verifier.stack import SLOT_CHARS, SlotType, dynptr_str, iter_str
from pybpf.verifier.state import FuncState, VerifierState

LOG_LEVEL1 = 1
LOG_LEVEL2 = 2
_ALIGN = 40
_MIN_ALIGN = 8


def vlog_alignment(pos: int) -> int:
    """Width of the padding after an instruction text of ``pos`` characters (newline included).

    Column 40 at least; a longer line goes to the next multiple of 8 that leaves half of 8 spare.
    """
    return -(-max(pos + _MIN_ALIGN // 2, _ALIGN) // _MIN_ALIGN) * _MIN_ALIGN - pos - 1


class VerifierLog:
    """bpf_verifier_log: ``level`` 0 keeps nothing."""

    def __init__(self, level: int) -> None:
        self.level = level
        self._buf = io.StringIO()
        self.prev_log_pos = 0
        self.prev_insn_print_pos = 0
        self.scratched_regs = 0
        self.scratched_stack = 0
        self._linfo: list[LineInfo] = []
        self._linfo_offs: list[int] = []
        self.prev_linfo: LineInfo | None = None

    def set_line_info(self, records: Sequence[LineInfo]) -> None:
        self._linfo = sorted(records, key=lambda r: r.insn_off)
        self._linfo_offs = [r.insn_off for r in self._linfo]

    def linfo(self, insn_idx: int, prefix: str) -> None:
        """verbose_linfo: the source line of ``insn_idx`` (``; r0 = 0; @ prog.c:12``) when it is a new line.

        The record covering an instruction is the last one at or before it; one naming the same file and
        line as the previous one printed is not printed again (it differs only by column).
        """
        if not self.level or not self._linfo:
            return
        k = bisect.bisect_right(self._linfo_offs, insn_idx) - 1
        linfo = self._linfo[max(k, 0)]
        prev = self.prev_linfo
        if linfo is prev or (prev is not None and linfo.file_name == prev.file_name and linfo.line == prev.line):
            return
        fname = linfo.file_name.rsplit("/", 1)[-1]
        self._buf.write(f"{prefix}{linfo.line_text.lstrip()} @ {fname}:{linfo.line}\n")
        self.prev_linfo = linfo

    @property
    def end_pos(self) -> int:
        return self._buf.tell()

    def write(self, text: str) -> None:
        if self.level:
            self._buf.write(text)

    def reset(self, pos: int) -> None:
        """bpf_vlog_reset: forget everything written after ``pos``."""
        if self.level and pos < self._buf.tell():
            self._buf.seek(pos)
            self._buf.truncate()

    def text(self) -> str:
        return self._buf.getvalue()

    # ------------------------------------------------------------ scratch marks

    def scratch_reg(self, regno: int) -> None:
        self.scratched_regs |= 1 << regno

    def scratch_stack(self, spi: int) -> None:
        self.scratched_stack |= 1 << spi

    def scratched(self) -> bool:
        return bool(self.scratched_regs or self.scratched_stack)

    def clean(self) -> None:
        self.scratched_regs = 0
        self.scratched_stack = 0

    def mark_all_scratched(self) -> None:
        self.scratched_regs = (1 << MAX_BPF_REG) - 1
        self.scratched_stack = -1

    # ------------------------------------------------------------ printing

    def func_state(self, f: FuncState, print_all: bool, refs: str = "") -> str:
        """print_verifier_state for one frame: `` R0=0 R10=fp0 fp-8=mmmmmmmm`` (each item after a space).

        ``refs`` (`` refs=1,2``, the state's) goes after the stack, before the callback marks.
        """
        out = []
        if f.frameno:
            out.append(f" frame{f.frameno}:")
        # the wanted registers and slots as bits, walked lowest first: a line usually shows one or two
        regs = f.regs
        mask = (1 << len(regs)) - 1
        if not print_all:
            mask &= self.scratched_regs
        while mask:
            low = mask & -mask
            mask ^= low
            i = low.bit_length() - 1
            r = regs[i]
            if r.type != RegType.NOT_INIT:
                out.append(f" R{i}={format_reg(r, f.frameno)}")
        mask = -1 if print_all else self.scratched_stack
        if mask:
            mask &= (1 << len(f.stack)) - 1
        while mask:
            low = mask & -mask
            mask ^= low
            spi = low.bit_length() - 1
            slot = f.stack[spi]
            off = -(spi + 1) * 8
            if slot.is_spilled_reg():
                # a narrow spill shows the other bytes' marks first (``fp-8=????7``)
                rest = "".join(SLOT_CHARS[t] for t in slot.slot_type if t != SlotType.STACK_SPILL)
                out.append(f" fp{off}={rest}{format_reg(slot.spilled_ptr, f.frameno)}")
            elif SlotType.STACK_ITER in slot.slot_type:
                if slot.spilled_ptr.ref_obj_id:  # an iterator shows once, at its first slot (verifier/iters.py)
                    out.append(f" fp{off}={iter_str(slot.spilled_ptr)}")
            elif SlotType.STACK_DYNPTR in slot.slot_type:
                if slot.spilled_ptr.range == 1:  # a dynptr shows once, at its first slot (verifier/dynptr.py)
                    out.append(f" fp{off}={dynptr_str(slot.spilled_ptr)}")
            elif not slot.all_invalid():
                out.append(f" fp{off}={slot.types_str()}")
        out.append(refs)
        if f.in_callback_fn:
            out.append(" cb")
        if f.in_async_callback_fn:
            out.append(" async_cb")
        return "".join(out)

    def state_line(self, st: VerifierState, print_all: bool) -> str:
        # the held lock counts as a reference; most states hold neither
        refs = format_refs(st) if st.refs or st.active_lock is not None else ""
        return self.func_state(st.cur, print_all, refs)

    def frame_line(self, st: VerifierState, frame: int | FuncState) -> str:
        """A frame of ``st`` (by number, or one just popped) with everything in it and ``st``'s references,
        scratch marks left alone (a checkpoint's state, a call's caller and callee)."""
        f = st.frames[frame] if isinstance(frame, int) else frame
        return self.func_state(f, True, format_refs(st) if st.refs or st.active_lock is not None else "")

    def print_verifier_state(self, st: VerifierState, print_all: bool) -> None:
        if self.level:
            self._buf.write(self.state_line(st, print_all) + "\n")
        self.clean()

    def print_insn_state(self, st: VerifierState, insn_idx: int) -> None:
        """The state after an instruction: as a comment on its line, or as ``N:`` on a line of its own."""
        if self.level:  # runs once per instruction at level 1: the buffer is used directly
            buf = self._buf
            pos = self.prev_log_pos
            if pos and pos == buf.tell():
                buf.seek(pos - 1)  # the instruction line's newline gives way to the comment
                buf.truncate()
                head = " " * vlog_alignment(self.prev_insn_print_pos) + ";"
            else:
                head = f"{insn_idx}:"
            buf.write(head + self.state_line(st, False) + "\n")
        self.clean()

    def insn_line(self, text: str) -> None:
        """An instruction line (``text`` is ``format_insn_line``'s)."""
        buf = self._buf
        start = buf.tell()
        if self.level:
            buf.write(text + "\n")
        end = buf.tell()
        self.prev_insn_print_pos = end - start
        self.prev_log_pos = end
