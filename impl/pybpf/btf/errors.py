"""The BTF member of pybpf's exception family."""

from __future__ import annotations

from pybpf.errors import InputError


class BtfError(InputError):
    """BTF bytes that do not parse, or a question the type graph cannot answer.

    ``place`` names where: ``header``, ``type [123] STRUCT 'foo'``, ``string section``.
    """
