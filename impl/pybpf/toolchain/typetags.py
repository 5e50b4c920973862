"""Whether a compiler keeps ``btf_type_tag`` in the BTF it emits, and which sources need it.

The kernel finds kptr fields of map values by their type tag (``__kptr`` is
``btf_type_tag("kptr")``).  clang 14 accepts the attribute but leaves it out of
the BTF of struct members (it keeps it only on plain globals); clang 15 is the
first release whose BTF has it on members too.  The version alone is not
trusted: the probe compiles a struct with a tagged member to assembly and
looks for a ``BTF_KIND_TYPE_TAG`` entry, which clang's BTF writer names in a
comment beside each type.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

MIN_CLANG = 15
PROBE_SOURCE = (
    "struct pybpf_probe_obj { long x; };\n"
    'struct pybpf_probe { struct pybpf_probe_obj __attribute__((btf_type_tag("kptr"))) *p; };\n'
    "struct pybpf_probe pybpf_probe_value;\n"
)
_TYPE_TAG_ENTRY = "BTF_KIND_TYPE_TAG"
_USES_KPTR = re.compile(rb"\b__kptr(?:_untrusted)?\b")
# Comments and string literals (a __msg text, a remark about __kptr) are not uses.
_NOT_CODE = re.compile(rb'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.DOTALL)

Run = Callable[[list[str], str], subprocess.CompletedProcess[str]]


def keeps_type_tags(argv: tuple[str, ...], target_flags: tuple[str, ...], run: Run, what: str) -> bool:
    """True if the compiler ``argv`` puts a struct member's ``btf_type_tag`` into BTF."""
    with tempfile.TemporaryDirectory(prefix="pybpf-typetag-") as tmp:
        source, out = Path(tmp) / "probe.c", Path(tmp) / "probe.s"
        source.write_text(PROBE_SOURCE)
        done = run([*argv, *target_flags, "-g", "-O2", "-S", str(source), "-o", str(out)], what)
        if done.returncode != 0 or not out.is_file():
            return False
        return _TYPE_TAG_ENTRY in out.read_text(errors="replace")


def uses_kptr(source: bytes) -> bool:
    """The source marks a field ``__kptr`` or ``__kptr_untrusted``."""
    return bool(_USES_KPTR.search(_NOT_CODE.sub(b" ", source)))


def dropped_message(version: str) -> str:
    return f"clang {version} drops btf_type_tag; __kptr needs clang >= {MIN_CLANG}"
