"""Broken raw BTF (``corpus/``, made by ``make_corpus.py``) given to ``pybpf btf dump``.

Every file is one the live kernel refuses too (``BPF_BTF_LOAD``, checked where
``bpf()`` is usable); pybpf names the file and the place (``header``, ``type
[N]``, ``string section``) on one line and exits 2.  Broken BTF inside an
object is in ``../elf`` (``btf_*.o``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from _helpers.badinput import EXIT_USAGE, corpus_names, read_cases
from pybpf.errors import KernelError
from pybpf.kernel import available

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good.btf"
CORPUS = HERE / "corpus"
CASES = read_cases(CORPUS / "cases.json")


def test_corpus_is_complete():
    assert corpus_names(CORPUS, ".btf") == sorted(CASES)


@pytest.mark.parametrize("fmt", ["raw", "c"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_dump_names_file_and_place(cli, one_error_each, name, fmt):
    path = CORPUS / name
    run = cli("btf", "dump", path, "--format", fmt)
    assert run.status == EXIT_USAGE and run.out == ""
    line = one_error_each(run, [path])[str(path)]
    assert run.err_lines == [line]
    message, place = CASES[name]
    assert line.startswith(f"pybpf: error: {path}:{place}"), line
    assert message in line, line


def test_good_blob_dumps_as_bpftool_does(cli):
    bpftool = shutil.which("bpftool")
    if bpftool is None:
        pytest.skip("bpftool is not installed")
    want = subprocess.run([bpftool, "btf", "dump", "file", str(GOOD)], check=True, capture_output=True,
                          text=True).stdout
    run = cli("btf", "dump", GOOD)
    assert (run.status, run.err) == (0, "")
    assert run.out.split() == want.split()


def _kernel_refuses(data: bytes) -> bool:
    from pybpf.kernel.btf import btf_load

    try:
        btf_load(data).close()
    except KernelError:
        return True
    return False


def test_the_kernel_refuses_every_file_and_takes_the_good_one():
    why = available()
    if why is not None:
        pytest.skip(f"the kernel cannot be asked: {why}")
    assert not _kernel_refuses(GOOD.read_bytes())
    accepted = [name for name in CASES if not _kernel_refuses((CORPUS / name).read_bytes())]
    assert accepted == []
