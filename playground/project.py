"""The project file (format ``nn-playground/1``): read, check, build, write.

``load_project`` parses and checks every field (type and range), so a bad file is
refused with a message naming the field before anything is trained.  ``Project``
keeps the document as read, so fields this version does not know survive a save.
``build_session`` turns a project into an engine ``TrainingSession``.
See docs/project-format.md for the format in full.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.data import Dataset, load_dataset
from engine.errors import ConfigError
from engine.graph import Graph, Plan, compile_plan, parse_network
from engine.io.atomic import write_text_atomic
from engine.losses import LOSSES, make_loss_head
from engine.network import Network
from engine.optimizers import make_optimizer
from engine.schedules import make_schedule
from engine.validate import flag, number
from engine.session import Regularization, TrainingSession

FORMAT = "nn-playground/1"
_TOP_KEYS = {"format", "name", "seed", "dtype", "data", "network", "training", "layout"}
_DATA_KEYS = {"source", "samples", "noise", "train_fraction", "features", "standardize"}
_TRAINING_KEYS = {"loss", "optimizer", "batch_size", "shuffle", "schedule", "regularization"}
MAX_SAMPLES = 10_000_000


@dataclass(frozen=True)
class Project:
    """A checked project.  ``document`` is the JSON as read (unknown extra fields kept)."""

    document: dict
    path: Path | None
    graph: Graph

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def name(self) -> str:
        return self.document.get("name", "")

    @property
    def seed(self) -> int:
        return self.document.get("seed", 0)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.document.get("dtype", "float64"))

    @property
    def data(self) -> dict:
        return self.document["data"]

    @property
    def training(self) -> dict:
        return self.document["training"]

    def with_changes(self, **sections: Any) -> "Project":
        """A new project with top-level sections replaced (checked again)."""
        doc = copy.deepcopy(self.document)
        doc.update(copy.deepcopy(sections))
        return parse_project(doc, self.path)


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


def _check_unknown(section: dict, allowed: set, where: str) -> None:
    # Extra fields are allowed by the format's rule "extend only by adding", but a
    # misspelt known field would silently do nothing, so names close to a known one
    # are refused.
    import difflib
    for key in section:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
            if close:
                raise ConfigError(f"{where}.{key}: unknown field; did you mean '{close[0]}'?")


def _check_data(data: Any) -> None:
    _require(isinstance(data, dict), "data: must be an object")
    _check_unknown(data, _DATA_KEYS, "data")
    source = data.get("source")
    _require(source is not None, "data.source: missing (a generator name, 'iris', 'digits' or {\"csv\": ...})")
    _require(isinstance(source, (str, dict)), f"data.source: must be a name or a {{\"csv\": ...}} object, got {source!r}")
    if "samples" in data:
        number("data.samples", data["samples"], integer=True, low=2, high=MAX_SAMPLES)
    if "noise" in data:
        number("data.noise", data["noise"], low=0.0, high=1.0)
    if "train_fraction" in data:
        number("data.train_fraction", data["train_fraction"], low=0.0, low_open=True, high=1.0)
    if "features" in data:
        feats = data["features"]
        _require(isinstance(feats, list) and feats and all(isinstance(x, str) for x in feats),
                 f"data.features: must be a non-empty list of feature names, got {feats!r}")
    if "standardize" in data:
        flag("data.standardize", data["standardize"])


def _check_training(training: Any) -> None:
    _require(isinstance(training, dict), "training: must be an object")
    _check_unknown(training, _TRAINING_KEYS, "training")
    loss = training.get("loss")
    _require(loss in LOSSES, f"training.loss: must be one of {', '.join(LOSSES)}, got {loss!r}")
    opt = training.get("optimizer", {"name": "sgd"})
    _require(isinstance(opt, dict), "training.optimizer: must be an object like {\"name\": \"adam\", \"lr\": 0.01}")
    optimizer = make_optimizer(opt, 1, np.float64)   # checks every optimiser field
    make_schedule(training.get("schedule"), optimizer.hyperparameters["lr"])
    batch = training.get("batch_size", 10)
    if batch != "full":
        number("training.batch_size", batch, integer=True, low=1)
    flag("training.shuffle", training.get("shuffle", True))
    reg = training.get("regularization", {"kind": "none", "rate": 0.0})
    _require(isinstance(reg, dict), "training.regularization: must be an object like {\"kind\": \"l2\", \"rate\": 0.001}")
    for key in reg:
        _require(key in ("kind", "rate"), f"training.regularization.{key}: unknown field (it takes kind and rate)")
    _require(reg.get("kind", "none") in ("none", "l1", "l2"),
             f"training.regularization.kind: must be none, l1 or l2, got {reg.get('kind')!r}")
    number("training.regularization.rate", reg.get("rate", 0.0), low=0.0)


def _check_layout(layout: Any, graph: Graph) -> None:
    _require(isinstance(layout, dict), "layout: must be an object mapping node ids to [x, y]")
    for key, pos in layout.items():
        _require(isinstance(pos, list) and len(pos) == 2, f"layout.{key}: must be [x, y], got {pos!r}")
        for axis, value in zip("xy", pos):
            number(f"layout.{key}.{axis}", value)


def parse_project(doc: Any, path: Path | None = None) -> Project:
    """Check a project document field by field; errors name the field (and file)."""
    try:
        _require(isinstance(doc, dict), "the project must be a JSON object")
        _require(doc.get("format") == FORMAT, f"format: must be \"{FORMAT}\", got {doc.get('format')!r}")
        _check_unknown(doc, _TOP_KEYS, "project")
        _require(isinstance(doc.get("name", ""), str), "name: must be a string")
        seed = doc.get("seed", 0)
        _require(isinstance(seed, int), f"seed: must be a non-negative integer, got {seed!r}")
        number("seed", seed, integer=True, low=0, high=2**63 - 1)
        _require(doc.get("dtype", "float64") in ("float64", "float32"),
                 f"dtype: must be float64 or float32, got {doc.get('dtype')!r}")
        _check_data(doc.get("data"))
        _require("network" in doc, "network: missing")
        graph = parse_network(doc["network"])
        _require("training" in doc, "training: missing")
        _check_training(doc["training"])
        if "layout" in doc:
            _check_layout(doc["layout"], graph)
    except ConfigError as exc:
        if path is not None:
            raise ConfigError(f"{path}: {exc}") from None
        raise
    return Project(doc, path, graph)


def load_project(path: str | os.PathLike) -> Project:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such project file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the project file ({exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return parse_project(doc, path)


def save_project(project: Project, path: str | os.PathLike) -> None:
    write_text_atomic(path, json.dumps(project.document, indent=2) + "\n")


def load_project_data(project: Project, seed: int | None = None) -> Dataset:
    data = project.data
    try:
        return load_dataset(data["source"], samples=data.get("samples", 500), noise=data.get("noise", 0.0),
                            train_fraction=data.get("train_fraction", 0.5),
                            features=tuple(data.get("features", ("x1", "x2"))),
                            seed=project.seed if seed is None else seed, base_dir=project.base_dir,
                            standardize=data.get("standardize", False), dtype=project.dtype)
    except ConfigError as exc:
        raise ConfigError(f"{project.path}: {exc}" if project.path else str(exc)) from None


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or physical memory if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(plan: Plan, dtype: np.dtype, batch_rows: int) -> None:
    """Refuse, before allocating, a network whose training state cannot fit in memory.

    Training holds about six copies of the parameters (values, gradients, the undo
    copy, up to three optimiser moments) and, per batch row, every node's output and
    pre-activation twice (forward values and backward gradients).
    """
    itemsize = dtype.itemsize
    params_bytes = 6 * plan.n_params * itemsize
    activation_bytes = 4 * batch_rows * sum(s.width for s in plan.steps) * itemsize
    needed = params_bytes + activation_bytes
    available = available_memory()
    if needed > available:
        raise ConfigError(f"network: {plan.n_params:,} parameters need about {needed / 2**30:.1f} GiB to train, "
                          f"but only {available / 2**30:.1f} GiB of memory is available")


def build_session(project: Project, seed: int | None = None, dataset: Dataset | None = None) -> TrainingSession:
    """Data, network, loss, optimiser and schedule for ``project``, ready to step."""
    seed = project.seed if seed is None else seed
    dataset = dataset or load_project_data(project, seed)
    training = project.training
    batch = training.get("batch_size", 10)
    try:
        plan = compile_plan(project.graph, dataset.n_features)
        check_memory(plan, project.dtype, len(dataset.X_train) if batch == "full" else batch)
        head = make_loss_head(training["loss"], plan.output_activation, plan.output_width,
                              dataset.task, dataset.n_classes, dataset.n_outputs)
    except ConfigError as exc:
        raise ConfigError(f"{project.path}: {exc}" if project.path else str(exc)) from None
    network = Network(plan, project.dtype)
    reg = training.get("regularization", {})
    return TrainingSession(network, dataset, head, training.get("optimizer", {"name": "sgd"}),
                           training.get("schedule"), batch_size=batch, shuffle=training.get("shuffle", True),
                           regularization=Regularization(reg.get("kind", "none"), float(reg.get("rate", 0.0))),
                           seed=seed)
