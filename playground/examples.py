"""The shipped example projects and the blank project File > New starts from."""
from __future__ import annotations

from pathlib import Path

from engine.data import DEFAULT_FEATURES, DEFAULT_SAMPLES
from playground.project import DEFAULT_BATCH_SIZE, FORMAT

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "assets" / "examples"
DEFAULT_EXAMPLE = EXAMPLES_DIR / "spiral.json"


def blank_project() -> dict:
    """The smallest network that trains: the circle set, inputs straight to a sigmoid."""
    return {"format": FORMAT, "name": "Untitled", "seed": 0,
            "data": {"source": "circle", "samples": DEFAULT_SAMPLES, "noise": 0.0, "train_fraction": 0.5,
                     "features": list(DEFAULT_FEATURES)},
            "network": {"nodes": [{"id": "in", "type": "input"},
                                  {"id": "out", "type": "dense", "units": 1, "activation": "sigmoid"}],
                        "edges": [["in", "out"]], "output": "out"},
            "training": {"loss": "bce", "optimizer": {"name": "adam", "lr": 0.03}, "batch_size": DEFAULT_BATCH_SIZE}}
