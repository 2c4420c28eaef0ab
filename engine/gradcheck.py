"""Check backprop against central differences, tensor by tensor.

For each parameter w the numeric slope is (L(w + h) - L(w - h)) / (2h), whose error
shrinks like h^2.  It is compared with the gradient backprop computed.  The relative
error of an element is |analytic - numeric| / max(|analytic|, |numeric|, floor), the
floor being 1e-3 of the tensor's largest gradient so that elements whose true slope
is ~0 are not judged on rounding noise alone.  Run it in float64: in float32 the
differences lose most of their digits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .losses import LossHead
from .network import Network
from .session import Regularization


@dataclass(frozen=True)
class TensorCheck:
    name: str
    shape: tuple[int, ...]
    max_relative_error: float
    max_abs_error: float


def objective_and_gradient(network: Network, head: LossHead, X, y,
                           regularization: Regularization = Regularization()) -> tuple[float, np.ndarray]:
    """Mean loss plus penalty on (X, y), in evaluation mode, and its backprop gradient (a copy)."""
    out = network.forward(X, training=False)
    loss, grad = head.value_and_grad(network.output_pre_activation, out, y)
    network.backward(grad, head.wrt_logits)
    regularization.add_gradient(network.weights_view, network.weight_grads_view)
    return loss + regularization.penalty(network.weights_view), network.grads.copy()


def gradcheck(network: Network, head: LossHead, X, y, regularization: Regularization = Regularization(),
              h: float = 1e-5) -> list[TensorCheck]:
    """Compare every parameter's backprop gradient with central differences."""
    _, analytic = objective_and_gradient(network, head, X, y, regularization)
    params = network.params
    numeric = np.empty_like(params)

    def objective() -> float:
        out = network.forward(X, training=False)
        return head.value(network.output_pre_activation, out, y) + regularization.penalty(network.weights_view)

    for i in range(params.size):
        original = params[i]
        params[i] = original + h
        upper = objective()
        params[i] = original - h
        lower = objective()
        params[i] = original
        numeric[i] = (upper - lower) / (2 * h)

    results = []
    for name, (lo, hi) in network.offsets.items():
        a, n = analytic[lo:hi], numeric[lo:hi]
        abs_err = np.abs(a - n)
        floor = max(1e-3 * max(np.abs(a).max(), np.abs(n).max()), 1e-12)
        rel = abs_err / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
        results.append(TensorCheck(name, network.tensors[name].shape, float(rel.max()), float(abs_err.max())))
    return results
