"""File > Export to PyTorch from a real window (off the GUI thread, like the other exports),
and the class names and input scaling every app export of a classifier carries."""
from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from engine.io.weights import load_class_names, load_input_scaling, load_weights
from playground.project import build_session
from tests.ui.conftest import WAIT_MS, wait_frame
from ui import documents
from ui.documents import PYTORCH_FILTER


class _FixedPath:
    def __init__(self, path):
        self.path, self.offered = str(path), []

    def open_path(self, *args):
        return self.path

    def save_path(self, title, filters, suggested=""):
        self.offered.append((filters, suggested))
        return self.path


def trained(qtbot, window, steps=20):
    window.controller.step(steps)
    return wait_frame(qtbot, window, lambda f: f.snapshot.step == steps)


def export_pytorch(qtbot, window, path):
    window.documents.chooser = chooser = _FixedPath(path)
    with qtbot.waitSignal(window.documents.export_finished, timeout=WAIT_MS) as finished:
        window.file_actions["export_pytorch"].trigger()
    assert finished.args == ["done", str(path)]
    return chooser


def test_pytorch_export_writes_the_script_its_data_and_weights(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window("iris.json")
    frame = trained(qtbot, window)
    threads = []
    real_export = documents.export_pytorch

    def recording_export(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_export(*args, **kwargs)

    monkeypatch.setattr(documents, "export_pytorch", recording_export)
    out = tmp_path / "net.py"
    chooser = export_pytorch(qtbot, window, out)
    assert chooser.offered[0][0] == PYTORCH_FILTER and chooser.offered[0][1].endswith("net.py")
    assert threads and threads[0] is not threading.main_thread()
    data, weights = tmp_path / "net_data.csv", tmp_path / "net_weights.safetensors"
    assert out.is_file() and data.is_file() and weights.is_file()
    script = out.read_text(encoding="utf-8")
    for node in window.controller.session_info.plan.dense_steps:
        assert repr(f"{node.node.id}.weight") in script
    for name, tensor in load_weights(weights).items():
        assert np.array_equal(tensor, frame.snapshot.weights[name]), name
    assert load_class_names(weights) == list(window.controller.session_info.dataset.classes)
    assert "net.py" in window.statusBar().currentMessage()


def test_the_exported_script_predicts_as_the_engine(qtbot, make_window, tmp_path):
    pytest.importorskip("torch")
    window = make_window("iris.json")
    frame = trained(qtbot, window)
    out = tmp_path / "net.py"
    export_pytorch(qtbot, window, out)
    done = subprocess.run([sys.executable, str(out), "predict", "net_data.csv"], capture_output=True,
                          timeout=300, cwd=tmp_path, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    printed = list(csv.reader(done.stdout.decode("utf-8").splitlines()))
    classes = list(window.controller.session_info.dataset.classes)
    assert printed[0] == [f"output_{i}" for i in range(len(classes))] + ["class"]
    # The engine's own prediction, from the raw columns of the same CSV and the weights shown.
    session = build_session(window.keeper.project)
    session.load_weights(frame.snapshot.weights)
    with open(tmp_path / "net_data.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    features = session.dataset.feature_names
    raw = np.array([[float(row[rows[0].index(f)]) for f in features] for row in rows[1:]])
    expected = session.network.predict((raw - session.dataset.input_shift) / session.dataset.input_scale)
    got = np.array([[float(v) for v in row[:-1]] for row in printed[1:]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    assert [row[-1] for row in printed[1:]] == [classes[k] for k in expected.argmax(axis=1)]


def test_app_weight_exports_carry_class_names_and_input_scaling(qtbot, make_window, tmp_path):
    window = make_window("iris.json")
    trained(qtbot, window, 5)
    dataset = window.controller.session_info.dataset
    for fmt, suffix in (("safetensors", ".safetensors"), ("npz", ".npz"), ("json", ".json")):
        out = tmp_path / f"iris{suffix}"
        window.documents.chooser = _FixedPath(out)
        with qtbot.waitSignal(window.documents.export_finished, timeout=WAIT_MS) as finished:
            window.file_actions[f"export_{fmt}"].trigger()
        assert finished.args == ["done", str(out)]
        assert load_class_names(out) == list(dataset.classes) == ["setosa", "versicolor", "virginica"], fmt
        shift, scale = load_input_scaling(out)
        np.testing.assert_array_equal(shift, dataset.input_shift)
        np.testing.assert_array_equal(scale, dataset.input_scale)


def test_the_pytorch_export_can_be_cancelled(qtbot, window, tmp_path, monkeypatch):
    """Cancel before the files are written: none of the three is left behind."""
    started, release = threading.Event(), threading.Event()
    real_export = documents.export_pytorch

    def gated(project, weights, path, progress=None, **options):
        def held(fraction):
            if fraction >= 1.0:
                started.set()
                release.wait(WAIT_MS / 1000)
            progress(fraction)
        return real_export(project, weights, path, progress=held, **options)

    monkeypatch.setattr(documents, "export_pytorch", gated)
    folder = tmp_path / "export"
    folder.mkdir()
    out = folder / "net.py"
    window.documents.chooser = _FixedPath(out)
    with qtbot.waitSignal(window.documents.export_finished, timeout=WAIT_MS) as finished:
        job = window.documents.export_pytorch_dialog()
        qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
        job.cancel_button.click()        # what the progress dialog's Cancel does
        release.set()
    assert finished.args == ["cancelled", str(out)]
    assert sorted(folder.iterdir()) == []
