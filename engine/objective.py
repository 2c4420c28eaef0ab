"""The full-batch training objective as a function of a flat weight vector.

The 2/lambda demo and the loss landscape evaluate the objective at many weight
vectors that are not the session's: they run on a float64 copy of the network (with
the true derivative, even if the session trains with f' removed) and leave the
session untouched.  The objective is what full-batch gradient descent descends: the
mean data loss over every training row in evaluation mode (dropout off) plus the
regularisation penalty.
"""
from __future__ import annotations

import numpy as np

from .gradcheck import objective_and_gradient
from .losses import LossHead
from .network import Network
from .session import Regularization, TrainingSession


class FullBatchObjective:
    """L(w) and its gradient on fixed data, on a private float64 network."""

    def __init__(self, network: Network, head: LossHead, X, y, regularization: Regularization = Regularization()):
        self.network = Network(network.plan, np.float64)   # ablate_derivative off: the true gradient
        self.network.params[...] = network.params
        self.head = head
        self.X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y) if head.targets_are_indices else np.asarray(y, dtype=np.float64)
        self.regularization = regularization
        self.start = self.network.params.copy()
        self.size = self.start.size

    @classmethod
    def of_session(cls, session: TrainingSession) -> "FullBatchObjective":
        """The session's training objective at its current weights."""
        return cls(session.network, session.head, session.X_train, session.y_train, session.regularization)

    def value(self, w: np.ndarray) -> float:
        net = self.network
        net.params[...] = w
        out = net.forward(self.X, training=False)
        return self.head.value(net.output_pre_activation, out, self.y) + self.regularization.penalty(net.weights_view)

    def value_and_gradient(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        self.network.params[...] = w
        return objective_and_gradient(self.network, self.head, self.X, self.y, self.regularization)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return self.value_and_gradient(w)[1]
