"""Record the live kernel's verdicts on the corpus into ``corpus/recorded.json``.

Run as root on the reference machine (Linux 6.18):
    /tmp/venv/bin/python tests/verifier/record.py
"""

from __future__ import annotations

import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))

from _corpus import RECORDING, Program, load_corpus
from pybpf.harness.asmprog import load_in_kernel
from pybpf.kernel import available
from pybpf.kernel.vlog import verdict

_TAIL_LINES = 30


def run_kernel(p: Program, log_level: int) -> dict:
    """Load ``p`` in the kernel (creating its maps) and return what it said."""
    res = load_in_kernel(p, log_level)
    log, ok = res.log, res.ok
    stats = [ln for ln in log.splitlines() if ln.startswith("processed ")]
    fields = stats[-1].split() if stats else []
    return {"ok": ok, "errno": res.errno, "first_error": "" if ok else verdict(log),
            "insn_processed": int(fields[1]) if fields else -1, "stats": stats[-1] if stats else "", "log": log}


def _kept(result: dict) -> dict:
    """What the recording keeps: the level-1 log only as its last lines (a million-insn path is 16 MiB)."""
    return {**result, "log": "\n".join(result["log"].splitlines()[-_TAIL_LINES:])}


def record() -> dict[str, dict]:
    out = {"_kernel": platform.release()}
    for p in load_corpus():
        r = _kept(run_kernel(p, 1))
        if p.level2:
            r["log2"] = run_kernel(p, 2)["log"]
        out[p.name] = r
    return out


def main() -> int:
    why = available()
    if why is not None:
        print(f"bpf() is not usable here: {why}", file=sys.stderr)
        return 1
    data = record()
    RECORDING.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(data) - 1} programs from Linux {data['_kernel']} into {RECORDING}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
