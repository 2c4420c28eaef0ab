"""Export a project to PyTorch: the script, its data set and its weights, side by side.

``export_pytorch(project, tensors, "net.py")`` (the app: the project and the weights
shown) and ``export_pytorch_project(PROJECT, WEIGHTS, "net.py")`` (the CLI) write

    net.py                    the nn.Module, its training and a command line (engine/io/torch_export.py)
    net_data.csv              the data set: raw feature columns, the target, train or test
    net_weights.safetensors   the weights, with the input scaling of a standardized project
                              and a classifier's class names

All three are encoded in memory first, so a cancel leaves nothing written; then each is
written to a temporary file and renamed once complete, the script last, so a failure
never leaves a partial file (nor a script without its data).
See docs/export.md.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from engine.data import SHIPPED
from engine.errors import ConfigError
from engine.io.atomic import write_bytes_atomic, write_text_atomic
from engine.io.torch_export import TorchTraining, dataset_csv, target_names, torch_script
from engine.io.weights import encode_weights, load_weights, tensor_shapes
from engine.session import TrainingSession
from playground.project import Project, build_session, load_project, load_project_data

SCRIPT_SUFFIX = ".py"

Progress = Callable[[float], None]


def pytorch_files(out_path: str | os.PathLike) -> tuple[Path, Path, Path]:
    """The script, the data CSV and the weight file an export to ``out_path`` writes."""
    script = Path(out_path)
    return (script, script.with_name(f"{script.stem}_data.csv"),
            script.with_name(f"{script.stem}_weights.safetensors"))


def check_script_path(out_path: str | os.PathLike) -> None:
    if Path(out_path).suffix.lower() != SCRIPT_SUFFIX or not Path(out_path).stem:
        raise ConfigError(f"{out_path}: a pytorch export must be named *{SCRIPT_SUFFIX}")


def _target_column(project: Project) -> str | None:
    source = project.data.get("source")
    if isinstance(source, dict):
        return source.get("target")
    return SHIPPED[source].target if source in SHIPPED else None


def raw_columns(project: Project, session: TrainingSession) -> tuple[np.ndarray, np.ndarray]:
    """(X_train, X_test) as float64 before any standardisation, rows as the session has them.

    The split does not depend on standardisation or dtype, so loading the data again
    without them gives the same rows; the script's model standardizes them itself,
    as the ONNX model does.
    """
    if session.dataset.input_scaling is None and session.network.dtype == np.float64:
        return session.dataset.X_train, session.dataset.X_test
    data = dict(project.data, standardize=False)
    if isinstance(data.get("source"), dict):
        data["source"] = dict(data["source"], standardize=False)
    raw = load_project_data(project.with_changes(data=data, dtype="float64"))
    return raw.X_train, raw.X_test


def _ignore(fraction: float) -> None:
    pass


def _write(project: Project, session: TrainingSession, out_path, progress: Progress, source: str) -> None:
    """Encode the three files in memory (cancel points between), then write them, the script last."""
    script_path, data_path, weights_path = pytorch_files(out_path)
    dataset = session.dataset
    training = TorchTraining.from_session(session, project.seed, project.name)
    script = torch_script(session.network.plan, session.weights(), training, dataset.feature_names,
                          dataset.input_scaling, script_path.name, data_path.name, weights_path.name, source)
    progress(0.1)
    X_train, X_test = raw_columns(project, session)
    width = 1 if dataset.task == "classification" else dataset.y_train.shape[1]
    targets = target_names(training, _target_column(project), width)
    table = dataset_csv(dataset.feature_names, targets, X_train, dataset.y_train, X_test, dataset.y_test)
    progress(0.7)
    weights = encode_weights(session.weights(), "safetensors", input_scaling=dataset.input_scaling,
                             class_names=dataset.classes)
    progress(1.0)               # the last chance to cancel: nothing is written before it
    write_text_atomic(data_path, table)
    write_bytes_atomic(weights_path, weights)
    write_text_atomic(script_path, script)


def export_pytorch(project: Project, tensors: Mapping[str, np.ndarray], out_path: str | os.PathLike,
                   progress: Progress | None = None, source: str = "export") -> None:
    """Write ``out_path`` (a .py file) and its data and weight files for ``project`` with ``tensors``.

    ``progress`` gets the fraction done and may raise to cancel; nothing is written
    until its last call (1.0) returns.  A wrong tensor set is refused naming the tensor.
    """
    check_script_path(out_path)
    session = build_session(project)
    session.load_weights(tensors, source=source)
    _write(project, session, out_path, progress or _ignore, source)


def export_pytorch_project(project_path: str | os.PathLike, weights_path: str | os.PathLike,
                           out_path: str | os.PathLike) -> None:
    """``playground export PROJECT --weights FILE --format pytorch -o OUT.py``."""
    check_script_path(out_path)
    project = load_project(project_path)
    session = build_session(project)
    tensors = load_weights(weights_path, expected=tensor_shapes(session.network))
    session.load_weights(tensors, source=str(weights_path))
    _write(project, session, out_path, _ignore, str(weights_path))
