"""The project file (format ``nn-playground/1``): read, check, build, write.

``load_project`` parses and checks every field (type and range), so a bad file is
refused with a message naming the field before anything is trained.  ``Project``
keeps the document as read, so fields this version does not know survive a save.
``build_session`` turns a project into an engine ``TrainingSession``.
See docs/project-format.md for the format in full.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.data import DEFAULT_FEATURES, DEFAULT_SAMPLES, SHIPPED, Dataset, load_dataset
from engine.errors import ConfigError
from engine.graph import Graph, Plan, compile_plan, parse_network
from engine.io.atomic import write_text_atomic
from engine.losses import LOSSES, make_loss_head
from engine.memory import check_training_memory
from engine.network import Network
from engine.optimizers import make_optimizer
from engine.schedules import make_schedule
from engine.validate import brief, flag, number
from engine.session import Regularization, TrainingSession
from playground.frames import GRID_RESOLUTION      # the app evaluates the network on this grid too

FORMAT = "nn-playground/1"
_TOP_KEYS = {"format", "name", "note", "seed", "dtype", "data", "network", "training", "layout"}
_DATA_KEYS = {"source", "samples", "noise", "train_fraction", "features", "standardize", "added", "removed"}
_TRAINING_KEYS = {"loss", "optimizer", "batch_size", "shuffle", "schedule", "regularization", "ablate_derivative"}
MAX_SAMPLES = 10_000_000
# The project format's defaults for sections a file may leave out: one home, used by
# every reader (the panels too).  Data defaults live with the data (engine.data).
DEFAULT_OPTIMIZER = {"name": "sgd"}
NO_REGULARIZATION = {"kind": "none", "rate": 0.0}
DEFAULT_BATCH_SIZE = 10
# A project is a few kilobytes; the cap keeps a wrong file (a disk image, /dev/zero
# behind a symlink) from being read until memory runs out.
MAX_PROJECT_BYTES = 16 * 2**20
# A project nests about five levels (network.nodes[i].init); JSON nested far deeper
# would exhaust the recursion of json, copy.deepcopy and the checks below.
MAX_NESTING = 64
# A trained project (playground.checkpoint) is a zip: its first bytes tell it apart.
ZIP_MAGIC = b"PK\x03\x04"
TRAINED_SUFFIX = ".nnpg"


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
    def note(self) -> str:
        """What the project is for, in a sentence or two (the app shows it; training ignores it)."""
        return self.document.get("note", "")

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
    _require(isinstance(source, (str, dict)),
             f"data.source: must be a name or a {{\"csv\": ...}} object, got {brief(source)}")
    if "samples" in data:
        number("data.samples", data["samples"], integer=True, low=2, high=MAX_SAMPLES)
    if "noise" in data:
        number("data.noise", data["noise"], low=0.0, high=1.0)
    if "train_fraction" in data:
        number("data.train_fraction", data["train_fraction"], low=0.0, low_open=True, high=1.0)
    if "features" in data:
        feats = data["features"]
        _require(isinstance(feats, list) and feats and all(isinstance(x, str) for x in feats),
                 f"data.features: must be a non-empty list of feature names, got {brief(feats)}")
    if "standardize" in data:
        flag("data.standardize", data["standardize"])


def _check_training(training: Any) -> None:
    _require(isinstance(training, dict), "training: must be an object")
    _check_unknown(training, _TRAINING_KEYS, "training")
    loss = training.get("loss")
    _require(isinstance(loss, str) and loss in LOSSES,
             f"training.loss: must be one of {', '.join(LOSSES)}, got {brief(loss)}")
    opt = training.get("optimizer", DEFAULT_OPTIMIZER)
    _require(isinstance(opt, dict), "training.optimizer: must be an object like {\"name\": \"adam\", \"lr\": 0.01}")
    optimizer = make_optimizer(opt, 1, np.float64)   # checks every optimiser field
    make_schedule(training.get("schedule"), optimizer.hyperparameters["lr"])
    batch = training.get("batch_size", DEFAULT_BATCH_SIZE)
    if batch != "full":
        number("training.batch_size", batch, integer=True, low=1)
    flag("training.shuffle", training.get("shuffle", True))
    reg = training.get("regularization", NO_REGULARIZATION)
    _require(isinstance(reg, dict), "training.regularization: must be an object like {\"kind\": \"l2\", \"rate\": 0.001}")
    for key in reg:
        _require(key in ("kind", "rate"),
                 f"training.regularization.{_key(str(key))}: unknown field (it takes kind and rate)")
    kind = reg.get("kind", "none")
    _require(isinstance(kind, str) and kind in ("none", "l1", "l2"),
             f"training.regularization.kind: must be none, l1 or l2, got {brief(kind)}")
    number("training.regularization.rate", reg.get("rate", 0.0), low=0.0)
    flag("training.ablate_derivative", training.get("ablate_derivative", False))


def _check_layout(layout: Any, graph: Graph) -> None:
    _require(isinstance(layout, dict), "layout: must be an object mapping node ids to [x, y]")
    for key, pos in layout.items():
        where = f"layout.{_key(str(key))}"
        _require(isinstance(pos, list) and len(pos) == 2, f"{where}: must be [x, y], got {brief(pos)}")
        for axis, value in zip("xy", pos):
            number(f"{where}.{axis}", value)


class _TooLongInteger:
    """Stands in for a JSON integer with more digits than Python converts (4,300 by
    default), so that the check can name its field instead of json raising ValueError."""

    def __init__(self, text: str):
        self.digits = len(text.lstrip("-"))

    def __repr__(self) -> str:
        return f"an integer of {self.digits:,} digits"


def _parse_int(text: str) -> int | _TooLongInteger:
    try:
        return int(text)
    except ValueError:           # over sys.get_int_max_str_digits()
        return _TooLongInteger(text)


def _key(key: str, limit: int = 60) -> str:
    """A field name for a message: cut short if a hostile file made it long, control
    characters escaped so that the message stays one line."""
    key = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in key[:limit + 1])
    return key if len(key) <= limit else key[:limit] + "..."


def _child(where: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{_key(str(key))}" if where else _key(str(key))


def check_json_values(doc: Any) -> None:
    """Refuse integers too long to convert and nesting deeper than MAX_NESTING, naming the field.

    Iterative, because recursion is exactly what a deeply nested document exhausts.
    """
    pending = [(doc, "", 0)]
    while pending:
        value, where, depth = pending.pop()
        if isinstance(value, _TooLongInteger):
            raise ConfigError(f"{where or 'project'}: {value!r} is far too large for a number")
        if isinstance(value, (dict, list)):
            if depth >= MAX_NESTING:
                raise ConfigError(f"{_shorten(where)}: nested more than {MAX_NESTING} levels deep; "
                                  f"a project nests about five")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            pending.extend((item, _child(where, key), depth + 1) for key, item in items)


def _shorten(where: str, limit: int = 80) -> str:
    return where if len(where) <= limit else where[:limit] + "..."


def parse_project(doc: Any, path: Path | None = None) -> Project:
    """Check a project document field by field; errors name the field (and file)."""
    try:
        _require(isinstance(doc, dict), "the project must be a JSON object")
        check_json_values(doc)
        _require(doc.get("format") == FORMAT, f"format: must be \"{FORMAT}\", got {brief(doc.get('format'))}")
        _check_unknown(doc, _TOP_KEYS, "project")
        _require(isinstance(doc.get("name", ""), str), "name: must be a string")
        _require(isinstance(doc.get("note", ""), str), f"note: must be a string, got {brief(doc.get('note'))}")
        seed = doc.get("seed", 0)
        _require(isinstance(seed, int), f"seed: must be a non-negative integer, got {brief(seed)}")
        number("seed", seed, integer=True, low=0, high=2**63 - 1)
        dtype = doc.get("dtype", "float64")
        _require(isinstance(dtype, str) and dtype in ("float64", "float32"),
                 f"dtype: must be float64 or float32, got {brief(dtype)}")
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


_FILE_KINDS = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device",
               stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def require_regular_file(path: Path, info: os.stat_result) -> None:
    """Refuse anything but a plain file of at most MAX_PROJECT_BYTES.

    A FIFO would block the read forever and /dev/zero would be read until memory runs out.
    """
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS.items() if test(info.st_mode)), "not a regular file")
        raise ConfigError(f"{path}: is {kind}, not a project file")
    if info.st_size > MAX_PROJECT_BYTES:
        raise ConfigError(f"{path}: the file is {info.st_size / 2**20:,.1f} MiB; a project file may be at most "
                          f"{MAX_PROJECT_BYTES // 2**20} MiB")


def _read_project_bytes(path: Path) -> bytes:
    try:
        require_regular_file(path, os.stat(path))     # before open: a FIFO is never opened
        # O_NONBLOCK: should the path be swapped for a FIFO after the stat, open does
        # not wait for a writer, and fstat below refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(f"{path}: no such project file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the project file ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        try:
            require_regular_file(path, os.fstat(fd))
            data = handle.read(MAX_PROJECT_BYTES + 1)    # + 1: a file that grew since the stat is still caught
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the project file ({exc.strerror or exc})") from None
    if len(data) > MAX_PROJECT_BYTES:
        raise ConfigError(f"{path}: the file is over {MAX_PROJECT_BYTES // 2**20} MiB; a project file may be at most "
                          f"{MAX_PROJECT_BYTES // 2**20} MiB")
    return data


def parse_json(path: Path | str, data: bytes) -> Any:
    """A JSON document from UTF-8 bytes; errors start with ``path`` (a file, or a file and member)."""
    try:
        return json.loads(data.decode("utf-8"), parse_int=_parse_int)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot be read (not UTF-8 text: byte {exc.start} "
                          f"is {data[exc.start:exc.start + 1]!r})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ConfigError(f"{path}: JSON nested too deeply; at most {MAX_NESTING} levels are accepted") from None


def load_project(path: str | os.PathLike) -> Project:
    """Read and check the project file at ``path``; every problem is a ConfigError naming it."""
    path = Path(path)
    data = _read_project_bytes(path)
    if data.startswith(ZIP_MAGIC):
        raise ConfigError(f"{path}: is a trained project (a zip of project.json, weights and training state), "
                          f"not a plain project file; unzip it for its project.json")
    return parse_project(parse_json(path, data), path)


def project_text(project: Project) -> str:
    """The project file's text: what save_project writes (and a trained file's project.json)."""
    return json.dumps(project.document, indent=2) + "\n"


def relocated(project: Project, path: str | os.PathLike) -> Project:
    """The project as it is to be saved at ``path``: a CSV source in the new file's folder
    (or below it) is referred to relative to it, so project and data can move together;
    one elsewhere by its absolute path, so a relative path never breaks by the move."""
    path = Path(path)
    source = project.data.get("source")
    if not (isinstance(source, dict) and isinstance(source.get("csv"), str) and source["csv"]):
        return dataclasses.replace(project, path=path)
    where = data_file(project).resolve()
    try:
        stored = where.relative_to(path.parent.resolve()).as_posix()
    except ValueError:
        stored = str(where)
    data = dict(project.data, source=dict(source, csv=stored))
    return dataclasses.replace(project.with_changes(data=data), path=path)


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write the plain project file (settings only; playground.checkpoint saves a trained one),
    its CSV path as ``relocated`` gives it."""
    if Path(path).suffix.lower() == TRAINED_SUFFIX:
        raise ConfigError(f"{path}: a {TRAINED_SUFFIX} file holds a trained project; "
                          f"save it with its training state (playground.checkpoint.save_trained)")
    write_text_atomic(path, project_text(relocated(project, path)))


def load_project_data(project: Project, seed: int | None = None) -> Dataset:
    data = project.data
    try:
        return load_dataset(data["source"], samples=data.get("samples", DEFAULT_SAMPLES), noise=data.get("noise", 0.0),
                            train_fraction=data.get("train_fraction", 0.5),
                            features=tuple(data.get("features", DEFAULT_FEATURES)),
                            seed=project.seed if seed is None else seed, base_dir=project.base_dir,
                            standardize=data.get("standardize", False), dtype=project.dtype,
                            added=data.get("added", ()), removed=data.get("removed", ()))
    except ConfigError as exc:
        raise ConfigError(f"{project.path}: {exc}" if project.path else str(exc)) from None


def data_file(project: Project) -> Path | None:
    """The file the project's data is read from (a CSV source or a shipped set), else None.

    Resolved as engine.data resolves it (``~`` expanded, relative to the project's
    folder), so the CLI can refuse to write an output over it.
    """
    source = project.data.get("source")
    if isinstance(source, dict) and isinstance(source.get("csv"), str) and source["csv"]:
        path = Path(source["csv"]).expanduser()
        return path if path.is_absolute() else project.base_dir / path
    if isinstance(source, str) and source in SHIPPED:
        return SHIPPED[source].path
    return None


def build_session(project: Project, seed: int | None = None, dataset: Dataset | None = None) -> TrainingSession:
    """Data, network, loss, optimiser and schedule for ``project``, ready to step."""
    seed = project.seed if seed is None else seed
    dataset = dataset or load_project_data(project, seed)
    training = project.training
    batch = training.get("batch_size", DEFAULT_BATCH_SIZE)
    try:
        plan = compile_plan(project.graph, dataset.n_features)
        # Weights, gradients, undo copies, the optimiser's buffers, every node's
        # activations at the batch size, the full-data evaluations and the app's
        # input-plane grid (engine.memory; a batch beyond the data is one full batch).
        check_training_memory(plan, project.dtype, len(dataset.X_train), len(dataset.X_test), batch,
                              training.get("optimizer", DEFAULT_OPTIMIZER), extra_rows=(GRID_RESOLUTION ** 2,))
        head = make_loss_head(training["loss"], plan.output_activation, plan.output_width,
                              dataset.task, dataset.n_classes, dataset.n_outputs)
    except ConfigError as exc:
        raise ConfigError(f"{project.path}: {exc}" if project.path else str(exc)) from None
    # The "remove f' from backprop" experiment: the same network, backprop without f'.
    network = Network(plan, project.dtype, ablate_derivative=training.get("ablate_derivative", False))
    reg = training.get("regularization", {})
    return TrainingSession(network, dataset, head, training.get("optimizer", DEFAULT_OPTIMIZER),
                           training.get("schedule"), batch_size=batch, shuffle=training.get("shuffle", True),
                           regularization=Regularization(reg.get("kind", "none"), float(reg.get("rate", 0.0))),
                           seed=seed)
