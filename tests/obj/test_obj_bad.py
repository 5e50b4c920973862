"""Bad objects: each gives one InputError naming the file, the section and the offset (also via the CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pybpf.cli.main import main
from pybpf.errors import InputError, PybpfError
from pybpf.obj import open_object

MAKE_CORPUS = Path(__file__).parent / "bad" / "make_corpus.py"


@pytest.fixture(scope="module")
def corpus(compile_prog, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bad")
    objs = [str(compile_prog(name)) for name in ("subprogs", "maps", "externs")]
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(out), *objs], check=True)
    return out, json.loads((out / "cases.json").read_text())


CASES = ["truncated_header", "truncated_sections", "wrong_machine", "wrong_endianness", "corrupt_btf_header",
         "btf_type_out_of_range", "btf_bad_string_offset", "maps_without_btf", "unknown_section",
         "control_chars_in_name", "legacy_maps",
         "reloc_missing_symbol", "reloc_undefined_symbol", "unresolved_kfunc"]


@pytest.mark.parametrize("case", CASES)
def test_one_clear_error(corpus, case, vmlinux):
    out, cases = corpus
    message, place, needs_target = cases[case]
    path = out / f"{case}.o"
    with pytest.raises(InputError) as err:
        open_object(path, target_btf=vmlinux if needs_target else None)
    text = str(err.value)
    assert text.startswith(f"{path}:"), text
    assert message in text and place in text, text
    assert "\n" not in text


@pytest.mark.parametrize("case", [c for c in CASES if c != "unresolved_kfunc"])
def test_objdump_exit_status_and_one_line(corpus, case, capsys):
    out, cases = corpus
    status = main(["objdump", str(out / f"{case}.o")])
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pybpf: error: ") and cases[case][0] in lines[0]
    assert "Traceback" not in captured.err


def test_missing_file(tmp_path):
    with pytest.raises(PybpfError, match="cannot read"):
        open_object(tmp_path / "nope.o")
