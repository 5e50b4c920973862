"""bench/lists.py runs end to end on a small N: every target's sum is N (N - 1) / 2 and no object outlives a run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "lists.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_lists", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_bench_lists_small(capsys) -> None:
    assert _bench().main(["--n", "4", "--seconds", "0.01", "--tiers", "interp,pyjit"]) == 0
    out = capsys.readouterr().out
    assert "list ops/s" in out
    lines = {line.split()[0]: line for line in out.splitlines()[3:] if line.strip()}
    assert "peak 4 objects" in lines["interp"] and "peak 4 objects" in lines["pyjit"]
    assert "kernel" in lines  # measured, or skipped with the reason
