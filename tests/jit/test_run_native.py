"""``pybpf run --tier jit --jit-exec native``: x86_64 code on this CPU, only for what pybpf's verifier accepted.

The expected r0 comes from the XDP contract: ``data_end - data`` is the packet's length.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path

import pytest
from pybpf.cli.main import main
from pybpf.toolchain import compile_bpf_result

INCLUDE = Path(__file__).resolve().parents[2] / "examples"
MAP_OBJ = str(Path(__file__).resolve().parents[2] / "examples" / "xdp_count.bpf.o")

SOURCE = """
#include "bpf_defs.h"

SEC("xdp")
int pkt_len(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

SEC("xdp")
int oob(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	return data[100];  /* no data_end check: the verifier refuses it */
}

char _license[] SEC("license") = "GPL";
"""

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason=f"native runs need an x86_64 host, this is {platform.machine()}")


@pytest.fixture(scope="module")
def obj(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("native")
    src = out / "native.c"
    src.write_text(SOURCE)
    return str(compile_bpf_result(src, include_dirs=[INCLUDE], cache=None, output=out / "native.o").object)


@pytest.fixture
def packet(tmp_path: Path) -> str:
    path = tmp_path / "packet.bin"
    path.write_bytes(bytes(64))
    return str(path)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["run", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_native_run_gives_the_packet_length(capsys, obj, packet):
    pytest.importorskip("capstone")
    status, out, err = _run(capsys, obj, "--prog", "pkt_len", "--tier", "jit", "--jit-exec", "native",
                            "--data", packet, "--repeat", "3")
    assert (status, err) == (0, ""), err
    assert re.search(r"^r0: 64\b", out, re.M)
    emulated = _run(capsys, obj, "--prog", "pkt_len", "--tier", "jit", "--data", packet)
    assert emulated[0] == 0 and re.search(r"^r0: 64\b", emulated[1], re.M)
    counts = [re.search(r"^instructions: (\d+)", o, re.M).group(1) for o in (out, emulated[1])]
    assert counts[0] == counts[1]


def test_a_program_the_verifier_refuses_never_runs_natively(capsys, obj, packet):
    status, out, err = _run(capsys, obj, "--prog", "oob", "--tier", "jit", "--jit-exec", "native", "--data", packet)
    assert status == 1 and out == ""
    line, = err.strip().splitlines()
    assert "program 'oob' failed" in line and "outside of the packet" in line


def test_maps_are_refused_natively_in_one_line(capsys, packet):
    status, out, err = _run(capsys, MAP_OBJ, "--prog", "xdp_count", "--tier", "jit", "--jit-exec", "native",
                            "--data", packet)
    assert status == 2 and out == ""
    line, = err.strip().splitlines()
    assert "cannot run natively" in line and MAP_OBJ in line


def test_native_needs_the_jit_tier(capsys, obj):
    status, _, err = _run(capsys, obj, "--prog", "pkt_len", "--jit-exec", "native")
    assert status == 2 and "--jit-exec native needs --tier jit" in err
