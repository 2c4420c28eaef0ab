"""View > Zoom In / Out / Reset (Ctrl++, Ctrl+-, Ctrl+0): every text grows for a
projector, the plots' axes too, and the size is remembered by the next window."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontInfo
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import WAIT_MS
from ui.text_zoom import base_font


@pytest.fixture(autouse=True)
def system_font_afterwards():
    """The application font is global: later tests get the system's back whatever happens."""
    yield
    QApplication.setFont(base_font())


def label_points(window) -> float:
    return QFontInfo(window.data_panel.loaded.font()).pointSizeF()


def tick_points(window) -> float:
    axis = window.loss_plot.plot.getPlotItem().getAxis("left")
    return QFontInfo(axis.style["tickFont"] or QFont()).pointSizeF()


def dock_title_points(window) -> float:
    return QFontInfo(window.docks["loss"].font()).pointSizeF()


def press(qtbot, window, key, modifiers=Qt.ControlModifier):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
    qtbot.keyClick(window, key, modifiers)


def test_ctrl_plus_enlarges_labels_and_plot_axes_and_ctrl_0_restores(qtbot, window):
    label, ticks, title = label_points(window), tick_points(window), dock_title_points(window)
    axis = window.loss_plot.plot.getPlotItem().getAxis("left")
    axis_width = axis.width()
    press(qtbot, window, Qt.Key_Plus)
    press(qtbot, window, Qt.Key_Plus)
    qtbot.waitUntil(lambda: label_points(window) > label * 1.15, timeout=WAIT_MS)
    assert tick_points(window) > ticks * 1.15
    assert QFontInfo(axis.label.font()).pointSizeF() > ticks * 1.15      # the axis title too
    assert dock_title_points(window) > title * 1.15
    qtbot.waitUntil(lambda: axis.width() > axis_width, timeout=WAIT_MS)  # room made for the bigger numbers
    area = window.docks["data"].widget()         # the larger panel still fits its dock: not cut, no scrolling
    qtbot.waitUntil(lambda: area.viewport().width() >= window.data_panel.sizeHint().width(), timeout=WAIT_MS)
    press(qtbot, window, Qt.Key_Minus)
    qtbot.waitUntil(lambda: label * 1.02 < label_points(window) < label * 1.2, timeout=WAIT_MS)
    press(qtbot, window, Qt.Key_0)
    qtbot.waitUntil(lambda: label_points(window) == pytest.approx(label), timeout=WAIT_MS)
    assert tick_points(window) == pytest.approx(ticks) and axis.style["tickFont"] is None


def test_zoom_is_in_the_view_menu_with_its_shortcuts(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    texts = {a.text(): a for a in menu.actions()}
    assert {"Zoom In", "Zoom Out", "Reset Zoom"} <= set(texts)
    assert texts["Reset Zoom"].shortcut().toString() == "Ctrl+0"
    assert "Ctrl++" in [s.toString() for s in texts["Zoom In"].shortcuts()]


def test_the_zoom_is_remembered_by_the_next_window(qtbot, make_window):
    first = make_window()
    normal = label_points(first)
    press(qtbot, first, Qt.Key_Plus)
    qtbot.waitUntil(lambda: label_points(first) > normal, timeout=WAIT_MS)
    first.close()
    QApplication.setFont(base_font())       # as a new run of the app starts
    second = make_window()
    assert label_points(second) > normal and tick_points(second) > normal
    press(qtbot, second, Qt.Key_0)
    qtbot.waitUntil(lambda: label_points(second) == pytest.approx(normal), timeout=WAIT_MS)


def test_ctrl_0_belongs_to_reset_zoom_alone(qtbot, make_window):
    """The editor's Fit once shared Ctrl+0: Qt then calls the key ambiguous and runs neither."""
    from PySide6.QtGui import QAction, QKeySequence
    window = make_window()
    window.views.setCurrentWidget(window.editor)
    owners = [a.text() for a in window.findChildren(QAction)
              if any(s.matches(QKeySequence("Ctrl+0")) == QKeySequence.ExactMatch for s in a.shortcuts())]
    assert owners == ["Reset Zoom"]
