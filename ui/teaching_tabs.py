"""The tabs that show *why* a network learns, beside the neuron view: backprop step
by step, the 2/lambda demo, the loss landscape and the runs kept side by side.

Each panel talks to the training controller through named signals; this module
makes them, adds them to the window's central tabs and connects them, so the main
window only says where they go.
"""
from __future__ import annotations

from PySide6.QtWidgets import QTabWidget

from ui.panels.backprop_panel import TITLE as BACKPROP_TITLE
from ui.panels.backprop_panel import BackpropPanel
from ui.panels.compare_player import ComparePlayer
from ui.panels.job_panels import connect_jobs
from ui.panels.landscape_panel import LandscapePanel
from ui.panels.runs_panel import RunsPanel
from ui.panels.step_size_panel import StepSizePanel


class TeachingTabs:
    def __init__(self, views: QTabWidget, after: int):
        """Insert the tabs into ``views`` after the tab at index ``after`` (the Why? tab)."""
        self.views = views
        self.backprop = BackpropPanel()
        self.step_size = StepSizePanel()
        self.landscape = LandscapePanel()
        self.runs = RunsPanel()
        for offset, (panel, title) in enumerate(((self.backprop, BACKPROP_TITLE), (self.step_size, "2/λ demo"),
                                                 (self.landscape, "Loss landscape"), (self.runs, "Runs"))):
            views.insertTab(after + 1 + offset, panel, title)
        self.compare_player = None

    @property
    def result_panels(self) -> tuple:
        """Panels whose results belong to one step's weights (marked, then cleared)."""
        return self.backprop, self.step_size, self.landscape

    @property
    def themed(self) -> tuple:
        return self.backprop, self.step_size, self.landscape

    def connect(self, controller, boundary, loss_plot, new_from_example, show_message, parent) -> None:
        c = controller
        c.session_changed.connect(self.backprop.set_session)
        c.trace_ready.connect(self.backprop.show_trace)
        c.trace_failed.connect(self.backprop.show_failure)
        self.backprop.trace_requested.connect(c.request_trace)
        if hasattr(boundary, "row_picked"):     # a click on a training point traces that row
            self.backprop.trace_requested.connect(
                lambda row, subset: boundary.mark_row(row if subset == "train" else None))
            boundary.row_picked.connect(self.trace_row)
        connect_jobs(c, self.step_size, self.landscape)
        c.session_changed.connect(self.runs.new_session)
        c.frame_ready.connect(self.runs.show_frame)
        self.runs.overlays_changed.connect(loss_plot.set_overlays)
        self.compare_player = ComparePlayer(c, new_from_example, self.runs, loss_plot, parent)
        self.runs.compare_requested.connect(self.compare_player.start)
        self.compare_player.message.connect(show_message)

    def trace_row(self, row: int) -> None:
        self.views.setCurrentWidget(self.backprop)
        self.backprop.choose_row(row)
