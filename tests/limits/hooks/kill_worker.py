"""A pytest plugin for the worker tests: the process about to run the item named by ``PYBPF_TEST_KILL_ITEM``
dies on the spot (as under the OOM killer or a segfault); the one about to run ``PYBPF_TEST_HANG_ITEM``
hangs in C code (``time.sleep``), where no Python-level check can stop it."""

from __future__ import annotations

import os
import time


def pytest_runtest_call(item) -> None:
    if item.name == os.environ.get("PYBPF_TEST_KILL_ITEM"):
        os._exit(9)
    if item.name == os.environ.get("PYBPF_TEST_HANG_ITEM"):
        time.sleep(3600)
