"""The status bar's fields fit their text, never overlap, and keep the whole text in a tooltip."""
from __future__ import annotations

from types import MappingProxyType

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from engine.session import Evaluation, Snapshot
from playground.frames import TrainingFrame
from tests.ui.conftest import WAIT_MS
from ui.status import TrainingStatus


def worst_frame() -> TrainingFrame:
    evaluation = Evaluation(1_234_567, 1.234e17, 5.678e16, 1.0, 1.0)
    snapshot = Snapshot(1_234_567, 98_765, 0.1, None, MappingProxyType({}), MappingProxyType({}),
                        MappingProxyType({}), evaluation, None)
    return TrainingFrame(snapshot, evaluation, 12_345.0, None)


WORST_TEXTS = {"step": "Step 1,234,567", "epoch": "Epoch 98,765",
               "loss": "Loss train 1.234e+17 / test 5.678e+16",
               "accuracy": "Accuracy train 100.0% / test 100.0%", "speed": "12,345 steps/s"}


@pytest.fixture
def status_window(qtbot):
    def make(width: int):
        window = QMainWindow()
        qtbot.addWidget(window)
        status = TrainingStatus(window.statusBar())
        window.resize(width, 768 if width > 1000 else 500)
        window.show()
        qtbot.waitExposed(window)
        status.show_frame(worst_frame())
        return window, status
    return make


def assert_fitted(window, status) -> None:
    bar = window.statusBar()
    rects = []
    for key, label in status.labels.items():
        shown = label.text()
        assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width(), (key, shown)
        assert WORST_TEXTS[key] in label.toolTip(), key
        assert label.isVisible()
        top_left = label.mapTo(bar, label.rect().topLeft())
        rects.append((top_left.x(), top_left.x() + label.width(), key))
    rects.sort()
    for (_, right, key), (left, _, next_key) in zip(rects, rects[1:]):
        assert right <= left, (key, next_key)
    assert rects[0][0] >= 0 and rects[-1][1] <= bar.width()


def test_worst_case_numbers_fit_a_1366_pixel_status_bar(qtbot, status_window):
    window, status = status_window(1366)
    qtbot.waitUntil(lambda: assert_fitted(window, status), timeout=WAIT_MS)     # once laid out
    for key, label in status.labels.items():
        assert label.text() == WORST_TEXTS[key]          # room enough: nothing elided


def test_a_narrow_window_elides_instead_of_overlapping(qtbot, status_window):
    window, status = status_window(560)
    # the fields do not force the window wider
    qtbot.waitUntil(lambda: window.width() <= 560, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: assert_fitted(window, status), timeout=WAIT_MS)
    assert any(label.text().endswith("…") for label in status.labels.values())


def test_the_fields_follow_a_font_change(qtbot, status_window):
    window, status = status_window(1366)
    qtbot.waitUntil(lambda: assert_fitted(window, status), timeout=WAIT_MS)
    loss = status.labels["loss"]
    before = loss.width()
    app = QApplication.instance()
    font = app.font()
    bigger = app.font()
    bigger.setPointSizeF(font.pointSizeF() * 1.3)
    try:
        app.setFont(bigger)
        qtbot.waitUntil(lambda: loss.width() > before * 1.2, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: assert_fitted(window, status), timeout=WAIT_MS)
        assert loss.text() == WORST_TEXTS["loss"]
    finally:
        app.setFont(font)
    qtbot.waitUntil(lambda: loss.width() == before, timeout=WAIT_MS)


def test_view_zoom_keeps_the_status_bar_and_the_weight_labels_fitted(qtbot, window):
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366, timeout=WAIT_MS)
    app = QApplication.instance()
    font = app.font()
    loss = window.status.labels["loss"]
    before = loss.width()
    try:
        for _ in range(3):          # View > Zoom In: 1.1, 1.25, 1.5 times the text size
            qtbot.keyClick(window, Qt.Key_Equal, Qt.ControlModifier)
        qtbot.waitUntil(lambda: loss.width() > before * 1.3, timeout=WAIT_MS)
        window.status.show_frame(worst_frame())
        qtbot.waitUntil(lambda: assert_fitted(window, window.status), timeout=WAIT_MS)
        plot = window.weights_plot
        axis = plot.plot.getPlotItem().getAxis("left")
        labels = [text for _, text in axis._tickLevels[0]]
        room = axis.width() - axis.style["tickTextOffset"][0]
        assert labels and all(plot.fontMetrics().horizontalAdvance(text) <= room for text in labels), (labels, room)
    finally:
        qtbot.keyClick(window, Qt.Key_0, Qt.ControlModifier)      # View > Reset Zoom
        app.setFont(font)
    qtbot.waitUntil(lambda: loss.width() == before, timeout=WAIT_MS)
