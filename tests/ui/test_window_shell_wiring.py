"""The window shell's wiring of other parts: the network diagram's own export behind
File > Export plot, and a running race shown (and cancellable) from anywhere."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import WAIT_MS, wait_frame
from tests.ui.test_race_cancel_panel import start_race

SVG_LIMIT = 1_000_000       # the screenshot-based export was 6.5 MB with 251 embedded images


class Answer:
    def __init__(self, path):
        self.path = path

    def save_path(self, *args):
        return str(self.path)


def test_network_diagram_exports_as_svg_and_png_from_the_file_menu(qtbot, window, tmp_path):
    wait_frame(qtbot, window, lambda f: True)
    for kind in ("svg", "png"):
        out = tmp_path / f"network.{kind}"
        window.documents.chooser = Answer(out)
        window.file_actions[f"plot_network_{kind}"].trigger()
        assert out.is_file() and 0 < out.stat().st_size < SVG_LIMIT
    svg = (tmp_path / "network.svg").read_text()
    assert "<svg" in svg and svg.count("<image") < 100
    assert (tmp_path / "network.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_running_race_shows_in_the_status_bar_and_cancels_from_there(qtbot, window):
    badge = window.race_badge
    assert not badge.isVisible()
    window.views.setCurrentWidget(window.race_panel)
    start_race(qtbot, window.race_panel)
    qtbot.waitUntil(lambda: badge.isVisible() and "(1 of 3" in badge.status.text(), timeout=WAIT_MS)
    window.views.setCurrentWidget(window.network_view)          # the user goes elsewhere
    assert badge.isVisible()
    qtbot.mouseClick(badge.status, Qt.LeftButton)               # ... and comes back from the status bar
    assert window.views.currentWidget() is window.race_panel
    with qtbot.waitSignal(window.controller.raced, timeout=WAIT_MS):
        qtbot.mouseClick(badge.cancel, Qt.LeftButton)
    qtbot.waitUntil(lambda: not badge.isVisible() and window.race_panel.start.isEnabled(), timeout=WAIT_MS)
