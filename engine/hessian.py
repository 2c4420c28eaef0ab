"""Hessian-vector products and the Lanczos method: curvature from gradients alone.

Both the Why? tab's curvature (engine/teaching.py) and the race's Newton and
1/lambda_max methods (engine/race.py) need the same two pieces, so they live here.

* ``hessian_vector``: H v by a central difference of two gradients,
  (g(w + eps u) - g(w - eps u)) / (2 eps) * ||v|| with u = v / ||v||.
* ``lanczos``: the extreme eigenvalues of H from k products.  It is power iteration
  that keeps every vector it has seen, so the same k products give both ends of the
  spectrum, exactly once k reaches the number of weights.  It also says how far to
  trust them: each Ritz value's residual bound, whether the Krylov space was
  exhausted (then every distinct eigenvalue was found), and the noise floor below
  which an eigenvalue cannot be told from zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Gradient = Callable[[np.ndarray], np.ndarray]

# Breakdown: the next Krylov vector is this small *relative to the largest curvature
# seen so far*.  An absolute test would stop after one product on a flat network
# whose whole spectrum is ~1e-11.
BREAKDOWN = 1e-10
# Central differences of float64 gradients resolve H v to about this fraction of the
# largest eigenvalue; below it an eigenvalue is indistinguishable from 0.
RELATIVE_NOISE = 1e-6
CONVERGED = 1e-3           # a Ritz value whose residual is below this fraction of |lambda| has settled


def finite_difference_step(w: np.ndarray) -> float:
    """The gradient-difference step for H v: 1e-4 on the weights' typical scale."""
    return 1e-4 * max(1.0, float(np.linalg.norm(w)) / math.sqrt(max(w.size, 1)))


def hessian_vector(gradient: Gradient, w: np.ndarray, v: np.ndarray, eps: float) -> np.ndarray:
    """H(w) v from two gradient calls (``gradient`` must not keep the array it is given)."""
    norm = float(np.linalg.norm(v))
    if norm == 0.0 or not math.isfinite(norm):
        return np.zeros_like(v)
    u = v / norm
    g_plus = gradient(w + eps * u)
    g_minus = gradient(w - eps * u)
    return (g_plus - g_minus) * (norm / (2 * eps))


@dataclass(frozen=True)
class Spectrum:
    """What k Lanczos steps say about the eigenvalues of H.

    ``ritz_values`` ascend; ``residuals[i]`` bounds the distance from ``ritz_values[i]``
    to the nearest true eigenvalue.  Ritz values always lie inside the spectrum, so
    ``ritz_values[0]`` >= lambda_min and ``ritz_values[-1]`` <= lambda_max: a
    negative smallest Ritz value proves negative curvature, a positive one proves
    nothing unless ``complete``.  ``complete``: the Krylov space was exhausted (k
    reached the number of weights, or it closed on itself), so every distinct
    eigenvalue is among the Ritz values.  ``noise``: eigenvalues within +-noise of 0
    cannot be told from 0 (finite-difference round-off).  ``ritz_vectors`` (only when
    asked for): row i is the unit Ritz vector of ``ritz_values[i]``; with a residual r
    it is an eigenvector to within ||H x - theta x|| <= r.
    """

    ritz_values: np.ndarray
    residuals: np.ndarray
    products: int
    size: int
    complete: bool
    noise: float
    ritz_vectors: np.ndarray | None = None

    @property
    def max_eigenvalue(self) -> float:
        return float(self.ritz_values[-1]) if self.ritz_values.size else math.nan

    @property
    def min_eigenvalue(self) -> float:
        return float(self.ritz_values[0]) if self.ritz_values.size else math.nan

    def settled(self, index: int) -> bool:
        """True when Ritz value ``index`` is a converged eigenvalue (or the space is complete)."""
        value, residual = abs(float(self.ritz_values[index])), float(self.residuals[index])
        return self.complete or residual <= CONVERGED * max(value, self.noise)


def product_noise(gradient: Gradient, w: np.ndarray, eps: float, seed: int = 1) -> float:
    """How far a difference-of-gradients H v is from the true one, measured: the
    products at steps eps and 2 eps along one random unit vector differ by about 3x
    the truncation error of the first plus both round-offs (two more gradient calls)."""
    v = np.random.default_rng(seed).standard_normal(w.size)
    v /= np.linalg.norm(v)
    return float(np.linalg.norm(hessian_vector(gradient, w, v, eps) - hessian_vector(gradient, w, v, 2 * eps)))


def lanczos(hv: Callable[[np.ndarray], np.ndarray], n: int, iterations: int, seed: int = 0,
            noise: float = 0.0, vectors: bool = False) -> Spectrum:
    """Up to ``iterations`` (at most ``n``) Hessian-vector products ``hv`` from a
    random start drawn from ``seed``; full re-orthogonalisation (twice), which keeps
    the Krylov basis honest in floating point.  ``noise``: the products' error, if
    measured (``product_noise``); the spectrum's noise floor is at least that, and at
    least RELATIVE_NOISE of the largest |eigenvalue|.  Non-finite products end the run
    with an empty spectrum.  ``vectors``: also return the Ritz vectors."""
    k_max = max(1, min(int(iterations), n))
    q = np.random.default_rng(seed).standard_normal(n)
    basis = [q / np.linalg.norm(q)]
    alphas: list[float] = []
    betas: list[float] = []
    scale = 0.0
    complete = False
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(k_max):
            w = hv(basis[-1])
            alpha = float(basis[-1] @ w)
            Q = np.array(basis)
            for _ in range(2):
                w = w - Q.T @ (Q @ w)
            beta = float(np.linalg.norm(w))
            alphas.append(alpha)
            betas.append(beta)
            if not (math.isfinite(alpha) and math.isfinite(beta)):
                return Spectrum(np.array([]), np.array([]), k + 1, n, False, math.nan)
            scale = max(scale, abs(alpha), beta)
            if k + 1 == n or beta <= BREAKDOWN * scale:
                complete = True
                break
            if k + 1 < k_max:
                basis.append(w / beta)
    m = len(alphas)
    T = np.diag(alphas) + np.diag(betas[:m - 1], 1) + np.diag(betas[:m - 1], -1)
    theta, S = np.linalg.eigh(T)
    residuals = np.zeros(m) if complete else np.abs(betas[-1] * S[-1, :])
    floor = max(RELATIVE_NOISE * float(np.max(np.abs(theta))), float(noise))
    ritz_vectors = (S.T @ np.array(basis)) if vectors else None
    return Spectrum(theta, residuals, m, n, complete, floor, ritz_vectors)
