"""Activation functions, each with its derivative beside it.

Backprop multiplies the incoming gradient dL/da by the transfer function's slope
f'(z) to get dL/dz: that product is why the derivative of the transfer function
appears in every weight update (``Activation.backward``).  Derivatives are written
in terms of whatever is cheapest: sigmoid's slope is o(1 - o) from its output o,
tanh's is 1 - o^2, ReLU's is 0 or 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import erf, expit

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """f(z) and f'(z) for one transfer function.

    ``forward(z, alpha)`` returns f(z).  ``slope(z, a, alpha)`` returns f'(z)
    element-wise, given both z and a = f(z) so each function can use the cheaper
    one.  Softmax couples its outputs, so it has no element-wise slope and
    overrides ``backward`` with the Jacobian-vector product instead.
    """

    name: str
    forward: Callable[[np.ndarray, float], np.ndarray]
    slope: Callable[[np.ndarray, np.ndarray, float], np.ndarray] | None
    formula: str
    slope_formula: str
    default_alpha: float = 0.0

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, alpha: float) -> np.ndarray:
        """dL/dz = dL/da * f'(z) (the chain rule through this transfer function)."""
        if self.name == "linear":
            return grad_a
        if self.name == "softmax":
            # J^T g for J = diag(a) - a a^T, without forming J.
            return a * (grad_a - np.sum(grad_a * a, axis=1, keepdims=True))
        return grad_a * self.slope(z, a, alpha)


def _softmax(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _elu(z, alpha):
    # expm1 on min(z, 0) so large positive z never overflows inside np.where.
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))


def _gelu(z, alpha):
    return 0.5 * z * (1.0 + erf(z / _SQRT2))


def _gelu_slope(z, a, alpha):
    return 0.5 * (1.0 + erf(z / _SQRT2)) + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def _silu_slope(z, a, alpha):
    s = expit(z)
    return s * (1.0 + z * (1.0 - s))


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("linear", lambda z, al: z, lambda z, a, al: np.ones_like(z), "f(z) = z", "f'(z) = 1"),
        Activation("sigmoid", lambda z, al: expit(z), lambda z, a, al: a * (1.0 - a),
                   "f(z) = 1 / (1 + e^-z)", "f'(z) = o(1 - o), at most 0.25"),
        Activation("tanh", lambda z, al: np.tanh(z), lambda z, a, al: 1.0 - a * a,
                   "f(z) = tanh z", "f'(z) = 1 - o^2"),
        Activation("relu", lambda z, al: np.maximum(z, 0), lambda z, a, al: (z > 0).astype(z.dtype),
                   "f(z) = max(0, z)", "f'(z) = 1 if z > 0 else 0"),
        Activation("leaky_relu", lambda z, al: np.where(z > 0, z, al * z),
                   lambda z, a, al: np.where(z > 0, 1.0, al).astype(z.dtype),
                   "f(z) = z if z > 0 else alpha z", "f'(z) = 1 if z > 0 else alpha", 0.01),
        Activation("elu", _elu, lambda z, a, al: np.where(z > 0, 1.0, a + al).astype(z.dtype),
                   "f(z) = z if z > 0 else alpha (e^z - 1)", "f'(z) = 1 if z > 0 else o + alpha", 1.0),
        Activation("softplus", lambda z, al: np.logaddexp(0, z), lambda z, a, al: expit(z),
                   "f(z) = ln(1 + e^z)", "f'(z) = sigmoid(z)"),
        Activation("gelu", _gelu, _gelu_slope, "f(z) = z Phi(z)", "f'(z) = Phi(z) + z phi(z)"),
        Activation("silu", lambda z, al: z * expit(z), _silu_slope,
                   "f(z) = z sigmoid(z)", "f'(z) = s (1 + z (1 - s))"),
        Activation("softmax", _softmax, None, "f(z)_i = e^z_i / sum_j e^z_j",
                   "df_i/dz_j = f_i (delta_ij - f_j)"),
    )
}


def get_activation(name: str, where: str) -> Activation:
    """Look up an activation by name; ``where`` names the field for the error message."""
    from .errors import ConfigError

    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"{where}: unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
