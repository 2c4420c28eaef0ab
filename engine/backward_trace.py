"""One training row through the network, forward, backward and one SGD update, number by number.

``trace_row`` is what the backward-pass view steps through:

* forward: every edge carries w_ji * a_i, every neuron sums them into z_j = sum_i
  w_ji a_i + b_j and outputs a_j = f(z_j);
* backward: the output's delta dL/dz comes from the loss, as p - y where the loss
  cancels f' (sigmoid + bce, softmax + cross-entropy) and as dL/da * f'(z) otherwise;
  each hidden neuron's delta_j = f'(z_j) * sum_k w_kj delta_k, with the terms
  w_kj delta_k of that sum kept one by one (``NodeTrace.back_terms``);
* update: one plain SGD step on this row alone, dw_ji = -lr * delta_j * a_i, with the
  weights before and after and the row's loss after the step.

The numbers are computed here, term by term, on a float64 copy of the weights; the
tests hold them against the engine's own backward pass and central differences.
The network, its gradients and its cached activations are never touched.

Only chains are traced: input, then dense, activation and dropout nodes one after
another.  With an add or concat node a neuron's output feeds several others through
different paths, and its delta sums over all of them; ``trace_support`` says so in
words and ``trace_row`` raises ``TraceUnsupported`` with the same message.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS
from .graph import Plan
from .losses import LossHead
from .network import Network

# How the output's delta (dL/dz) was obtained: what the view writes next to it.
CANCELLED = "cancelled"   # p - y: the loss cancels the output's f'
CHAIN = "chain"           # dL/da * f'(z)
ABLATED = "ablated"       # dL/da * 1: f' removed from backprop (Network.ablate_derivative)
SOFTMAX = "softmax"       # J^T dL/da: softmax couples its outputs, there is no element-wise f'
DELTA_RULES = {
    CANCELLED: "delta = p - y (the loss cancels f'(z))",
    CHAIN: "delta = dL/da × f'(z)",
    ABLATED: "delta = dL/da × 1 (f' removed from backprop)",
    SOFTMAX: "delta_j = a_j (dL/da_j - Σ_k a_k dL/da_k) (softmax couples its outputs)",
}


class TraceUnsupported(ValueError):
    """The network is not a chain: the per-neuron trace cannot show it (message says why)."""


@dataclass(frozen=True)
class NodeTrace:
    """One node of the chain on the traced row (arrays are float64, read-only).

    ``kind``: "input", "dense", "activation" or "dropout" (dropout is off: the trace
    runs in evaluation mode, so it passes its input through).  ``labels``: each
    unit's name ("x1" for a feature, "h1[0]" for a neuron).

    Forward: ``weight`` [width, in] and ``bias`` (dense only); ``contributions``
    [width, in] = w_ji * a_i, what each edge carries (dense only); ``z`` the
    pre-activation (the input itself for activation and dropout nodes; None for the
    input node); ``a`` the output; ``slope`` f'(z) (None for the input and softmax).

    Backward (None for the input node): ``consumer`` is the node this one feeds (None
    at the output).  ``back_terms`` [consumer width, width]: entry [k, j] = w_kj *
    delta_k, the share of consumer unit k in dL/da_j (the weight is 1 on the diagonal
    when the consumer is an activation or dropout node); ``dL_da`` = their column
    sums, or the loss's gradient at the output (None where the loss cancels f');
    ``delta`` = dL/dz; ``delta_rule`` one of CANCELLED, CHAIN, ABLATED, SOFTMAX.

    Update (dense only): ``weight_grad`` = outer(delta, a_in), ``bias_grad`` = delta,
    ``weight_step`` = -lr * weight_grad, ``bias_step``, ``weight_after``, ``bias_after``.
    """

    node: str
    kind: str
    activation: str
    width: int
    source: str | None
    labels: tuple[str, ...]
    weight: np.ndarray | None
    bias: np.ndarray | None
    contributions: np.ndarray | None
    z: np.ndarray | None
    a: np.ndarray
    slope: np.ndarray | None
    consumer: str | None
    back_terms: np.ndarray | None
    dL_da: np.ndarray | None
    delta: np.ndarray | None
    delta_rule: str | None
    weight_grad: np.ndarray | None
    bias_grad: np.ndarray | None
    weight_step: np.ndarray | None
    bias_step: np.ndarray | None
    weight_after: np.ndarray | None
    bias_after: np.ndarray | None


@dataclass(frozen=True)
class BackwardTrace:
    """Forward, backward and one SGD update of one row; ``nodes`` in execution order.

    ``target`` is shaped like the output (one-hot for a class index; ``target_class``
    then holds the index).  ``loss_value`` is that row's loss (no regularisation
    penalty, which the step leaves out too), ``loss_after`` the same after the update.
    ``ablated``: backprop ran with f' replaced by 1 (the gradient is then not the
    loss's: ``loss_after`` may rise).  ``output_rule`` is the output node's
    ``delta_rule`` and ``output_rule_text`` its wording (DELTA_RULES).
    """

    row: int | None
    x: np.ndarray
    target: np.ndarray
    target_class: int | None
    loss: str
    output_activation: str
    prediction: np.ndarray
    loss_value: float
    loss_after: float
    lr: float
    ablated: bool
    output_rule: str
    output_rule_text: str
    nodes: tuple[NodeTrace, ...]

    def node(self, node_id: str) -> NodeTrace:
        for n in self.nodes:
            if n.node == node_id:
                return n
        raise KeyError(f"no node {node_id!r} in the trace (nodes: {', '.join(n.node for n in self.nodes)})")

    @property
    def dense(self) -> tuple[NodeTrace, ...]:
        return tuple(n for n in self.nodes if n.kind == "dense")


def trace_support(plan: Plan) -> str | None:
    """None when ``trace_row`` can follow the network; otherwise why not, in words."""
    for step in plan.steps:
        if step.node.type in ("add", "concat"):
            what = "adds" if step.node.type == "add" else "concatenates"
            return (f"the backward-pass view follows a chain of layers, and node '{step.node.id}' {what} "
                    "several paths, so a neuron's delta sums over more than one next layer; "
                    "use a network without add or concat nodes")
    return None


def _frozen(a) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=np.float64)
    a.flags.writeable = False
    return a


def _check_row(network: Network, head: LossHead, x, y, lr) -> tuple[np.ndarray, np.ndarray, int | None]:
    plan = network.plan
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.size != plan.input_width:
        raise ValueError(f"the row has {x.size} feature(s), the network's input takes {plan.input_width}")
    if not np.all(np.isfinite(x)):
        raise ValueError("the row's features are not all finite")
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)) \
            or not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"the learning rate must be a finite number >= 0, got {lr!r}")
    width = plan.output_width
    if head.targets_are_indices:
        target = np.asarray(y).reshape(-1)
        if target.size != 1 or not float(target[0]).is_integer() or not 0 <= int(target[0]) < width:
            raise ValueError(f"the target must be one class index in 0..{width - 1} for {head.loss}, got {y!r}")
        cls = int(target[0])
        onehot = np.zeros(width)
        onehot[cls] = 1.0
        return x, onehot, cls
    target = np.asarray(y, dtype=np.float64).reshape(-1)
    if target.size != width:
        raise ValueError(f"the target has {target.size} value(s), the output has {width} unit(s)")
    return x, target, None


def _labels(plan: Plan, index: int, feature_names) -> tuple[str, ...]:
    step = plan.steps[index]
    if step.node.type == "input":
        return tuple(feature_names[k] if k < len(feature_names) else f"x[{k}]" for k in range(step.width))
    return tuple(f"{step.node.id}[{k}]" for k in range(step.width))


def _forward(plan: Plan, tensors, x: np.ndarray) -> list[dict]:
    """Each node's forward numbers, written out (not the engine's forward)."""
    nodes: list[dict] = []
    for step in plan.steps:
        kind = step.node.type
        if kind == "input":
            nodes.append(dict(kind=kind, activation="linear", z=None, a=x, slope=None, source=None))
            continue
        a_in = nodes[step.inputs[0]]["a"]
        entry = dict(kind=kind, source=plan.steps[step.inputs[0]].node.id)
        if kind == "dense":
            W, b = tensors[f"{step.node.id}.weight"], tensors[f"{step.node.id}.bias"]
            contributions = W * a_in[None, :]
            z = contributions.sum(axis=1) + b
            entry.update(weight=W.copy(), bias=b.copy(), contributions=contributions)
        else:
            z = a_in.copy()
        act = ACTIVATIONS["linear" if kind == "dropout" else step.node.activation]
        alpha = step.node.act_alpha if kind != "dropout" else 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            a = np.asarray(act.forward(z[None, :], alpha), dtype=np.float64)[0]
            slope = None if act.slope is None else np.asarray(act.slope(z[None, :], a[None, :], alpha))[0]
        entry.update(activation=act.name, z=z, a=a, slope=slope)
        nodes.append(entry)
    return nodes


def _delta(entry: dict, dL_da: np.ndarray, ablated: bool) -> tuple[np.ndarray, str]:
    if entry["activation"] == "linear":   # f' = 1 already: nothing to remove
        return dL_da.copy(), CHAIN
    if ablated:
        return dL_da.copy(), ABLATED
    if entry["slope"] is None:   # softmax: J^T g without forming J
        a = entry["a"]
        return a * (dL_da - float(np.dot(dL_da, a))), SOFTMAX
    return dL_da * entry["slope"], CHAIN


def _backward(plan: Plan, nodes: list[dict], head: LossHead, out_grad: np.ndarray, ablated: bool) -> None:
    """Fill each node's delta from the output down, the sums broken out term by term."""
    out = plan.output_index
    if head.wrt_logits:
        nodes[out].update(dL_da=None, delta=out_grad.copy(), delta_rule=CANCELLED)
    else:
        delta, rule = _delta(nodes[out], out_grad, ablated)
        nodes[out].update(dL_da=out_grad.copy(), delta=delta, delta_rule=rule)
    for index in range(out - 1, 0, -1):
        consumer = next(i for i, s in enumerate(plan.steps) if index in s.inputs)
        c = nodes[consumer]
        weight = c["weight"] if c["kind"] == "dense" else np.eye(len(c["delta"]))
        terms = weight * c["delta"][:, None]
        dL_da = terms.sum(axis=0)
        delta, rule = _delta(nodes[index], dL_da, ablated)
        nodes[index].update(consumer=plan.steps[consumer].node.id, back_terms=terms, dL_da=dL_da,
                            delta=delta, delta_rule=rule)


def _update(plan: Plan, nodes: list[dict], lr: float) -> None:
    for step, entry in zip(plan.steps, nodes):
        if entry["kind"] != "dense":
            continue
        a_in = nodes[step.inputs[0]]["a"]
        grad_w = np.outer(entry["delta"], a_in)
        step_w, step_b = -lr * grad_w, -lr * entry["delta"]
        entry.update(weight_grad=grad_w, bias_grad=entry["delta"].copy(), weight_step=step_w, bias_step=step_b,
                     weight_after=entry["weight"] + step_w, bias_after=entry["bias"] + step_b)


def _row_loss(net: Network, head: LossHead, x: np.ndarray, y) -> tuple[float, np.ndarray, np.ndarray]:
    out = net.forward(x[None, :], training=False)
    value, grad = head.value_and_grad(net.output_pre_activation, out, y)
    return value, grad[0], out[0]


def trace_row(network: Network, head: LossHead, x, y, lr: float, *, row: int | None = None,
              feature_names=(), ablate_derivative: bool | None = None) -> BackwardTrace:
    """Trace one row ``x`` (features as the network takes them) with target ``y`` (as
    the session encodes it: a class index for cross-entropy and hinge, else one value
    per output unit) through forward, backward and one SGD step at rate ``lr``.

    ``ablate_derivative``: trace backprop with f' replaced by 1; None follows the
    network's own setting.  Raises ``TraceUnsupported`` for a network with add or
    concat nodes and ValueError for a row, target or rate that does not fit.
    """
    plan = network.plan
    reason = trace_support(plan)
    if reason:
        raise TraceUnsupported(reason)
    ablated = network.ablate_derivative if ablate_derivative is None else bool(ablate_derivative)
    x, target, cls = _check_row(network, head, x, y, lr)
    y_row = np.array([cls]) if cls is not None else target[None, :]
    net = Network(plan, np.float64)
    net.params[...] = network.params
    with np.errstate(over="ignore", invalid="ignore"):
        loss_value, out_grad, prediction = _row_loss(net, head, x, y_row)
        nodes = _forward(plan, net.tensors, x)
        _backward(plan, nodes, head, out_grad, ablated)
        _update(plan, nodes, float(lr))
        for step, entry in zip(plan.steps, nodes):
            if entry["kind"] == "dense":
                net.tensors[f"{step.node.id}.weight"][...] = entry["weight_after"]
                net.tensors[f"{step.node.id}.bias"][...] = entry["bias_after"]
        loss_after = _row_loss(net, head, x, y_row)[0]
    traces = tuple(_node_trace(plan, i, entry, feature_names) for i, entry in enumerate(nodes))
    rule = nodes[plan.output_index]["delta_rule"]
    return BackwardTrace(row, _frozen(x), _frozen(target), cls, head.loss, plan.output_activation,
                         _frozen(prediction), float(loss_value), float(loss_after), float(lr), ablated,
                         rule, DELTA_RULES[rule], traces)


def _node_trace(plan: Plan, index: int, entry: dict, feature_names) -> NodeTrace:
    step = plan.steps[index]
    get = entry.get
    return NodeTrace(step.node.id, entry["kind"], entry["activation"], step.width, entry["source"],
                     _labels(plan, index, feature_names), _frozen(get("weight")), _frozen(get("bias")),
                     _frozen(get("contributions")), _frozen(entry["z"]), _frozen(entry["a"]),
                     _frozen(entry["slope"]), get("consumer"), _frozen(get("back_terms")), _frozen(get("dL_da")),
                     _frozen(get("delta")), get("delta_rule"), _frozen(get("weight_grad")),
                     _frozen(get("bias_grad")), _frozen(get("weight_step")), _frozen(get("bias_step")),
                     _frozen(get("weight_after")), _frozen(get("bias_after")))


def trace_session_row(session, row: int, lr: float | None = None) -> BackwardTrace:
    """``trace_row`` for training row ``row`` of a ``TrainingSession``, at the session's
    current learning rate unless ``lr`` is given; the session is left untouched."""
    n = len(session.X_train)
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or not 0 <= row < n:
        raise ValueError(f"row {row!r} is not a training row (0..{n - 1})")
    names = getattr(session.dataset, "feature_names", ())
    return trace_row(session.network, session.head, session.X_train[row], session.y_train[row],
                     session.lr if lr is None else lr, row=int(row), feature_names=tuple(names))
