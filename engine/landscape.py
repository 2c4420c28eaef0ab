"""The loss landscape: a 2-D slice of the full-batch loss around the current weights.

The slice is L(w0 + alpha d1 + beta d2) on a square grid of (alpha, beta), for one of
three pairs of directions (``PlaneDirections``):

* ``hessian_directions``: the Hessian's two most curved directions (its largest two
  eigenvalues, by Lanczos): the valley's steep walls.
* ``random_directions``: two Gaussian directions, filter-normalised as Li et al. (2018),
  "Visualizing the Loss Landscape of Neural Nets": each neuron's incoming weights in the
  direction (one row of a dense weight matrix, the dense layer's "filter") are scaled to
  the norm of that neuron's weights, and biases get no component.  Then alpha = 1 moves
  every neuron by its own size, so slices of different networks compare.
* ``pca_directions``: the first two principal components of a recorded weight
  trajectory (Li et al., section 7): the plane the training path moved in most.

Trajectories (training, or each race method's path) are projected onto the plane by
least squares, with their distance from it, since a path is rarely in the plane.
Every evaluation is the training objective in evaluation mode on a float64 copy
(``engine.objective``); the session is untouched.  The grid reports progress and can
be cancelled (``engine.progress``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .network import Network
from .objective import FullBatchObjective
from .progress import Progress, part, report
from .teaching import objective_spectrum

DEFAULT_RESOLUTION = 61        # most grid points per side by default: bench/landscape.py (spiral: 0.5-0.9 s)
MIN_RESOLUTION, MAX_RESOLUTION = 3, 401
DEFAULT_SECONDS = 2.0          # ``resolution_for_budget``'s time for the grid
BUDGET_FLOOR = 11              # ...which never offers a grid coarser than this
TIMING_EVALUATIONS = 7
# A grid's evaluations took 1.2-2x as long as repeated ones at the centre (bench/landscape.py,
# on a shared 2-core machine), so the budget is planned with twice the measured time.
TIMING_SAFETY = 2.0
PATH_MARGIN = 1.15             # the grid spans projected paths with this much room
FILTER_EPS = 1e-10             # Li et al.'s guard against a zero-norm direction row
STRAIGHT_PATH = 1e-9           # a second singular value below this fraction of the first: a line
HESSIAN_RISE_FLOOR = 0.1       # see ``hessian_directions``'s span


@dataclass(frozen=True)
class PlaneDirections:
    """Two directions d1, d2 (flat, in the network's parameter layout) and the grid's
    default half-width ``span`` in units of them.

    ``kind``: "hessian", "random" or "pca".  ``labels``: what each axis is, for the
    plot.  ``values``: per direction, its Hessian eigenvalue ("hessian"), the fraction
    of the path's variance it explains ("pca"), or NaN ("random").  ``residuals``
    (hessian only): each eigenvalue's Lanczos residual bound.  ``note``: caveats in
    words ("" when none).
    """

    kind: str
    d1: np.ndarray
    d2: np.ndarray
    span: float
    labels: tuple[str, str]
    values: tuple[float, float]
    residuals: tuple[float, float] | None
    note: str


@dataclass(frozen=True)
class ProjectedPath:
    """A weight trajectory seen on the plane.  ``coords`` [m, 2]: (alpha, beta) of the
    point of the plane nearest each weight vector; ``off_plane`` [m]: that distance
    (in weight units), so a view can say how far the path leaves the slice."""

    name: str
    coords: np.ndarray
    off_plane: np.ndarray


@dataclass(frozen=True)
class LossLandscape:
    """``losses[i, j]`` = L(w0 + alphas[j] d1 + betas[i] d2): rows go along d2 (beta,
    bottom to top), columns along d1 (alpha, left to right), the current weights at
    the centre.  Values may be inf or NaN where the loss overflows.  ``center_loss`` =
    L(w0); ``evaluations`` counts objective calls, ``seconds`` the time they took.
    ``center`` is w0 itself: compare it with the current weights to know whether the
    slice is stale, and project later paths with ``project_path(name, path, center, d1, d2)``."""

    directions: PlaneDirections
    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    center_loss: float
    paths: tuple[ProjectedPath, ...]
    evaluations: int
    seconds: float
    center: np.ndarray


# -- directions --------------------------------------------------------------------------

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def hessian_directions(objective: FullBatchObjective, iterations: int | None = None, seed: int = 0,
                       progress: Progress = None) -> PlaneDirections:
    """The Ritz vectors of the two largest Hessian eigenvalues at ``objective.start``
    (unit vectors).  Default span: where the quadratic model along d1 rises by the
    loss itself (at least HESSIAN_RISE_FLOOR), sqrt(2 max(L0, floor) / lambda_1),
    so the steep wall fills the plot; with lambda_1 not positive, the weights' RMS
    size times sqrt(n) / 2 (half the weight vector's norm)."""
    if objective.size < 2:
        raise ValueError("a plane needs at least two weights")
    spectrum = objective_spectrum(objective, iterations, seed, vectors=True, progress=progress)
    if spectrum.ritz_values.size < 2 or not np.all(np.isfinite(spectrum.ritz_values)):
        raise ValueError("the Hessian's top eigenvectors could not be measured: the loss or gradient is not "
                         "finite here, or the Krylov space closed after one product (every direction curves alike)")
    lam = (float(spectrum.ritz_values[-1]), float(spectrum.ritz_values[-2]))
    d1, d2 = _unit(spectrum.ritz_vectors[-1]), _unit(spectrum.ritz_vectors[-2])
    loss = objective.value(objective.start)
    w_norm = float(np.linalg.norm(objective.start))
    if lam[0] > spectrum.noise and math.isfinite(loss):
        span = math.sqrt(2.0 * max(abs(loss), HESSIAN_RISE_FLOOR) / lam[0])
    else:
        span = 0.5 * w_norm if w_norm > 0 else 1.0
    note = "" if spectrum.complete else (
        f"From {spectrum.products} of {spectrum.size} Hessian-vector products: the directions are the most "
        "curved ones found so far, within their residuals.")
    labels = (f"eigenvector 1 (lambda = {lam[0]:.4g})", f"eigenvector 2 (lambda = {lam[1]:.4g})")
    res = (float(spectrum.residuals[-1]), float(spectrum.residuals[-2]))
    return PlaneDirections("hessian", d1, d2, span, labels, lam, res, note)


def filter_normalize(direction: np.ndarray, network: Network, weights: np.ndarray | None = None) -> np.ndarray:
    """Li et al.'s filter normalisation: each row of each dense weight matrix in
    ``direction`` (one neuron's incoming weights) rescaled to the norm of the same row
    of ``weights`` (default: the network's), biases set to 0."""
    weights = network.params if weights is None else weights
    d = np.array(direction, dtype=np.float64)
    if d.shape != network.params.shape:
        raise ValueError(f"the direction has {d.size} values, the network has {network.params.size} parameters")
    w_views, d_views = network.tensor_views(np.asarray(weights, dtype=np.float64)), network.tensor_views(d)
    for name, dv in d_views.items():
        if name.endswith(".bias"):
            dv[...] = 0.0
        else:
            rows = np.linalg.norm(dv, axis=1, keepdims=True)
            dv *= np.linalg.norm(w_views[name], axis=1, keepdims=True) / (rows + FILTER_EPS)
    return d


def random_directions(network: Network, seed: int = 0, weights: np.ndarray | None = None) -> PlaneDirections:
    """Two filter-normalised Gaussian directions drawn from ``seed`` (not orthogonalised,
    as in Li et al.: in many dimensions two random vectors are nearly orthogonal).
    Span 1: the edge of the grid moves every neuron by its own weights' norm."""
    rng = np.random.default_rng(seed)
    n = network.params.size
    d1 = filter_normalize(rng.standard_normal(n), network, weights)
    d2 = filter_normalize(rng.standard_normal(n), network, weights)
    if not (np.any(d1) and np.any(d2)):
        raise ValueError("filter-normalised directions are zero: every weight is 0 (biases get no component)")
    return PlaneDirections("random", d1, d2, 1.0, ("random direction 1 (filter-normalised)",
                                                   "random direction 2 (filter-normalised)"),
                           (math.nan, math.nan), None, "")


def _trajectory_matrix(trajectory, size: int, what: str = "trajectory") -> np.ndarray:
    T = np.asarray(trajectory, dtype=np.float64)
    if T.ndim != 2 or T.shape[1] != size:
        raise ValueError(f"the {what} must be a list of weight vectors of {size} values each, "
                         f"got an array of shape {T.shape}")
    if not np.all(np.isfinite(T)):
        raise ValueError(f"the {what} holds weights that are not finite")
    return T


def pca_directions(trajectory, center: np.ndarray, seed: int = 0) -> PlaneDirections:
    """The first two principal components of the trajectory's offsets from ``center``
    (the current weights), as Li et al. compute them: the offsets w_i - w0, centred on
    their mean, by SVD; unit vectors.  A straight path has no second component: d2 is
    then a random direction orthogonal to d1, said in ``note``."""
    center = np.asarray(center, dtype=np.float64).reshape(-1)
    T = _trajectory_matrix(trajectory, center.size)
    if len(T) < 2:
        raise ValueError(f"principal components need a trajectory of at least 2 weight vectors, got {len(T)}")
    offsets = T - center
    _, s, vt = np.linalg.svd(offsets - offsets.mean(axis=0), full_matrices=False)
    if s.size == 0 or s[0] == 0.0:
        raise ValueError("the trajectory never moved: every recorded weight vector is the same")
    variance = s ** 2 / float(np.sum(s ** 2))
    d1, note = vt[0], ""
    if s.size > 1 and s[1] > STRAIGHT_PATH * s[0]:
        d2, second = vt[1], float(variance[1])
    else:
        r = np.random.default_rng(seed).standard_normal(center.size)
        d2, second = _unit(r - (r @ d1) * d1), 0.0
        note = "The path is a straight line: the second direction is random, orthogonal to the first."
    labels = (f"PC1 ({variance[0]:.0%} of the path's variance)", f"PC2 ({second:.0%})")
    plane = np.stack([d1, d2])
    extent = float(np.max(np.abs(offsets @ plane.T)))
    return PlaneDirections("pca", d1, d2, extent if extent > 0 else 1.0, labels, (float(variance[0]), second),
                           None, note)


# -- projection and the grid ---------------------------------------------------------------

def project_path(name: str, trajectory, center: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> ProjectedPath:
    """Least-squares (alpha, beta) of each weight vector relative to ``center`` on the
    plane spanned by d1, d2 (which need not be orthogonal), and its distance off it."""
    center = np.asarray(center, dtype=np.float64).reshape(-1)
    T = _trajectory_matrix(trajectory, center.size, f"path {name!r}")
    D = np.stack([d1, d2], axis=1)
    offsets = T - center
    coords, *_ = np.linalg.lstsq(D, offsets.T, rcond=None)
    off = np.linalg.norm(offsets - (D @ coords).T, axis=1)
    return ProjectedPath(str(name), coords.T.copy(), off)


def _resolution(resolution) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"the grid resolution must be a whole number from {MIN_RESOLUTION} to {MAX_RESOLUTION}, "
                         f"got {resolution!r}")
    return int(resolution)


def resolution_for_budget(objective: FullBatchObjective, seconds: float = DEFAULT_SECONDS,
                          most: int = DEFAULT_RESOLUTION) -> int:
    """The finest grid, up to ``most`` points per side and at least BUDGET_FLOOR, whose
    evaluations take about ``seconds``, from the median time of a few evaluations of
    this objective times TIMING_SAFETY (big data sets and networks get coarser grids)."""
    objective.value(objective.start)     # the first call allocates the network's buffers
    times = []
    for _ in range(TIMING_EVALUATIONS):
        started = time.perf_counter()
        objective.value(objective.start)
        times.append(time.perf_counter() - started)
    per = max(TIMING_SAFETY * float(np.median(times)), 1e-9)
    return int(min(most, max(BUDGET_FLOOR, math.isqrt(int(seconds / per)))))


def loss_landscape(objective: FullBatchObjective, directions: PlaneDirections,
                   resolution: int | None = None, span: float | None = None,
                   paths: Mapping[str, object] | None = None, progress: Progress = None) -> LossLandscape:
    """The objective on a ``resolution`` x ``resolution`` grid over [-span, span]^2
    around ``objective.start`` (resolution None: ``resolution_for_budget``).  ``span``
    None: the directions' default, widened so every projected path fits.  ``paths``:
    name -> trajectory (weight vectors), each projected onto the plane.  ``progress(fraction)`` after each grid row; False
    raises ``engine.progress.Cancelled``."""
    r = resolution_for_budget(objective) if resolution is None else _resolution(resolution)
    w0 = objective.start
    for name, d in (("d1", directions.d1), ("d2", directions.d2)):
        if d.shape != w0.shape:
            raise ValueError(f"direction {name} has {d.size} values, the weights {w0.size}")
    projected = tuple(project_path(name, t, w0, directions.d1, directions.d2) for name, t in (paths or {}).items())
    if span is None:
        span = directions.span
        for p in projected:
            if p.coords.size:
                span = max(span, PATH_MARGIN * float(np.max(np.abs(p.coords))))
    if not (isinstance(span, (int, float, np.floating)) and math.isfinite(span) and span > 0):
        raise ValueError(f"the span must be a positive finite number, got {span!r}")
    alphas = np.linspace(-span, span, r)
    betas = np.linspace(-span, span, r)
    losses = np.empty((r, r))
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        for i, beta in enumerate(betas):
            row = w0 + beta * directions.d2
            for j, alpha in enumerate(alphas):
                losses[i, j] = objective.value(row + alpha * directions.d1)
            report(progress, (i + 1) / r)
        center = objective.value(w0)
    seconds = time.perf_counter() - started
    return LossLandscape(directions, alphas, betas, losses, float(center), projected, r * r + 1, seconds,
                         w0.copy())


def session_landscape(session, kind: str = "random", resolution: int | None = None,
                      trajectory=None, paths: Mapping[str, object] | None = None, seed: int = 0,
                      span: float | None = None, progress: Progress = None) -> LossLandscape:
    """The landscape around a session's current weights along ``kind`` directions
    ("hessian", "random" or "pca"; "pca" needs ``trajectory``, which is also drawn as
    the path "training" unless ``paths`` names it otherwise).  ``resolution`` None:
    the finest grid up to DEFAULT_RESOLUTION that fits DEFAULT_SECONDS."""
    objective = FullBatchObjective.of_session(session)
    paths = dict(paths or {})
    if trajectory is not None:
        paths.setdefault("training", trajectory)
    if kind == "hessian":
        directions = hessian_directions(objective, seed=seed, progress=part(progress, 0.0, 0.3))
        progress = part(progress, 0.3, 1.0)
    elif kind == "random":
        directions = random_directions(objective.network, seed, objective.start)
    elif kind == "pca":
        if trajectory is None:
            raise ValueError("principal-component directions need a recorded trajectory")
        directions = pca_directions(trajectory, objective.start, seed)
    else:
        raise ValueError(f"unknown direction kind {kind!r}; choose hessian, random or pca")
    return loss_landscape(objective, directions, resolution, span, paths, progress)
