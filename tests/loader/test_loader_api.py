"""The public API (``pybpf.open_object`` ... ``loaded.maps[...]``) on both targets; ``import pybpf`` stays cheap."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest
from _loader_helpers import EXAMPLES, PROGS
from pybpf.errors import InputError, PybpfError

ETHERTYPE_IPV4 = b"\x08\x00"
IPV4_FRAME = bytes(12) + ETHERTYPE_IPV4 + bytes(50)
ARP_FRAME = bytes(12) + b"\x08\x06" + bytes(28)
KEY_IPV4 = int.from_bytes(ETHERTYPE_IPV4, "little")  # the program keys by the two bytes as they sit
KEY_ARP = int.from_bytes(b"\x08\x06", "little")
XDP_PASS = 2


@pytest.fixture(params=["pybpf", pytest.param("kernel", marks=pytest.mark.kernel)])
def target(request) -> str:
    """Each test runs on both targets; the kernel one skips, saying why, without bpf()."""
    if request.param == "kernel":
        request.getfixturevalue("live")
    return request.param


def test_the_ten_line_example(target, xdp_count_obj):
    import pybpf

    obj = pybpf.open_object(xdp_count_obj)
    with obj.load(target=target) as loaded:
        prog = loaded.programs["xdp_count"]
        result = prog.run(data=IPV4_FRAME, repeat=3)
        prog.run(data=ARP_FRAME)
        assert result.retval == XDP_PASS
        assert result.data_out == IPV4_FRAME  # the program does not touch the packet
        assert dict(loaded.maps["counts"].items()) == {KEY_IPV4: 3, KEY_ARP: 1}
        assert loaded.globals["packets"] == 4
        assert loaded.globals["bytes"] == 3 * len(IPV4_FRAME) + len(ARP_FRAME)


def test_maps_take_ints_or_bytes(target, xdp_count_obj):
    import pybpf

    with pybpf.open_object(xdp_count_obj).load(target=target) as loaded:
        counts = loaded.maps["counts"]
        counts.update(7, 70)
        counts[b"\x09\x00\x00\x00"] = (90).to_bytes(8, "little")
        assert counts.lookup(7) == 70 and counts[9] == 90
        assert counts.lookup(8) is None and 8 not in counts
        assert sorted(counts.keys()) == [7, 9]
        assert counts.delete(7) and not counts.delete(7)
        with pytest.raises(InputError, match="key must be 4 bytes"):
            counts.lookup(b"\x01")
        with pytest.raises(KeyError):
            counts[12345]


def test_globals_and_rodata(target, build):
    import pybpf

    with pybpf.open_object(build(PROGS / "globals.c")).load(target=target) as loaded:
        assert loaded.globals["counter"] == 0x1122334455667788
        assert loaded.globals["limit"] == 1500
        assert loaded.globals["greeting"] == b"hello\0"
        assert loaded.globals["custom"] == 7
        loaded.globals["counter"] = 5
        assert loaded.globals["counter"] == 5
        with pytest.raises(PybpfError, match="EPERM"):  # frozen: the kernel and the runtime both say EPERM
            loaded.globals["limit"] = 1


@pytest.mark.kernel
@pytest.mark.usefixtures("live")
def test_kernel_task_values_through_the_api(task_info_obj):
    import os

    import pybpf

    with pybpf.open_object(task_info_obj).load(target="kernel") as loaded:
        assert loaded.programs["task_info"].run().retval == 42
        assert (loaded.globals["pid"], loaded.globals["tgid"], loaded.globals["found_tgid"]) == (os.getpid(),) * 3


def test_pybpf_target_verifies_before_it_runs(xdp_count_obj):
    import pybpf

    with pybpf.open_object(xdp_count_obj).load(target="pybpf") as loaded:
        prog = loaded.programs["xdp_count"]
        assert (prog.verdict, prog.ok, prog.log) == ("accepted", True, "")
    with pybpf.open_object(xdp_count_obj).load(target="pybpf", log_level=2) as loaded:
        assert "processed" in loaded.programs["xdp_count"].log


def test_kfunc_programs_need_the_kernel_target(task_info_obj):
    import pybpf

    with pybpf.open_object(task_info_obj).load(target="pybpf") as loaded:
        prog = loaded.programs["task_info"]
        assert not prog.ok
        assert prog.verdict.startswith("failed: kfunc call 'bpf_task_from_pid'")
        with pytest.raises(InputError, match="is not loaded"):
            prog.run()


def test_unknown_target_is_refused(xdp_count_obj):
    import pybpf

    with pytest.raises(InputError, match="unknown target 'qemu'"):
        pybpf.open_object(xdp_count_obj).load(target="qemu")


def test_compile_and_open(tmp_path):
    import pybpf

    obj = pybpf.compile_and_open(EXAMPLES / "xdp_count.c", output=tmp_path / "x.o")
    assert list(obj.programs) == ["xdp_count"]
    assert [m.real_name for m in obj.maps.values()] == ["counts", ".bss", ".rodata"]


def test_import_pybpf_does_not_import_the_api():
    code = "import sys, pybpf; print('pybpf.api' in sys.modules, 'pybpf.obj' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("target", ["pybpf", pytest.param("kernel", marks=pytest.mark.kernel)])
def test_the_example_script(target, request):
    if target == "kernel":
        request.getfixturevalue("live")
    script = EXAMPLES / "xdp_count.py"
    out = subprocess.run([sys.executable, str(script), target], capture_output=True, text=True, check=True,
                         cwd="/").stdout
    verdict = "accepted" if target == "pybpf" else "loaded"
    assert out.splitlines() == [verdict, "2 2", "{'0x8': 3, '0x608': 1}", f"4 {3 * 64 + 42}"]


def test_pybpf_target_refuses_what_the_verifier_refuses(build):
    """The kernel's verdicts on mixed_verdicts.c (see test_loader_kernel): the runtime may not run the refused one."""
    import pybpf

    with pybpf.open_object(build(PROGS / "mixed_verdicts.c")).load(target="pybpf") as loaded:
        progs = loaded.programs
        assert [p.verdict for p in progs.values()] == [
            "accepted", "failed: Permission denied (EACCES): R1 offset is outside of the packet", "accepted"]
        refused = progs["refused_unchecked"]
        assert (refused.ok, refused.errno) == (False, errno.EACCES)
        assert "invalid access to packet" in refused.log
        with pytest.raises(InputError, match="is not loaded"):
            refused.run(bytes(64))
        assert progs["accepted_last"].run(bytes(64)).retval == 1  # XDP_DROP


def test_a_program_the_verifier_cannot_judge_runs_and_says_so(xdp_count_obj, monkeypatch):
    import pybpf
    from pybpf.harness import verify

    def cannot(*args, **kwargs):
        raise PybpfError("kfunc 'bpf_mystery' is not in the tables")

    monkeypatch.setattr(verify, "pybpf_verdict", cannot)
    with pybpf.open_object(xdp_count_obj).load(target="pybpf") as loaded:
        prog = loaded.programs["xdp_count"]
        assert (prog.verdict, prog.ok) == ("not verified: kfunc 'bpf_mystery' is not in the tables", True)
        assert prog.run(bytes(64)).retval == 2  # XDP_PASS
