"""The connections between the controller's background jobs and the panels that show them.

The 2/λ demo and the loss landscape run in the engine's process
(``TrainingController.request_step_size_demo`` / ``request_landscape``); the
controller reports every job by kind ("step_size_demo", "landscape").  Each panel
asks with its own signal and shows its own kind's busy state, progress, result and
failure; the main window and the tests connect them the same way, here.
"""
from __future__ import annotations


def connect_jobs(controller, step_size_panel, landscape_panel) -> None:
    c = controller
    panels = {"step_size_demo": step_size_panel, "landscape": landscape_panel}
    step_size_panel.demo_requested.connect(c.request_step_size_demo)
    landscape_panel.landscape_requested.connect(c.request_landscape)
    for panel in panels.values():
        panel.cancel_requested.connect(c.cancel_job)
    c.job_busy.connect(lambda kind, busy: panels[kind].set_busy(busy) if kind in panels else None)
    c.job_progress.connect(lambda kind, fraction, text:
                           panels[kind].show_progress(fraction, text) if kind in panels else None)
    c.job_failed.connect(lambda kind, message: panels[kind].show_failure(message) if kind in panels else None)
    # The step each result started from: the panels mark it out of date once training moves on.
    c.step_size_demo_ready.connect(lambda demo: step_size_panel.show_result(demo, c.result_step("step_size_demo")))
    c.landscape_ready.connect(lambda landscape: landscape_panel.show_result(landscape, c.result_step("landscape")))
