"""Export trained weights, or the whole network, to files other tools load.

``export_model`` serves the desktop app (weights from a snapshot) and
``export_project`` the CLI (``playground export PROJECT --weights FILE --format F -o OUT``).
Every file is written to a temporary file that replaces the target only when it is
complete, so a failure or a cancel at any point leaves an earlier file of the same
name untouched and no partial file.  Weight files are streamed tensor by tensor; the
ONNX model and the script are encoded in memory first.  See docs/export.md for
loading each format in the receiving tool.

``progress`` callbacks receive the fraction done (0 to 1) at points where stopping is
safe; a callback that raises (the app's Cancel) abandons the export.

Every format carries the data set's input scaling and class names when given
(``dataset.input_scaling``, ``dataset.classes``): the ONNX model and the script apply
the scaling and name the classes, the weight files store both beside the tensors.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from engine.errors import ConfigError
from engine.graph import Plan
from engine.io.atomic import atomic_file
from engine.io.class_names import check_class_count, class_name_list
from engine.io.onnx_export import checked_tensors, network_to_onnx
from engine.io.script_export import network_to_script
from engine.io.weights import WEIGHT_FORMATS, load_weights, tensor_shapes, write_weights
from playground.project import build_session, load_project

EXPORT_FORMATS = ("safetensors", "npz", "json", "onnx", "numpy")
FILE_SUFFIX = {"safetensors": ".safetensors", "npz": ".npz", "json": ".json", "onnx": ".onnx", "numpy": ".py"}
ENCODE_SHARE = 0.9          # of the progress bar, for encoding the ONNX model or script (writing is fast)

Progress = Callable[[float], None]


def _check_format(fmt: str, out_path: str | os.PathLike | None = None) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"export format {fmt!r} is unknown; choose one of {', '.join(EXPORT_FORMATS)}")
    # Weight files are read back by their suffix, and the script is imported as a
    # module: a file named for another format would not load.
    if out_path is not None and Path(out_path).suffix.lower() != FILE_SUFFIX[fmt]:
        raise ConfigError(f"{out_path}: a {fmt} export must be named *{FILE_SUFFIX[fmt]}")


def _ignore(fraction: float) -> None:
    pass


def _checked_class_names(plan: Plan, class_names: Sequence | None, fmt: str) -> list | None:
    """Refused before anything is encoded or written, whatever the format."""
    names = class_name_list(class_names, f"the {fmt} export")
    check_class_count(names, plan.output_width, f"the {fmt} export")
    return names


def encode_model(plan: Plan, tensors: Mapping[str, np.ndarray], feature_names: Sequence[str], fmt: str,
                 input_scaling: tuple[np.ndarray, np.ndarray] | None = None, progress: Progress | None = None,
                 source: str = "export", class_names: Sequence | None = None) -> bytes:
    """The bytes of the export file in ``fmt`` (tensors checked against ``plan`` first).

    ``input_scaling`` (the data set's standardisation) goes into the ONNX model and the
    script, which then take raw columns, and into weight files beside the tensors.
    ``class_names`` (``dataset.classes``, the labels in output order; None or () for
    regression) go into every format.
    """
    _check_format(fmt)
    names = _checked_class_names(plan, class_names, fmt)
    if fmt in WEIGHT_FORMATS:
        checked_tensors(plan, tensors, np.float64, source)   # refuse a wrong set first; the file keeps the dtype
        buffer = io.BytesIO()
        write_weights(buffer, tensors, fmt, progress, input_scaling=input_scaling, class_names=names)
        return buffer.getvalue()
    if fmt == "onnx":
        return network_to_onnx(plan, tensors, feature_names, input_scaling, progress, source, class_names=names)
    return network_to_script(plan, tensors, feature_names, input_scaling, progress, source,
                             class_names=names).encode("utf-8")


def export_model(plan: Plan, tensors: Mapping[str, np.ndarray], feature_names: Sequence[str], fmt: str,
                 out_path: str | os.PathLike, input_scaling: tuple[np.ndarray, np.ndarray] | None = None,
                 progress: Progress | None = None, source: str = "export",
                 class_names: Sequence | None = None) -> None:
    """Write the network with ``tensors`` as ``fmt`` to ``out_path``, atomically (with the
    input scaling and class names, as ``encode_model`` says)."""
    _check_format(fmt, out_path)
    progress = progress or _ignore
    if fmt in WEIGHT_FORMATS:
        names = _checked_class_names(plan, class_names, fmt)
        checked_tensors(plan, tensors, np.float64, source)
        with atomic_file(out_path) as handle:
            write_weights(handle, tensors, fmt, progress, input_scaling=input_scaling, class_names=names)
            progress(1.0)           # the last chance to cancel: the rename follows
        return
    encoded = encode_model(plan, tensors, feature_names, fmt, input_scaling,
                           lambda fraction: progress(ENCODE_SHARE * fraction), source, class_names)
    with atomic_file(out_path) as handle:
        handle.write(encoded)
        progress(1.0)


def export_project(project_path: str | os.PathLike, weights_path: str | os.PathLike, fmt: str,
                   out_path: str | os.PathLike) -> None:
    """Load a project and a weight file for it, then export them (errors name file and tensor)."""
    _check_format(fmt, out_path)      # before the slower loading, so a typo is reported at once
    session = build_session(load_project(project_path))
    # The network's names and shapes go to the loader, so a file declaring other
    # tensors (or an 8 GiB member) is refused before any of its data is read.
    tensors = load_weights(weights_path, expected=tensor_shapes(session.network))
    session.load_weights(tensors, source=str(weights_path))
    export_model(session.network.plan, session.weights(), session.dataset.feature_names, fmt, out_path,
                 session.dataset.input_scaling, source=str(weights_path), class_names=session.dataset.classes)
