"""The graph being edited, as plain Python: nodes, edges, output and positions.

``GraphModel`` holds the network section of a project (nodes as the project file
writes them, in order; edges in order, which is the input order of ``concat``) and
the position of every block.  It knows nothing of Qt: views observe it through
``subscribe(observer)``, and every change calls one method of ``GraphObserver`` on
each observer (``node_added(id)``, ``edge_removed(edge)``, ...).

Rules are the engine's (``engine.graph``): a node's fields are checked by
``parse_network``, the whole graph by ``check_structure`` and ``compile_plan``.
``can_connect`` only answers the questions an edit must settle before it is made
(self-loop, duplicate, fan-in of single-input nodes, cycle).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ConfigError, GraphError
from engine.graph import check_structure, compile_plan, parse_network
from engine.validate import brief, number

Edge = tuple[str, str]
Position = tuple[float, float]
SINGLE_INPUT = ("dense", "activation", "dropout")
ID_PREFIX = {"input": "in", "dense": "dense", "activation": "act", "dropout": "drop", "add": "add",
             "concat": "concat"}
DEFAULT_NODES = {
    "input": {"type": "input"},
    "dense": {"type": "dense", "units": 8, "activation": "tanh"},
    "activation": {"type": "activation", "fn": "relu"},
    "dropout": {"type": "dropout", "p": 0.5},
    "add": {"type": "add"},
    "concat": {"type": "concat"},
}
COLUMN_SPACING, ROW_SPACING = 200.0, 100.0
MAX_DRAWN_BLOCKS = 1000
POSITION_LIMIT = 4000.0         # inside the canvas's scene (ui.editor.scene.SCENE_EXTENT)


class GraphObserver:
    """What the model tells the views that ``subscribe`` to it.

    Override the events you draw; by default every change but a move reports
    ``structure_changed()`` (for views that only re-check the whole graph)."""

    def model_reset(self) -> None: self.structure_changed()
    def node_added(self, nid: str) -> None: self.structure_changed()
    def node_removed(self, nid: str) -> None: self.structure_changed()
    def node_changed(self, nid: str) -> None: self.structure_changed()
    def node_renamed(self, old: str, new: str) -> None: self.structure_changed()
    def edge_added(self, edge: Edge) -> None: self.structure_changed()
    def edge_removed(self, edge: Edge) -> None: self.structure_changed()
    def output_changed(self, old: str | None, new: str | None) -> None: self.structure_changed()
    def node_moved(self, nid: str) -> None: pass
    def structure_changed(self) -> None: pass


@dataclass
class Removal:
    """What ``remove`` took out, with the indices needed to put it back exactly."""

    nodes: list[tuple[int, dict, Position | None]] = field(default_factory=list)
    edges: list[tuple[int, Edge]] = field(default_factory=list)
    output: str | None = None


@dataclass(frozen=True)
class Validity:
    ok: bool
    reason: str
    node_id: str | None = None


class GraphModel:
    def __init__(self):
        self.nodes: dict[str, dict] = {}
        self.edges: list[Edge] = []
        self.output: str | None = None
        self.positions: dict[str, Position] = {}
        self._observers: list[GraphObserver] = []

    # -- observers ----------------------------------------------------------------------
    def subscribe(self, observer: GraphObserver) -> None:
        self._observers.append(observer)

    # -- the project's network section ------------------------------------------------
    def load(self, network: dict, layout: dict | None = None) -> None:
        """Replace everything; nodes without a position in ``layout`` are auto-laid out."""
        nodes = [copy.deepcopy(n) for n in network.get("nodes", [])]
        self.nodes = {n["id"]: n for n in nodes}
        self.edges = [(s, d) for s, d in network.get("edges", [])]
        self.output = network.get("output")
        layout = layout or {}
        auto = self.auto_layout()
        self.positions = {nid: tuple(map(float, layout[nid])) if nid in layout else auto[nid]
                          for nid in self.nodes}
        for o in self._observers:
            o.model_reset()

    def to_network(self) -> dict:
        return {"nodes": [copy.deepcopy(n) for n in self.nodes.values()],
                "edges": [list(e) for e in self.edges], "output": self.output}

    def layout(self) -> dict[str, list[float]]:
        return {nid: [_number(x), _number(y)] for nid, (x, y) in self.positions.items()}

    # -- queries ------------------------------------------------------------------------
    def inputs_of(self, node_id: str) -> list[str]:
        return [s for s, d in self.edges if d == node_id]

    def edges_touching(self, node_ids) -> list[Edge]:
        ids = set(node_ids)
        return [e for e in self.edges if e[0] in ids or e[1] in ids]

    def new_id(self, kind: str, taken: set[str] | None = None) -> str:
        """The first free ``<prefix><n>``: dense1, dense2, ..."""
        taken = set(self.nodes) | (taken or set())
        prefix, n = ID_PREFIX.get(kind, kind), 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"

    def reaches(self, start: str, goal: str) -> bool:
        """True if a path of edges leads from ``start`` to ``goal``."""
        seen, stack = {start}, [start]
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            for s, d in self.edges:
                if s == current and d not in seen:
                    seen.add(d)
                    stack.append(d)
        return False

    def can_connect(self, src: str, dst: str) -> tuple[bool, str]:
        """Whether the edge src -> dst may be added, and if not, why."""
        if src == dst:
            return False, f"'{src}' cannot feed itself"
        kind = self.nodes[dst]["type"]
        if kind == "input":
            return False, f"'{dst}' is an input block: it takes no incoming wire"
        if (src, dst) in self.edges:
            return False, f"'{src}' is already wired to '{dst}'"
        if kind in SINGLE_INPUT and self.inputs_of(dst):
            return False, (f"a {kind} block takes exactly one input and '{dst}' already has one "
                           f"('{self.inputs_of(dst)[0]}'); delete that wire first")
        if self.reaches(dst, src):
            return False, f"wiring '{src}' to '{dst}' would make a cycle ('{dst}' already leads to '{src}')"
        return True, ""

    def validate(self, input_width: int | None = None) -> Validity:
        """The engine's verdict on the whole graph, naming the block at fault."""
        if not self.nodes:
            return Validity(False, "the network is empty: drag an Input block onto the canvas")
        if self.output is None:
            return Validity(False, "no block is marked as the output: select one and press 'Set as output'")
        try:
            graph = parse_network(self.to_network())
            check_structure(graph)
            if input_width is not None:
                compile_plan(graph, input_width)
        except GraphError as exc:
            return Validity(False, str(exc), exc.node_id)
        except ConfigError as exc:
            return Validity(False, str(exc))
        return Validity(True, "")

    @staticmethod
    def check_node(node: dict) -> None:
        """Raise ConfigError if the node's own fields are not valid (the engine's rules)."""
        parse_network({"nodes": [node], "edges": [], "output": node["id"]})

    # -- edits (called by the undo commands) -------------------------------------------
    def insert_node(self, index: int, node: dict, position: Position) -> None:
        items = list(self.nodes.items())
        items.insert(index, (node["id"], copy.deepcopy(node)))
        self.nodes = dict(items)
        self.positions[node["id"]] = position
        for o in self._observers:
            o.node_added(node["id"])

    def insert_edge(self, index: int, edge: Edge) -> None:
        self.edges.insert(index, tuple(edge))
        for o in self._observers:
            o.edge_added(tuple(edge))

    def remove_edge(self, edge: Edge) -> int:
        index = self.edges.index(tuple(edge))
        del self.edges[index]
        for o in self._observers:
            o.edge_removed(tuple(edge))
        return index

    def remove(self, node_ids, edges=()) -> Removal:
        """Remove nodes (with every edge touching them) and extra edges; see ``restore``."""
        ids = set(node_ids)
        gone = set(map(tuple, edges)) | set(self.edges_touching(ids))
        removal = Removal()
        removal.edges = [(i, e) for i, e in enumerate(self.edges) if e in gone]
        removal.nodes = [(i, n, self.positions.get(nid)) for i, (nid, n) in enumerate(self.nodes.items())
                         if nid in ids]
        for _, e in reversed(removal.edges):
            self.remove_edge(e)
        if self.output in ids:
            removal.output = self.output
            self.set_output(None)
        for _, node, _ in removal.nodes:
            del self.nodes[node["id"]]
            self.positions.pop(node["id"], None)
            for o in self._observers:
                o.node_removed(node["id"])
        return removal

    def restore(self, removal: Removal) -> None:
        for index, node, position in removal.nodes:
            self.insert_node(index, node, position)
        for index, edge in removal.edges:
            self.insert_edge(index, edge)
        if removal.output is not None:
            self.set_output(removal.output)

    def set_property(self, node_id: str, key: str, value: Any) -> None:
        """Set a field (``None`` removes it); raises ConfigError if the node becomes invalid."""
        node = copy.deepcopy(self.nodes[node_id])
        if value is None:
            node.pop(key, None)
        else:
            node[key] = copy.deepcopy(value)
        self.check_node(node)
        self.nodes[node_id] = node
        for o in self._observers:
            o.node_changed(node_id)

    def check_rename(self, old: str, new: str) -> None:
        if not new.strip():
            raise ConfigError("a block's id cannot be empty")
        if new != new.strip():
            raise ConfigError(f"id {new!r}: no spaces at either end")
        if new != old and new in self.nodes:
            raise ConfigError(f"id '{new}' is already used by another block")

    def rename(self, old: str, new: str) -> None:
        self.check_rename(old, new)
        if new == old:
            return
        self.nodes = {(new if k == old else k): ({**n, "id": new} if k == old else n) for k, n in self.nodes.items()}
        self.edges = [(new if s == old else s, new if d == old else d) for s, d in self.edges]
        self.positions = {(new if k == old else k): p for k, p in self.positions.items()}
        if self.output == old:
            self.output = new
        for o in self._observers:
            o.node_renamed(old, new)

    def move(self, node_id: str, position: Position) -> None:
        self.positions[node_id] = (float(position[0]), float(position[1]))
        for o in self._observers:
            o.node_moved(node_id)

    def set_output(self, node_id: str | None) -> None:
        old, self.output = self.output, node_id
        if old != node_id:
            for o in self._observers:
                o.output_changed(old, node_id)

    # -- layout -------------------------------------------------------------------------
    def depths(self) -> dict[str, int]:
        """Longest-path depth of each node from a node without inputs (cycles are cut)."""
        depth: dict[str, int] = {}
        visiting: set[str] = set()

        def visit(nid: str) -> int:
            if nid in depth:
                return depth[nid]
            if nid in visiting:
                return 0
            visiting.add(nid)
            parents = self.inputs_of(nid)
            depth[nid] = 1 + max(visit(p) for p in parents) if parents else 0
            visiting.discard(nid)
            return depth[nid]

        for nid in self.nodes:
            visit(nid)
        return depth

    def auto_layout(self) -> dict[str, Position]:
        """Columns by longest path from the input, left to right; rows centred on y = 0.

        As in a Sugiyama layout, an edge that skips columns holds a place in each column
        it crosses, so a residual link runs beside the blocks it skips, not through them.
        """
        depth = self.depths()
        parents: dict[Any, list] = {nid: list(self.inputs_of(nid)) for nid in self.nodes}
        columns: dict[int, list] = {}
        for nid in self.nodes:
            columns.setdefault(depth[nid], []).append(nid)
        for src, dst in self.edges:
            previous = src
            for d in range(depth[src] + 1, depth[dst]):
                lane = (src, dst, d)
                parents[lane] = [previous]
                columns.setdefault(d, []).append(lane)
                previous = lane
            if previous != src:
                parents[dst] = [previous if p == src else p for p in parents[dst]]
        rows: dict[Any, float] = {}
        positions: dict[str, Position] = {}
        for d, members in sorted(columns.items()):
            # Order a column by the mean row of its parents, so wires cross less.
            if d:
                members.sort(key=lambda m: _mean([rows[p] for p in parents[m] if p in rows]))
            for row, member in enumerate(members):
                rows[member] = (row - (len(members) - 1) / 2) * ROW_SPACING
                if isinstance(member, str):
                    positions[member] = (d * COLUMN_SPACING, rows[member])
        return positions


def check_drawing(drawing: Any) -> None:
    """Raise ConfigError naming the fault if ``drawing`` ({"network", "layout"}, a graph
    as the editor drew it, finished or not: say, read back from an autosave) is not
    one the editor can show: every block a known type with valid fields, unique ids,
    wires between drawn blocks, positions finite and on the canvas."""
    if not isinstance(drawing, dict) or not isinstance(drawing.get("network"), dict):
        raise ConfigError("drawing: must be an object holding a 'network' object")
    network, layout = drawing["network"], drawing.get("layout", {})
    nodes, edges, output = network.get("nodes"), network.get("edges"), network.get("output")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise ConfigError("drawing.network: 'nodes' and 'edges' must be lists")
    if len(nodes) > MAX_DRAWN_BLOCKS:
        raise ConfigError(f"drawing.network: {len(nodes):,} blocks, more than the editor draws "
                          f"({MAX_DRAWN_BLOCKS:,})")
    ids: set[str] = set()
    for i, node in enumerate(nodes):
        where = f"drawing.network.nodes[{i}]"
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not node["id"]:
            raise ConfigError(f"{where}: must be an object with a non-empty 'id'")
        if node.get("type") not in DEFAULT_NODES:
            raise ConfigError(f"{where}: unknown block type {brief(node.get('type'))}")
        if node["id"] in ids:
            raise ConfigError(f"{where}: id '{node['id']}' is used by two blocks")
        ids.add(node["id"])
        GraphModel.check_node(node)
    seen: set[tuple] = set()
    for i, edge in enumerate(edges):
        if not (isinstance(edge, list) and len(edge) == 2 and all(isinstance(e, str) and e in ids for e in edge)):
            raise ConfigError(f"drawing.network.edges[{i}]: must be [from, to] between drawn blocks, "
                              f"got {brief(edge)}")
        if edge[0] == edge[1] or tuple(edge) in seen:
            raise ConfigError(f"drawing.network.edges[{i}]: a wire from a block to itself, or twice")
        seen.add(tuple(edge))
    if output is not None and output not in ids:
        raise ConfigError(f"drawing.network.output: {brief(output)} is not a drawn block")
    if not isinstance(layout, dict):
        raise ConfigError("drawing.layout: must be an object mapping block ids to [x, y]")
    for key, pos in layout.items():
        if not (isinstance(pos, list) and len(pos) == 2):
            raise ConfigError(f"drawing.layout.{brief(key)}: must be [x, y], got {brief(pos)}")
        for axis, value in zip("xy", pos):
            number(f"drawing.layout.{brief(key)}.{axis}", value, low=-POSITION_LIMIT, high=POSITION_LIMIT)


def default_node(kind: str, node_id: str) -> dict:
    return {"id": node_id, **DEFAULT_NODES[kind]}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)
