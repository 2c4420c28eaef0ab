"""Numbers that answer the learners' questions on screen (see the teaching notes).

Every function here reads a ``TrainingSession`` (or its network) and leaves it exactly
as it was: weights, gradients, the optimiser and every random generator.  They work on
a private copy of the network (``copy_network``), so even the cached forward values
that the neuron heatmaps read stay untouched.  Whatever needs derivatives (the chain
rule, finite differences, curvature) runs in float64 whatever the session's dtype:
in float32 a finite difference keeps only a few correct digits.

* ``chain_rule``: dL/dw = dL/da_j * f'(z_j) * a_i for one weight on one training row,
  each factor with its value, checked by a central difference.
* ``loss_along_gradient``: the training objective along the steepest-descent line.
* ``curvature``: the largest (and smallest) Hessian eigenvalue and the learning rate
  beyond which plain gradient descent diverges, 2 / lambda_max.
* ``dead_units``: ReLU units that output 0 on every training row.
* ``activation_profile``: f and f' over the range where a node's neurons sit, plus
  the pre-activations themselves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import ACTIVATIONS
from .gradcheck import objective_and_gradient
from .network import Network
from .session import TrainingSession

FD_STEP = 1e-6             # central-difference step for one weight (float64)
RELATIVE_ERROR_FLOOR = 1e-8  # slopes below this are compared absolutely (both ~0)
PROFILE_POINTS = 200
PROFILE_Z_LIMIT = 10.0
PROFILE_MAX_SAMPLES = 2000


def copy_network(network: Network, dtype=np.float64) -> Network:
    """A fresh network on the same plan holding a copy of ``network``'s weights."""
    copy = Network(network.plan, dtype)
    copy.params[...] = network.params
    return copy


def _dense_step_index(network: Network, node_id: str) -> int:
    index = network.plan.index.get(node_id)
    if index is None or network.plan.steps[index].node.type != "dense":
        dense = ", ".join(s.node.id for s in network.plan.dense_steps)
        raise ValueError(f"{node_id!r} is not a dense node (dense nodes: {dense})")
    return index


# -- 1. the chain rule for one weight -------------------------------------------------

@dataclass(frozen=True)
class ChainRule:
    """dL/dw for w = ``weight``[unit, source] on training row ``row``, factor by factor.

    L is the loss of that one row (no regularisation penalty).  ``dL_da`` is None when
    the loss cancels the output's slope (``cancelled``: sigmoid + bce or softmax +
    cross-entropy at the output), where dL/dz = p - y directly.  ``slope`` is None for a
    softmax node (it has no element-wise slope: its outputs are coupled).
    """

    weight: str
    unit: int
    source: int
    row: int
    node: str
    activation: str
    value: float              # the weight itself
    loss: float               # the row's loss
    z: float                  # z_j, the neuron's pre-activation
    a: float                  # a_j = f(z_j), the neuron's output
    dL_da: float | None
    slope: float | None       # f'(z_j)
    dL_dz: float
    input_activation: float   # a_i
    backprop: float           # dL/dz_j * a_i
    finite_difference: float
    relative_error: float
    cancelled: bool
    is_output: bool
    formula: str              # the product in symbols
    numbers: str              # the same product with this weight's values


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def chain_rule(session: TrainingSession, weight: str, unit: int, source: int, row: int) -> ChainRule:
    """Backprop's product for one weight on one training row, and a finite-difference check."""
    net0 = session.network
    node_id, dot, kind = weight.rpartition(".")
    if not dot or kind != "weight" or weight not in net0.tensors:
        names = ", ".join(n for n in net0.tensors if n.endswith(".weight"))
        raise ValueError(f"{weight!r} is not a dense weight tensor (weights: {names})")
    index = _dense_step_index(net0, node_id)
    units, in_width = net0.tensors[weight].shape
    n_rows = len(session.X_train)
    for what, value, size in (("unit", unit, units), ("source", source, in_width), ("row", row, n_rows)):
        if not 0 <= int(value) < size:
            raise ValueError(f"{what} {value} is out of range 0..{size - 1} for {weight}")
    unit, source, row = int(unit), int(source), int(row)

    net = copy_network(net0)
    head = session.head
    X = np.asarray(session.X_train[row:row + 1], dtype=np.float64)
    y = session.y_train[row:row + 1]
    if not head.targets_are_indices:
        y = np.asarray(y, dtype=np.float64)
    op = net.ops[index]
    out_index = net.plan.output_index

    out = net.forward(X, training=False)
    loss, grad = head.value_and_grad(net.output_pre_activation, out, y)
    pending = net.backward(grad, head.wrt_logits)
    z = float(op.z[0, unit])
    a_j = float(op.a[0, unit])
    a_i = float(op.x[0, source])
    dL_dz = float(net.grad_tensors[f"{node_id}.bias"][unit])   # one row: bias gradient = dL/dz exactly
    backprop = float(net.grad_tensors[weight][unit, source])
    is_output = index == out_index
    cancelled = is_output and head.wrt_logits
    act = ACTIVATIONS[op.step.node.activation]
    alpha = op.step.node.act_alpha
    slope = None if act.slope is None else float(act.slope(op.z[:, unit:unit + 1], op.a[:, unit:unit + 1], alpha)[0, 0])
    dL_da = None if cancelled else float(pending[index][0, unit])

    # Central difference of the row's loss in that one weight, on the float64 copy.
    lo = net.offsets[weight][0] + unit * in_width + source
    original = net.params[lo]

    def row_loss() -> float:
        o = net.forward(X, training=False)
        return head.value(net.output_pre_activation, o, y)

    net.params[lo] = original + FD_STEP
    upper = row_loss()
    net.params[lo] = original - FD_STEP
    lower = row_loss()
    net.params[lo] = original
    fd = (upper - lower) / (2 * FD_STEP)
    rel = abs(backprop - fd) / max(abs(backprop), abs(fd), RELATIVE_ERROR_FLOOR)

    if cancelled:
        formula = "dL/dw = dL/dz_j × a_i, with dL/dz_j = p - y (the loss cancels f'(z_j))"
        numbers = f"{_fmt(backprop)} = {_fmt(dL_dz)} × {_fmt(a_i)}"
    elif slope is None:
        formula = "dL/dw = dL/dz_j × a_i, with dL/dz_j = Σ_k dL/da_k × ∂a_k/∂z_j (softmax couples its outputs)"
        numbers = f"{_fmt(backprop)} = {_fmt(dL_dz)} × {_fmt(a_i)}"
    else:
        formula = "dL/dw = dL/da_j × f'(z_j) × a_i"
        numbers = f"{_fmt(backprop)} = {_fmt(dL_da)} × {_fmt(slope)} × {_fmt(a_i)}"
    return ChainRule(weight, unit, source, row, node_id, act.name, float(net0.tensors[weight][unit, source]),
                     float(loss), z, a_j, dL_da, slope, dL_dz, a_i, backprop, float(fd), float(rel),
                     cancelled, is_output, formula, numbers)


# -- 2. the loss along the gradient --------------------------------------------------

class LossSlice(NamedTuple):
    steps: np.ndarray
    losses: np.ndarray


def loss_along_gradient(session: TrainingSession, steps) -> LossSlice:
    """The training objective (data loss + penalty, whole training set, evaluation mode)
    at w - s * g / ||g|| for each step length s, g being the full-batch gradient at w.

    Its slope at s = 0 is -||g||: the update w - lr * g moves by lr * ||g||, so a steep
    slope (big error) means a big step.  With g = 0 the slice is flat.
    """
    steps = np.asarray(steps, dtype=np.float64).reshape(-1)
    net = copy_network(session.network)
    X = np.asarray(session.X_train, dtype=np.float64)
    y = session.y_train if session.head.targets_are_indices else np.asarray(session.y_train, dtype=np.float64)
    _, g = objective_and_gradient(net, session.head, X, y, session.regularization)
    norm = float(np.linalg.norm(g))
    direction = g / norm if norm > 0 and math.isfinite(norm) else np.zeros_like(g)
    w0 = net.params.copy()
    losses = np.empty(len(steps))
    with np.errstate(over="ignore", invalid="ignore"):
        for k, s in enumerate(steps):
            np.subtract(w0, s * direction, out=net.params)
            out = net.forward(X, training=False)
            losses[k] = session.head.value(net.output_pre_activation, out, y) + \
                session.regularization.penalty(net.weights_view)
    return LossSlice(steps, losses)


# -- 3. curvature ---------------------------------------------------------------------

@dataclass(frozen=True)
class Curvature:
    """Extreme eigenvalues of the Hessian of the training objective at the current weights.

    ``stable_lr`` = 2 / max_eigenvalue is the largest learning rate for which plain
    (full-batch) gradient descent still converges near a minimum; None when the top
    eigenvalue is not positive.  ``condition_number`` = max / min eigenvalue when the
    smallest is positive (a minimum), else None: the larger it is, the more plain
    gradient descent zig-zags.  ``ritz_values`` are all eigenvalue estimates found
    (ascending); ``hessian_vector_products`` counts the Hv products used (2 gradients each).
    """

    max_eigenvalue: float
    min_eigenvalue: float
    stable_lr: float | None
    condition_number: float | None
    ritz_values: tuple[float, ...]
    hessian_vector_products: int


def curvature(session: TrainingSession, iterations: int = 20, seed: int = 0) -> Curvature:
    """Largest and smallest Hessian eigenvalues by a Krylov (Lanczos) power iteration.

    Lanczos is power iteration that keeps every vector it has seen: from the same
    ``iterations`` Hessian-vector products it gets both ends of the spectrum, far more
    accurately than plain power iteration (exactly once ``iterations`` reaches the
    number of weights).  Each product is a central difference of full-batch gradients,
    Hv ~ (g(w + eps v) - g(w - eps v)) / (2 eps) with ||v|| = 1, in float64.
    The start vector comes from ``seed``, never from the session's generators.
    """
    net = copy_network(session.network)
    head, reg = session.head, session.regularization
    X = np.asarray(session.X_train, dtype=np.float64)
    y = session.y_train if head.targets_are_indices else np.asarray(session.y_train, dtype=np.float64)
    w0 = net.params.copy()
    n = w0.size
    eps = 1e-4 * max(1.0, float(np.linalg.norm(w0)) / math.sqrt(n))

    def hv(v: np.ndarray) -> np.ndarray:
        np.add(w0, eps * v, out=net.params)
        _, g_plus = objective_and_gradient(net, head, X, y, reg)
        np.subtract(w0, eps * v, out=net.params)
        _, g_minus = objective_and_gradient(net, head, X, y, reg)
        return (g_plus - g_minus) / (2 * eps)

    k_max = max(1, min(int(iterations), n))
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    basis = [q]
    alphas: list[float] = []
    betas: list[float] = []
    products = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(k_max):
            w = hv(basis[-1])
            products += 1
            alpha = float(basis[-1] @ w)
            alphas.append(alpha)
            # Full re-orthogonalisation (twice) keeps the Krylov basis honest in floating point.
            Q = np.array(basis)
            for _ in range(2):
                w = w - Q.T @ (Q @ w)
            beta = float(np.linalg.norm(w))
            if k == k_max - 1 or not math.isfinite(beta) or beta <= 1e-10 * max(1.0, abs(alpha)):
                break
            betas.append(beta)
            basis.append(w / beta)
    T = np.diag(alphas)
    if len(alphas) > 1:
        off = np.array(betas[:len(alphas) - 1])
        T += np.diag(off, 1) + np.diag(off, -1)
    if not np.all(np.isfinite(T)):
        nan = float("nan")
        return Curvature(nan, nan, None, None, (), products)
    ritz = np.linalg.eigvalsh(T)
    lam_max, lam_min = float(ritz[-1]), float(ritz[0])
    stable = 2.0 / lam_max if lam_max > 0 else None
    cond = lam_max / lam_min if lam_min > 0 else None
    return Curvature(lam_max, lam_min, stable, cond, tuple(float(r) for r in ritz), products)


# -- 4. dead ReLU units ---------------------------------------------------------------

class DeadUnits(NamedTuple):
    count: int
    units: tuple[int, ...]


def dead_units(session: TrainingSession) -> dict[str, DeadUnits]:
    """Per ReLU node (dense with relu activation, or a relu activation node): the units
    whose output is 0 on every training row in evaluation mode.  Such a unit passes no
    gradient (ReLU's slope is 0 there), so its incoming weights never change again.
    Leaky-ReLU nodes are listed with no dead units: their slope is never 0.
    """
    nodes = [s for s in session.network.plan.steps
             if s.node.type in ("dense", "activation") and s.node.activation in ("relu", "leaky_relu")]
    if not nodes:
        return {}
    net = copy_network(session.network, session.network.dtype)
    net.forward(session.X_train, training=False)
    result: dict[str, DeadUnits] = {}
    for s in nodes:
        if s.node.activation == "leaky_relu":
            result[s.node.id] = DeadUnits(0, ())
            continue
        a = net.node_output(s.node.id)
        dead = np.flatnonzero(np.all(a <= 0, axis=0)) if len(a) else np.array([], dtype=np.int64)
        result[s.node.id] = DeadUnits(int(dead.size), tuple(int(u) for u in dead))
    return result


# -- 5. where the neurons sit on the transfer function -------------------------------

class ActivationProfile(NamedTuple):
    z_grid: np.ndarray
    f: np.ndarray
    slope: np.ndarray | None     # f'(z) on the grid; None for softmax
    z_values: np.ndarray         # the node's pre-activations on the training rows (sampled)


def activation_profile(session: TrainingSession, node_id: str) -> ActivationProfile:
    """The node's transfer function and its derivative over the range of its
    pre-activations on the training rows ([min - 1, max + 1] within [-10, 10],
    200 points), and those pre-activations (all of them flattened, or 2000 picked at
    evenly spaced positions), so a plot can show where the neurons sit on f'.

    For softmax, f is one output with the other logits at 0, e^z / (e^z + k - 1), and
    the slope is None (softmax couples its outputs).
    """
    index = session.network.plan.index.get(node_id)
    if index is None or session.network.plan.steps[index].node.type not in ("dense", "activation"):
        raise ValueError(f"{node_id!r} is not a node with a transfer function (a dense or activation node)")
    step = session.network.plan.steps[index]
    net = copy_network(session.network, session.network.dtype)
    net.forward(session.X_train, training=False)
    z = np.asarray(net.ops[index].z, dtype=np.float64).reshape(-1)
    finite = z[np.isfinite(z)]
    if finite.size:
        lo = max(float(finite.min()) - 1.0, -PROFILE_Z_LIMIT)
        hi = min(float(finite.max()) + 1.0, PROFILE_Z_LIMIT)
    else:
        lo, hi = -PROFILE_Z_LIMIT / 2, PROFILE_Z_LIMIT / 2
    if hi - lo < 2.0:
        # Every z beyond the +-10 window (or a tiny spread): show 2 units near the edge.
        centre = min(max((lo + hi) / 2, -PROFILE_Z_LIMIT + 1), PROFILE_Z_LIMIT - 1)
        lo, hi = centre - 1.0, centre + 1.0
    grid = np.linspace(lo, hi, PROFILE_POINTS)
    act = ACTIVATIONS[step.node.activation]
    alpha = step.node.act_alpha
    if act.name == "softmax":
        others = step.width - 1
        f = np.exp(grid) / (np.exp(grid) + others)
        slope = None
    else:
        f = np.asarray(act.forward(grid, alpha), dtype=np.float64)
        slope = np.asarray(act.slope(grid, f, alpha), dtype=np.float64)
    if z.size > PROFILE_MAX_SAMPLES:
        z = z[np.unique(np.linspace(0, z.size - 1, PROFILE_MAX_SAMPLES).round().astype(np.int64))]
    return ActivationProfile(grid, f, slope, z.copy())
