"""Axis ranges that grow in steps instead of following every new point.

pyqtgraph's auto-range moves the axes on every setData, and each move makes the
axes regenerate their ticks and grid, which is most of a repaint's cost.  These
ranges jump ahead (x to the next round number, y by a margin or a whole decade on
a log axis), so most redraws move only the curves.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 times a power of ten that is >= value."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for mantissa in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        candidate = mantissa * 10.0 ** exponent
        if candidate >= value:
            return candidate
    return 10.0 ** (exponent + 1)


class StepRange:
    """The step axis every live plot shares: from 0 to a round number a fifth past the
    newest step, so plots fed the same frames show the same steps at the same places."""

    def __init__(self, plot_item):
        self.item = plot_item
        self.reset()

    def reset(self) -> None:
        self.x_hi = None
        self.item.setXRange(0.0, 10.0, padding=0.0)

    def fit(self, newest_step: float) -> None:
        if self.x_hi is None or newest_step > self.x_hi:
            self.x_hi = nice_ceiling(max(newest_step * 1.2, 10.0))
            self.item.setXRange(0.0, self.x_hi, padding=0.0)


class SteppedRanges:
    def __init__(self, plot_item):
        self.item = plot_item
        self.item.disableAutoRange()
        self.steps = StepRange(plot_item)
        self.reset()

    def reset(self, log_y: bool = False) -> None:
        """Forget the old ranges and show a neutral empty view (a new session's plot must
        not keep an axis that a diverged run stretched to 1e150)."""
        self.y_lo = self.y_hi = None
        self.steps.reset()
        pad = 0.15 if log_y else 0.0      # as in fit: the decade ticks at the ends keep their labels
        self.item.setYRange((-3.0 if log_y else 0.0) - pad, 1.0 + pad, padding=0.0)

    def fit(self, x: np.ndarray, columns: list[np.ndarray], log_y: bool = False) -> None:
        """Widen the view (never narrow it) so every finite point of ``columns`` over ``x`` shows."""
        if not len(x):
            return
        finite = [c[np.isfinite(c) & (c > 0 if log_y else True)] for c in columns]
        finite = [c for c in finite if len(c)]
        if not finite:
            return
        lo, hi = min(float(c.min()) for c in finite), max(float(c.max()) for c in finite)
        if log_y:
            lo, hi = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
            hi = max(hi, lo + 1)
        else:
            lo = min(0.0, lo)
            span = max(hi - lo, 1e-12)
            lo, hi = lo - (0.05 * span if lo < 0 else 0.0), hi + 0.1 * span
        self.steps.fit(float(x[-1]))
        # Grow to show every point; shrink only once the data fills less than a quarter
        # of the view (a decade on a log axis), so one early spike does not pin the
        # axis forever, and ordinary redraws still never move it.
        shrink = self.y_hi is not None and (hi < self.y_hi - (1.0 if log_y else 0.75 * (self.y_hi - self.y_lo)))
        if self.y_lo is None or lo < self.y_lo or hi > self.y_hi or shrink:
            self.y_lo = lo if self.y_lo is None else min(lo, self.y_lo)
            self.y_hi = hi if self.y_hi is None or shrink else max(hi, self.y_hi)
            pad = 0.15 if log_y else 0.0      # so the decade ticks at the very ends keep their labels
            self.item.setYRange(self.y_lo - pad, self.y_hi + pad, padding=0.0)


class DecadeAxis(pg.AxisItem):
    """A log axis that labels only whole decades (1, 0.1, 0.01, ...).

    pyqtgraph also labels 2..9 within each decade when few decades show, and in a
    short plot those labels pile on top of each other; the tick marks stay.
    """

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        return [s if float(v).is_integer() else "" for v, s in zip(values, strings)]
