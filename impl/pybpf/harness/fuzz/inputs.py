"""What a generated program runs on: packet bytes, the context's scalar fields, map contents set beforehand.

A program carries an ``InputRecipe`` (sizes and which maps userspace fills);
``draw_inputs`` turns it into concrete ``Inputs`` with a seeded ``random.Random``,
biased toward the edges: empty and minimal packets, zero and all-ones fields.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class MapFill:
    """Userspace updates of map ``index`` before a run: keys below ``keys``, values of ``value_size`` bytes."""

    index: int
    key_size: int
    value_size: int
    keys: int


@dataclass(frozen=True)
class InputRecipe:
    min_packet: int = 0
    max_packet: int = 128
    ctx_size: int = 0
    fills: tuple[MapFill, ...] = ()


@dataclass(frozen=True)
class Inputs:
    packet: bytes
    ctx: bytes  # random scalar fields; the pointer fields are overwritten when the context is built
    updates: tuple[tuple[int, bytes, bytes], ...]  # (map index, key, value)
    seed: int = 0  # the runtime's: what bpf_get_prandom_u32 returns


def _blob(rng: random.Random, n: int) -> bytes:
    r = rng.random()
    if r < 0.2:
        return bytes(n)
    if r < 0.3:
        return b"\xff" * n
    return rng.randbytes(n)


def draw_inputs(recipe: InputRecipe, rng: random.Random) -> Inputs:
    edge = (recipe.min_packet, recipe.max_packet, recipe.min_packet + 1, 0)
    length = rng.choice(edge) if rng.random() < 0.4 else rng.randint(recipe.min_packet, recipe.max_packet)
    updates = []
    for fill in recipe.fills:
        for _ in range(rng.randrange(4)):
            key = rng.randrange(fill.keys).to_bytes(fill.key_size, "little")
            updates.append((fill.index, key, _blob(rng, fill.value_size)))
    return Inputs(_blob(rng, max(0, min(length, recipe.max_packet))), _blob(rng, recipe.ctx_size), tuple(updates),
                  rng.getrandbits(32))
