"""2-D toy data sets, ported from TensorFlow Playground's ``dataset.ts``.

Every generator is ``fn(n_samples, noise, rng) -> (points, y)`` with ``points`` a
float64 array [n, 2] of raw coordinates.  Classification generators return ``y`` as
int64 class indices [n] (TF's label -1 becomes class 0, +1 becomes class 1);
regression generators return float64 targets [n, 1].

``noise`` is TF Playground's slider value, a fraction from 0 to 0.5; up to 1 is
accepted.  As in TF, the circle, xor, plane and multi-gaussian sets keep the clean
point and draw the *label* from a noisy copy of it (so noise shows up as points on
the wrong side of the boundary), while gaussian and spiral move the points.

The formulas follow TF exactly; only the random draws are vectorised, so the
numbers differ from TF's for the same seed (TF uses JavaScript's Math.random).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.errors import DataError

GeneratorFn = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def check_settings(n_samples: int, noise: float) -> None:
    """Raise DataError unless ``n_samples`` is an int >= 2 and ``noise`` lies in [0, 1]."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise DataError(f"data.samples: must be an integer >= 2, got {n_samples!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise DataError(f"data.noise: must be a number from 0 to 1, got {noise!r}")
    if not 0.0 <= float(noise) <= 1.0:  # also rejects NaN
        raise DataError(f"data.noise: must be from 0 to 1 (TF Playground uses 0 to 0.5), got {noise!r}")


def _halves(n: int) -> tuple[int, int]:
    """Sizes of the positive and negative halves; the positive class gets the odd point."""
    return (n + 1) // 2, n // 2


def _ring(rng: np.random.Generator, n: int, r_low: float, r_high: float) -> np.ndarray:
    """``n`` points at a uniform radius in [r_low, r_high) and a uniform angle (TF's x = r sin a)."""
    r = rng.uniform(r_low, r_high, n)
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)])


def circle(n_samples: int, noise: float, rng: np.random.Generator):
    """A disc of class 1 (radius < 2.5) inside a ring of class 0 (radius 3.5 to 5)."""
    check_settings(n_samples, noise)
    radius = 5.0
    n_pos, n_neg = _halves(n_samples)
    points = np.vstack([_ring(rng, n_pos, 0.0, radius * 0.5), _ring(rng, n_neg, radius * 0.7, radius)])
    noisy = points + rng.uniform(-radius, radius, points.shape) * noise
    y = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.int64)
    return points, y


def xor(n_samples: int, noise: float, rng: np.random.Generator):
    """Four quadrants: class 1 where x*y >= 0; points are kept 0.3 away from the axes."""
    check_settings(n_samples, noise)
    points = rng.uniform(-5.0, 5.0, (n_samples, 2))
    # TF pads with `x > 0 ? +0.3 : -0.3`, which leaves a 0.6-wide empty cross on the axes.
    points = np.where(points > 0, points + 0.3, points - 0.3)
    noisy = points + rng.uniform(-5.0, 5.0, points.shape) * noise
    y = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    return points, y


def gaussian(n_samples: int, noise: float, rng: np.random.Generator):
    """Two round Gaussian blobs: class 1 around (2, 2), class 0 around (-2, -2)."""
    check_settings(n_samples, noise)
    # TF maps noise [0, 0.5] linearly (unclamped) to a variance of [0.5, 4] and
    # its normalRandom(mean, variance) returns mean + sqrt(variance) * N(0, 1).
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)
    n_pos, n_neg = _halves(n_samples)
    centres = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [n_pos, n_neg], axis=0)
    points = centres + math.sqrt(variance) * rng.standard_normal((n_samples, 2))
    y = np.repeat(np.array([1, 0], dtype=np.int64), [n_pos, n_neg])
    return points, y


def spiral(n_samples: int, noise: float, rng: np.random.Generator):
    """Two interleaved spirals of 1.75 turns out to radius 5; class 0 is class 1 turned by pi."""
    check_settings(n_samples, noise)
    half = n_samples / 2  # TF's n; fractional for odd counts, as in TF
    parts = []
    for count, delta_t in zip(_halves(n_samples), (0.0, math.pi)):
        i = np.arange(count, dtype=np.float64)
        r = i / half * 5.0
        t = 1.75 * i / half * 2.0 * math.pi + delta_t
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    points = np.vstack(parts) + rng.uniform(-1.0, 1.0, (n_samples, 2)) * noise
    y = np.repeat(np.array([1, 0], dtype=np.int64), _halves(n_samples))
    return points, y


def moons(n_samples: int, noise: float, rng: np.random.Generator):
    """Two interleaving half-circles as in scikit-learn's make_moons, scaled by 4 to fill [-6, 6].

    Class 0 is the upper moon, class 1 the lower one (sklearn's order).  Points are
    evenly spaced along each arc, as in sklearn; ``noise`` is the standard deviation
    of Gaussian jitter in sklearn's units (so 4 * noise in ours).
    """
    check_settings(n_samples, noise)
    n_outer, n_inner = n_samples // 2, n_samples - n_samples // 2  # sklearn's split
    a_out = np.linspace(0.0, math.pi, n_outer)
    a_in = np.linspace(0.0, math.pi, n_inner)
    points = np.vstack([
        np.column_stack([np.cos(a_out), np.sin(a_out)]),
        np.column_stack([1.0 - np.cos(a_in), 0.5 - np.sin(a_in)]),
    ])
    points = (points - [0.5, 0.25]) * 4.0  # centre the pair, then x spans [-6, 6]
    points += rng.standard_normal(points.shape) * (4.0 * noise)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_outer, n_inner])
    return points, y


def checkerboard(n_samples: int, noise: float, rng: np.random.Generator):
    """A 4x4 board of 3-wide cells on [-6, 6]^2; class = parity of the cell (column + row)."""
    check_settings(n_samples, noise)
    points = rng.uniform(-6.0, 6.0, (n_samples, 2))
    noisy = points + rng.uniform(-5.0, 5.0, points.shape) * noise  # xor-style label noise
    cells = np.floor((noisy + 6.0) / 3.0).astype(np.int64)  # the pattern simply continues off-board
    y = (cells.sum(axis=1) % 2).astype(np.int64)
    return points, y


def plane(n_samples: int, noise: float, rng: np.random.Generator):
    """Regression on a tilted plane: target (x + y) / 10, from -1.2 to 1.2 over [-6, 6]^2."""
    check_settings(n_samples, noise)
    radius = 6.0
    points = rng.uniform(-radius, radius, (n_samples, 2))
    noisy = points + rng.uniform(-radius, radius, points.shape) * noise
    # TF: d3 linear scale [-10, 10] -> [-1, 1] of x + y, not clamped.
    y = noisy.sum(axis=1) / 10.0
    return points, y.reshape(-1, 1)


_BUMPS = np.array([
    [-4.0, 2.5, 1.0], [0.0, 2.5, -1.0], [4.0, 2.5, 1.0],
    [-4.0, -2.5, -1.0], [0.0, -2.5, 1.0], [4.0, -2.5, -1.0],
])


def multi_gaussian(n_samples: int, noise: float, rng: np.random.Generator):
    """Regression on six cone-shaped bumps of height +1 or -1 and radius 2 in a 3x2 grid."""
    check_settings(n_samples, noise)
    radius = 6.0
    points = rng.uniform(-radius, radius, (n_samples, 2))
    noisy = points + rng.uniform(-radius, radius, points.shape) * noise
    dist = np.hypot(noisy[:, :1] - _BUMPS[:, 0], noisy[:, 1:] - _BUMPS[:, 1])  # [n, 6]
    # TF: labelScale maps distance [0, 2] -> [1, 0], clamped; keep the bump whose
    # signed value is largest in size (the first one on ties, like TF's strict >).
    values = _BUMPS[:, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)
    pick = np.argmax(np.abs(values), axis=1)
    y = values[np.arange(n_samples), pick] + 0.0  # + 0.0 turns -0.0 into 0.0
    return points, y.reshape(-1, 1)


@dataclass(frozen=True)
class Generator:
    """A named 2-D data set: ``fn(n_samples, noise, rng) -> (points, y)``."""

    name: str
    fn: GeneratorFn
    task: str  # "classification" or "regression"
    description: str


GENERATORS: dict[str, Generator] = {g.name: g for g in (
    Generator("circle", circle, "classification",
              "One class fills a disc, the other a ring around it: needs a curved boundary."),
    Generator("xor", xor, "classification",
              "Opposite quadrants share a class: not separable by any single line."),
    Generator("gaussian", gaussian, "classification",
              "Two Gaussian blobs: a single straight line separates them."),
    Generator("spiral", spiral, "classification",
              "Two interleaved spirals: the hardest of the 2-D sets."),
    Generator("moons", moons, "classification",
              "Two interleaving half-moons, as in scikit-learn's make_moons."),
    Generator("checkerboard", checkerboard, "classification",
              "A 4x4 checkerboard: sixteen cells of alternating class."),
    Generator("plane", plane, "regression",
              "Regression: the target rises linearly along the diagonal, (x1 + x2) / 10."),
    Generator("multi-gaussian", multi_gaussian, "regression",
              "Regression: six peaks and pits of height +1 or -1 on a flat plain."),
)}
