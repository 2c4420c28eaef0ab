"""Where new blocks go: the free spot nearest to where they were asked for.

A drop, a palette double-click or a duplicate names a place; blocks already
there would hide the new ones (and a block hidden under another cannot be seen
to exist).  ``free_offset`` moves the whole group by whole grid steps, trying
offsets in order of distance, until no new block overlaps an old one.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QRectF

GAP = 10.0              # space kept between two blocks, in scene units
MAX_RINGS = 60          # how many grid steps away a free place is looked for


def _clear(group: list[QRectF], occupied: list[QRectF], dx: float, dy: float) -> bool:
    for rect in group:
        moved = rect.translated(dx, dy).adjusted(-GAP, -GAP, GAP, GAP)
        if any(moved.intersects(other) for other in occupied):
            return False
    return True


def _offsets_by_distance() -> list[tuple[int, int]]:
    """Grid offsets within ``MAX_RINGS`` steps, nearest first; on a tie, below and to
    the right first (where a copy is expected)."""
    points = [(i, j) for i in range(-MAX_RINGS, MAX_RINGS + 1) for j in range(-MAX_RINGS, MAX_RINGS + 1)
              if 0 < math.hypot(i, j) <= MAX_RINGS]
    return sorted(points, key=lambda p: (math.hypot(*p), -p[1], -p[0]))


OFFSETS = _offsets_by_distance()


def free_offset(group: list[QRectF], occupied: list[QRectF], step: float) -> tuple[float, float]:
    """The smallest (dx, dy), in multiples of ``step``, that puts every rectangle of
    ``group`` clear of every rectangle of ``occupied``; (0, 0) if none overlaps now,
    and also if no free place is found within ``MAX_RINGS`` steps."""
    if _clear(group, occupied, 0.0, 0.0):
        return 0.0, 0.0
    for i, j in OFFSETS:
        if _clear(group, occupied, i * step, j * step):
            return i * step, j * step
    return 0.0, 0.0
