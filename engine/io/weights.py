"""Weight files: ``.safetensors``, ``.npz`` and ``.json``, all with the same tensors.

Names are ``<node id>.weight`` ([units, in_features]) and ``<node id>.bias``
([units]), the torch.nn.Linear layout, so ``model.load_state_dict`` accepts them for
an equivalent PyTorch model.  Reading never executes code: ``.npz`` members are read
as plain .npy arrays (no pickles) and safetensors/JSON hold plain numbers.

Reading never trusts a file's size claims: an 8 MB archive can declare an 8 GiB
member.  Every tensor's name, dtype and shape are read first (the zip directory and
.npy headers, the safetensors JSON header, the JSON file's size) and checked against
what the network needs (``expected``) and the memory available, before any data is
read.  Writing is atomic and streams tensor by tensor, so saving a large network
does not need a second copy of it in memory.

A network trained on standardized columns carries its input scaling (shift, scale:
the network sees (raw - shift) / scale) in its weight files, so a loader need not
recompute it from the data: in the safetensors metadata as JSON lists under
``input_shift`` and ``input_scale``, as npz members and as JSON keys of those names
(float64).  A classifier's files carry its class names too (engine/io/class_names.py):
the data set's labels in output order, as JSON text, under ``class_names`` in the
safetensors metadata, as an npz member (a 0-d string array holding the JSON text) and
as a JSON key (the list itself).  ``load_weights`` returns only the tensors;
``load_input_scaling`` the scaling and ``load_class_names`` the labels.
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Mapping

import numpy as np

from ..errors import WeightsError
from ..memory import available_memory
from .atomic import atomic_file
from .class_names import CLASS_NAMES_KEY, MAX_CLASS_NAMES_BYTES, class_name_list, class_names_json, parse_class_names

WEIGHT_FORMATS = ("safetensors", "npz", "json")
JSON_FORMAT_TAG = "nn-playground-weights/1"
SAFETENSORS_DTYPES = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
SAFETENSORS_MAX_HEADER = 100 * 2**20       # the safetensors library's own limit
JSON_CHARS_PER_NUMBER = 64                 # generous: a float64 repr, a separator and indentation
JSON_SLACK = 2**20                         # names, shapes and the rest of a JSON weight file
JSON_MEMORY_FACTOR = 6                     # parsed JSON: the text plus ~32 bytes per Python float
CHUNK = 2**24                              # bytes per read or write: progress and cancel points

SCALING_NAMES = ("input_shift", "input_scale")   # never a tensor name: those end in .weight or .bias
METADATA_NAMES = (*SCALING_NAMES, CLASS_NAMES_KEY)   # what a file may hold beside the tensors

Progress = Callable[[float], None]         # called with the fraction done; may raise to cancel
Shapes = Mapping[str, Iterable[int]]


def format_of(path: str | Path, explicit: str | None = None) -> str:
    fmt = explicit or Path(path).suffix.lower().lstrip(".")
    if fmt not in WEIGHT_FORMATS:
        raise WeightsError(f"{path}: unknown weight format {fmt!r}; use a .safetensors, .npz or .json file")
    return fmt


# --- writing ------------------------------------------------------------------------

def _no_progress(fraction: float) -> None:
    pass


def _write_array(handle: BinaryIO, array: np.ndarray, progress: Progress, done: int, total: int) -> int:
    """Write the array's little-endian bytes in chunks; returns the bytes written so far."""
    flat = array.astype(array.dtype.newbyteorder("<"), copy=False).reshape(-1)
    step = max(1, CHUNK // max(1, flat.itemsize))
    for start in range(0, flat.size, step):
        handle.write(memoryview(flat[start:start + step]).cast("B"))
        done += min(step, flat.size - start) * flat.itemsize
        progress(done / total)
    return done


def _scaling_lists(input_scaling) -> dict[str, list[float]]:
    """The scaling as float64 lists by name (JSON keeps every float64 exactly), or {}."""
    if input_scaling is None:
        return {}
    return {name: np.asarray(values, dtype=np.float64).reshape(-1).tolist()
            for name, values in zip(SCALING_NAMES, input_scaling)}


def _write_safetensors(handle: BinaryIO, arrays: Mapping[str, np.ndarray], progress: Progress,
                       input_scaling=None, class_names: list | None = None) -> None:
    """The safetensors layout: 8-byte header length, JSON header, then the raw tensors.

    Tensors are laid out widest dtype first (as the safetensors library does) so every
    tensor starts aligned to its item size; the header is padded with spaces to 8 bytes.
    Metadata values must be strings: the scaling and class names go in as JSON text.
    """
    codes = {np.dtype(d).str[1:]: code for code, d in SAFETENSORS_DTYPES.items()}
    order = sorted(arrays, key=lambda name: (-arrays[name].dtype.itemsize, name))
    metadata = {"format": "nn-playground"}
    metadata.update({name: json.dumps(values) for name, values in _scaling_lists(input_scaling).items()})
    if class_names is not None:
        metadata[CLASS_NAMES_KEY] = class_names_json(class_names)
    header: dict = {"__metadata__": metadata}
    offset = 0
    for name in order:
        array = arrays[name]
        code = codes.get(array.dtype.str[1:])
        if code is None:
            raise WeightsError(f"tensor '{name}': dtype {array.dtype} cannot be saved; use float32 or float64")
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    if len(text) > SAFETENSORS_MAX_HEADER:
        # Readers (ours and the safetensors library) refuse a longer header: say so now, not when loading.
        raise WeightsError(f"the safetensors header (tensor names, input scaling, class names) would take "
                           f"{len(text):,} bytes, more than the {SAFETENSORS_MAX_HEADER:,} the format allows; "
                           "save as .npz instead")
    handle.write(len(text).to_bytes(8, "little"))
    handle.write(text)
    done, total = 0, max(1, offset)
    for name in order:
        done = _write_array(handle, arrays[name], progress, done, total)


def _write_json(handle: BinaryIO, arrays: Mapping[str, np.ndarray], progress: Progress,
                input_scaling=None, class_names: list | None = None) -> None:
    """The same bytes as ``json.dumps`` of the document, produced a slice of values at a time."""
    total, done = max(1, sum(a.size for a in arrays.values())), 0
    handle.write(b'{"format": ' + json.dumps(JSON_FORMAT_TAG).encode() + b', "tensors": {')
    step = max(1, CHUNK // 8)
    for i, (name, array) in enumerate(arrays.items()):
        head = (", " if i else "") + f'{json.dumps(name)}: {{"dtype": {json.dumps(str(array.dtype))}, ' \
                                     f'"shape": {json.dumps(list(array.shape))}, "data": ['
        handle.write(head.encode("utf-8"))
        flat = array.reshape(-1)
        for start in range(0, flat.size, step):
            chunk = json.dumps(flat[start:start + step].tolist())[1:-1]
            handle.write(((", " if start else "") + chunk).encode("ascii"))
            done += min(step, flat.size - start)
            progress(done / total)
        handle.write(b"]}")
    handle.write(b"}")
    for name, values in _scaling_lists(input_scaling).items():
        handle.write(f", {json.dumps(name)}: {json.dumps(values)}".encode("ascii"))
    if class_names is not None:
        handle.write(f", {json.dumps(CLASS_NAMES_KEY)}: {class_names_json(class_names)}".encode("ascii"))
    handle.write(b"}")


def write_weights(handle: BinaryIO, tensors: Mapping[str, np.ndarray], fmt: str,
                  progress: Progress | None = None, input_scaling=None, class_names=None) -> None:
    """Stream a weight file in ``fmt`` into an open binary file.

    ``input_scaling`` (shift, scale), the data set's standardisation, and
    ``class_names`` (``Dataset.classes``: the labels in output order) go into the file
    beside the tensors (see the module docstring); None (or no classes) leaves them out.
    """
    progress = progress or _no_progress
    names = class_name_list(class_names, "the weight file")
    arrays = {name: np.ascontiguousarray(t) for name, t in tensors.items()}
    if fmt == "safetensors":
        _write_safetensors(handle, arrays, progress, input_scaling, names)
    elif fmt == "npz":
        extra = {name: np.asarray(values, dtype=np.float64)
                 for name, values in _scaling_lists(input_scaling).items()}
        if names is not None:
            extra[CLASS_NAMES_KEY] = np.array(class_names_json(names))     # a 0-d string, never an object
        # np.savez streams each array into the zip in buffered chunks.
        np.savez(handle, **arrays, **extra)
        progress(1.0)
    elif fmt == "json":
        _write_json(handle, arrays, progress, input_scaling, names)
    else:
        format_of(f"weights.{fmt}")


def encode_weights(tensors: Mapping[str, np.ndarray], fmt: str, input_scaling=None, class_names=None) -> bytes:
    """The bytes of a weight file in ``fmt`` (for small networks and tests)."""
    buffer = io.BytesIO()
    write_weights(buffer, tensors, fmt, input_scaling=input_scaling, class_names=class_names)
    return buffer.getvalue()


def save_weights(path: str | Path, tensors: Mapping[str, np.ndarray], fmt: str | None = None,
                 progress: Progress | None = None, input_scaling=None, class_names=None) -> None:
    fmt = format_of(path, fmt)
    with atomic_file(path) as handle:
        write_weights(handle, tensors, fmt, progress, input_scaling, class_names)


# --- reading: declarations first --------------------------------------------------

class _Declared:
    """Checks each tensor a file declares, before its data is read.

    With ``expected`` (name -> shape, from the network) an unknown name or a wrong
    shape is refused at once with the messages ``assign_tensors`` gives; in any case
    the declared bytes must fit in the memory available.
    """

    def __init__(self, path: Path, expected: Shapes | None):
        self.path = path
        self.expected = None if expected is None else {k: tuple(int(d) for d in v) for k, v in expected.items()}
        self.budget = available_memory() // 2     # the loaded copy, then the network's own
        self.total = 0
        self.names: set[str] = set()

    def check(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        where = f"{self.path}: tensor '{name}'"
        if name in self.names:
            raise WeightsError(f"{where} appears twice")
        self.names.add(name)
        if self.expected is not None:
            if name not in self.expected:
                raise WeightsError(f"{where} does not belong to this network")
            if shape != self.expected[name]:
                raise WeightsError(f"{where} has shape {list(shape)}, the network needs {list(self.expected[name])}")
        if dtype.kind != "f":
            raise WeightsError(f"{where} has dtype {dtype}, expected floating point")
        self.total += math.prod(shape) * dtype.itemsize
        if self.total > self.budget:
            raise WeightsError(f"{where}: the file declares {_amount(self.total)} of tensors, more than "
                               f"the {_amount(self.budget)} this machine can load")


def _amount(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def _shape(value, where: str) -> tuple[int, ...]:
    if not (isinstance(value, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                            for d in value)):
        raise WeightsError(f"{where}: 'shape' must be a list of non-negative integers")
    return tuple(value)


def _read_into(stream, array: np.ndarray, where: str) -> np.ndarray:
    """Fill ``array`` from ``stream`` chunk by chunk (no second copy of the data)."""
    view = memoryview(array.reshape(-1)).cast("B")
    filled = 0
    while filled < len(view):
        chunk = stream.read(min(CHUNK, len(view) - filled))
        if not chunk:
            raise WeightsError(f"{where}: the data ends after {filled} of {len(view)} bytes")
        view[filled:filled + len(chunk)] = chunk
        filled += len(chunk)
    return array


def _native(array: np.ndarray) -> np.ndarray:
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


# --- npz ----------------------------------------------------------------------------

def _npy_header(stream, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(f".npy format version {version} is not supported")
    except ValueError as exc:
        raise WeightsError(f"{where}: not a .npy array ({exc})") from None
    return tuple(shape), fortran, dtype


def _load_npz(path: Path, declared: _Declared) -> dict[str, np.ndarray]:
    out = {}
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        plan = []
        for info in members:                     # every declaration is checked before any data is read
            if not info.filename.endswith(".npy"):
                raise WeightsError(f"{path}: member '{info.filename}' is not a .npy array")
            name = info.filename[:-4]
            if name in METADATA_NAMES:
                continue                         # scaling and class names: load_input_scaling, load_class_names
            where = f"{path}: tensor '{name}'"
            with archive.open(info) as stream:
                shape, fortran, dtype = _npy_header(stream, where)
                header_bytes = stream.tell()
            if dtype.hasobject:
                raise WeightsError(f"{path}: not a readable npz weight file (tensor '{name}' holds Python "
                                   "objects, which are never unpickled)")
            declared.check(name, shape, dtype)
            data_bytes = math.prod(shape) * dtype.itemsize
            if info.file_size != header_bytes + data_bytes:
                raise WeightsError(f"{where}: shape {list(shape)} needs {data_bytes} bytes of data, but the "
                                   f"archive member holds {info.file_size - header_bytes}")
            plan.append((info, name, shape, fortran, dtype))
        for info, name, shape, fortran, dtype in plan:
            with archive.open(info) as stream:
                _npy_header(stream, name)
                flat = _read_into(stream, np.empty(math.prod(shape), dtype=dtype), f"{path}: tensor '{name}'")
            out[name] = _native(flat.reshape(shape, order="F" if fortran else "C"))
    return out


# --- safetensors --------------------------------------------------------------------

def _safetensors_header(handle, path: Path, size: int) -> tuple[dict, int]:
    head = handle.read(8)
    if len(head) < 8:
        raise WeightsError(f"{path}: not a readable safetensors weight file (shorter than its 8-byte header length)")
    length = int.from_bytes(head, "little")
    if length > min(size - 8, SAFETENSORS_MAX_HEADER):
        raise WeightsError(f"{path}: not a readable safetensors weight file (its header claims {length} bytes; "
                           f"the file has {size - 8} after the length)")
    try:
        header = json.loads(handle.read(length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors weight file (header: {exc})") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{path}: not a readable safetensors weight file (the header is not a JSON object)")
    return header, 8 + length


def _load_safetensors(path: Path, declared: _Declared) -> dict[str, np.ndarray]:
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        header, start = _safetensors_header(handle, path, size)
        plan = []
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            where = f"{path}: tensor '{name}'"
            if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
                raise WeightsError(f"{where}: needs 'dtype', 'shape' and 'data_offsets'")
            shape = _shape(entry["shape"], where)
            code = entry["dtype"]
            if code not in SAFETENSORS_DTYPES:
                raise WeightsError(f"{where} has dtype {code!r}, expected floating point "
                                   f"({', '.join(SAFETENSORS_DTYPES)})")
            dtype = SAFETENSORS_DTYPES[code]
            declared.check(name, shape, dtype)
            offsets = entry["data_offsets"]
            if not (isinstance(offsets, list) and len(offsets) == 2
                    and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                    and 0 <= offsets[0] <= offsets[1]):
                raise WeightsError(f"{where}: 'data_offsets' must be two increasing non-negative integers")
            if offsets[1] - offsets[0] != math.prod(shape) * dtype.itemsize:
                raise WeightsError(f"{where}: shape {list(shape)} needs {math.prod(shape) * dtype.itemsize} bytes, "
                                   f"its data_offsets span {offsets[1] - offsets[0]}")
            if start + offsets[1] > size:
                raise WeightsError(f"{where}: its data ends at byte {start + offsets[1]}, past the end of the "
                                   f"file ({size} bytes)")
            plan.append((name, shape, dtype, offsets[0]))
        out = {}
        for name, shape, dtype, begin in plan:
            handle.seek(start + begin)
            array = _read_into(handle, np.empty(shape, dtype=dtype), f"{path}: tensor '{name}'")
            out[name] = _native(array)
    return out


# --- json ---------------------------------------------------------------------------

def _json_limit(expected: Shapes | None) -> int:
    """The largest JSON weight file worth parsing: parsing takes several times its size."""
    limit = available_memory() // JSON_MEMORY_FACTOR
    if expected is not None:
        numbers = sum(math.prod(int(d) for d in shape) for shape in expected.values())
        limit = min(limit, numbers * JSON_CHARS_PER_NUMBER + JSON_SLACK)
    return limit


def _json_values(data: list, dtype: str, where: str) -> np.ndarray:
    """``data`` as an array of ``dtype``, refusing values it cannot hold before casting."""
    try:
        values = np.asarray(data, dtype=np.float64)
    except OverflowError:           # an integer literal beyond float64, e.g. 1 followed by 400 zeros
        raise WeightsError(f"{where}: a value is too large for float64") from None
    if not np.all(np.isfinite(values)):
        raise WeightsError(f"{where} holds NaN or infinite values")
    limit = float(np.finfo(dtype).max)
    peak = float(values[np.argmax(np.abs(values))]) if values.size else 0.0
    if abs(peak) > limit:
        raise WeightsError(f"{where} holds {peak:.4g}, beyond the {dtype} range (largest {limit:.3g})")
    return values.astype(dtype)


def _load_json(path: Path, expected: Shapes | None, declared: _Declared) -> dict[str, np.ndarray]:
    size, limit = path.stat().st_size, _json_limit(expected)
    if size > limit:
        raise WeightsError(f"{path}: {size:,} bytes is too large for a JSON weight file for this network "
                           f"(at most {limit:,}); use .safetensors or .npz for large networks")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:   # ValueError: JSONDecodeError, huge ints
        raise WeightsError(f"{path}: not a JSON weight file ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tensors"), dict):
        raise WeightsError(f"{path}: a JSON weight file needs a 'tensors' object")
    out = {}
    for name, entry in doc["tensors"].items():
        where = f"{path}: tensor '{name}'"
        if not isinstance(entry, dict) or not {"shape", "data"} <= set(entry):
            raise WeightsError(f"{where}: needs 'shape' and 'data'")
        shape, data = _shape(entry["shape"], where), entry["data"]
        dtype = entry.get("dtype", "float64")
        if dtype not in ("float32", "float64"):
            raise WeightsError(f"{where}: dtype must be float32 or float64, got {dtype!r}")
        declared.check(name, shape, np.dtype(dtype))
        if not isinstance(data, list) or len(data) != math.prod(shape):
            raise WeightsError(f"{where}: 'data' must hold {math.prod(shape)} numbers for shape {list(shape)}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
            raise WeightsError(f"{where}: 'data' must hold only numbers")
        out[name] = _json_values(data, dtype, where).reshape(shape)
    return out


def load_weights(path: str | Path, expected: Shapes | None = None) -> dict[str, np.ndarray]:
    """Read every tensor of a weight file; errors name the file (and tensor).

    ``expected`` maps tensor names to the shapes the network needs (e.g.
    ``{name: t.shape for name, t in network.tensors.items()}``): a file with other
    names or shapes is then refused before its data is read.  Missing tensors are
    left for ``assign_tensors`` to report.
    """
    path = Path(path)
    fmt = format_of(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weight file")
    declared = _Declared(path, expected)
    try:
        if fmt == "json":
            return _load_json(path, expected, declared)
        if fmt == "safetensors":
            return _load_safetensors(path, declared)
        return _load_npz(path, declared)
    except WeightsError:
        raise
    except MemoryError:
        raise WeightsError(f"{path}: not enough memory to load the weights") from None
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # any parse failure of a foreign file is the file's fault
        raise WeightsError(f"{path}: not a readable {fmt} weight file ({type(exc).__name__}: {exc})") from None


# --- the input scaling ---------------------------------------------------------------

MAX_SCALING_COLUMNS = 10_000_000           # far beyond any data set's feature count


def _scaling_from(values: Mapping[str, object], path: Path):
    """(shift, scale) as float64 arrays from the two entries, checked; None if neither is there."""
    present = [name for name in SCALING_NAMES if name in values]
    if not present:
        return None
    if len(present) == 1:
        raise WeightsError(f"{path}: has '{present[0]}' but not '{set(SCALING_NAMES).difference(present).pop()}'; "
                           "the input scaling needs both")
    arrays = []
    for name in SCALING_NAMES:
        try:
            array = np.asarray(values[name], dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise WeightsError(f"{path}: '{name}' must be a list of numbers") from None
        if array.ndim != 1 or not np.all(np.isfinite(array)):
            raise WeightsError(f"{path}: '{name}' must be a flat list of finite numbers")
        arrays.append(array)
    shift, scale = arrays
    if len(shift) != len(scale):
        raise WeightsError(f"{path}: 'input_shift' has {len(shift)} columns, 'input_scale' {len(scale)}")
    if np.any(scale <= 0):
        raise WeightsError(f"{path}: 'input_scale' must hold positive numbers")
    return shift, scale


def _npz_scaling(path: Path) -> dict[str, np.ndarray]:
    out = {}
    with zipfile.ZipFile(path) as archive:
        for name in SCALING_NAMES:
            try:
                info = archive.getinfo(name + ".npy")
            except KeyError:
                continue
            with archive.open(info) as stream:
                shape, fortran, dtype = _npy_header(stream, f"{path}: '{name}'")
                if dtype != np.float64 or len(shape) != 1 or shape[0] > MAX_SCALING_COLUMNS:
                    raise WeightsError(f"{path}: '{name}' must be a float64 vector, got {dtype} {list(shape)}")
                out[name] = _native(_read_into(stream, np.empty(shape, dtype=dtype), f"{path}: '{name}'"))
    return out


def _safetensors_metadata(path: Path) -> dict:
    with open(path, "rb") as handle:
        header, _ = _safetensors_header(handle, path, os.fstat(handle.fileno()).st_size)
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise WeightsError(f"{path}: the safetensors metadata is not an object")
    return metadata


def _safetensors_scaling(path: Path) -> dict[str, list]:
    metadata = _safetensors_metadata(path)
    out = {}
    for name in SCALING_NAMES:
        if name in metadata:
            try:
                out[name] = json.loads(metadata[name])
            except (TypeError, ValueError, RecursionError):
                raise WeightsError(f"{path}: metadata '{name}' is not a JSON list of numbers") from None
    return out


def _json_document(path: Path) -> dict:
    size, limit = path.stat().st_size, _json_limit(None)
    if size > limit:
        raise WeightsError(f"{path}: {size:,} bytes is too large to read (at most {limit:,})")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WeightsError(f"{path}: not a JSON weight file ({exc})") from None
    if not isinstance(doc, dict):
        raise WeightsError(f"{path}: a JSON weight file is an object")
    return doc


def _json_scaling(path: Path) -> dict:
    doc = _json_document(path)
    return {name: doc[name] for name in SCALING_NAMES if name in doc}


def _read_beside_tensors(path: str | Path, readers: Mapping[str, Callable[[Path], object]]):
    """What ``readers[format](path)`` returns, with any failure reported as the file's fault."""
    path = Path(path)
    fmt = format_of(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weight file")
    try:
        return readers[fmt](path)
    except WeightsError:
        raise
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # any parse failure of a foreign file is the file's fault
        raise WeightsError(f"{path}: not a readable {fmt} weight file ({type(exc).__name__}: {exc})") from None


def load_input_scaling(path: str | Path):
    """The input scaling (shift, scale) a weight file carries, as float64 arrays, or None.

    Present for networks trained on standardized columns: the network sees
    (raw - shift) / scale.  Only the two entries are read, never the tensors.
    """
    entries = _read_beside_tensors(path, {"npz": _npz_scaling, "safetensors": _safetensors_scaling,
                                          "json": _json_scaling})
    return _scaling_from(entries, Path(path))


# --- the class names -----------------------------------------------------------------

def _npz_class_names(path: Path):
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo(CLASS_NAMES_KEY + ".npy")
        except KeyError:
            return None
        where = f"{path}: '{CLASS_NAMES_KEY}'"
        with archive.open(info) as stream:
            shape, _, dtype = _npy_header(stream, where)
            # Checked before reading: a header may declare any size.
            if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_CLASS_NAMES_BYTES:
                raise WeightsError(f"{where} must be a string of at most {MAX_CLASS_NAMES_BYTES:,} characters "
                                   f"(JSON text), got {dtype} {list(shape)}")
            text = _read_into(stream, np.empty((), dtype=dtype), where).item()
    return parse_class_names(text, where, WeightsError)


def _safetensors_class_names(path: Path):
    metadata = _safetensors_metadata(path)
    if CLASS_NAMES_KEY not in metadata:
        return None
    where = f"{path}: metadata '{CLASS_NAMES_KEY}'"
    if not isinstance(metadata[CLASS_NAMES_KEY], str):
        raise WeightsError(f"{where} must be JSON text (safetensors metadata values are strings)")
    return parse_class_names(metadata[CLASS_NAMES_KEY], where, WeightsError)


def _json_class_names(path: Path):
    doc = _json_document(path)
    if CLASS_NAMES_KEY not in doc:
        return None
    return parse_class_names(doc[CLASS_NAMES_KEY], f"{path}: key '{CLASS_NAMES_KEY}'", WeightsError)


def load_class_names(path: str | Path) -> list | None:
    """The class names a weight file carries (the labels in output order: str, int or
    float), or None (a regression network, or a file written without them).  Only that
    entry is read, never the tensors."""
    return _read_beside_tensors(path, {"npz": _npz_class_names, "safetensors": _safetensors_class_names,
                                       "json": _json_class_names})


def tensor_shapes(network) -> dict[str, tuple[int, ...]]:
    """What ``load_weights(path, expected=...)`` checks a file against, for ``network``."""
    return {name: tuple(t.shape) for name, t in network.tensors.items()}


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
