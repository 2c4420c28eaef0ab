"""The "Loss landscape" tab: a 2-D slice of the full-batch loss around the current weights.

The learner picks the plane (the Hessian's top two eigenvectors, two
filter-normalised random directions, or the first two principal components of the
recorded training path) and a grid size; the engine computes the slice in its own
process (engine/landscape.py) with progress and Cancel, and this panel draws it with
the current point, the training path and each race method's path projected on it,
and says what the picture is and is not: a path is rarely in the plane, so the
colour under it is the loss of its shadow, not the loss it had.
"""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget

from engine.landscape import DEFAULT_RESOLUTION, DEFAULT_SECONDS, MAX_RESOLUTION, MIN_RESOLUTION
from ui.panels.job_panel import JobPanel, rich_label
from ui.panels.teaching_text import number
from ui.panels.widgets import combo, scrolling
from ui.plots.landscape_plot import LandscapePlot
from ui.theme import SERIES

PLOT_MIN_SIZE = 240
AUTO = MIN_RESOLUTION - 1       # the grid box's lowest value stands for "let the engine choose"
LOG_WHEN_RATIO = 10.0           # losses spanning more than a decade get log colours
TRAINING = "training"
# The training path in orange, race methods in colours that show on the viridis map.
PATH_COLOURS = (SERIES[9], SERIES[1], SERIES[5], SERIES[3], SERIES[7], SERIES[6], SERIES[4], SERIES[8],
                SERIES[0], SERIES[2])
DIRECTIONS = (
    ("Hessian: its top two eigenvectors", "hessian",
     "The eigenvectors of the Hessian's two largest eigenvalues at the current weights: the directions in which "
     "the loss curves upwards most, the steepest walls of the valley. Measuring them takes Hessian-vector "
     "products first."),
    ("Random: two filter-normalised directions", "random",
     "Two random directions scaled as in Li et al. (2018): at ±1 every neuron's incoming weights move by their "
     "own size, biases stay put. In many dimensions two random directions are nearly at right angles."),
    ("Training path: its two principal components", "pca",
     "The first two principal components of the weights recorded while training: the plane the path moved in "
     "most. Needs some training since the network was built."),
)
HELP = ("<b>What you see.</b> Colours show the full-batch training loss at w + α·d₁ + β·d₂, over a square "
        "of α and β around the current weights w (the star), with contour lines of equal loss. Two directions "
        "out of many: the network's loss is a surface in as many dimensions as it has weights, and this is one "
        "flat slice through it. A path (training, or a race method) is drawn where it projects onto the slice; "
        "it is rarely in it, so the colour under a path is not the loss the path had.")
IDLE = "Pick the directions and press Compute to see the loss around the current weights."
CANCELLED = "Cancelled: nothing is shown, since half a grid is not a landscape."


def path_colour(k: int) -> str:
    return PATH_COLOURS[k % len(PATH_COLOURS)]


def ordered_paths(paths) -> list:
    """The training path first (it keeps the first colour), then the others as they came."""
    return sorted(paths, key=lambda p: p.name != TRAINING)


def log_is_useful(losses: np.ndarray) -> bool:
    values = losses[np.isfinite(losses) & (losses > 0)]
    return values.size > 0 and float(values.max()) > LOG_WHEN_RATIO * float(values.min())


def directions_html(d) -> str:
    """What the two axes are, with their numbers."""
    if d.kind == "hessian":
        l1, l2 = d.values
        bars = "" if d.residuals is None else \
            f" (within ± {number(d.residuals[0], 2)} and ± {number(d.residuals[1], 2)})"
        text = (f"Axes: the Hessian's top two eigenvectors (unit vectors), eigenvalues λ₁ = {number(l1)} and "
                f"λ₂ = {number(l2)}{bars}: the directions in which the loss curves upwards most.")
        if l1 > 0 and l2 > 0:
            # The slice's Hessian is diag(l1, l2): for the same rise, widths go as 1/sqrt(lambda).
            text += (f" Close to the star the slice is a bowl √(λ₁/λ₂) = {number((l1 / l2) ** 0.5, 3)} times "
                     f"narrower along α than along β.")
    elif d.kind == "random":
        text = ("Axes: two random directions, filter-normalised (Li et al. 2018): at α = ±1 every neuron's incoming "
                "weights move by their own length; biases do not move. Another draw gives another slice.")
    else:
        v1, v2 = d.values
        text = (f"Axes: the first two principal components of the recorded training path (unit vectors): "
                f"{v1:.0%} and {v2:.0%} of its variance.")
    return text + (f" {html.escape(d.note)}" if d.note else "")


def path_html(path, colour: str, d1: np.ndarray, d2: np.ndarray) -> str:
    """How far a projected path is from the plane, next to how far it goes."""
    in_plane = path.coords @ np.stack([d1, d2])
    reach = np.sqrt(np.sum(in_plane ** 2, axis=1) + path.off_plane ** 2)
    name = "the training path" if path.name == TRAINING else f"{html.escape(path.name)}'s path"
    points = len(path.coords)
    head = f'<span style="color:{colour}; font-weight:bold">——</span> {name} ({points:,} points'
    if points == 0:
        return head + "): nothing recorded."
    off, far = float(np.max(path.off_plane)), float(np.max(reach))
    if far == 0.0:
        return head + "): it never left the current weights."
    return (head + f"): at most {number(far, 3)} from the current weights and up to {number(off, 3)} off the "
                   f"plane ({off / far:.0%} of that), so the colours under it are those of its shadow.")


def summary_html(landscape) -> str:
    losses, r = landscape.losses, landscape.losses.shape[0]
    finite = np.isfinite(losses)
    lines = [f"The full-batch training loss on a {r}×{r} grid around the current weights (★, loss "
             f"{number(landscape.center_loss)}): {landscape.evaluations:,} evaluations in "
             f"{landscape.seconds:.2f} s."]
    if finite.any():
        low = np.unravel_index(np.argmin(np.where(finite, losses, np.inf)), losses.shape)
        lines.append(f"On the grid the loss runs from {number(float(losses[low]))} (at α = "
                     f"{number(float(landscape.alphas[low[1]]), 3)}, β = {number(float(landscape.betas[low[0]]), 3)})"
                     f" to {number(float(np.max(losses[finite])))}."
                     + ("" if finite.all() else f" {int(np.sum(~finite)):,} points overflowed: shown blank."))
    lines.append(directions_html(landscape.directions))
    d = landscape.directions
    lines += [path_html(p, path_colour(k), d.d1, d.d2) for k, p in enumerate(ordered_paths(landscape.paths))]
    return "<br>".join(lines)


class LandscapePanel(JobPanel):
    landscape_requested = Signal(str, object)       # direction kind, grid points per side (None: auto)
    cancel_requested = Signal()
    TITLE, FAILED, CANCELLED, IDLE = "The landscape", "could not be computed", CANCELLED, IDLE
    STALE_HINT = ("The star marks where the weights were then, not where they are now; compute again to centre "
                  "the slice on them.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._landscape = None
        self.kind = combo("Landscape directions", "Which plane through the current weights to slice the loss on.",
                          DIRECTIONS)
        self.grid = QSpinBox()
        self.grid.setRange(AUTO, MAX_RESOLUTION)
        self.grid.setSpecialValueText(f"auto (≤ {DEFAULT_RESOLUTION})")
        self.grid.setValue(AUTO)
        self.grid.setAccessibleName("Landscape grid points per side")
        self.grid.setToolTip(f"Grid points along each side. Auto: the finest grid up to {DEFAULT_RESOLUTION} "
                             f"that takes about {DEFAULT_SECONDS:g} s for this network and data (timed first). "
                             f"The time grows with the square of the number.")
        self.compute = QPushButton("Compute")
        self.compute.setAccessibleName("Compute the loss landscape")
        self.compute.setToolTip("Compute the loss on the grid from a copy of the current weights. Your network is "
                                "not changed.")
        self._build_job_controls(self.compute, "loss landscape", "Stop now; half a grid is not shown.",
                                 "How much of the grid is done (after measuring the directions).")
        self.log_colours = QCheckBox("log colours")
        self.log_colours.setAccessibleName("Log colour scale for the landscape")
        self.log_colours.setToolTip("Colour by the loss's logarithm, so a slice spanning decades still shows its "
                                    "valley. Switched on by itself when the grid's losses span more than a "
                                    "factor of 10.")
        self.log_colours.toggled.connect(self._draw)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("directions"))
        controls.addWidget(self.kind, 1)
        controls.addWidget(QLabel("grid"))
        controls.addWidget(self.grid)
        controls.addWidget(self.compute)
        controls.addWidget(self.log_colours)

        self.plot = LandscapePlot()
        self.plot.setAccessibleName("Loss landscape plot")
        self.plot.setToolTip("The loss over the plane (colours and contour lines), the current weights (star) "
                             "and paths projected onto the plane (a dot where each starts).")
        self.plot.setMinimumSize(PLOT_MIN_SIZE, PLOT_MIN_SIZE)
        self.summary = rich_label("Loss landscape results", IDLE)
        self.help = rich_label("About the loss landscape", HELP)
        # The slice on the left, what it shows scrolling beside it.
        words = QWidget()
        text = QVBoxLayout(words)
        text.addWidget(self.summary)
        text.addWidget(self.help)
        text.addStretch(1)
        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self.plot)
        split.addWidget(scrolling(words))
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.stale)
        layout.addWidget(split, 1)

    def resolution(self) -> int | None:
        value = self.grid.value()
        return None if value == AUTO else value

    # -- the window's connections -------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        self.plot.set_theme(theme)

    def show_result(self, landscape, step: int | None = None) -> None:
        """A LossLandscape; ``step``: the step of the weights at its centre (default: the
        step the weights were at when it was asked for)."""
        self._result_arrived(step)
        self._landscape = landscape
        self.log_colours.blockSignals(True)
        self.log_colours.setChecked(log_is_useful(landscape.losses))
        self.log_colours.blockSignals(False)
        self.summary.setText(summary_html(landscape))
        self._draw()

    # -- inside --------------------------------------------------------------------------------
    def _request(self) -> None:
        self._begin("Computing the loss over the grid…")
        self.landscape_requested.emit(self.kind.currentData(), self.resolution())

    def _forget_result(self) -> None:
        self._landscape = None

    def _draw(self) -> None:
        landscape = self._landscape
        if landscape is None:
            self.plot.clear_slice()
            return
        self.plot.show_slice(landscape.alphas, landscape.betas, landscape.losses, landscape.directions.labels,
                             self.log_colours.isChecked())
        self.plot.show_paths([(p.name, p.coords, path_colour(k))
                              for k, p in enumerate(ordered_paths(landscape.paths))])
