"""Record the live kernel's whole level-1 and level-2 logs of the corpus into ``corpus/log_lines.json.gz``.

Only the kernel writes this recording (pybpf never does); ``test_log_lines.py`` compares
pybpf's logs with it line by line when ``bpf()`` is not usable.  Run as root on the
reference machine (Linux 6.18):
    /tmp/venv/bin/python tests/verifier/record_log_lines.py
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))

from _corpus import CORPUS, Program, load_corpus
from pybpf.harness.asmprog import load_in_kernel
from pybpf.kernel import available

LOG_LINES = CORPUS / "log_lines.json.gz"
MAX_LOG_CHARS = 200_000  # a longer log (a long loop walked to its end) is not worth keeping line by line


def record_program(p: Program) -> dict | None:
    """Both logs of ``p``, or None when it is heavy or a log is too long to keep."""
    if p.heavy:
        return None
    out = {}
    for level in (1, 2):
        res = load_in_kernel(p, level)
        if len(res.log) > MAX_LOG_CHARS:
            return None
        out[f"log{level}"] = res.log
    out["ok"] = res.ok
    return out


def record() -> dict:
    data: dict = {"_kernel": platform.release(), "programs": {}}
    for p in load_corpus():
        r = record_program(p)
        if r is not None:
            data["programs"][p.name] = r
    return data


def load_log_lines() -> dict:
    if not LOG_LINES.exists():
        return {}
    with gzip.open(LOG_LINES, "rt", encoding="utf-8") as f:
        return json.load(f)


def main() -> int:
    why = available()
    if why is not None:
        print(f"bpf() is not usable here: {why}", file=sys.stderr)
        return 1
    data = record()
    with gzip.open(LOG_LINES, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(data, f, indent=0, sort_keys=True)
    print(f"recorded {len(data['programs'])} programs' level-1 and level-2 logs from Linux {data['_kernel']} "
          f"into {LOG_LINES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
