"""What generated code calls that is not worth inlining: helper calls, stacks, legacy packet loads.

Each function keeps the interpreter's behaviour and wording (``vm.ops_jump``,
``vm.ops_mem``, ``vm.machine``), since a program must fault the same way on
either tier.  ``RunState`` is the little a run shares between its generated
functions beyond their locals: the guest memory, the stacks it mapped, and the
counters a helper's callback continues from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybpf.errors import VmFault
from pybpf.vm.helpers import Helper, HelperContext, HelperTable, ProgramExit
from pybpf.vm.machine import MAX_CALL_FRAMES, MAX_LOOPS, uninit_message
from pybpf.vm.memory import M64, Memory, Region, RegionKind
from pybpf.vm.ops_alu import to_signed


@dataclass
class RunState:
    memory: Memory
    helpers: HelperTable
    stack_size: int
    ctx: HelperContext = field(init=False)
    stacks: list[Region] = field(default_factory=list)
    # synced around helper calls only, so that a callback continues the caller's counts
    count: int = 0
    loops: int = MAX_LOOPS
    depth: int = 0

    def __post_init__(self) -> None:
        self.ctx = HelperContext(self.memory)

    def new_stack(self) -> Region:
        """Map a fresh zeroed stack for a new frame (named as the interpreter names it)."""
        depth = len(self.stacks)
        name = "stack" if depth == 0 else f"stack of frame {depth}"
        region = self.memory.add(RegionKind.STACK, bytearray(self.stack_size), name=name)
        self.stacks.append(region)
        return region

    def drop_stack(self) -> None:
        self.memory.remove(self.stacks.pop())

    def release(self) -> None:
        while self.stacks:
            self.drop_stack()


def too_deep(depth: int) -> VmFault:
    """The fault of a call made at frame ``depth`` (0 = main) when no frame is left."""
    return VmFault(f"the call stack of {depth + 2} frames is too deep (at most {MAX_CALL_FRAMES})")


def call_helper(helper: Helper, ctx: HelperContext, r1: int | None, r2: int | None, r3: int | None,
                r4: int | None, r5: int | None) -> int:  # fmt: skip
    """r0 of ``helper`` called with r1..r5 (what ``vm.ops_jump.invoke_helper`` does)."""
    args = (r1, r2, r3, r4, r5)
    for n in range(helper.nargs):
        if args[n] is None:
            raise VmFault(f"{uninit_message(1 + n)}; helper {helper.id} ({helper.name}) reads it")
    try:
        result = helper.fn(ctx, *(0 if a is None else a for a in args))
    except (ProgramExit, VmFault):
        raise
    except Exception as exc:  # a helper's own bug must not escape as a Python exception
        raise VmFault(f"helper {helper.id} ({helper.name}) failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, int):
        raise VmFault(f"helper {helper.id} ({helper.name}) returned {type(result).__name__}, not an integer")
    return result & M64


def callx_helper(helpers: HelperTable, value: int, d: int) -> Helper:
    helper_id = value & M64
    helper = helpers.get(helper_id)
    if helper is None:
        raise VmFault(f"callx r{d}: r{d} = {helper_id:#x} is not a known helper id")
    return helper


def ld_packet(memory: Memory, name: str, size: int, base: int | None, imm: int) -> int:
    """The big-endian value at packet offset ``imm`` (+ ``base`` for ld_ind, as a signed 32-bit sum);
    outside the packet ends the program with r0 = 0."""
    packets = memory.of_kind(RegionKind.PACKET)
    if len(packets) != 1:
        raise VmFault(f"{name} reads the packet, but the memory has {len(packets)} packet regions, not 1")
    offset = imm if base is None else to_signed(base + imm, 32)
    packet = packets[0]
    if offset < 0 or offset + size > packet.size:
        raise ProgramExit(0)
    return int.from_bytes(packet.data[offset : offset + size], "big")
