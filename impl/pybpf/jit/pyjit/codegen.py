"""The Python module of one program: ``bind(rs, helpers, kfuncs) -> {entry slot: function}``.

Shape of the generated code (see ``PyJit.source()`` for a real one)::

    def bind(rs, helpers, kfuncs):
        memory = rs.memory; find = memory.find; ...    per-run values, as closure cells
        h5 = helpers.get(5)                            every helper id the program calls
        def f0(r1, r2, r3, r4, r5, n, loops, depth):   one function per subprogram entry
            r0 = r6 = r7 = r8 = r9 = None
            r10 = new_stack().end
            c12 = NO_REGION                            each memory access site's cached region
            b = 0
            while True:                                dispatch over chain labels (a bisection)
                if b < 9:
                    n += 4                             a chain: charged on entry
                    ...                                its slots; a side exit is
                    if r1 > r2:                            n -= deficit; b = label; continue
                else:
                    while True:                        a chain jumping back to itself loops here
                        ...
        return {0: f0, ...}

``n`` counts executed instructions and ``loops`` is may_goto's budget; both
travel through calls as arguments and results (and through ``RunState`` across
a helper call, for its callbacks).  ``depth`` is the frame depth (0 = main).
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.isa.opcodes import Kind
from pybpf.jit.pyjit.emit import Lines, Owner, SlotEmitter, helper_local
from pybpf.jit.pyjit.facts import Facts
from pybpf.jit.pyjit.layout import Chain, Subprogram, after, deficit, entries, subprogram

_MEMORY_KINDS = frozenset({Kind.LDX, Kind.LDXSX, Kind.ST, Kind.STX})
_PROLOGUE = """\
def bind(rs, helpers, kfuncs):
    memory = rs.memory
    find = memory.find
    check_aligned = memory.check_aligned
    fetch_update = memory.fetch_update
    compare_exchange = memory.compare_exchange
    load = memory.load
    store = memory.store
    new_stack = rs.new_stack
    drop_stack = rs.drop_stack
    ctx = rs.ctx"""


@dataclass(frozen=True)
class Generated:
    source: str
    owners: tuple[Owner | None, ...]  # by line number - 1
    entries: frozenset[int]


class _FunctionWriter:
    def __init__(self, facts: Facts, sub: Subprogram, out: Lines, budget: int, strict: bool):
        self.facts, self.sub, self.out = facts, sub, out
        self.slots = SlotEmitter(facts, out, budget, strict)
        self.loop_label: int | None = None  # label of the chain being written, if it loops
        self.in_loop = False

    def write(self) -> None:
        facts, entry = self.facts, self.sub.entry
        out = self.out
        out.add(1, f"def f{entry}(r1, r2, r3, r4, r5, n, loops, depth):")
        out.add(2, "r0 = r6 = r7 = r8 = r9 = None")
        out.add(2, "r10 = new_stack().end")
        sites = [pc for c in self.sub.chains for pc in c.pcs
                 if pc not in facts.faults and facts.spec(pc).kind in _MEMORY_KINDS]  # fmt: skip
        for pc in sites:
            out.add(2, f"c{pc} = NO_REGION; b{pc} = 0; d{pc} = b''")
        chains = self.sub.chains
        if len(chains) == 1:
            self.chain(chains[0], 2)
            return
        out.add(2, f"b = {entry}")
        out.add(2, "while True:")
        self.tree(list(chains), 3)

    def tree(self, chains: list[Chain], indent: int) -> None:
        if len(chains) == 1:
            self.chain(chains[0], indent)
            return
        mid = len(chains) // 2
        self.out.add(indent, f"if b < {chains[mid].label}:")
        self.tree(chains[:mid], indent + 1)
        self.out.add(indent, "else:")
        self.tree(chains[mid:], indent + 1)

    def chain(self, chain: Chain, indent: int) -> None:
        facts = self.facts
        looping = chain.label in self.sub.loops
        self.loop_label = chain.label if looping else None
        self.in_loop = looping
        if looping:
            self.out.add(indent, "while True:")
            indent += 1
        self.out.add(indent, f"n += {chain.charge}")
        known = self.sub.known[chain.label]
        for pc in chain.pcs:
            self.slots.owner = Owner(pc, deficit(facts, chain, pc))
            self.slots.slot(indent, pc, known, self.goto)
            known = after(known, facts, pc)
        last = chain.last
        if not facts.falls_through(last):
            return
        nxt = facts.next_pc(last)
        if facts.inside(nxt):
            self.goto(nxt, indent, False)
        else:
            self.slots.fault(indent, "fell off the end of the program: the last instruction must be exit or a jump",
                             facts.n - 1)  # fmt: skip

    def goto(self, target: int, indent: int, checked: bool) -> None:
        slots = self.slots
        if checked:
            slots.budget_check(indent)
        if slots.owner.deficit:
            slots.line(indent, f"n -= {slots.owner.deficit}")
        if target == self.loop_label:
            slots.line(indent, "continue")
        else:
            slots.line(indent, f"b = {target}")
            slots.line(indent, "break" if self.in_loop else "continue")


def generate(facts: Facts, *, budget: int, strict: bool, extra_entries: frozenset[int] = frozenset()) -> Generated:
    """The module text of ``facts``' program; ``extra_entries``: more slots to make functions of."""
    out = Lines()
    for line in _PROLOGUE.splitlines():
        out.add(0, line)
    helper_ids = sorted({facts.insns[pc].imm for pc in range(facts.n)
                         if pc not in facts.faults and facts.specs[pc] is not None
                         and facts.spec(pc).kind is Kind.CALL})  # fmt: skip
    for helper_id in helper_ids:
        out.add(1, f"{helper_local(helper_id)} = helpers.get({helper_id})")
    for pc in sorted(facts.kfuncs):
        out.add(1, f"k{pc} = kfuncs[{pc}]")
    starts = frozenset(entries(facts) | extra_entries)
    for entry in sorted(starts):
        _FunctionWriter(facts, subprogram(facts, entry), out, budget, strict).write()
    if not facts.n:
        out.add(1, "def f0(r1, r2, r3, r4, r5, n, loops, depth):")
        out.add(2, "r10 = new_stack().end")
        out.add(2, "raise VmFault('the program is empty', pc=0)", Owner(0, 0))
        starts = frozenset({0})
    out.add(1, "return {" + ", ".join(f"{e}: f{e}" for e in sorted(starts)) + "}")
    return Generated("\n".join(out.text) + "\n", tuple(out.owners), starts)
