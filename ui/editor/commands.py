"""Every edit of the network as a QUndoCommand over the ``GraphModel``.

A command is built with everything it needs to redo and undo itself, and is
checked before it is pushed (the model raises ``ConfigError`` for a bad field or
id), so ``redo`` never fails.  Moves of the same blocks with the same merge key
(one drag, or a run of arrow-key nudges) merge into one command, and so do
consecutive changes of one field of one block (a spin box's clicks).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand

from ui.editor.model import Edge, GraphModel, Position, Removal

MOVE_ID, PROPERTY_ID = 1, 2


class AddNodes(QUndoCommand):
    """New blocks (at the end of the node list) and edges among them or to existing blocks."""

    def __init__(self, model: GraphModel, nodes: list[dict], positions: dict[str, Position],
                 edges: list[Edge] = (), text: str | None = None):
        super().__init__(text or (f"Add {nodes[0]['id']}" if len(nodes) == 1 else f"Add {len(nodes)} blocks"))
        self.model, self.nodes, self.positions, self.edges = model, nodes, positions, list(edges)

    def redo(self):
        for node in self.nodes:
            self.model.insert_node(len(self.model.nodes), node, self.positions[node["id"]])
        for edge in self.edges:
            self.model.insert_edge(len(self.model.edges), edge)

    def undo(self):
        self.model.remove([n["id"] for n in self.nodes], self.edges)


class RemoveItems(QUndoCommand):
    """Delete blocks (with their wires) and wires; undo puts each back at its index."""

    def __init__(self, model: GraphModel, node_ids: list[str], edges: list[Edge] = ()):
        parts = ([f"{len(node_ids)} block{'s' * (len(node_ids) != 1)}"] if node_ids else []) + \
                ([f"{len(edges)} wire{'s' * (len(edges) != 1)}"] if edges else [])
        super().__init__("Delete " + " and ".join(parts))
        self.model, self.node_ids, self.edges = model, list(node_ids), list(edges)
        self.removal: Removal | None = None

    def redo(self):
        self.removal = self.model.remove(self.node_ids, self.edges)

    def undo(self):
        self.model.restore(self.removal)


class AddEdge(QUndoCommand):
    def __init__(self, model: GraphModel, edge: Edge):
        super().__init__(f"Wire {edge[0]} to {edge[1]}")
        self.model, self.edge = model, tuple(edge)

    def redo(self):
        self.model.insert_edge(len(self.model.edges), self.edge)

    def undo(self):
        self.model.remove_edge(self.edge)


class MoveNodes(QUndoCommand):
    """Blocks from ``old`` to ``new`` positions; merges with the next move of the same key."""

    def __init__(self, model: GraphModel, old: dict[str, Position], new: dict[str, Position],
                 merge_key: Any = None, text: str | None = None):
        super().__init__(text or (f"Move {next(iter(new))}" if len(new) == 1 else f"Move {len(new)} blocks"))
        self.model, self.old, self.new, self.merge_key = model, dict(old), dict(new), merge_key

    def id(self):
        return MOVE_ID if self.merge_key is not None else -1

    def mergeWith(self, other):
        if not (isinstance(other, MoveNodes) and other.merge_key == self.merge_key and set(other.new) == set(self.new)):
            return False
        self.new = dict(other.new)
        return True

    def _apply(self, positions):
        for nid, pos in positions.items():
            self.model.move(nid, pos)

    def redo(self):
        self._apply(self.new)

    def undo(self):
        self._apply(self.old)


class AutoLayout(MoveNodes):
    def __init__(self, model: GraphModel):
        super().__init__(model, dict(model.positions), model.auto_layout(), text="Auto-layout")


class SetProperty(QUndoCommand):
    """One field of one block (``None`` removes the field)."""

    def __init__(self, model: GraphModel, node_id: str, key: str, value: Any):
        super().__init__(f"Set {node_id}.{key}")
        self.model, self.node_id, self.key, self.value = model, node_id, key, value
        self.old = model.nodes[node_id].get(key)
        probe = dict(model.nodes[node_id])
        if value is None:
            probe.pop(key, None)
        else:
            probe[key] = value
        model.check_node(probe)

    def id(self):
        return PROPERTY_ID

    def mergeWith(self, other):
        if not (isinstance(other, SetProperty) and (other.node_id, other.key) == (self.node_id, self.key)):
            return False
        self.value = other.value
        self.setObsolete(self.value == self.old)
        return True

    def redo(self):
        self.model.set_property(self.node_id, self.key, self.value)

    def undo(self):
        self.model.set_property(self.node_id, self.key, self.old)


class Rename(QUndoCommand):
    def __init__(self, model: GraphModel, old: str, new: str):
        super().__init__(f"Rename {old} to {new}")
        model.check_rename(old, new)
        self.model, self.old, self.new = model, old, new

    def redo(self):
        self.model.rename(self.old, self.new)

    def undo(self):
        self.model.rename(self.new, self.old)


class SetOutput(QUndoCommand):
    def __init__(self, model: GraphModel, node_id: str | None):
        super().__init__(f"Make {node_id} the output")
        self.model, self.new, self.old = model, node_id, model.output

    def redo(self):
        self.model.set_output(self.new)

    def undo(self):
        self.model.set_output(self.old)
