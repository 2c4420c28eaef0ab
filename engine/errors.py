"""Errors a user can act on.

Every exception raised for bad input is a ``ConfigError`` (or a subclass) whose
message names the culprit: the file, field, node, row, column or tensor.  The CLI
prints that message on one line and exits with status 2; the desktop app shows it
in a dialog.  Anything else escaping the engine is a bug, not a user error.
"""


class ConfigError(ValueError):
    """Invalid input: a project field, a graph, a data file or a weight file."""


class GraphError(ConfigError):
    """The network graph is not one the engine can run; ``node_id`` names the node."""

    def __init__(self, node_id: str | None, message: str):
        self.node_id = node_id
        prefix = f"node '{node_id}': " if node_id is not None else "network: "
        super().__init__(prefix + message)


class DataError(ConfigError):
    """A data source (generator settings, CSV file, shipped set) cannot be used."""


class WeightsError(ConfigError):
    """A weight file is unreadable or does not match the network."""
