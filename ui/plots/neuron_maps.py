"""Small round heatmaps of each unit's output over the input plane.

This runs for every neuron on every frame in the GUI thread while the training
thread holds the GIL most of the time, so it is written around what costs a GIL
round trip (up to the interpreter's switch interval, ~1 ms, each; measured):

* NumPy calls on arrays over 500 elements, and any fancy indexing, release the GIL.
  Each map is thinned to at most 22 x 22 = 484 cells and handled unit by unit.
* Qt constructors and static factories (QImage(...), QPixmap.fromImage) release
  it too; member calls (convertFromImage, setPixmap) do not.  So every unit owns
  an Indexed8 QImage (colour table set once) whose pixels NumPy writes in place,
  and a QPixmap refreshed from it with convertFromImage.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QImage, QPixmap, qRgba

from ui.theme import diverging_lut_bgra

CELLS = 22            # cells per side at most
TRANSPARENT = 255     # colour-table index outside the circle


def _colors() -> list[int]:
    table = [qRgba(int(r), int(g), int(b), 255) for b, g, r, _ in diverging_lut_bgra(TRANSPARENT)]
    return table + [qRgba(0, 0, 0, 0)]


class MapSlot:
    """One unit's image, its pixels as a NumPy view, and the pixmap shown on screen."""

    def __init__(self, n: int, colors: list[int]):
        self.image = QImage(n, n, QImage.Format_Indexed8)
        self.image.setColorTable(colors)
        rows = np.frombuffer(self.image.bits(), np.uint8).reshape(n, self.image.bytesPerLine())
        self.pixels = rows[:, :n]           # scan lines are padded to 4 bytes
        self.pixmap = QPixmap(n, n)


class NeuronMaps:
    def __init__(self):
        self.colors = _colors()
        self._n = 0
        self._inside = self._outside = None

    def slots(self, count: int, resolution: int) -> list[MapSlot]:
        """Images for ``count`` units of a grid of ``resolution`` (built once per session)."""
        step = -(-resolution // CELLS)
        n = len(range(0, resolution, step))
        if n != self._n:
            self._n = n
            centre = (n - 1) / 2
            y, x = np.mgrid[:n, :n]
            self._inside = (np.hypot(x - centre, y - centre) <= n / 2).astype(np.uint8)
            self._outside = (1 - self._inside) * np.uint8(TRANSPARENT)
        return [MapSlot(n, self.colors) for _ in range(count)]

    def update(self, slots: list[MapSlot], values: np.ndarray, resolution: int,
               groups: list[tuple[int, int, float]] | None = None) -> list[float] | None:
        """Fill ``slots`` from ``values`` [res, res, units] (row 0 = bottom); returns the
        scale of each unit (its value at either end of the colour map), or None if the
        values do not fit the slots (a frame from before the last rebuild).

        ``groups`` are (start, stop, floor): the units start..stop-1 share the scale
        max(floor, max |v| over them).  By default one group with floor 1 holds every
        unit: tanh units span the whole colour range and the units of a layer compare
        fairly.  Input features each get a group with floor 0 (their own scale:
        x1^2 reaches 36, sin(x1) 1, and the next layer's weights, not the picture,
        say how much each counts).
        """
        step = -(-resolution // CELLS)
        thumbs = [values[::-step, ::step, u] for u in range(len(slots))]   # image rows run top to bottom
        peaks = [float(np.max(np.abs(t))) for t in thumbs]
        if not math.isfinite(sum(peaks)) or thumbs[0].shape != self._inside.shape:
            return None
        scales = [1.0] * len(slots)
        for start, stop, floor in groups or [(0, len(slots), 1.0)]:
            scale = max([floor] + peaks[start:stop]) or 1.0      # a constant zero map: any scale shows it
            scales[start:stop] = [scale] * len(scales[start:stop])
        for slot, thumb, scale in zip(slots, thumbs, scales):
            index = np.clip(thumb * (127.0 / scale) + 127.0, 0.0, 254.0).astype(np.uint8)
            index *= self._inside
            index += self._outside
            slot.pixels[...] = index
            slot.pixmap.convertFromImage(slot.image)
        return scales
