"""Trained projects: a project with its weights and training state, in one file.

A trained project (``name.nnpg``, see docs/project-format.md) is a zip archive:

    project.json         the project, exactly as a plain project file (readable alone)
    weights.safetensors  the network's tensors, as File > Export weights writes them
    state.safetensors    flat training tensors: grads, undo, optimizer.<buffer>, history
    state.json           "format": "nn-playground-state/1", counts, random streams, ...

``save_trained`` writes one atomically.  ``load_trained`` opens one, or a plain
project file (its state is then None), checking the version and every field, and
each tensor's name and shape against the project's network before any tensor data
is read; oversized members are refused.  The engine's ``TrainingSession.restore``
then checks the state against the data.  ``read_weight_file`` reads any weight file
(or a trained project's weights) for File > Load weights.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from engine.errors import ConfigError, WeightsError
from engine.graph import Plan, compile_plan
from engine.io.atomic import atomic_file
from engine.io.weights import CHUNK, load_weights, write_weights
from engine.memory import available_memory
from engine.optimizers import OPTIMIZERS, OptimizerState
from engine.session import RANDOM_STREAMS, Divergence, TrainingState, check_random_state
from engine.validate import brief, flag, number
from playground.project import (MAX_PROJECT_BYTES, TRAINED_SUFFIX, ZIP_MAGIC, Project, check_json_values,
                                load_project, parse_json, parse_project, project_text, require_regular_file)

STATE_FORMAT = "nn-playground-state/1"
_FORMAT_FAMILY = "nn-playground-state/"
PROJECT_MEMBER = "project.json"
WEIGHTS_MEMBER = "weights.safetensors"
TENSORS_MEMBER = "state.safetensors"
STATE_MEMBER = "state.json"
MEMBERS = (PROJECT_MEMBER, WEIGHTS_MEMBER, TENSORS_MEMBER, STATE_MEMBER)
# The loss plot's columns; NaN where a value was not measured.
HISTORY_COLUMNS = ("step", "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
MAX_HISTORY_ROWS = 1_000_000
MAX_STATE_BYTES = 16 * 2**20           # state.json is a few kilobytes
# Four members take about 400 bytes of zip directory; a hostile archive could
# declare millions of entries, each of which zipfile would hold in memory.
MAX_DIRECTORY_BYTES = 64 * 2**10
MAX_REASON_CHARS = 1000
_NO_DATE = (1980, 1, 1, 0, 0, 0)       # the same training gives the same bytes


@dataclass(frozen=True, eq=False)
class Trained:
    """What a project file holds: the project, and for a trained project its state and loss history."""

    project: Project
    state: TrainingState | None
    history: np.ndarray | None          # [rows, len(HISTORY_COLUMNS)] float64


def plan_tensor_shapes(plan: Plan) -> dict[str, tuple[int, ...]]:
    """The tensors a network of ``plan`` has: ``<node>.weight`` [units, in], ``<node>.bias`` [units]."""
    shapes = {}
    for s in plan.dense_steps:
        shapes[f"{s.node.id}.weight"] = (s.width, s.in_width)
        shapes[f"{s.node.id}.bias"] = (s.width,)
    return shapes


# --- writing ------------------------------------------------------------------------

def save_trained(path: str | os.PathLike, project: Project, state: TrainingState,
                 history: np.ndarray | None = None) -> None:
    """Write ``project`` with its training ``state`` (``TrainingSession.state()``) and the
    loss ``history`` rows (columns HISTORY_COLUMNS) to ``path``, atomically."""
    if Path(path).suffix.lower() != TRAINED_SUFFIX:
        raise ConfigError(f"{path}: a trained project must be named *{TRAINED_SUFFIX}")
    if state.dtype != project.dtype.name:
        raise ConfigError(f"{path}: the training state is {state.dtype}, the project trains in {project.dtype.name}")
    history = _checked_history(history, f"{path}: history")
    with atomic_file(path) as handle, zipfile.ZipFile(handle, "w") as archive:
        _write_text(archive, PROJECT_MEMBER, project_text(project))
        _write_tensors(archive, WEIGHTS_MEMBER, state.weights)
        _write_tensors(archive, TENSORS_MEMBER, _state_tensors(state, history))
        _write_text(archive, STATE_MEMBER, json.dumps(_state_document(state, history), indent=1) + "\n")


def _checked_history(history, where: str) -> np.ndarray | None:
    if history is None:
        return None
    history = np.asarray(history, dtype=np.float64)
    if history.ndim != 2 or history.shape[1] != len(HISTORY_COLUMNS):
        raise ConfigError(f"{where}: must be rows of {len(HISTORY_COLUMNS)} columns "
                          f"({', '.join(HISTORY_COLUMNS)}), got shape {list(history.shape)}")
    if len(history) > MAX_HISTORY_ROWS:
        raise ConfigError(f"{where}: {len(history):,} rows; at most {MAX_HISTORY_ROWS:,} are kept")
    return history


def _member(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_NO_DATE)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _write_text(archive: zipfile.ZipFile, name: str, text: str) -> None:
    archive.writestr(_member(name, zipfile.ZIP_DEFLATED), text.encode("utf-8"))


def _write_tensors(archive: zipfile.ZipFile, name: str, tensors: Mapping[str, np.ndarray]) -> None:
    # Stored, not deflated: trained floats hardly compress, and the data streams through.
    with archive.open(_member(name, zipfile.ZIP_STORED), "w", force_zip64=True) as member:
        write_weights(member, tensors, "safetensors")


def _state_tensors(state: TrainingState, history: np.ndarray | None) -> dict[str, np.ndarray]:
    tensors = {"grads": state.grads}
    if state.undo is not None:
        tensors["undo"] = state.undo
    tensors.update({f"optimizer.{key}": value for key, value in state.optimizer.buffers.items()})
    if history is not None:
        tensors["history"] = history
    return tensors


def _state_document(state: TrainingState, history: np.ndarray | None) -> dict:
    doc = {
        "format": STATE_FORMAT,
        "step": state.step, "epoch": state.epoch, "cursor": state.cursor,
        "dtype": state.dtype, "input_width": state.input_width, "n_train": state.n_train,
        "batch_loss": state.batch_loss,
        "divergence": None if state.divergence is None else
        {"step": state.divergence.step, "reason": state.divergence.reason},
        "optimizer": {"name": state.optimizer.name, "t": state.optimizer.t,
                      "buffers": sorted(state.optimizer.buffers)},
        "random": state.random,
        "undo": state.undo is not None,
    }
    if history is not None:
        doc["history"] = {"columns": list(HISTORY_COLUMNS), "rows": len(history)}
    return doc


# --- reading ------------------------------------------------------------------------

def is_trained_file(path: str | os.PathLike) -> bool:
    """True if ``path`` is a zip (a trained project), judged by its first bytes."""
    path = Path(path)
    try:
        require_regular_file(path, os.stat(path))     # never opens a FIFO or a device
        with open(path, "rb") as handle:
            return handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    except (OSError, ConfigError):
        return False


def load_trained(path: str | os.PathLike) -> Trained:
    """A trained project, or a plain project file (state and history None).

    Every problem is a ConfigError whose one line names the file, member, field or tensor.
    """
    path = Path(path)
    if not is_trained_file(path):
        return Trained(load_project(path), None, None)
    with _archive(path) as archive:
        members = _members(path, archive)
        fields = _state_fields(_read_json(path, archive, members[STATE_MEMBER], MAX_STATE_BYTES),
                               f"{path}: {STATE_MEMBER}")
        project = _read_project(path, archive, members[PROJECT_MEMBER])
        if fields["dtype"] != project.dtype.name:
            raise ConfigError(f"{path}: {STATE_MEMBER}: dtype {fields['dtype']} differs from the project's "
                              f"{project.dtype.name}")
        try:
            plan = compile_plan(project.graph, fields["input_width"])
        except ConfigError as exc:
            raise ConfigError(f"{path}: {PROJECT_MEMBER}: {exc}") from None
        shapes = {WEIGHTS_MEMBER: plan_tensor_shapes(plan), TENSORS_MEMBER: _flat_shapes(fields, plan.n_params)}
        with tempfile.TemporaryDirectory(prefix="nnpg-") as folder:
            weights, flat = (_read_tensors(path, archive, members[name], folder, shapes[name])
                             for name in (WEIGHTS_MEMBER, TENSORS_MEMBER))
    _check_state_tensors(path, {WEIGHTS_MEMBER: weights, TENSORS_MEMBER: flat}, shapes, fields)
    return Trained(project, _training_state(fields, weights, flat), _history(flat))


def read_weight_file(path: str | os.PathLike, plan: Plan) -> dict[str, np.ndarray]:
    """Every tensor of a weight file (.safetensors, .npz, .json, or a trained project's
    weights) for a network of ``plan``, for File > Load weights.

    A tensor the network lacks, a wrong shape (naming the tensor and both shapes), a
    missing tensor or a NaN is a ConfigError; a wrong file is refused before its data
    is read.  Give the result to ``TrainingSession.load_weights``.
    """
    path = Path(path)
    shapes = plan_tensor_shapes(plan)
    if path.suffix.lower() == TRAINED_SUFFIX and is_trained_file(path):
        with _archive(path) as archive, tempfile.TemporaryDirectory(prefix="nnpg-") as folder:
            tensors = _read_tensors(path, archive, _members(path, archive)[WEIGHTS_MEMBER], folder, shapes)
        where = f"{path}: {WEIGHTS_MEMBER}"
    else:
        tensors = load_weights(path, expected=shapes)
        where = str(path)
    _require_all(where, tensors, shapes)
    for name, value in tensors.items():
        _require_finite(where, name, value)
    return tensors


class _archive:
    """The zip at ``path``, opened after its directory's declared size is checked;
    any zip-level failure becomes a one-line ConfigError naming the file."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> zipfile.ZipFile:
        try:
            with open(self.path, "rb") as handle:
                _check_directory(self.path, handle)
            self.archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            raise ConfigError(f"{self.path}: not a readable trained project ({exc})") from None
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot be read ({exc.strerror or exc})") from None
        return self.archive

    def __exit__(self, kind, exc, traceback) -> bool:
        self.archive.close()
        if isinstance(exc, ConfigError) or exc is None:
            return False
        if isinstance(exc, (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError)):
            raise ConfigError(f"{self.path}: not a readable trained project ({exc})") from None
        if isinstance(exc, MemoryError):
            raise ConfigError(f"{self.path}: not enough memory to read it") from None
        if isinstance(exc, OSError):
            raise ConfigError(f"{self.path}: cannot be read ({exc.strerror or exc})") from None
        return False


def _check_directory(path: Path, handle) -> None:
    """Refuse an archive whose end record declares a directory larger than MAX_DIRECTORY_BYTES."""
    size = os.fstat(handle.fileno()).st_size
    span = min(size, 22 + 0xFFFF)               # the end record (22 bytes) and its longest comment
    handle.seek(size - span)
    tail = handle.read(span)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise ConfigError(f"{path}: not a readable trained project (no zip end record)")
    directory = int.from_bytes(tail[at + 12:at + 16], "little")
    locator = at - 20
    if directory == 0xFFFFFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
        handle.seek(int.from_bytes(tail[locator + 8:locator + 16], "little"))
        record = handle.read(56)
        if record[:4] == b"PK\x06\x06":
            directory = int.from_bytes(record[40:48], "little")
    if directory > MAX_DIRECTORY_BYTES:
        raise ConfigError(f"{path}: its zip directory declares {directory:,} bytes; a trained project's "
                          f"is under {MAX_DIRECTORY_BYTES:,}")


def _members(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The four members by name; extra members are ignored (later versions may add some)."""
    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.filename in found:
            raise ConfigError(f"{path}: member {brief(info.filename)} appears twice")
        found[info.filename] = info
    for name in MEMBERS:
        if name not in found:
            raise ConfigError(f"{path}: member '{name}' is missing; a trained project holds "
                              f"{', '.join(MEMBERS)}")
        if found[name].flag_bits & 0x1:
            raise ConfigError(f"{path}: member '{name}' is encrypted")
    return found


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ConfigError(f"{path}: {info.filename} is {info.file_size:,} bytes; at most {limit:,} are accepted")
    with archive.open(info) as stream:
        return stream.read(limit + 1)           # zipfile stops at the declared size and checks the CRC


def _read_json(path: Path, archive, info, limit: int) -> Any:
    where = f"{path}: {info.filename}"
    doc = parse_json(where, _read_member(path, archive, info, limit))
    try:
        check_json_values(doc)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return doc


def _read_project(path: Path, archive, info) -> Project:
    doc = _read_json(path, archive, info, MAX_PROJECT_BYTES)
    try:
        project = parse_project(doc)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {PROJECT_MEMBER}: {exc}") from None
    # The trained file stands where the project would: relative CSV paths resolve beside it.
    return dataclasses.replace(project, path=path)


def _read_tensors(path: Path, archive, info, folder: str, expected: Mapping[str, tuple]) -> dict[str, np.ndarray]:
    """A safetensors member, unpacked to ``folder`` and read by engine.io's checked reader
    against ``expected`` (names and shapes refused before any data is read)."""
    budget = available_memory() // 2
    if info.file_size > budget:
        raise ConfigError(f"{path}: {info.filename} is {info.file_size / 2**20:,.0f} MiB, more than the "
                          f"{budget / 2**20:,.0f} MiB this machine can load")
    unpacked = Path(folder) / info.filename
    with archive.open(info) as source, open(unpacked, "wb") as target:
        shutil.copyfileobj(source, target, CHUNK)
    try:
        return load_weights(unpacked, expected=expected)
    except WeightsError as exc:
        raise WeightsError(str(exc).replace(str(unpacked), f"{path}: {info.filename}")) from None
    finally:
        unpacked.unlink(missing_ok=True)


def _flat_shapes(fields: dict, n_params: int) -> dict[str, tuple[int, ...]]:
    shapes = {"grads": (n_params,)}
    if fields["undo"]:
        shapes["undo"] = (n_params,)
    shapes.update({f"optimizer.{key}": (n_params,) for key in fields["optimizer"]["buffers"]})
    if fields["history"] is not None:
        shapes["history"] = (fields["history"]["rows"], len(fields["history"]["columns"]))
    return shapes


def _require_all(where: str, tensors: Mapping[str, np.ndarray], expected: Mapping[str, tuple]) -> None:
    for name in expected:
        if name not in tensors:
            raise WeightsError(f"{where}: tensor '{name}' is missing (the file has: "
                               f"{', '.join(sorted(tensors)) or 'no tensors'})")


def _require_finite(where: str, name: str, value: np.ndarray) -> None:
    if not np.all(np.isfinite(value)):
        raise WeightsError(f"{where}: tensor '{name}' holds NaN or infinite values")


def _check_state_tensors(path: Path, members: dict[str, dict], shapes: dict[str, dict], fields: dict) -> None:
    """Every expected tensor present, in the project's dtype, finite where it must be."""
    dtype = np.dtype(fields["dtype"])
    diverged = fields["divergence"] is not None
    for member, tensors in members.items():
        where = f"{path}: {member}"
        _require_all(where, tensors, shapes[member])
        for name, value in tensors.items():
            if name == "history":
                continue
            if value.dtype != dtype:
                raise WeightsError(f"{where}: tensor '{name}' is {value.dtype}, the project trains in {dtype}")
            # After a divergence the gradients and the optimiser's memory hold the failed step's values.
            if member == WEIGHTS_MEMBER or name == "undo" or not diverged:
                _require_finite(where, name, value)


def _training_state(fields: dict, weights: dict, flat: dict) -> TrainingState:
    opt = fields["optimizer"]
    buffers = {key: flat[f"optimizer.{key}"] for key in opt["buffers"]}
    divergence = fields["divergence"]
    return TrainingState(
        step=fields["step"], epoch=fields["epoch"], weights=weights, grads=flat["grads"], undo=flat.get("undo"),
        optimizer=OptimizerState(opt["name"], opt["t"], buffers), random=fields["random"],
        cursor=fields["cursor"], batch_loss=fields["batch_loss"],
        divergence=None if divergence is None else Divergence(divergence["step"], divergence["reason"]),
        dtype=fields["dtype"], input_width=fields["input_width"], n_train=fields["n_train"])


def _history(flat: dict) -> np.ndarray | None:
    return flat["history"].astype(np.float64) if "history" in flat else None


# --- state.json ------------------------------------------------------------------------

class _Fields:
    """Reads state.json's fields one by one; every error names ``state.json`` and the field."""

    def __init__(self, doc: Any, where: str):
        if not isinstance(doc, dict):
            raise ConfigError(f"{where}: must be a JSON object")
        self.doc, self.where = doc, where

    def field(self, key: str) -> str:
        return f"{self.where}: {key}"

    def get(self, key: str) -> Any:
        if key not in self.doc:
            raise ConfigError(f"{self.field(key)}: missing")
        return self.doc[key]

    def count(self, key: str, low: int = 0) -> int:
        return number(self.field(key), self.get(key), integer=True, low=low, high=2**62)


def _state_fields(doc: Any, where: str) -> dict:
    """state.json checked field by field, as plain Python values."""
    f = _Fields(doc, where)
    _check_format(f)
    dtype = f.get("dtype")
    if dtype not in ("float32", "float64"):
        raise ConfigError(f"{f.field('dtype')}: must be float32 or float64, got {brief(dtype)}")
    batch_loss = f.get("batch_loss")
    return {
        "step": f.count("step"), "epoch": f.count("epoch"), "cursor": f.count("cursor"),
        "dtype": dtype, "input_width": f.count("input_width", 1), "n_train": f.count("n_train", 1),
        "batch_loss": None if batch_loss is None else number(f.field("batch_loss"), batch_loss),
        "divergence": _divergence(f),
        "optimizer": _optimizer(f),
        "random": {name: _stream(f, name) for name in RANDOM_STREAMS},
        "undo": flag(f.field("undo"), f.get("undo")),
        "history": _history_fields(f),
    }


def _check_format(f: _Fields) -> None:
    fmt = f.get("format")
    if fmt == STATE_FORMAT:
        return
    if isinstance(fmt, str) and fmt.startswith(_FORMAT_FAMILY):
        raise ConfigError(f"{f.field('format')}: {brief(fmt)} was written by a newer NN Playground; "
                          f"this one reads {STATE_FORMAT}")
    raise ConfigError(f"{f.field('format')}: must be \"{STATE_FORMAT}\", got {brief(fmt)}")


def _divergence(f: _Fields) -> dict | None:
    value = f.get("divergence")
    if value is None:
        return None
    where = f.field("divergence")
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be null or an object with step and reason")
    reason = value.get("reason")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ConfigError(f"{where}.reason: must be a text of at most {MAX_REASON_CHARS} characters")
    return {"step": number(f"{where}.step", value.get("step"), integer=True, low=1, high=2**62), "reason": reason}


def _optimizer(f: _Fields) -> dict:
    value, where = f.get("optimizer"), f.field("optimizer")
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be an object with name, t and buffers")
    name = value.get("name")
    if name not in OPTIMIZERS:
        raise ConfigError(f"{where}.name: unknown optimizer {brief(name)}; valid: {', '.join(OPTIMIZERS)}")
    buffers = value.get("buffers")
    known = OPTIMIZERS[name].STATE
    if not isinstance(buffers, list) or len(set(map(str, buffers))) != len(buffers) or \
            not all(isinstance(b, str) and b in known for b in buffers):
        raise ConfigError(f"{where}.buffers: must list distinct names among "
                          f"{', '.join(known) or 'none'} ({name}'s state), got {brief(buffers)}")
    return {"name": name, "t": number(f"{where}.t", value.get("t"), integer=True, low=0, high=2**62),
            "buffers": buffers}


def _stream(f: _Fields, name: str) -> dict:
    streams = f.get("random")
    if not isinstance(streams, dict):
        raise ConfigError(f"{f.field('random')}: must map {', '.join(RANDOM_STREAMS)} to generator states")
    check_random_state(f.field(f"random.{name}"), streams.get(name))
    return dict(streams[name])


def _history_fields(f: _Fields) -> dict | None:
    value = f.doc.get("history")
    if value is None:
        return None
    where = f.field("history")
    if not isinstance(value, dict) or value.get("columns") != list(HISTORY_COLUMNS):
        raise ConfigError(f"{where}: must be {{\"columns\": {json.dumps(list(HISTORY_COLUMNS))}, \"rows\": N}}")
    return {"columns": value["columns"],
            "rows": number(f"{where}.rows", value.get("rows"), integer=True, low=0, high=MAX_HISTORY_ROWS)}
