"""Edits of a project document that the panels and the network view ask for.

Pure functions on plain dicts (copies in, copies out): the panels decide *what* to
change, these say *how* the document changes, and ``Project.with_changes`` checks
the result.  Kept free of Qt so they are easy to test and reason about.
"""
from __future__ import annotations

import copy

from engine.initializers import DEFAULT_INIT

# The +/- buttons build TF Playground-sized networks; the editor and project files
# go up to the engine's own limits (engine.graph.MAX_UNITS).
BUTTON_MAX_LAYERS = 6
BUTTON_MAX_UNITS = 16   # per hidden layer (TF Playground has 8)


def _nodes(network: dict) -> dict[str, dict]:
    return {n["id"]: n for n in network["nodes"]}


def chain_hidden(network: dict) -> list[str] | None:
    """Hidden dense ids, input to output, if the network is a plain chain of dense layers; else None."""
    nodes, edges, out = _nodes(network), [tuple(e) for e in network.get("edges", [])], network.get("output")
    inputs = [n for n in network["nodes"] if n["type"] == "input"]
    if len(inputs) != 1 or out not in nodes:
        return None
    order, current = [], inputs[0]["id"]
    while current != out:
        nxt = [dst for src, dst in edges if src == current]
        if len(nxt) != 1 or nodes[nxt[0]]["type"] != "dense":
            return None
        current = nxt[0]
        order.append(current)
    if len(order) != len(nodes) - 1 or len(edges) != len(order):
        return None
    return order[:-1]


def _fresh_id(network: dict) -> str:
    taken = set(_nodes(network))
    k = 1
    while f"h{k}" in taken:
        k += 1
    return f"h{k}"


def add_layer(network: dict) -> dict:
    """A new hidden layer just before the output, copying the last hidden layer's settings."""
    net = copy.deepcopy(network)
    hidden = chain_hidden(net)
    if hidden is None or len(hidden) >= BUTTON_MAX_LAYERS:
        return net
    nodes = _nodes(net)
    template = nodes[hidden[-1]] if hidden else {"units": 4, "activation": "tanh"}
    new = {"id": _fresh_id(net), "type": "dense", "units": template.get("units", 4),
           "activation": template.get("activation", "tanh")}
    if "init" in template:
        new["init"] = copy.deepcopy(template["init"])
    last = hidden[-1] if hidden else next(n["id"] for n in net["nodes"] if n["type"] == "input")
    net["edges"] = [e for e in net["edges"] if tuple(e) != (last, net["output"])]
    net["edges"] += [[last, new["id"]], [new["id"], net["output"]]]
    position = [n["id"] for n in net["nodes"]].index(net["output"])
    net["nodes"].insert(position, new)
    return net


def remove_layer(network: dict) -> dict:
    """Drop the hidden layer next to the output (a chain with no hidden layer is left alone)."""
    net = copy.deepcopy(network)
    hidden = chain_hidden(net)
    if not hidden:
        return net
    gone = hidden[-1]
    before = hidden[-2] if len(hidden) > 1 else next(n["id"] for n in net["nodes"] if n["type"] == "input")
    net["nodes"] = [n for n in net["nodes"] if n["id"] != gone]
    net["edges"] = [e for e in net["edges"] if gone not in e] + [[before, net["output"]]]
    return net


def change_units(network: dict, node_id: str, delta: int) -> dict:
    net = copy.deepcopy(network)
    node = _nodes(net).get(node_id)
    if node is not None and node["type"] == "dense":
        node["units"] = min(BUTTON_MAX_UNITS, max(1, node["units"] + delta))
    return net


def hidden_activation(network: dict) -> str:
    """The transfer function most hidden nodes use (linear ones are structural, see below)."""
    names = [n.get("activation", "linear") if n["type"] == "dense" else n.get("fn", "linear")
             for n in network["nodes"]
             if n["id"] != network["output"] and n["type"] in ("dense", "activation")]
    chosen = [a for a in names if a != "linear"] or names or ["linear"]
    return max(set(chosen), key=chosen.count)


def set_layer_activation(network: dict, node_id: str, activation: str) -> dict:
    """One dense layer's transfer function becomes ``activation``."""
    net = copy.deepcopy(network)
    node = next(n for n in net["nodes"] if n["id"] == node_id)
    node["activation"] = activation
    node.pop("alpha", None)
    return net


def set_hidden_activation(network: dict, activation: str) -> dict:
    """Every hidden transfer function becomes ``activation``.

    Hidden nodes that are linear on purpose (a projection before an ``add``) stay
    linear, unless every hidden node is linear: then the user means all of them.
    """
    net = copy.deepcopy(network)
    current = hidden_activation(net)
    for node in net["nodes"]:
        if node["id"] == net["output"]:
            continue
        key = {"dense": "activation", "activation": "fn"}.get(node["type"])
        if key and (node.get(key, "linear") != "linear" or current == "linear"):
            node[key] = activation
            node.pop("alpha", None)
    return net


def output_node(network: dict) -> dict:
    return _nodes(network)[network["output"]]


def set_output_activation(network: dict, activation: str) -> dict:
    net = copy.deepcopy(network)
    node = output_node(net)
    node["activation" if node["type"] == "dense" else "fn"] = activation
    node.pop("alpha", None)
    return net


def set_init(network: dict, init) -> dict:
    net = copy.deepcopy(network)
    for node in net["nodes"]:
        if node["type"] == "dense":
            node["init"] = copy.deepcopy(init)
    return net


def current_init(network: dict):
    inits = [n.get("init", DEFAULT_INIT) for n in network["nodes"] if n["type"] == "dense"]
    return inits[0] if inits else DEFAULT_INIT


def _fits(node: dict, loss: str, task: str, n_outputs: int) -> bool:
    units, act = node["units"], node.get("activation", "linear")
    if task == "regression":
        return units == n_outputs and loss in ("mse", "mae", "huber")
    if units == 1:
        return n_outputs <= 2 and loss == "bce" and act == "sigmoid"
    return units == max(2, n_outputs) and loss in ("cross_entropy", "hinge") and act in ("softmax", "linear")


def fit_output(document: dict, task: str, n_outputs: int) -> dict:
    """Sections (network, training) adapted so the output layer and loss suit the data.

    Switching from a 2-D two-class set to iris, say, needs three softmax outputs and
    cross-entropy.  Returns {} when the current design already fits (or the output
    is not a dense layer, which we do not resize).
    """
    net = copy.deepcopy(document["network"])
    training = copy.deepcopy(document["training"])
    node = output_node(net)
    if node["type"] != "dense" or _fits(node, training.get("loss"), task, n_outputs):
        return {}
    if task == "regression":
        node["units"], node["activation"], training["loss"] = n_outputs, "linear", "mse"
    elif n_outputs <= 2:
        node["units"], node["activation"], training["loss"] = 1, "sigmoid", "bce"
    else:
        node["units"], node["activation"], training["loss"] = n_outputs, "softmax", "cross_entropy"
    node.pop("alpha", None)
    return {"network": net, "training": training}
