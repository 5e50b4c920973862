"""Record the live kernel's verdicts on the corpus into ``corpus/recorded.json``.

Run as root on the reference machine (Linux 6.18):
    /tmp/venv/bin/python tests/verifier/record.py

``--unpriv`` records the unprivileged corpus (``corpus_unpriv/``) into
``corpus_unpriv/recorded.json``, each program loaded by a child that dropped
to ``nobody`` without capabilities.  That needs
``kernel.unprivileged_bpf_disabled=0``; ``--allow-sysctl`` sets it to 0 for
the recording and always puts the previous value back (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(__file__))

from _corpus import RECORDING, Program, load_corpus
from _unpriv_corpus import RECORDING_UNPRIV, load_unpriv_corpus
from pybpf.harness.asmprog import load_in_kernel
from pybpf.harness.verify import load_asm_unpriv
from pybpf.kernel import available
from pybpf.kernel.unpriv import UNPRIV_SYSCTL, read_sysctl, unpriv_available
from pybpf.kernel.vlog import verdict

_TAIL_LINES = 30


def run_kernel(p: Program, log_level: int, unpriv: bool = False) -> dict:
    """Load ``p`` in the kernel (creating its maps; ``unpriv``: from an unprivileged child) and return what it said."""
    res = load_asm_unpriv(p, log_level) if unpriv else load_in_kernel(p, log_level)
    log, ok = res.log, res.ok
    stats = [ln for ln in log.splitlines() if ln.startswith("processed ")]
    fields = stats[-1].split() if stats else []
    return {"ok": ok, "errno": res.errno, "first_error": "" if ok else verdict(log),
            "insn_processed": int(fields[1]) if fields else -1, "stats": stats[-1] if stats else "", "log": log}


def _kept(result: dict) -> dict:
    """What the recording keeps: the level-1 log only as its last lines (a million-insn path is 16 MiB)."""
    return {**result, "log": "\n".join(result["log"].splitlines()[-_TAIL_LINES:])}


def record(unpriv: bool = False) -> dict[str, dict]:
    out = {"_kernel": platform.release()}
    for p in load_unpriv_corpus() if unpriv else load_corpus():
        r = _kept(run_kernel(p, 1, unpriv))
        if p.level2:
            r["log2"] = run_kernel(p, 2, unpriv)["log"]
        out[p.name] = r
    return out


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def unprivileged_bpf_enabled() -> Iterator[None]:
    """kernel.unprivileged_bpf_disabled=0 for the block, the previous value back after it, whatever happens.

    Only 0 and the previous value are ever written: 1 could not be undone before a reboot.
    """
    before = read_sysctl()
    if before is None:
        raise OSError(f"cannot read {UNPRIV_SYSCTL}")
    if before == 1:
        raise OSError("kernel.unprivileged_bpf_disabled=1 cannot be lowered before a reboot")
    old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if before != 0:
            UNPRIV_SYSCTL.write_text("0\n")
        yield
    finally:
        if before != 0:
            UNPRIV_SYSCTL.write_text(f"{before}\n")
        signal.signal(signal.SIGTERM, old_term)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--unpriv", action="store_true", help="record the unprivileged corpus (corpus_unpriv/)")
    ap.add_argument("--allow-sysctl", action="store_true",
                    help="with --unpriv: set kernel.unprivileged_bpf_disabled=0 while recording, then restore it")
    args = ap.parse_args(argv)
    why = available()
    if why is not None:
        print(f"bpf() is not usable here: {why}", file=sys.stderr)
        return 1
    if not args.unpriv:
        data = record()
        RECORDING.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(data) - 1} programs from Linux {data['_kernel']} into {RECORDING}")
        return 0
    if args.allow_sysctl and read_sysctl() != 0:
        with unprivileged_bpf_enabled():
            return _record_unpriv()
    return _record_unpriv()


def _record_unpriv() -> int:
    why = unpriv_available()
    if why is not None:
        print(f"cannot load as an unprivileged process: {why} (see --allow-sysctl)", file=sys.stderr)
        return 1
    data = record(unpriv=True)
    RECORDING_UNPRIV.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(data) - 1} unprivileged programs from Linux {data['_kernel']} into {RECORDING_UNPRIV}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
