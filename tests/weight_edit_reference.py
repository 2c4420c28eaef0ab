"""An explicit NumPy forward pass and loss for dense chains (the examples' networks),
written out from the formulas, independent of engine.network: what the loss and the
output map must be for given weights."""
from __future__ import annotations

import numpy as np

ACTIVATIONS = {"tanh": np.tanh, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
               "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}


def dense_layers(project) -> list[tuple[str, str]]:
    """(node id, activation) of a chain of dense nodes, input first (the examples' layout)."""
    nodes = {n["id"]: n for n in project.document["network"]["nodes"]}
    edges = dict(project.document["network"]["edges"])
    layers, node = [], next(n for n in nodes.values() if n["type"] == "input")["id"]
    while node in edges:
        node = edges[node]
        assert nodes[node]["type"] == "dense", "the reference handles dense chains only"
        layers.append((node, nodes[node]["activation"]))
    return layers


def forward(weights, X: np.ndarray, layers) -> np.ndarray:
    a = np.asarray(X, dtype=np.float64)
    for node, activation in layers:
        a = ACTIVATIONS[activation](a @ np.asarray(weights[f"{node}.weight"]).T + weights[f"{node}.bias"])
    return a


def bce(p: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of a one-unit sigmoid output."""
    p, y = p[:, 0], np.asarray(y, dtype=np.float64).ravel()
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
