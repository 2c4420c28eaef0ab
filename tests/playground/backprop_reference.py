"""The engine's own forward and backward pass on one row: what the backward-pass view's
numbers must equal.  Nothing here comes from engine/backward_trace.py: the outputs come
from ``Network.forward``, the deltas are the bias gradients of ``Network.backward``
on a batch of one row (dL/db_j = delta_j), the weight gradients are its weight
gradients, and the loss after the step is the loss head's value after applying
-lr * gradient to a copy."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.network import Network


@dataclass(frozen=True)
class RowReference:
    a: dict            # node id -> output a on the row (every node, the input included)
    z: dict            # dense node id -> W a_in + b
    delta: dict        # dense node id -> dL/dz (= dL/db on one row)
    weight_grad: dict  # dense node id -> dL/dW
    weight: dict       # dense node id -> W before the step
    loss: float
    loss_after: float


def _loss(net: Network, head, x: np.ndarray, y) -> tuple[float, np.ndarray]:
    out = net.forward(x[None, :], training=False)
    return head.value_and_grad(net.output_pre_activation, out, y)


def row_reference(session, weights, row: int, lr: float, subset: str = "train") -> RowReference:
    """``session`` supplies the plan, the loss head and the data (its own weights are not
    used); ``weights`` maps tensor names to the weights to trace (a frame's snapshot)."""
    X, Y = (session.X_train, session.y_train) if subset == "train" else (session.X_test, session.y_test)
    x = np.asarray(X[row], dtype=np.float64)
    y = Y[row:row + 1]
    plan = session.network.plan
    net = Network(plan, np.float64)
    for name, tensor in weights.items():
        net.tensors[name][...] = tensor
    loss, grad = _loss(net, session.head, x, y)
    a = {step.node.id: np.array(net.node_output(step.node.id)[0]) for step in plan.steps}
    net.backward(grad, session.head.wrt_logits)
    z, delta, weight_grad, weight = {}, {}, {}, {}
    for step in plan.dense_steps:
        node = step.node.id
        source = plan.steps[step.inputs[0]].node.id
        W, b = net.tensors[f"{node}.weight"].copy(), net.tensors[f"{node}.bias"].copy()
        z[node], weight[node] = W @ a[source] + b, W
        delta[node] = net.grad_tensors[f"{node}.bias"].copy()
        weight_grad[node] = net.grad_tensors[f"{node}.weight"].copy()
    after = Network(plan, np.float64)
    after.params[...] = net.params - lr * net.grads
    loss_after, _ = _loss(after, session.head, x, y)
    return RowReference(a, z, delta, weight_grad, weight, float(loss), float(loss_after))
