"""The default dock layout on a laptop screen (1366 x 768) and a desktop one (1920 x 1080):
nothing cut off at the side, the graph editor's canvas and the Why? tab usable, and no
large empty output dock for data without a 2-D input plane.  Real widgets, measured."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QScrollArea

from tests.ui.conftest import EXAMPLES, WAIT_MS
from ui.panels.why_panel import PLOT_MIN_HEIGHT, WhyPanel

LAPTOP, DESKTOP = QSize(1366, 768), QSize(1920, 1080)


def laid_out(qtbot, window, size: QSize):
    """The window at ``size`` with the docks in their default arrangement for it."""
    window.resize(size)
    qtbot.waitUntil(lambda: window.size() == size, timeout=WAIT_MS)
    window.reset_layout()
    last = [None]

    def settled():      # the docks' geometry is the same after another round of events
        now = [d.geometry() for d in window.docks.values()]
        same, last[0] = now == last[0], now
        return same
    qtbot.waitUntil(settled, timeout=WAIT_MS)
    return window


def shown_in_full(qtbot, window, key: str, panel) -> None:
    """The dock ``key`` (a scroll area around ``panel``) is as wide as the panel wants."""
    window.docks[key].raise_()
    qtbot.waitUntil(lambda: panel.isVisible(), timeout=WAIT_MS)
    viewport = window.docks[key].widget().viewport()
    qtbot.waitUntil(lambda: viewport.width() >= panel.sizeHint().width() and panel.width() == viewport.width(),
                    timeout=WAIT_MS)


def title_fits(label: QLabel) -> bool:
    """The whole text is on screen: on one line, or wrapped into the label's height."""
    if label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width():
        return True
    return label.wordWrap() and label.heightForWidth(label.width()) <= label.height()


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366x768", "1920x1080"])
def test_data_and_training_docks_are_not_cut_off(qtbot, window, size):
    laid_out(qtbot, window, size)
    shown_in_full(qtbot, window, "data", window.data_panel)
    shown_in_full(qtbot, window, "training", window.training_panel)
    regenerate = window.data_panel.regenerate        # the right-most control, cut off before
    right_edge = regenerate.mapTo(window.data_panel, regenerate.rect().topRight()).x()
    assert right_edge < window.docks["data"].widget().viewport().width()
    hint = window.minimumSizeHint()
    assert hint.width() <= size.width() and hint.height() <= size.height(), hint


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366x768", "1920x1080"])
def test_graph_editor_canvas_is_large_enough_to_draw_in(qtbot, window, size):
    laid_out(qtbot, window, size)
    window.views.setCurrentWidget(window.editor)
    canvas = window.editor.view
    qtbot.waitUntil(lambda: canvas.isVisible() and canvas.width() >= 600 and canvas.height() >= 400,
                    timeout=WAIT_MS)


def test_why_tab_shows_its_titles_and_plots_at_1366x768(qtbot, window):
    laid_out(qtbot, window, LAPTOP)
    panel = window.why_panel
    window.views.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.profile_plot.isVisible() and panel.heading.width() > 0, timeout=WAIT_MS)
    for label in (panel.heading, *panel.titles.values()):
        assert title_fits(label), (label.text(), label.size())
    # The three plots are on screen in full, not scrolled away below the text.
    viewport = panel.findChild(QScrollArea).viewport()
    for plot in panel.titles:
        shown = QRect(plot.mapTo(viewport, QPoint(0, 0)), plot.size())
        assert viewport.rect().contains(shown), (plot.accessibleName(), shown, viewport.rect())


def test_why_titles_wrap_in_a_narrow_panel_instead_of_being_cut(qtbot):
    panel = WhyPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 500)
    panel.show()
    qtbot.waitExposed(panel)
    long_title = "Hessian: 12 of 345 negative (out of date)"
    panel.set_title(panel.spectrum_plot, long_title)
    title = panel.titles[panel.spectrum_plot]
    qtbot.waitUntil(lambda: title.height() >= 2 * title.fontMetrics().height(), timeout=WAIT_MS)   # it wraps
    for label in (panel.heading, *panel.titles.values()):
        assert title_fits(label), (label.text(), label.size())
        assert label.toolTip() == label.text()
    # Text below the titles is given its height for the width, not squeezed into a line.
    panel.formula.setText("A chain rule long enough to need several lines in a panel this narrow: " * 3)
    qtbot.waitUntil(lambda: panel.formula.height() >= panel.formula.heightForWidth(panel.formula.width()),
                    timeout=WAIT_MS)


def one_feature_project(tmp_path) -> Path:
    """A CSV with a single input column: no plane to draw the output on, only a message."""
    (tmp_path / "one.csv").write_text("a,kind\n" + "".join(f"{i % 7},{'yes' if i % 2 else 'no'}\n"
                                                          for i in range(40)))
    document = json.loads((EXAMPLES / "spiral.json").read_text())
    document["data"] = {"source": {"csv": "one.csv", "target": "kind", "task": "classification"}}
    (tmp_path / "one.json").write_text(json.dumps(document))
    return tmp_path / "one.json"


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366x768", "1920x1080"])
def test_data_without_a_plane_brings_up_its_outcomes_instead_of_an_empty_map(qtbot, window, tmp_path, size):
    laid_out(qtbot, window, size)
    outcomes, plot = window.outcomes, window.boundary.plot
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        assert window.documents.open_project(one_feature_project(tmp_path))
    rows = len(blocker.args[0].dataset.y_test)
    # One input: the confusion matrix is up, counting every test row, where the map cannot be drawn.
    qtbot.waitUntil(lambda: outcomes.isVisible() and not outcomes.visibleRegion().isEmpty(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: sum(int(t.replace(",", "")) for t in outcomes.texts()) == rows
                    and min(outcomes.plot.width(), outcomes.plot.height()) >= 150, timeout=WAIT_MS)
    # ... and data with a plane shows its map again.
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS):
        assert window.documents.open_project(EXAMPLES / "iris.json")       # 4 inputs: a projected plane
    window.docks["output"].raise_()
    qtbot.waitUntil(lambda: plot.isVisible() and not window.boundary.visibleRegion().isEmpty()
                    and min(plot.width(), plot.height()) >= 200, timeout=WAIT_MS)


def test_first_start_fills_the_screen_it_is_given(qtbot, window):
    for size, compact in ((LAPTOP, True), (DESKTOP, False)):
        area = QRect(0, 0, size.width(), size.height())
        window.fit_to_screen(area)
        # The window and its frame fill the area (the frame is the window manager's).
        qtbot.waitUntil(lambda: area.contains(window.frameGeometry())
                        and window.width() >= size.width() - 20 and window.height() >= size.height() - 60,
                        timeout=WAIT_MS)
        assert window.dock_layout.compact == compact


def test_why_panel_never_squeezes_its_parts_over_each_other(qtbot):
    """With larger text (a zoom) and little height the tab scrolls: the plots keep their
    height and the curvature row stays below them (it was drawn over their axes)."""
    panel = WhyPanel()
    qtbot.addWidget(panel)
    font = QFont(panel.font())
    font.setPointSizeF(font.pointSizeF() * 1.25)
    panel.setFont(font)
    panel.formula.setText("Step 0, row 0, weight h1.weight[0, 0] = -0.6494 (from x1 into h1[0]) " * 4)
    panel.resize(940, 360)
    panel.show()
    qtbot.waitExposed(panel)
    content = panel.findChild(QScrollArea).widget()

    def bottom(widget):
        return widget.mapTo(content, QPoint(0, widget.height())).y()

    def top(widget):
        return widget.mapTo(content, QPoint(0, 0)).y()

    def apart():
        return (all(p.height() >= PLOT_MIN_HEIGHT and bottom(p) <= top(panel.measure) for p in panel.titles)
                and bottom(panel.formula) <= top(panel.check)
                and bottom(panel.check) <= min(top(p) for p in panel.titles)
                and panel.formula.height() >= panel.formula.heightForWidth(panel.formula.width()))
    qtbot.waitUntil(apart, timeout=WAIT_MS)


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366x768", "1920x1080"])
def test_outcomes_share_the_output_maps_place_and_nothing_else(qtbot, window, size):
    laid_out(qtbot, window, size)
    mates = set(window.tabifiedDockWidgets(window.docks["outcomes"]))
    assert mates == {window.docks["output"]}
    if size == DESKTOP:         # roomy: training sits below the map, on screen with it
        assert window.docks["training"].isVisible() and not window.docks["training"].visibleRegion().isEmpty()
        assert window.docks["training"].y() > window.docks["output"].y()
