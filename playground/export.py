"""Export trained weights, or the whole network, to files other tools load.

``export_model`` serves the desktop app (weights from a snapshot) and
``export_project`` the CLI (``playground export PROJECT --weights FILE --format F -o OUT``).
The file is encoded in memory first and then written atomically, so a failure at
any point leaves an earlier file of the same name untouched and no partial file.
See docs/export.md for loading each format in the receiving tool.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from engine.errors import ConfigError
from engine.graph import Plan
from engine.io.atomic import write_bytes_atomic
from engine.io.onnx_export import checked_tensors, network_to_onnx
from engine.io.script_export import network_to_script
from engine.io.weights import WEIGHT_FORMATS, encode_weights, load_weights
from playground.project import build_session, load_project

EXPORT_FORMATS = ("safetensors", "npz", "json", "onnx", "numpy")
FILE_SUFFIX = {"safetensors": ".safetensors", "npz": ".npz", "json": ".json", "onnx": ".onnx", "numpy": ".py"}


def _check_format(fmt: str, out_path: str | os.PathLike | None = None) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"export format {fmt!r} is unknown; choose one of {', '.join(EXPORT_FORMATS)}")
    # Weight files are read back by their suffix, and the script is imported as a
    # module: a file named for another format would not load.
    if out_path is not None and Path(out_path).suffix.lower() != FILE_SUFFIX[fmt]:
        raise ConfigError(f"{out_path}: a {fmt} export must be named *{FILE_SUFFIX[fmt]}")


def encode_model(plan: Plan, tensors: Mapping[str, np.ndarray], feature_names: Sequence[str], fmt: str,
                 input_scaling: tuple[np.ndarray, np.ndarray] | None = None) -> bytes:
    """The bytes of the export file in ``fmt`` (tensors checked against ``plan`` first).

    ``input_scaling`` (the data set's standardisation) goes into the ONNX model and the
    script, which then take raw columns; weight files hold only the weights.
    """
    _check_format(fmt)
    if fmt in WEIGHT_FORMATS:
        checked_tensors(plan, tensors, np.float64)   # refuse a wrong set before writing; the file keeps the dtype
        return encode_weights(tensors, fmt)
    if fmt == "onnx":
        return network_to_onnx(plan, tensors, feature_names, input_scaling)
    return network_to_script(plan, tensors, feature_names, input_scaling).encode("utf-8")


def export_model(plan: Plan, tensors: Mapping[str, np.ndarray], feature_names: Sequence[str], fmt: str,
                 out_path: str | os.PathLike, input_scaling: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Write the network with ``tensors`` as ``fmt`` to ``out_path``, atomically."""
    _check_format(fmt, out_path)
    write_bytes_atomic(out_path, encode_model(plan, tensors, feature_names, fmt, input_scaling))


def export_project(project_path: str | os.PathLike, weights_path: str | os.PathLike, fmt: str,
                   out_path: str | os.PathLike) -> None:
    """Load a project and a weight file for it, then export them (errors name file and tensor)."""
    _check_format(fmt, out_path)      # before the slower loading, so a typo is reported at once
    session = build_session(load_project(project_path))
    session.load_weights(load_weights(weights_path), source=str(weights_path))
    export_model(session.network.plan, session.weights(), session.dataset.feature_names, fmt, out_path,
                 session.dataset.input_scaling)
