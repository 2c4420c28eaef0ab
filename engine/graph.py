"""The network as a DAG of nodes, validated and compiled into an execution plan.

``parse_network`` turns the project's ``network`` section into a ``Graph`` of
``NodeSpec`` values, checking every field.  ``compile_plan`` checks the structure
(one input, fan-in per node type, no cycle, every node on a path to the output,
equal widths at ``add``), orders the nodes topologically and infers each node's
width.  Every error names the node at fault (``GraphError``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .activations import ACTIVATIONS, get_activation
from .errors import ConfigError, GraphError
from .initializers import check_init
from .validate import number

NODE_TYPES = ("input", "dense", "activation", "dropout", "add", "concat")
_SINGLE_INPUT = ("dense", "activation", "dropout")
_MULTI_INPUT = ("add", "concat")
_ALLOWED_KEYS = {
    "input": {"id", "type"},
    "dense": {"id", "type", "units", "activation", "alpha", "init", "bias"},
    "activation": {"id", "type", "fn", "alpha"},
    "dropout": {"id", "type", "p"},
    "add": {"id", "type"},
    "concat": {"id", "type"},
}
# Units above this are refused outright; the memory estimate catches big products.
MAX_UNITS = 1_000_000


@dataclass(frozen=True)
class NodeSpec:
    """One node as the project file describes it (validated field by field)."""

    id: str
    type: str
    units: int | None = None          # dense
    activation: str = "linear"        # dense: its transfer function; activation: fn
    alpha: float | None = None        # leaky_relu / elu parameter
    init: Any = "glorot_uniform"      # dense: name or {"name": ..., params}
    bias: float = 0.0                 # dense: initial bias value
    p: float = 0.0                    # dropout probability

    @property
    def act_alpha(self) -> float:
        return ACTIVATIONS[self.activation].default_alpha if self.alpha is None else self.alpha

    def to_dict(self) -> dict:
        """The node as a project-file entry (only fields that mean something for its type)."""
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "dense":
            out.update(units=self.units, activation=self.activation, init=self.init)
            if self.bias:
                out["bias"] = self.bias
        elif self.type == "activation":
            out["fn"] = self.activation
        elif self.type == "dropout":
            out["p"] = self.p
        if self.alpha is not None and self.type in ("dense", "activation"):
            out["alpha"] = self.alpha
        return out


@dataclass(frozen=True)
class Graph:
    nodes: tuple[NodeSpec, ...]
    edges: tuple[tuple[str, str], ...]
    output: str

    def node(self, node_id: str) -> NodeSpec:
        return next(n for n in self.nodes if n.id == node_id)

    def inputs_of(self, node_id: str) -> tuple[str, ...]:
        """Sources of edges into ``node_id``, in the order the edges are listed."""
        return tuple(src for src, dst in self.edges if dst == node_id)

    def to_dict(self) -> dict:
        return {"nodes": [n.to_dict() for n in self.nodes],
                "edges": [list(e) for e in self.edges], "output": self.output}


@dataclass(frozen=True)
class PlanStep:
    """One node in execution order, with the positions of its inputs in the plan."""

    node: NodeSpec
    inputs: tuple[int, ...]
    in_width: int
    width: int


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]
    output_index: int
    input_width: int
    index: dict[str, int] = field(compare=False)

    @property
    def dense_steps(self) -> tuple[PlanStep, ...]:
        return tuple(s for s in self.steps if s.node.type == "dense")

    @property
    def n_params(self) -> int:
        return sum(s.width * s.in_width + s.width for s in self.dense_steps)

    @property
    def output_width(self) -> int:
        return self.steps[self.output_index].width

    @property
    def output_activation(self) -> str:
        """The transfer function applied last, which a loss may cancel against."""
        node = self.steps[self.output_index].node
        return node.activation if node.type in ("dense", "activation") else "linear"


def _parse_node(raw: Any, position: int) -> NodeSpec:
    where = f"network.nodes[{position}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be an object, got {raw!r}")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id:
        raise ConfigError(f"{where}.id: must be a non-empty string, got {node_id!r}")
    kind = raw.get("type")
    if kind not in NODE_TYPES:
        raise GraphError(node_id, f"unknown type {kind!r}; choose one of {', '.join(NODE_TYPES)}")
    unknown = set(raw) - _ALLOWED_KEYS[kind]
    if unknown:
        raise GraphError(node_id, f"field {sorted(unknown)[0]!r} does not apply to a {kind} node "
                                  f"(allowed: {', '.join(sorted(_ALLOWED_KEYS[kind]))})")
    where = f"network node '{node_id}'"
    fields: dict[str, Any] = {"id": node_id, "type": kind}
    if kind == "dense":
        if "units" not in raw:
            raise GraphError(node_id, "a dense node needs 'units'")
        fields["units"] = number(f"{where}.units", raw["units"], integer=True, low=1, high=MAX_UNITS)
        fields["activation"] = get_activation(raw.get("activation", "linear"), f"{where}.activation").name
        if "init" in raw:
            check_init(raw["init"], f"{where}.init")
            fields["init"] = raw["init"]
        if "bias" in raw:
            fields["bias"] = float(number(f"{where}.bias", raw["bias"]))
    elif kind == "activation":
        if "fn" not in raw:
            raise GraphError(node_id, "an activation node needs 'fn'")
        fields["activation"] = get_activation(raw["fn"], f"{where}.fn").name
    elif kind == "dropout":
        fields["p"] = float(number(f"{where}.p", raw.get("p", 0.5), low=0.0, high=1.0, high_open=True))
    if "alpha" in raw:
        fields["alpha"] = float(number(f"{where}.alpha", raw["alpha"], low=0.0))
    return NodeSpec(**fields)


def parse_network(raw: Any) -> Graph:
    """Validate the ``network`` section field by field and return a ``Graph``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"network: must be an object, got {type(raw).__name__}")
    nodes_raw, edges_raw, output = raw.get("nodes"), raw.get("edges", []), raw.get("output")
    if not isinstance(nodes_raw, list) or not nodes_raw:
        raise ConfigError("network.nodes: must be a non-empty list of nodes")
    nodes = tuple(_parse_node(n, i) for i, n in enumerate(nodes_raw))
    seen: set[str] = set()
    for n in nodes:
        if n.id in seen:
            raise GraphError(n.id, "the id is used by more than one node")
        seen.add(n.id)
    if not isinstance(edges_raw, list):
        raise ConfigError("network.edges: must be a list of [from, to] pairs")
    edges = []
    for i, e in enumerate(edges_raw):
        if not (isinstance(e, (list, tuple)) and len(e) == 2 and all(isinstance(x, str) for x in e)):
            raise ConfigError(f"network.edges[{i}]: must be a pair of node ids, got {e!r}")
        for end in e:
            if end not in seen:
                raise GraphError(end, f"edge {list(e)} refers to a node that does not exist")
        if tuple(e) in edges:
            raise GraphError(e[1], f"edge {list(e)} is listed twice")
        edges.append(tuple(e))
    if not isinstance(output, str):
        raise ConfigError(f"network.output: must name a node, got {output!r}")
    if output not in seen:
        raise GraphError(output, "network.output names a node that does not exist")
    return Graph(nodes, tuple(edges), output)


def _topological_order(graph: Graph) -> list[str]:
    """Kahn's algorithm, stable in file order; raises on a cycle naming a node in it."""
    indegree = {n.id: 0 for n in graph.nodes}
    for _, dst in graph.edges:
        indegree[dst] += 1
    ready = [n.id for n in graph.nodes if indegree[n.id] == 0]
    order = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for src, dst in graph.edges:
            if src == current:
                indegree[dst] -= 1
                if indegree[dst] == 0:
                    ready.append(dst)
    if len(order) < len(graph.nodes):
        raise GraphError(_node_on_cycle(graph, indegree), "is part of a cycle; the network must be a DAG")
    return order


def _node_on_cycle(graph: Graph, indegree: dict[str, int]) -> str:
    """A node that really lies on a cycle (nodes downstream of one are left over too).

    Every left-over node has a left-over predecessor, so walking back through them
    must revisit a node; the first node revisited is on the cycle.
    """
    current = next(n.id for n in graph.nodes if indegree[n.id] > 0)
    seen: set[str] = set()
    while current not in seen:
        seen.add(current)
        current = next(src for src in graph.inputs_of(current) if indegree[src] > 0)
    return current


def check_structure(graph: Graph) -> list[str]:
    """Fan-in rules, single input, no cycle, everything reaches the output. Returns the order."""
    inputs = [n for n in graph.nodes if n.type == "input"]
    if not inputs:
        raise GraphError(None, "there is no input node")
    if len(inputs) > 1:
        raise GraphError(inputs[1].id, "a network has exactly one input node")
    for n in graph.nodes:
        fan_in = len(graph.inputs_of(n.id))
        if n.type == "input" and fan_in:
            raise GraphError(n.id, "an input node takes no incoming edge")
        if n.type in _SINGLE_INPUT and fan_in != 1:
            raise GraphError(n.id, f"a {n.type} node takes exactly one incoming edge, it has {fan_in}")
        if n.type in _MULTI_INPUT and fan_in < 2:
            raise GraphError(n.id, f"an {n.type} node takes two or more incoming edges, it has {fan_in}")
    order = _topological_order(graph)
    # Walk back from the output: a node that cannot reach it would be computed for nothing.
    reaching, stack = {graph.output}, [graph.output]
    while stack:
        for src in graph.inputs_of(stack.pop()):
            if src not in reaching:
                reaching.add(src)
                stack.append(src)
    for n in graph.nodes:
        if n.id not in reaching:
            raise GraphError(n.id, f"has no path to the output node '{graph.output}'")
    if graph.node(graph.output).type == "input":
        raise GraphError(graph.output, "the output cannot be the input node")
    return order


def compile_plan(graph: Graph, input_width: int) -> Plan:
    """Order the nodes and infer every width; ``input_width`` is the number of features."""
    order = check_structure(graph)
    index = {node_id: i for i, node_id in enumerate(order)}
    steps: list[PlanStep] = []
    for node_id in order:
        node = graph.node(node_id)
        srcs = tuple(index[s] for s in graph.inputs_of(node_id))
        widths = [steps[i].width for i in srcs]
        if node.type == "input":
            in_width = width = input_width
        elif node.type == "dense":
            in_width, width = widths[0], node.units
        elif node.type == "add":
            if len(set(widths)) > 1:
                detail = ", ".join(f"'{steps[i].node.id}' {w}" for i, w in zip(srcs, widths))
                raise GraphError(node_id, f"add needs inputs of equal width, got {detail}")
            in_width = width = widths[0]
        elif node.type == "concat":
            in_width = width = sum(widths)
        else:
            in_width = width = widths[0]
        if node.type in ("dense", "activation") and node.activation == "softmax" and width < 2:
            raise GraphError(node_id, "softmax over a single unit is always 1; give it two or more inputs")
        steps.append(PlanStep(node, srcs, in_width, width))
    return Plan(tuple(steps), index[graph.output], input_width, index)


def chain_network(hidden, out_units: int = 1, out_activation: str = "sigmoid") -> dict:
    """The ``network`` section of a plain chain: input, the ``hidden`` dense layers given
    as (id, units, activation), then a dense output node "out"."""
    nodes, edges, prev = [{"id": "in", "type": "input"}], [], "in"
    for node_id, units, activation in hidden:
        nodes.append({"id": node_id, "type": "dense", "units": units, "activation": activation})
        edges.append([prev, node_id])
        prev = node_id
    nodes.append({"id": "out", "type": "dense", "units": out_units, "activation": out_activation})
    edges.append([prev, "out"])
    return {"nodes": nodes, "edges": edges, "output": "out"}
