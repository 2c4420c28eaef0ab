"""export_project / export_model: a trained spiral network in every format, atomic writes."""
from __future__ import annotations

import errno
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ConfigError, WeightsError
from engine.io.weights import save_weights
from playground import export
from playground.export import EXPORT_FORMATS, FILE_SUFFIX, export_model, export_project
from playground.project import build_session, load_project

SPIRAL = Path(__file__).resolve().parents[2] / "assets" / "examples" / "spiral.json"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The spiral example after 300 steps, its weight file and its test-set predictions."""
    session = build_session(load_project(SPIRAL))
    session.step(300)
    weights = tmp_path_factory.mktemp("trained") / "spiral.safetensors"
    save_weights(weights, session.weights())
    X = session.dataset.X_test
    return session, weights, X, session.network.predict(X)


def predictions_from_tensors(tensors, X):
    """Predictions of a fresh spiral network holding ``tensors`` (read by a foreign tool)."""
    session = build_session(load_project(SPIRAL))
    session.load_weights({name: np.asarray(t) for name, t in tensors.items()})
    return session.network.predict(X)


def read_back(fmt, path: Path, X):
    """Load ``path`` with the tool a user of ``fmt`` would use and predict ``X``."""
    if fmt == "safetensors":
        from safetensors.numpy import load_file
        return predictions_from_tensors(load_file(str(path)), X)
    if fmt == "npz":
        # A classifier's file holds its class names beside the tensors: docs/export.md says to drop them.
        with np.load(path, allow_pickle=False) as archive:
            return predictions_from_tensors({name: archive[name] for name in archive.files
                                             if name != "class_names"}, X)
    if fmt == "json":
        doc = json.loads(path.read_text())
        return predictions_from_tensors({name: np.array(t["data"], dtype=t["dtype"]).reshape(t["shape"])
                                         for name, t in doc["tensors"].items()}, X)
    if fmt == "onnx":
        import onnxruntime as ort
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(["output"], {"input": X.astype(np.float32)})[0]
    spec = importlib.util.spec_from_file_location("exported_spiral", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.predict(X)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export_project_each_format_reproduces_predictions(tmp_path, trained, fmt):
    _, weights, X, expected = trained
    out = tmp_path / f"model{FILE_SUFFIX[fmt]}"
    export_project(SPIRAL, weights, fmt, out)
    got = read_back(fmt, out, X)
    assert got.shape == expected.shape
    tolerance = {"onnx": 1e-5, "numpy": 1e-12}.get(fmt, 0.0)     # weight files: bit for bit
    assert np.max(np.abs(got - expected)) <= tolerance
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_export_model_from_a_snapshot(tmp_path, trained):
    session, _, X, expected = trained
    snapshot = session.snapshot()          # read-only arrays in a mapping proxy, as the app has them
    out = tmp_path / "model.py"
    export_model(session.network.plan, snapshot.weights, session.dataset.feature_names, "numpy", out)
    assert np.max(np.abs(read_back("numpy", out, X) - expected)) <= 1e-12


def test_unknown_format_lists_the_valid_ones(tmp_path, trained):
    session, weights, _, _ = trained
    with pytest.raises(ConfigError, match="'pt' is unknown; choose one of safetensors, npz, json, onnx, numpy"):
        export_project(SPIRAL, weights, "pt", tmp_path / "model.pt")
    with pytest.raises(ConfigError, match="choose one of"):
        export_model(session.network.plan, session.weights(), ("x1", "x2"), "torch", tmp_path / "m")
    assert not list(tmp_path.iterdir())


def test_weights_for_another_network_name_file_tensor_and_shapes(tmp_path, trained):
    session, _, _, _ = trained
    wrong = dict(session.weights(), **{"h2.weight": np.zeros((8, 3))})
    save_weights(tmp_path / "wrong.npz", wrong)
    with pytest.raises(WeightsError, match=r"wrong\.npz: tensor 'h2\.weight' has shape \[8, 3\], "
                                           r"the network needs \[8, 8\]"):
        export_project(SPIRAL, tmp_path / "wrong.npz", "onnx", tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def only_file_left(folder: Path, name: str) -> None:
    assert [p.name for p in folder.iterdir()] == [name], "a temporary or partial file was left behind"


def test_failing_encoder_leaves_earlier_file_intact(tmp_path, trained, monkeypatch):
    _, weights, _, _ = trained
    out = tmp_path / "model.onnx"
    out.write_bytes(b"earlier export")

    def broken(*args, **kwargs):
        raise RuntimeError("encoder failed")

    monkeypatch.setattr(export, "network_to_onnx", broken)
    with pytest.raises(RuntimeError, match="encoder failed"):
        export_project(SPIRAL, weights, "onnx", out)
    assert out.read_bytes() == b"earlier export"
    only_file_left(tmp_path, out.name)


def test_full_disk_mid_write_leaves_earlier_file_intact(tmp_path, trained, monkeypatch):
    _, weights, _, _ = trained
    out = tmp_path / "model.py"
    out.write_text("earlier export")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)     # fails after the bytes went to the temporary file
    with pytest.raises(ConfigError, match=r"model\.py: the disk is full"):
        export_project(SPIRAL, weights, "numpy", out)
    assert out.read_text() == "earlier export"
    only_file_left(tmp_path, out.name)


def test_unwritable_folder_gives_a_clear_message(tmp_path, trained):
    session, _, _, _ = trained
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            # Running as root: permissions do not stop writes, so check the other clear message.
            target, message = tmp_path / "missing" / "model.onnx", r"the folder .*missing does not exist"
        else:
            target, message = folder / "model.onnx", "cannot write there"
        with pytest.raises(ConfigError, match=message):
            export_model(session.network.plan, session.weights(), ("x1", "x2"), "onnx", target)
        assert not target.exists() and not list(folder.iterdir())
    finally:
        folder.chmod(0o755)


def test_standardized_data_exports_take_raw_columns(tmp_path):
    """Iris trains on standardised columns; the ONNX model and the script carry the
    scaling, so another tool feeds them the raw measurements and gets the app's answer."""
    import onnxruntime

    from engine.data.shipped import SHIPPED

    project_path = Path(__file__).resolve().parents[2] / "assets" / "examples" / "iris.json"
    session = build_session(load_project(project_path))
    session.step(100)
    weights = tmp_path / "iris.safetensors"
    save_weights(weights, session.weights())
    raw, _, _, _ = SHIPPED["iris"].load()
    shift, scale = session.dataset.input_scaling
    expected = session.network.predict((raw - shift) / scale)

    export_project(project_path, weights, "onnx", tmp_path / "iris.onnx")
    onnx_out = onnxruntime.InferenceSession(str(tmp_path / "iris.onnx")).run(
        ["output"], {"input": raw.astype(np.float32)})[0]
    assert np.max(np.abs(onnx_out - expected)) <= 1e-5

    export_project(project_path, weights, "numpy", tmp_path / "iris_model.py")
    spec = importlib.util.spec_from_file_location("iris_model", tmp_path / "iris_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.testing.assert_allclose(module.predict(raw), expected, rtol=0, atol=1e-12)
