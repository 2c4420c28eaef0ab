"""Numbers that answer the learners' questions on screen (see the teaching notes).

Every function here reads a ``TrainingSession`` (or its network) and leaves it exactly
as it was: weights, gradients, the optimiser and every random generator.  They work on
a private copy of the network (``copy_network``), so even the cached forward values
that the neuron heatmaps read stay untouched.  Whatever needs derivatives (the chain
rule, finite differences, curvature) runs in float64 whatever the session's dtype:
in float32 a finite difference keeps only a few correct digits.

* ``chain_rule``: dL/dw = dL/da_j * f'(z_j) * a_i for one weight on one training row,
  each factor with its value, checked by central differences with an error bar and
  a three-state verdict (agrees, disagrees, too small to check).
* ``loss_along_gradient``: the training objective along the steepest-descent line.
* ``curvature``: the Hessian's spectrum (Lanczos), whether the point is a minimum,
  a saddle or flat, and 2 / lambda_max; ``step_limit``: the learning-rate limit that
  implies for the session's optimiser, where it has one.
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
from .hessian import Spectrum, finite_difference_step, hessian_vector, lanczos, product_noise
from .network import Network
from .objective import FullBatchObjective
from .progress import Progress, report
from .session import TrainingSession

PROFILE_POINTS = 200
PROFILE_DEFAULT_HALF_WIDTH = 5.0   # the z range shown when no pre-activation is finite
PROFILE_MAX_SAMPLES = 2000


def copy_network(network: Network, dtype=np.float64) -> Network:
    """A fresh network on the same plan holding a copy of ``network``'s weights, with
    the true derivative (``ablate_derivative`` off, whatever the original trains with):
    the teaching numbers explain the real gradient."""
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

# The finite-difference check.  Central differences D(h), D(2h), D(4h) of the row's
# loss in the weight; Richardson's extrapolation R(h) = (4 D(h) - D(2h)) / 3 cancels
# their h^2 error term, and |R(h) - R(2h)| / 15 estimates what is left.  The check's
# error bar adds the round-off of the loss values divided by the step.  A slope
# within a few error bars of zero cannot be judged, whatever backprop says: the
# verdict is then "cannot tell" rather than a false alarm.
FD_RELATIVE_STEP = 1e-5     # h = 1e-5 max(1, |w|): small against kinks, large against round-off
ROUNDOFF_SAFETY = 8.0       # float sums of n terms err by up to n eps; typical errors are far smaller
RESOLVED = 10.0             # a slope must exceed this many error bars for a verdict
AGREEMENT = 3.0             # backprop agrees when it is within this many error bars


@dataclass(frozen=True)
class FiniteDifferenceCheck:
    """A central-difference estimate of one slope, with an honest error bar.

    ``differences`` are the central differences at steps h, 2h, 4h; ``estimate`` is
    Richardson's (4 D(h) - D(2h)) / 3; ``error_bar`` bounds its error (truncation left
    after the extrapolation + float64 round-off of the loss, ``loss_noise``).
    ``agrees`` with the backprop slope: True (within AGREEMENT error bars), False
    (further apart: one of them is wrong), None (both within RESOLVED error bars of 0:
    too small for a finite difference to check).
    """

    h: float
    differences: tuple[float, float, float]
    estimate: float
    error_bar: float
    loss_noise: float
    agrees: bool | None


def judge(backprop: float, differences, h: float, loss_noise: float) -> FiniteDifferenceCheck:
    """The verdict on ``backprop`` from central differences at h, 2h and 4h of a loss
    whose values are exact to within ``loss_noise`` (absolute)."""
    d1, d2, d4 = (float(d) for d in differences)
    estimate = (4.0 * d1 - d2) / 3.0
    truncation = abs(estimate - (4.0 * d2 - d4) / 3.0) / 15.0
    # Round-off: D(h) errs by up to noise / h, D(2h) by noise / 2h, so Richardson's
    # combination by (4 / h + 1 / 2h) / 3 * noise = 1.5 noise / h.
    error_bar = truncation + 1.5 * loss_noise / h + 4 * np.finfo(np.float64).eps * abs(estimate)
    if not (math.isfinite(estimate) and math.isfinite(backprop) and math.isfinite(error_bar)):
        verdict = None
    elif abs(backprop - estimate) > AGREEMENT * error_bar:
        verdict = False
    elif max(abs(backprop), abs(estimate)) < RESOLVED * error_bar:
        verdict = None
    else:
        verdict = True
    return FiniteDifferenceCheck(h, (d1, d2, d4), estimate, error_bar, loss_noise, verdict)


@dataclass(frozen=True)
class ChainRule:
    """dL/dw for w = ``weight``[unit, source] on training row ``row``, factor by factor.

    L is the loss of that one row (no regularisation penalty).  ``dL_da`` is None when
    the loss cancels the output's slope (``cancelled``: sigmoid + bce or softmax +
    cross-entropy at the output), where dL/dz = p - y directly.  ``slope`` is None for a
    softmax node (it has no element-wise slope: its outputs are coupled).
    ``source_label`` names what feeds the weight: a feature ("x1") or a neuron
    ("h1[3]").  ``formula`` and ``numbers`` are the product in symbols and with this
    weight's values (numbers end with "= dL/dw"): the one rendering every view uses.
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
    source_label: str
    backprop: float           # dL/dz_j * a_i
    check: FiniteDifferenceCheck
    cancelled: bool
    is_output: bool
    formula: str
    numbers: str

    @property
    def finite_difference(self) -> float:
        return self.check.estimate

    @property
    def agrees(self) -> bool | None:
        """True / False / None (too small to check): see ``FiniteDifferenceCheck``."""
        return self.check.agrees

    @property
    def relative_error(self) -> float:
        scale = max(abs(self.backprop), abs(self.check.estimate))
        return abs(self.backprop - self.check.estimate) / scale if scale > 0 else 0.0


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def source_label(plan, dense_index: int, source: int, feature_names=()) -> str:
    """What sends column ``source`` into the dense step: "x1" for a feature, "h1[3]" for
    a neuron (through a concat to the part it came from)."""
    step = plan.steps[plan.steps[dense_index].inputs[0]]
    k = source
    while step.node.type == "concat":
        for part in (plan.steps[i] for i in step.inputs):
            if k < part.width:
                step = part
                break
            k -= part.width
    if step.node.type == "input":
        return feature_names[k] if k < len(feature_names) else f"x[{k}]"
    return f"{step.node.id}[{k}]"


def _roundoff_scale(net: Network, pending: list, loss: float) -> float:
    """A bound on the rounding error of one row's loss, in loss units.

    Each pre-activation z_k = sum_i w_ki a_i + b_k is computed with an error of about
    eps (sum_i |w_ki a_i| + |b_k|), which moves the loss by |dL/dz_k| times that; each
    transfer function's output a errs by about eps |a|, moving the loss by |dL/da| |a|;
    the loss formula itself adds and subtracts terms as large as the output's logits
    (bce and cross-entropy from logits), so it errs by about eps (|L| + sum |z_out| + 1).
    Needs a forward and backward pass of that row on ``net`` (``pending`` from backward).
    """
    total = abs(loss) + 1.0
    z_out = net.output_pre_activation
    if z_out is not None:
        total += float(np.abs(z_out).sum())
    for i, op in enumerate(net.ops):
        if op.step.node.type == "dense":
            nid = op.step.node.id
            magnitude = np.abs(op.x[0]) @ np.abs(net.tensors[f"{nid}.weight"]).T + np.abs(net.tensors[f"{nid}.bias"])
            total += float(np.abs(net.grad_tensors[f"{nid}.bias"]) @ magnitude)
        if pending[i] is not None and i != net.plan.output_index and getattr(op, "a", None) is not None:
            total += float(np.abs(pending[i]).ravel() @ np.abs(op.a).ravel())
    return ROUNDOFF_SAFETY * np.finfo(np.float64).eps * total


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
    noise = _roundoff_scale(net, pending, float(loss))
    is_output = index == out_index
    cancelled = is_output and head.wrt_logits
    act = ACTIVATIONS[op.step.node.activation]
    alpha = op.step.node.act_alpha
    slope = None if act.slope is None else float(act.slope(op.z[:, unit:unit + 1], op.a[:, unit:unit + 1], alpha)[0, 0])
    dL_da = None if cancelled else float(pending[index][0, unit])

    # Central differences of the row's loss in that one weight, on the float64 copy.
    lo = net.offsets[weight][0] + unit * in_width + source
    original = float(net.params[lo])
    h = FD_RELATIVE_STEP * max(1.0, abs(original))

    def central(step: float) -> float:
        values = []
        for w in (original + step, original - step):
            net.params[lo] = w
            o = net.forward(X, training=False)
            values.append(head.value(net.output_pre_activation, o, y))
        net.params[lo] = original
        return (values[0] - values[1]) / (2 * step)

    with np.errstate(over="ignore", invalid="ignore"):
        check = judge(backprop, [central(k * h) for k in (1, 2, 4)], h, noise)

    if cancelled:
        formula = "dL/dw = dL/dz_j × a_i, with dL/dz_j = p - y (the loss cancels f'(z_j))"
        numbers = f"{_fmt(dL_dz)} × {_fmt(a_i)} = {_fmt(backprop)}"
    elif slope is None:
        formula = "dL/dw = dL/dz_j × a_i, with dL/dz_j = Σ_k dL/da_k × ∂a_k/∂z_j (softmax couples its outputs)"
        numbers = f"{_fmt(dL_dz)} × {_fmt(a_i)} = {_fmt(backprop)}"
    else:
        formula = "dL/dw = dL/da_j × f'(z_j) × a_i"
        numbers = f"{_fmt(dL_da)} × {_fmt(slope)} × {_fmt(a_i)} = {_fmt(backprop)}"
    label = source_label(net.plan, index, source, getattr(session.dataset, "feature_names", ()))
    return ChainRule(weight, unit, source, row, node_id, act.name, float(net0.tensors[weight][unit, source]),
                     float(loss), z, a_j, dL_da, slope, dL_dz, a_i, label, backprop, check,
                     cancelled, is_output, formula, numbers)


# -- 2. the loss along the gradient --------------------------------------------------

class LossSlice(NamedTuple):
    steps: np.ndarray
    losses: np.ndarray
    gradient_norm: float      # ||g||: a plain gradient step at rate lr moves s = lr * ||g|| along the slice


def loss_along_gradient(session: TrainingSession, steps) -> LossSlice:
    """The training objective (data loss + penalty, whole training set, evaluation mode)
    at w - s * g / ||g|| for each step length s, g being the full-batch gradient at w.

    Its slope at s = 0 is -||g||: the update w - lr * g moves by lr * ||g||, so a steep
    slope (big error) means a big step.  With g = 0 the slice is flat.  ``steps`` may
    also be a function of ||g|| returning the step lengths (to span a gradient step).
    """
    net = copy_network(session.network)
    X = np.asarray(session.X_train, dtype=np.float64)
    y = session.y_train if session.head.targets_are_indices else np.asarray(session.y_train, dtype=np.float64)
    _, g = objective_and_gradient(net, session.head, X, y, session.regularization)
    norm = float(np.linalg.norm(g))
    steps = np.asarray(steps(norm) if callable(steps) else steps, dtype=np.float64).reshape(-1)
    direction = g / norm if norm > 0 and math.isfinite(norm) else np.zeros_like(g)
    w0 = net.params.copy()
    losses = np.empty(len(steps))
    with np.errstate(over="ignore", invalid="ignore"):
        for k, s in enumerate(steps):
            np.subtract(w0, s * direction, out=net.params)
            out = net.forward(X, training=False)
            losses[k] = session.head.value(net.output_pre_activation, out, y) + \
                session.regularization.penalty(net.weights_view)
    return LossSlice(steps, losses, norm)


# -- 3. curvature ---------------------------------------------------------------------

FULL_SPECTRUM_WEIGHTS = 400   # up to this many weights, Lanczos runs to the whole spectrum
PARTIAL_PRODUCTS = 60         # beyond it, this many Hessian-vector products


@dataclass(frozen=True)
class Curvature:
    """The Hessian of the training objective at the current weights, as far as it was measured.

    ``max_eigenvalue`` / ``min_eigenvalue``: the extreme Ritz values (``ritz_values``,
    ascending, each within ``residuals[i]`` of a true eigenvalue).  ``complete``: the
    Krylov space was exhausted, so these are the true extremes; otherwise the true
    lambda_max may be larger and lambda_min smaller.  ``noise``: eigenvalues within
    +-noise of 0 cannot be told from 0 by differences of gradients.

    ``kind`` says what the point is, as far as the products can tell:
    "saddle" (some eigenvalue clearly negative: proven, since a Ritz value is never
    below lambda_min), "minimum" (complete and every eigenvalue clearly positive),
    "flat" (complete, none negative, some within the noise of 0: a valley floor),
    "unknown" (incomplete and no negative curvature found yet), "invalid" (non-finite).
    ``stable_lr`` = 2 / lambda_max when lambda_max is clearly positive.
    ``condition_number`` = lambda_max / lambda_min only for a "minimum".
    ``max_settled``: lambda_max's residual is small (the estimate has converged).
    ``negative``: Ritz values clearly below 0 (all negative eigenvalues when complete).
    """

    max_eigenvalue: float
    min_eigenvalue: float
    stable_lr: float | None
    condition_number: float | None
    ritz_values: tuple[float, ...]
    residuals: tuple[float, ...]
    hessian_vector_products: int
    weights: int
    complete: bool
    noise: float
    kind: str
    max_settled: bool
    negative: int


def curvature(session: TrainingSession, iterations: int | None = None, seed: int = 0) -> Curvature:
    """The Hessian's spectrum by Lanczos from ``iterations`` Hessian-vector products
    (default: every weight up to FULL_SPECTRUM_WEIGHTS, which gives the whole spectrum,
    else PARTIAL_PRODUCTS).  Each product is a central difference of two full-batch
    gradients in float64 (engine.hessian); two more gradients measure the products'
    error, the noise floor below which an eigenvalue is not told from 0.  The start vector comes from ``seed``,
    never from the session's generators.
    """
    return describe_spectrum(objective_spectrum(FullBatchObjective.of_session(session), iterations, seed))


def objective_spectrum(objective: FullBatchObjective, iterations: int | None = None, seed: int = 0,
                       vectors: bool = False, progress: Progress = None) -> Spectrum:
    """``curvature``'s Lanczos spectrum of any full-batch objective at its ``start``
    weights (with the Ritz vectors when ``vectors``).  ``progress(fraction)`` hears
    after each product; returning False raises ``engine.progress.Cancelled``."""
    w0 = objective.start
    n = w0.size
    eps = finite_difference_step(w0)
    if iterations is None:
        iterations = n if n <= FULL_SPECTRUM_WEIGHTS else PARTIAL_PRODUCTS
    total = max(1, min(int(iterations), n))
    done = [0]

    def product(v: np.ndarray) -> np.ndarray:
        hv = hessian_vector(objective.gradient, w0, v, eps)
        done[0] += 1
        report(progress, done[0] / total)
        return hv

    with np.errstate(over="ignore", invalid="ignore"):
        noise = product_noise(objective.gradient, w0, eps, seed + 1)
        return lanczos(product, n, iterations, seed, noise, vectors=vectors)


def describe_spectrum(spectrum: Spectrum) -> Curvature:
    """What a Lanczos spectrum says about the point (see ``Curvature``)."""
    ritz, products, n = spectrum.ritz_values, spectrum.products, spectrum.size
    if ritz.size == 0 or not np.all(np.isfinite(ritz)):
        nan = float("nan")
        return Curvature(nan, nan, None, None, (), (), products, n, False, nan, "invalid", False, 0)
    lam_max, lam_min, noise = float(ritz[-1]), float(ritz[0]), spectrum.noise
    negative = int(np.sum(ritz < -noise))
    if negative:
        kind = "saddle"
    elif not spectrum.complete:
        kind = "unknown"
    elif lam_min > noise:
        kind = "minimum"
    else:
        kind = "flat"
    stable = 2.0 / lam_max if lam_max > noise else None
    cond = lam_max / lam_min if kind == "minimum" else None
    return Curvature(lam_max, lam_min, stable, cond, tuple(float(r) for r in ritz),
                     tuple(float(r) for r in spectrum.residuals), products, n, spectrum.complete, noise, kind,
                     spectrum.settled(len(ritz) - 1), negative)


# -- 3b. which learning rates are stable, for the session's optimiser ----------------

@dataclass(frozen=True)
class StepLimit:
    """The learning-rate limit that curvature implies for one optimiser, if any.

    ``rule``: "gd" (plain gradient descent: 2 / lambda_max), "momentum" (heavy ball:
    2 (1 + beta) / ((1 - dampening) lambda_max)), "nesterov" (2 (1 + beta) /
    ((1 + 2 beta) lambda_max)), or, with ``limit`` None, "adaptive" (Adagrad, RMSprop,
    Adam, AdamW: each weight's step is divided by a running size of its gradients),
    "sign" (Rprop, sign-SGD: steps use only the gradient's sign) or "no curvature"
    (lambda_max not clearly positive).  The limits are those of the quadratic
    model near a minimum, for full-batch gradients: ``minibatch`` (steps use a
    sample of the rows) and a saddle (``curvature.kind``) change what happens.
    ``ratio`` = lr / limit.  Weight decay in the optimiser adds to the curvature.
    """

    rule: str
    limit: float | None
    lr: float
    ratio: float | None
    minibatch: bool
    curvature: Curvature
    optimizer: str


ADAPTIVE = ("adagrad", "rmsprop", "adam", "adamw")
SIGN = ("rprop", "sign_sgd")


def step_limit(optimizer_spec: dict, lr: float, curv: Curvature, batch_size: int, train_rows: int) -> StepLimit:
    name = optimizer_spec.get("name", "sgd")
    minibatch = int(batch_size) < int(train_rows)
    if name in ADAPTIVE or name in SIGN:
        return StepLimit("adaptive" if name in ADAPTIVE else "sign", None, lr, None, minibatch, curv, name)
    lam = curv.max_eigenvalue + float(optimizer_spec.get("weight_decay", 0.0) or 0.0)
    if curv.stable_lr is None or not lam > 0:
        return StepLimit("no curvature", None, lr, None, minibatch, curv, name)
    beta = float(optimizer_spec.get("momentum", 0.0) or 0.0)
    if beta == 0.0:
        rule, limit = "gd", 2.0 / lam
    elif optimizer_spec.get("nesterov"):
        rule, limit = "nesterov", 2.0 * (1 + beta) / ((1 + 2 * beta) * lam)
    else:
        damp = float(optimizer_spec.get("dampening", 0.0) or 0.0)
        if damp >= 1.0:             # the gradient never enters the buffer: no step at all
            return StepLimit("momentum", None, lr, None, minibatch, curv, name)
        rule, limit = "momentum", 2.0 * (1 + beta) / ((1 - damp) * lam)
    return StepLimit(rule, limit, lr, lr / limit, minibatch, curv, name)


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
    slope_at_z: np.ndarray | None  # f'(z) at each of z_values, exactly (not read off the grid)


def activation_profile(session: TrainingSession, node_id: str) -> ActivationProfile:
    """The node's transfer function and its derivative over the whole range of its
    pre-activations on the training rows ([min - 1, max + 1], 200 points: no clipping,
    a saturated neuron at z = 12.5 must be seen at 12.5), and those pre-activations
    (all of them flattened, or 2000 picked at evenly spaced positions) with the slope
    at each, so a plot can show where the neurons sit on f'.

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
        lo, hi = float(finite.min()) - 1.0, float(finite.max()) + 1.0
    else:
        lo, hi = -PROFILE_DEFAULT_HALF_WIDTH, PROFILE_DEFAULT_HALF_WIDTH
    grid = np.linspace(lo, hi, PROFILE_POINTS)
    act = ACTIVATIONS[step.node.activation]
    alpha = step.node.act_alpha
    if z.size > PROFILE_MAX_SAMPLES:
        z = z[np.unique(np.linspace(0, z.size - 1, PROFILE_MAX_SAMPLES).round().astype(np.int64))]
    with np.errstate(over="ignore", invalid="ignore"):
        if act.name == "softmax":
            others = step.width - 1
            f = 1.0 / (1.0 + others * np.exp(-grid))
            slope = slope_at_z = None
        else:
            f = np.asarray(act.forward(grid, alpha), dtype=np.float64)
            slope = np.asarray(act.slope(grid, f, alpha), dtype=np.float64)
            slope_at_z = np.asarray(act.slope(z, act.forward(z, alpha), alpha), dtype=np.float64)
    return ActivationProfile(grid, f, slope, z.copy(), slope_at_z)
