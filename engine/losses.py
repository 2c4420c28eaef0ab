"""Loss functions with their gradients, mean-reduced as torch.nn defines them.

A ``LossHead`` joins a loss to the network's output activation.  For two pairs the
transfer function's derivative cancels out of the gradient:

* sigmoid output + binary cross-entropy, and
* softmax output + cross-entropy.

With p = f(z) and L = -y log p - (1 - y) log(1 - p), dL/dp = (p - y) / (p (1 - p))
and sigmoid's slope is dp/dz = p (1 - p): the product is just p - y.  Softmax with
cross-entropy gives the same p - y per logit.  So for these pairs the head returns
the gradient with respect to the LOGITS z directly (``wrt_logits``) and the output
activation's backward step is skipped.  That is why "the derivative of the transfer
function disappears" with cross-entropy, while with MSE on a sigmoid output it stays
(2 (p - y) * p (1 - p)), and saturated outputs (p near 0 or 1) learn slowly.

Computing these two losses from the logits is also what keeps them finite: log of a
sigmoid that rounded to 0 would be -inf; log-sum-exp of logits never is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .errors import ConfigError

LOSSES = ("mse", "mae", "huber", "bce", "cross_entropy", "hinge")
CLASSIFICATION_ONLY = ("bce", "cross_entropy", "hinge")
DESCRIPTIONS = {
    "mse": "Mean squared error: mean (p - y)^2. Its gradient 2(p - y) grows with the error.",
    "mae": "Mean absolute error: mean |p - y|. Its gradient is only the sign of the error.",
    "huber": "Huber (delta 1): squared for small errors, absolute for large ones; robust to outliers.",
    "bce": "Binary cross-entropy on a sigmoid output, from the logits. Cancels sigmoid's slope: gradient p - y.",
    "cross_entropy": "Cross-entropy on softmax (or raw logits). Cancels softmax's slope: gradient p - y.",
    "hinge": "Multi-class margin loss (margin 1): zero once the right class wins by 1.",
}


@dataclass(frozen=True)
class LossHead:
    """A loss bound to the output activation it follows.

    ``value_and_grad(z, a, y)`` takes the output node's pre-activation z (None for
    nodes without one) and its value a, and returns the mean loss and the gradient,
    which is dL/dz when ``wrt_logits`` and dL/da otherwise.
    """

    loss: str
    output_activation: str
    n_outputs: int

    @property
    def wrt_logits(self) -> bool:
        return (self.loss, self.output_activation) in (("bce", "sigmoid"), ("cross_entropy", "softmax"))

    @property
    def targets_are_indices(self) -> bool:
        return self.loss in ("cross_entropy", "hinge")

    def encode_targets(self, y: np.ndarray, task: str, dtype) -> np.ndarray:
        """Targets in the form this loss compares against the output.

        Class indices stay indices for cross-entropy and hinge; for bce they become a
        0/1 column; for the regression losses on a classification task a 0/1 column
        (one output) or one-hot rows (several outputs).
        """
        if task == "regression":
            y = np.asarray(y, dtype=dtype)
            return y.reshape(-1, 1) if y.ndim == 1 else y
        if self.targets_are_indices:
            return np.asarray(y, dtype=np.int64)
        if self.n_outputs == 1:
            return np.asarray(y, dtype=dtype).reshape(-1, 1)
        onehot = np.zeros((len(y), self.n_outputs), dtype=dtype)
        onehot[np.arange(len(y)), y] = 1
        return onehot

    def value_and_grad(self, z, a, y) -> tuple[float, np.ndarray]:
        loss = self.loss
        if loss == "bce":
            if self.wrt_logits:
                # -y log p - (1-y) log(1-p) with p = sigmoid(z) is log(1 + e^z) - z y;
                # logaddexp(0, z) computes log(1 + e^z) without overflow.
                value = (np.logaddexp(0, z) - z * y).sum() / z.size
                return float(value), (expit(z) - y) / z.size   # the sigmoid slope cancelled
            raise AssertionError("bce without a sigmoid output is refused in make_loss_head")
        if loss == "cross_entropy":
            logits = z if self.wrt_logits else a
            n = logits.shape[0]
            shifted = logits - logits.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            value = np.mean(np.log(total[:, 0]) - shifted[rows, y])
            grad = exp / total                     # softmax(logits) = p
            grad[rows, y] -= 1.0                   # p - y: the softmax slope cancelled
            grad /= n
            return float(value), grad
        if loss == "hinge":
            # torch.nn.MultiMarginLoss(p=1, margin=1): sum over j != y of
            # max(0, 1 - a_y + a_j), divided by the number of classes.
            n, classes = a.shape
            rows = np.arange(n)
            margins = 1.0 - a[rows, y][:, None] + a
            margins[rows, y] = 0.0
            active = (margins > 0).astype(a.dtype)
            value = np.sum(margins * active) / (classes * n)
            grad = active
            grad[rows, y] = -active.sum(axis=1)
            grad /= classes * n
            return float(value), grad
        diff = a - y
        if loss == "mse":
            return float((diff * diff).sum() / diff.size), diff * (2.0 / diff.size)
        if loss == "mae":
            return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size
        # huber, delta = 1
        absd = np.abs(diff)
        value = np.mean(np.where(absd <= 1.0, 0.5 * diff * diff, absd - 0.5))
        return float(value), np.clip(diff, -1.0, 1.0) / diff.size

    def value(self, z, a, y) -> float:
        return self.value_and_grad(z, a, y)[0]

    def predict_classes(self, a: np.ndarray) -> np.ndarray:
        """Class index per row: threshold 0.5 for one output, arg-max otherwise."""
        if a.shape[1] == 1:
            return (a[:, 0] > 0.5).astype(np.int64)
        return np.argmax(a, axis=1)


def make_loss_head(loss: str, output_activation: str, n_outputs: int, task: str, n_classes: int,
                   target_width: int | None = None) -> LossHead:
    """Check that the loss fits the output and the data, and bind them.

    ``target_width`` is the number of regression targets per row, when known.
    """
    if loss not in LOSSES:
        raise ConfigError(f"training.loss: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if task == "regression" and loss in CLASSIFICATION_ONLY:
        raise ConfigError(f"training.loss: {loss} is a classification loss, but the data is a regression task; "
                          "use mse, mae or huber")
    if task == "regression" and target_width is not None and n_outputs != target_width:
        raise ConfigError(f"training.loss: the data has {target_width} regression target(s) per row, "
                          f"the output node has {n_outputs} unit(s); they must match")
    if loss == "bce":
        if output_activation != "sigmoid" or n_outputs != 1:
            raise ConfigError("training.loss: bce needs an output of one unit with a sigmoid activation "
                              f"(the output has {n_outputs} unit(s), activation {output_activation})")
        if n_classes != 2:
            raise ConfigError(f"training.loss: bce needs two classes, the data has {n_classes}; "
                              "use cross_entropy")
    if loss in ("cross_entropy", "hinge") and n_outputs != n_classes:
        raise ConfigError(f"training.loss: {loss} needs one output unit per class: the data has "
                          f"{n_classes} classes, the output node has {n_outputs} units")
    if task == "classification" and loss not in CLASSIFICATION_ONLY:
        fits = n_outputs == n_classes or (n_outputs == 1 and n_classes == 2)
        if not fits:
            need = "1 or 2" if n_classes == 2 else str(n_classes)
            raise ConfigError(f"training.loss: {loss} on {n_classes} classes needs {need} output units "
                              f"(a 0/1 target or one-hot rows), the output node has {n_outputs}")
    return LossHead(loss, output_activation, n_outputs)
