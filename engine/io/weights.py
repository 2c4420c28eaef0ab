"""Weight files: ``.safetensors``, ``.npz`` and ``.json``, all with the same tensors.

Names are ``<node id>.weight`` ([units, in_features]) and ``<node id>.bias``
([units]), the torch.nn.Linear layout, so ``model.load_state_dict`` accepts them for
an equivalent PyTorch model.  Reading never executes code: ``.npz`` is opened with
``allow_pickle=False`` and safetensors/JSON hold plain numbers.  Writing is atomic.
"""
from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import WeightsError
from .atomic import write_bytes_atomic

WEIGHT_FORMATS = ("safetensors", "npz", "json")
JSON_FORMAT_TAG = "nn-playground-weights/1"


def format_of(path: str | Path, explicit: str | None = None) -> str:
    fmt = explicit or Path(path).suffix.lower().lstrip(".")
    if fmt not in WEIGHT_FORMATS:
        raise WeightsError(f"{path}: unknown weight format {fmt!r}; use a .safetensors, .npz or .json file")
    return fmt


def encode_weights(tensors: Mapping[str, np.ndarray], fmt: str) -> bytes:
    """The bytes of a weight file in ``fmt`` (kept separate so writing stays atomic)."""
    arrays = {name: np.ascontiguousarray(t) for name, t in tensors.items()}
    if fmt == "safetensors":
        from safetensors.numpy import save
        return save(arrays, metadata={"format": "nn-playground"})
    if fmt == "npz":
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()
    doc = {"format": JSON_FORMAT_TAG,
           "tensors": {name: {"dtype": str(a.dtype), "shape": list(a.shape), "data": a.ravel().tolist()}
                       for name, a in arrays.items()}}
    return json.dumps(doc).encode("utf-8")


def save_weights(path: str | Path, tensors: Mapping[str, np.ndarray], fmt: str | None = None) -> None:
    write_bytes_atomic(path, encode_weights(tensors, format_of(path, fmt)))


def _load_json(path: Path) -> dict[str, np.ndarray]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path}: not a JSON weight file ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tensors"), dict):
        raise WeightsError(f"{path}: a JSON weight file needs a 'tensors' object")
    out = {}
    for name, entry in doc["tensors"].items():
        where = f"{path}: tensor '{name}'"
        if not isinstance(entry, dict) or not {"shape", "data"} <= set(entry):
            raise WeightsError(f"{where}: needs 'shape' and 'data'")
        shape, data = entry["shape"], entry["data"]
        if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                               for d in shape)):
            raise WeightsError(f"{where}: 'shape' must be a list of non-negative integers")
        if not isinstance(data, list) or len(data) != math.prod(shape):
            raise WeightsError(f"{where}: 'data' must hold {math.prod(shape)} numbers for shape {shape}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
            raise WeightsError(f"{where}: 'data' must hold only numbers")
        dtype = entry.get("dtype", "float64")
        if dtype not in ("float32", "float64"):
            raise WeightsError(f"{where}: dtype must be float32 or float64, got {dtype!r}")
        out[name] = np.asarray(data, dtype=dtype).reshape(shape)
    return out


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Read every tensor of a weight file; errors name the file (and tensor)."""
    path = Path(path)
    fmt = format_of(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weight file")
    if fmt == "json":
        return _load_json(path)
    try:
        if fmt == "safetensors":
            from safetensors.numpy import load_file
            return dict(load_file(str(path)))
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except WeightsError:
        raise
    except Exception as exc:  # any parse failure of a foreign file is the file's fault
        raise WeightsError(f"{path}: not a readable {fmt} weight file ({type(exc).__name__}: {exc})") from None


def assign_tensors(network, tensors: Mapping[str, np.ndarray], source: str = "weights") -> None:
    """Copy ``tensors`` into the network, all or nothing; a mismatch names the tensor and shapes."""
    expected = network.tensors
    missing = [name for name in expected if name not in tensors]
    if missing:
        raise WeightsError(f"{source}: tensor '{missing[0]}' is missing (the file has: "
                           f"{', '.join(sorted(tensors)) or 'no tensors'})")
    extra = [name for name in tensors if name not in expected]
    if extra:
        raise WeightsError(f"{source}: tensor '{extra[0]}' does not belong to this network")
    for name, target in expected.items():
        value = np.asarray(tensors[name])
        if value.shape != target.shape:
            raise WeightsError(f"{source}: tensor '{name}' has shape {list(value.shape)}, "
                               f"the network needs {list(target.shape)}")
        if not np.issubdtype(value.dtype, np.floating):
            raise WeightsError(f"{source}: tensor '{name}' has dtype {value.dtype}, expected floating point")
        if not np.all(np.isfinite(value)):
            raise WeightsError(f"{source}: tensor '{name}' holds NaN or infinite values")
    for name, target in expected.items():
        target[...] = tensors[name]
