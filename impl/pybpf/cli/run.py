"""``pybpf run OBJ --prog P [--tier interp|pyjit|jit] [--arch A] [--jit-exec emulate|native]
[--data FILE|--ctx FILE] [--repeat N]``.

Loads the object into pybpf's runtime (as ``pybpf load --target pybpf``) and
has pybpf's verifier judge the program: a refused one does not run (its reason,
exit 1), one the verifier cannot judge at all runs unverified.  Then it runs
the program on the chosen executor ``N`` times and prints its r0, the mean
time of a run and the BPF instructions it executed (every tier counts them:
machine code only when asked, as here, with an add per basic block).  Without
``--data`` or ``--ctx`` the input is empty.  Exit status: 0 the program ran,
1 it was refused or faulted (one line naming the pc and instruction), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from pybpf.errors import DataFileError, InputError, VmFault
from pybpf.jit.tiers import ARCHES, JitExec, Tier, executor_factory, host_arch, native_factory
from pybpf.vm.interp import DEFAULT_BUDGET

EXIT_OK, EXIT_FAULT, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run one program of a BPF object on pybpf's interpreter, pyjit or a machine-code JIT",
        description="Load an object into pybpf's runtime and test-run one program: r0, mean duration, "
                    "instructions executed.")
    parser.add_argument("object", metavar="OBJ", help="a BPF ELF object (clang -target bpf)")
    parser.add_argument("--prog", required=True, metavar="P", help="the program's name (or section)")
    parser.add_argument("--tier", choices=[t.value for t in Tier], default=Tier.INTERP.value,
                        help="interp: the interpreter; pyjit: BPF translated to Python; "
                             "jit: our machine-code back-end for --arch, run under unicorn (default: interp)")
    parser.add_argument("--arch", choices=ARCHES, default=None,
                        help=f"the back-end of --tier jit (default: this host's, {host_arch()})")
    parser.add_argument("--jit-exec", choices=[e.value for e in JitExec], default=JitExec.EMULATE.value,
                        help="with --tier jit: emulate (under unicorn, every access checked; default) or native "
                             "(x86_64 code on this CPU through W^X pages, only for a program pybpf's verifier "
                             "accepted, and without maps)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="FILE", help="the packet (raw bytes) the program runs on")
    source.add_argument("--ctx", metavar="FILE", help="the context (raw bytes) the program gets in r1")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="runs to average over (default 1)")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, metavar="N",
                        help="stop a run (a fault, exit 1) after N BPF instructions: a program that does not "
                             f"terminate cannot hang the command (default {DEFAULT_BUDGET}; interp and pyjit)")
    parser.set_defaults(func=run)


def _read(path: str | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise DataFileError(f"cannot read the {what}: {err.strerror}", file=path) from None


def run(args: argparse.Namespace) -> int:
    from pybpf.api import ACCEPTED, judge, open_object
    from pybpf.runtime.instantiate import instantiate
    from pybpf.runtime.runtime import Runtime

    if args.repeat < 1:
        raise InputError(f"--repeat must be at least 1, not {args.repeat}")
    if args.budget < 1:
        raise InputError(f"--budget must be at least 1, not {args.budget}")
    if args.arch is not None and args.tier != Tier.JIT:
        raise InputError(f"--arch {args.arch} needs --tier jit (the {args.tier} tier runs no machine code)")
    native = args.jit_exec == JitExec.NATIVE
    if native and (args.tier != Tier.JIT or args.arch not in (None, "x86_64")):
        raise InputError("--jit-exec native needs --tier jit on the x86_64 back-end")
    data, ctx = _read(args.data, "packet") or b"", _read(args.ctx, "context")
    opened = open_object(args.object)
    _check_program(opened.programs, args.prog, args.object)
    name = next(n for n, p in opened.programs.items() if args.prog in (n, p.section))
    judged = judge(opened.object, opened.programs[name])
    if not judged.runnable:  # as the kernel, the runtime runs only what its verifier accepted
        print(f"pybpf: {args.object}: program '{name}' {judged.verdict}", file=sys.stderr)
        return EXIT_FAULT
    if native:
        factory = native_factory(verified=judged.verdict == ACCEPTED, count_insns=True)
    else:
        factory = executor_factory(args.tier, args.arch, count_insns=True)
    runtime = Runtime(executor=factory, budget=args.budget)
    with instantiate(opened.object, programs=[args.prog], runtime=runtime) as inst:
        prog = next(p for p in inst.programs.values() if args.prog in (p.name, p.section))
        if not prog.ok:
            raise InputError(f"program '{prog.name}' cannot run on the {_tier_name(args)} tier: {prog.message}",
                             file=args.object)
        try:
            result = prog.run(data, ctx, args.repeat)
        except VmFault as fault:
            print(f"pybpf: fault: {args.object}: {fault}", file=sys.stderr)
            return EXIT_FAULT
        except InputError as err:  # an input the test run refuses (an skb run's packet shorter than 14 bytes)
            raise err.located(file=args.data or args.ctx or args.object) from None
    runs = "1 run" if args.repeat == 1 else f"{args.repeat} runs"
    print(f"r0: {result.retval} ({result.retval:#x})")
    print(f"duration: {result.duration_ns} ns (mean of {runs})")
    if result.insns_executed is None:
        print("instructions: not counted (machine code does not count BPF instructions)")
    else:
        print(f"instructions: {result.insns_executed} (last run)")
    return EXIT_OK


def _tier_name(args: argparse.Namespace) -> str:
    if args.tier != Tier.JIT:
        return args.tier
    return "jit (x86_64, native)" if args.jit_exec == JitExec.NATIVE else f"jit ({args.arch or host_arch()})"


def _check_program(programs: dict, name: str, path: str) -> None:
    if not any(name in (p.name, p.section) for p in programs.values()):
        raise InputError(f"no program '{name}' (programs: {', '.join(programs) or 'none'})", file=path)
