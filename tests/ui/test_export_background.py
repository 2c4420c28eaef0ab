"""Exports from the File menu run on a worker thread behind a progress dialog with Cancel."""
from __future__ import annotations

import importlib.util
import threading

import numpy as np
from PySide6.QtCore import Qt

import playground.export
from tests.ui.conftest import WAIT_MS, wait_frame
from ui import documents


class _FixedPath:
    def __init__(self, path):
        self.path = str(path)

    def open_path(self, *args):
        return self.path

    def save_path(self, *args):
        return self.path


def test_menu_export_runs_off_the_gui_thread_with_progress(qtbot, window, tmp_path, monkeypatch):
    qtbot.mouseClick(window.toolbar.widgetForAction(window.toolbar.step_action), Qt.LeftButton)
    frame = wait_frame(qtbot, window, lambda f: f.snapshot.step == 1)
    threads, progress = [], []
    real_export = documents.export_model

    def recording_export(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_export(*args, **kwargs)

    monkeypatch.setattr(documents, "export_model", recording_export)
    window.documents.export_started.connect(lambda job: job.progressed.connect(progress.append))
    out = tmp_path / "model.py"
    window.documents.chooser = _FixedPath(out)
    with qtbot.waitSignal(window.documents.export_finished, timeout=WAIT_MS) as finished:
        window.file_actions["export_numpy"].trigger()
    assert finished.args == ["done", str(out)]
    assert threads and threads[0] is not threading.main_thread()
    assert progress and progress[-1] == documents.PROGRESS_STEPS and progress == sorted(progress)

    spec = importlib.util.spec_from_file_location("background_export", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, tensor in frame.snapshot.weights.items():
        np.testing.assert_array_equal(module.WEIGHTS[name], tensor)
    assert f"step {frame.snapshot.step}" in window.statusBar().currentMessage()


def test_cancel_mid_write_leaves_no_file_behind(qtbot, window, tmp_path, monkeypatch):
    """Cancel while the temporary file is half written: nothing is left, an earlier file stays."""
    writing, release = threading.Event(), threading.Event()
    real_write = playground.export.write_weights

    def gated_write(handle, tensors, fmt, progress=None, **options):
        handle.write(b"partial")
        handle.flush()
        writing.set()
        release.wait(WAIT_MS / 1000)     # the GUI thread clicks Cancel meanwhile
        real_write(handle, tensors, fmt, progress, **options)

    monkeypatch.setattr(playground.export, "write_weights", gated_write)
    folder = tmp_path / "exports"            # tmp_path also holds the window's settings
    folder.mkdir()
    out = folder / "weights.safetensors"
    out.write_bytes(b"earlier export")
    job = window.documents.start_export("safetensors", out)
    try:
        qtbot.waitUntil(writing.is_set, timeout=WAIT_MS)
        assert [p for p in folder.iterdir() if p != out], "the temporary file is being written"
        qtbot.waitUntil(job.dialog.isVisible, timeout=WAIT_MS)
        assert job.dialog.accessibleName() and job.cancel_button.accessibleName() and job.cancel_button.toolTip()
        with qtbot.waitSignal(window.documents.export_finished, timeout=WAIT_MS) as finished:
            qtbot.mouseClick(job.cancel_button, Qt.LeftButton)
            release.set()
    finally:
        release.set()
    assert finished.args == ["cancelled", str(out)]
    assert [p.name for p in folder.iterdir()] == [out.name]
    assert out.read_bytes() == b"earlier export"
    assert "cancelled" in window.statusBar().currentMessage()


def test_failed_export_reports_and_leaves_nothing(qtbot, window, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "weights.onnx"            # the wrong suffix for npz: refused on the worker thread
    with qtbot.waitSignal(window.documents.export_finished, timeout=WAIT_MS) as finished:
        assert window.documents.export_weights("npz", out) is not None
    assert finished.args == ["failed", str(out)]
    assert list(folder.iterdir()) == []
