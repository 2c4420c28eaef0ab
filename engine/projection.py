"""A plane through data with more than two inputs, to draw decision regions on.

Data with d > 2 inputs has no input plane, so we choose one: the first two principal
components of the training inputs (the plane in which the data spreads most), or two
chosen features with every other input held at its mean.  A point p of the plane
stands for the input ``mean + p @ basis``; the network is evaluated there, so the
regions drawn are exactly what the network does on that slice of input space (and
say nothing about inputs off it, which the axis labels make plain).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARGIN = 0.1       # the plane's extent runs this share of the data's range past it on each side


@dataclass(frozen=True, eq=False)
class Projection:
    mean: np.ndarray          # [d], the plane's origin (the input of plane point (0, 0))
    basis: np.ndarray         # [2, d], orthonormal rows
    axes: tuple[str, str]     # axis labels, e.g. "PC1 (72% of variance)"

    def project(self, X: np.ndarray) -> np.ndarray:
        """Coordinates in the plane of the rows of X (their orthogonal projection)."""
        return (np.asarray(X, dtype=np.float64) - self.mean) @ self.basis.T

    def lift(self, points: np.ndarray) -> np.ndarray:
        """The inputs the plane's ``points`` [n, 2] stand for."""
        return self.mean + np.asarray(points, dtype=np.float64) @ self.basis

    def extent(self, X: np.ndarray) -> tuple[float, float, float, float]:
        """A square-ish box around the projected rows of X, with a margin."""
        p = self.project(X)
        lo, hi = p.min(axis=0), p.max(axis=0)
        pad = np.maximum((hi - lo) * MARGIN, 1e-6)
        lo, hi = lo - pad, hi + pad
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def pca_projection(X: np.ndarray) -> Projection:
    """The first two principal components of X's rows (centred, not rescaled)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2 or X.shape[0] < 2:
        raise ValueError(f"a projection needs at least 2 rows of at least 2 inputs, got shape {X.shape}")
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    variance = s ** 2
    total = float(variance.sum())
    basis = vt[:2].copy()
    # An SVD's signs are arbitrary: fix them so the plane does not flip between runs.
    basis *= np.where(basis[np.arange(2), np.argmax(np.abs(basis), axis=1)] < 0, -1.0, 1.0)[:, None]
    share = [float(v) / total if total > 0 else 0.0 for v in variance[:2]]
    share += [0.0] * (2 - len(share))
    return Projection(mean, basis, tuple(f"PC{k + 1} ({100 * share[k]:.0f}% of variance)" for k in range(2)))


def feature_projection(X: np.ndarray, names, first: str, second: str) -> Projection:
    """Two inputs as the axes, every other input held at its training mean."""
    names = list(names)
    for name in (first, second):
        if name not in names:
            raise ValueError(f"{name!r} is not an input; the inputs are {', '.join(names)}")
    if first == second:
        raise ValueError("choose two different inputs")
    X = np.asarray(X, dtype=np.float64)
    basis = np.zeros((2, X.shape[1]))
    basis[0, names.index(first)] = basis[1, names.index(second)] = 1.0
    origin = X.mean(axis=0)
    origin[[names.index(first), names.index(second)]] = 0.0     # plane coordinates are the raw values
    held = " (others at their mean)" if len(names) > 2 else ""
    return Projection(origin, basis, (f"{first}{held}", f"{second}{held}"))
