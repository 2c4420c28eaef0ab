"""Bounded histories for live plots: memory stays flat however long training runs.

A history keeps every ``stride``-th sample offered to it.  When it holds
``capacity`` samples it drops every other one and doubles the stride, so after any
number of samples it holds between capacity/2 and capacity evenly thinned ones,
plus the newest sample as a "tail" so a curve always reaches the present.
The arrays are allocated once; ``x``/``values`` are views, never copies.
"""
from __future__ import annotations

import numpy as np


class BoundedHistory:
    def __init__(self, width: int = 1, capacity: int = 4000):
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number >= 2")
        self.capacity = capacity
        self.width = width
        self._x = np.zeros(capacity + 1)
        self._values = np.zeros((capacity + 1, width))
        self.clear()

    def clear(self) -> None:
        self._kept = 0          # samples kept (the tail excluded)
        self._offered = 0       # samples ever appended
        self._stride = 1
        self._tail = False

    @property
    def stride(self) -> int:
        return self._stride

    def __len__(self) -> int:
        return self._kept + self._tail

    def append(self, x: float, values) -> None:
        if self._offered % self._stride == 0:
            if self._kept == self.capacity:
                self._decimate()
            slot, self._tail = self._kept, False
            self._kept += 1
        else:
            slot, self._tail = self._kept, True
        self._x[slot] = x
        self._values[slot] = values
        self._offered += 1

    def _decimate(self) -> None:
        half = self.capacity // 2
        # Kept samples sit at offered indices 0, s, 2s, ...; keeping the even ones
        # leaves 0, 2s, 4s, ... so the new stride 2s continues the same grid.
        self._x[:half] = self._x[0:self.capacity:2]
        self._values[:half] = self._values[0:self.capacity:2]
        self._kept = half
        self._stride *= 2

    @property
    def x(self) -> np.ndarray:
        return self._x[:len(self)]

    @property
    def values(self) -> np.ndarray:
        """[len, width] view; writable so a plot can re-bin its stored columns in place."""
        return self._values[:len(self)]

    def column(self, i: int) -> np.ndarray:
        return self._values[:len(self), i]

    @property
    def nbytes(self) -> int:
        return self._x.nbytes + self._values.nbytes


class StepSampledHistory:
    """Samples kept at evenly spaced steps, for plots whose samples cost too much to keep
    every frame (the weight histograms).

    A sample is kept when it is the first in a new ``interval`` of steps.  Once
    ``capacity`` are kept the interval doubles and the samples that no longer start
    an interval are dropped, so the kept ones stay spread evenly over every step
    trained so far, however fast or irregularly frames arrive.  Each sample keeps
    the step it was taken at.  The newest other sample is kept as a tail, so the
    history always reaches the present.
    """

    def __init__(self, width: int = 1, capacity: int = 200):
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.width = width
        self._x = np.zeros(capacity + 1)
        self._values = np.zeros((capacity + 1, width))
        self.clear()


    @property
    def nbytes(self) -> int:
        """Memory held (fixed: the history is bounded), for bench/ui.py."""
        return self._x.nbytes + self._values.nbytes
    def clear(self) -> None:
        self._kept = 0
        self._tail = False
        self.interval = 1

    def __len__(self) -> int:
        return self._kept + self._tail

    def starts_interval(self, step: int) -> bool:
        """Would a sample at ``step`` be kept (rather than only replace the tail)?"""
        return self._kept == 0 or step // self.interval > self._x[self._kept - 1] // self.interval

    def append(self, step: int, values) -> None:
        keep = self.starts_interval(step)
        if keep and self._kept == self.capacity:
            self._thin()
            keep = self.starts_interval(step)
        slot, self._tail = self._kept, not keep
        self._kept += keep
        self._x[slot] = step
        self._values[slot] = values

    def _thin(self) -> None:
        while self._kept > self.capacity // 2:
            self.interval *= 2
            buckets = self._x[:self._kept] // self.interval
            first = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
            self._x[:len(first)] = self._x[first]
            self._values[:len(first)] = self._values[first]
            self._kept = len(first)

    @property
    def x(self) -> np.ndarray:
        """The step of each sample, increasing."""
        return self._x[:len(self)]

    @property
    def values(self) -> np.ndarray:
        """[len, width] view; writable so a plot can re-bin its stored samples in place."""
        return self._values[:len(self)]
