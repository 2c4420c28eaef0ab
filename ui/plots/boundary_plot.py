"""The network's output over a plane, with the data points on top.

For a one-unit classifier the image is the probability of class 1 (orange 0,
blue 1, the boundary where they meet); for several classes the winning class;
for regression the predicted value.  Levels are fixed per session so colours keep
their meaning while training runs.

The plane is the input plane of a generated 2-D set, or, for data with more inputs,
the plane the frames' grid was evaluated on (playground.frames: a projection), whose
extent, axis names and projected points come with the grid.

Clicks: a plain click on a training point picks that row (``row_picked``, for the
backward-pass view).  With "Edit points" ticked, on a generated 2-D set, a left
click adds a point of the chosen class (or value), a right click one of the other
class (or the opposite value), and Shift+click removes the nearest point; each edit
is asked for as the project's new ``data`` section (``data_edit_requested``).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel

from playground.frames import GRID_EXTENT
from playground.point_edits import nearest_point, with_point_added, with_point_removed
from ui.plots.base import PlotPanel, option_checkbox
from ui.plots.plane_choice import PlaneChoice
from ui.theme import class_color, diverging_colormap, plot_colors, surface_colormap

REGRESSION_BANDS = 8     # "discretise" shows a regression surface as this many bands per sign
POINT_SIZE, ADDED_SIZE = 7, 11    # pixels; pyqtgraph's diamond looks smaller than its circle
PICK_PIXELS = 12         # a click this close to a point (in screen pixels) is a click on it
REMOVE_PIXELS = 24       # Shift+click removes the nearest point within this distance
SURFACE_KEEP = 0.45      # share of a class colour left in the washed surface (as surface_colormap)
INPUT_PLANE, PROJECTED = "input plane", "projected"

EDIT_TIP = ("Edit the data set with the mouse: a left click on the map adds a training point of the "
            "chosen class, a right click one of the other class, and Shift+click removes the nearest "
            "point. The project saves the points. Only for the generated 2-D data sets.")
PICK_TIP = ("The network's output over the plane, with the data points. Click a training point to "
            "follow it through the backward pass.")


def class_surface_colormap(n_classes: int, theme: str) -> pg.ColorMap:
    """The class colours washed towards the background, one stop per class index: the
    winning-class image of a multi-class network in its points' colours."""
    background = QColor(plot_colors(theme)[0])

    def wash(color: str) -> QColor:
        c = QColor(color)
        return QColor.fromRgbF(*(SURFACE_KEEP * v + (1 - SURFACE_KEEP) * b for v, b in
                                 zip((c.redF(), c.greenF(), c.blueF()),
                                     (background.redF(), background.greenF(), background.blueF()))))
    stops = np.linspace(0.0, 1.0, n_classes)
    return pg.ColorMap(stops, [wash(class_color(k, n_classes)) for k in range(n_classes)])


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def plane_note(axes: tuple[str, str]) -> tuple[str, str]:
    """(the line under a projected plane, its tooltip): what the plane is a slice of."""
    if axes[0].startswith("PC"):
        short = "PCA plane: other directions held at the data's mean"
        long = ("The plane of the data's first two principal components; every other direction of the "
                "input is held at the training data's mean")
    else:
        short = "A slice: the other inputs held at their mean"
        long = "Two inputs as the axes; every other input is held at its mean over the training data"
    why = ("Points are projections onto this plane, so a point may sit in a region of another class: "
           "the network sees the point itself, off the plane.")
    return f"{short}. Points are projections: one may sit in another class's region.", f"{long}. {why}"


class BoundaryPlot(PlotPanel):
    data_edit_requested = Signal(dict)      # the project's data section with a point added or removed
    row_picked = Signal(int)                # a training row clicked (index into the training set)

    def __init__(self, parent=None):
        super().__init__("Output", parent)
        self.plot.setToolTip(PICK_TIP)
        self.show_test = option_checkbox("Show test data", "Draw the held-out test points (black outline) "
                                                           "beside the training points (white outline).")
        self.discrete = option_checkbox("Discretize output", "Show only the predicted class (or value bands) "
                                                             "instead of the smooth output.")
        self.edit_points = option_checkbox("Edit points", EDIT_TIP)
        self.add_class = QComboBox()
        self.add_class.setAccessibleName("Class to add")
        self.add_class.setToolTip("The class a left click adds; a right click adds the other class.")
        self.add_value = QDoubleSpinBox()
        self.add_value.setRange(-1000.0, 1000.0)
        self.add_value.setDecimals(2)
        self.add_value.setSingleStep(0.1)
        self.add_value.setValue(1.0)        # the height of the regression sets' peaks
        self.add_value.setAccessibleName("Value to add")
        self.add_value.setToolTip("The target value a left click adds; a right click adds its negative.")
        self.plane = PlaneChoice(self)
        self.plane_requested = self.plane.requested      # None (principal plane) or a pair of inputs
        for widget in (self.plane.box, self.show_test, self.discrete, self.edit_points, self.add_class,
                       self.add_value):
            self.options.addWidget(widget)
        item = self.plot.getPlotItem()
        item.setAspectLocked(True)
        item.setLabel("bottom", "x1")
        item.setLabel("left", "x2")
        item.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(surface_colormap())
        self.image.setZValue(-10)
        self.train_points = pg.ScatterPlotItem(size=POINT_SIZE, pen=pg.mkPen("#ffffff", width=1))
        self.test_points = pg.ScatterPlotItem(size=POINT_SIZE, pen=pg.mkPen("#000000", width=1))
        self.picked = pg.ScatterPlotItem(size=17, symbol="o", brush=None)     # ring: the row picked
        self.picked.setZValue(10)
        for thing in (self.image, self.train_points, self.test_points, self.picked):
            item.addItem(thing)
        self.note = QLabel()              # under the plot: what a projected plane is, how to edit points
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Output map note")
        self.note.hide()
        self.layout().addWidget(self.note)
        self.message = QLabel()           # shown instead of the plot when there is no plane at all
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignCenter)
        self.message.hide()
        self.layout().addWidget(self.message, 1)
        self.show_test.toggled.connect(self._show_test)
        self.discrete.toggled.connect(lambda _: self._draw_output())
        self.edit_points.toggled.connect(self._editing_changed)
        self.add_class.currentIndexChanged.connect(lambda _: self._update_note())
        self.add_value.valueChanged.connect(lambda _: self._update_note())
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self._theme = "light"
        self._levels = (0.0, 1.0)
        self._task, self._n_classes = "classification", 2
        self._mode: str | None = None
        self._dataset = None
        self._data_section: dict | None = None     # what the next edit starts from
        self._requested: dict | None = None        # the last edit asked for, until it is in effect
        self._output = None
        self._extent = GRID_EXTENT
        self._grid = None                 # the newest grid, drawn on the next tick
        self._shown_plane = None          # (extent, axes) of the plane now on screen
        self._buffer = np.zeros((1, 1))
        self._brush_train, self._brush_test = [], []
        self._editing_changed(False)
        self._show_test(False)
        self.set_theme("light")

    # -- what the plot shows ---------------------------------------------------------------
    @property
    def has_plane(self) -> bool:
        """A plane is drawn (the input plane or a projection); False: only a message."""
        return self._mode is not None

    @property
    def picked_row(self) -> int | None:
        return self._picked_row

    _picked_row: int | None = None

    def set_theme(self, theme: str) -> None:
        super().set_theme(theme)
        self._theme = theme
        self._set_colormap()                # the surface fades into the background
        # The ring around a picked point in the text colour: no class colour is mistaken for it.
        self.picked.setPen(pg.mkPen(plot_colors(theme)[1], width=2.5))

    def _set_colormap(self) -> None:
        if self._task == "classification" and self._levels != (0.0, 1.0):
            self.image.setColorMap(class_surface_colormap(self._n_classes, self._theme))
        else:
            self.image.setColorMap(surface_colormap(self._theme))

    def _show_test(self, on: bool) -> None:
        self.test_points.setVisible(on and self.has_plane)

    def set_session(self, info) -> None:
        data = info.dataset
        self._dataset = data
        self._adopt(info.project.data)
        if data.points_train is None and tuple(data.feature_names) != self.plane._names:
            self.plane.set_inputs(data.feature_names)       # a new data set starts on its principal plane
        elif data.points_train is not None:
            self.plane.set_inputs(())
        self._task, self._n_classes = data.task, data.n_classes
        if data.points_train is not None:
            self._mode = INPUT_PLANE
        else:
            self._mode = PROJECTED if data.n_features >= 2 else None
        self.plot.setVisible(self.has_plane)
        self.message.setVisible(not self.has_plane)
        for box in (self.show_test, self.discrete):
            box.setEnabled(self.has_plane)
        self._output, self._grid, self._shown_plane = None, None, None
        self.mark_row(None)
        self.image.clear()
        self._set_edit_controls()
        if not self.has_plane:
            self.message.setText("This data set has a single input feature, so there is no "
                                 "plane to draw the output on.\n\nThe Outcomes tab beside this one "
                                 "shows what the network gets right and wrong.")
            self._show_test(False)
            return
        if data.task == "regression":
            peak = float(np.max(np.abs(data.y_train))) if data.y_train.size else 1.0
            self._levels = (-max(peak, 1e-9), max(peak, 1e-9))
        elif data.n_classes > 2 or info.plan.output_width > 1:
            self._levels = (0.0, float(max(1, data.n_classes - 1)))
        else:
            self._levels = (0.0, 1.0)
        self._set_colormap()
        self._brush_train, self._brush_test = self._brushes(data.y_train), self._brushes(data.y_test)
        if self._mode == INPUT_PLANE:
            # Points added by hand are (larger) diamonds: the learner sees which points are theirs.
            added = data.generated_train < 0 if data.generated_train is not None else np.zeros(len(data.y_train), bool)
            self.train_points.setData(pos=data.points_train, brush=self._brush_train,
                                      symbol=np.where(added, "d", "o"), size=np.where(added, ADDED_SIZE, POINT_SIZE))
            self.test_points.setData(pos=data.points_test, brush=self._brush_test)
            self._show_plane(GRID_EXTENT, ("x1", "x2"))
        else:                               # the points and the plane come with the first grid
            self.train_points.clear()
            self.test_points.clear()
        self._update_note()
        self._show_test(self.show_test.isChecked())

    def show_project(self, project) -> None:
        """The project the window shows (after an edit, an edit refused, a load): the next edit
        starts from its data.  The window must call this on every change of the project."""
        if project is None:
            return
        if project.data != self._requested:
            self._requested = None          # refused, or another project: nothing is on its way
        self._data_section = dict(project.data)

    def _adopt(self, data: dict) -> None:
        """A session's data: the next edit starts from it, unless it is older than an edit still
        on its way (clicks come faster than sessions are built; each builds on the one before)."""
        requested = self._requested
        if requested is not None and data != requested and data.get("source") == requested.get("source"):
            return
        self._data_section, self._requested = dict(data), None

    def _brushes(self, y: np.ndarray) -> list:
        if self._task == "regression":
            lo, hi = self._levels
            colors = diverging_colormap().map((y[:, 0] - lo) / (hi - lo), mode="qcolor")
            return [pg.mkBrush(c) for c in colors]
        palette = [pg.mkBrush(class_color(k, self._n_classes)) for k in range(max(2, self._n_classes))]
        return [palette[int(k)] for k in y]

    def _show_plane(self, extent, axes) -> None:
        """Range and axis names for a plane; done once per plane, so a zoom the user made stays."""
        if self._shown_plane == (tuple(extent), tuple(axes)):
            return
        self._shown_plane = (tuple(extent), tuple(axes))
        item = self.plot.getPlotItem()
        item.setLabel("bottom", axes[0])
        item.setLabel("left", axes[1])
        x0, x1, y0, y1 = extent
        item.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)

    def show_frame(self, frame) -> None:
        grid = frame.grid
        if grid is None or not self.has_plane:
            return
        self._grid, self._output, self._extent = grid, grid.output, grid.extent
        if self._buffer.shape != grid.output.shape:
            self._buffer = np.zeros(grid.output.shape)
        self.dirty = True

    def redraw(self) -> None:
        grid = self._grid
        if self._mode == PROJECTED and grid is not None and grid.points_train is not None:
            if self._shown_plane != (tuple(grid.extent), tuple(grid.axes)):
                self.train_points.setData(pos=grid.points_train, brush=self._brush_train)
                self.test_points.setData(pos=grid.points_test, brush=self._brush_test)
                self._show_plane(grid.extent, grid.axes)
                self._update_note()
                self.mark_row(self._picked_row)     # picked before the points came
        self._draw_output()
        x0, x1, y0, y1 = self._extent
        # setRect scales by the image's size, so it only works once an image is set.
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _draw_output(self) -> None:
        out = self._output
        if out is None:
            return
        if self.discrete.isChecked():
            shown = self._buffer
            if self._task == "regression":
                step = (self._levels[1] - self._levels[0]) / (2 * REGRESSION_BANDS)
                np.round(out / step, out=shown)
                shown *= step
            elif self._levels == (0.0, 1.0):
                np.greater(out, 0.5, out=shown, casting="unsafe")
            else:
                np.copyto(shown, out)
        else:
            shown = out
        # The grid is 50 x 50: interpolated, the smooth output reads as a surface rather
        # than as blocks; discretized, its class boundaries stay crisp.
        self.plot.setRenderHint(QPainter.SmoothPixmapTransform, not self.discrete.isChecked())
        self.image.setImage(shown, autoLevels=False, levels=self._levels)

    # -- editing points and picking rows -----------------------------------------------------
    def _set_edit_controls(self) -> None:
        """Editing is for generated 2-D sets only; the class list follows the data set."""
        can_edit = self._mode == INPUT_PLANE and getattr(self._dataset, "generated_train", None) is not None
        self.edit_points.setEnabled(can_edit)
        self.edit_points.setToolTip(EDIT_TIP if can_edit else
                                    "Points can be added and removed on the generated 2-D data sets only.")
        if not can_edit:
            self.edit_points.setChecked(False)
        self.add_class.blockSignals(True)
        self.add_class.clear()
        if self._task == "classification":
            for k, name in enumerate(self._dataset.classes):
                self.add_class.addItem(_swatch(class_color(k, self._n_classes)), f"class {name}")
            self.add_class.setCurrentIndex(self.add_class.count() - 1)
        self.add_class.blockSignals(False)
        self._editing_changed(self.edit_points.isChecked())

    def _editing_changed(self, on: bool) -> None:
        on = on and self.edit_points.isEnabled()
        self.add_class.setVisible(on and self._task == "classification")
        self.add_value.setVisible(on and self._task == "regression")
        # A right click adds a point while editing, so the plot's own menu steps aside.
        self.plot.getPlotItem().getViewBox().setMenuEnabled(not on)
        self._update_note()

    @property
    def editing(self) -> bool:
        return self.edit_points.isChecked() and self.edit_points.isEnabled()

    def _labels(self):
        """(label of a left click, label of a right click)."""
        if self._task == "regression":
            value = float(self.add_value.value())
            return value, 0.0 - value       # 0.0 -: never a -0.0 in the file
        k = max(0, self.add_class.currentIndex())
        return k, (k + 1) % max(2, self._n_classes)

    def _label_name(self, label) -> str:
        if self._task == "regression":
            return f"value {label:g}"
        color = ("orange", "blue")[label] if self._n_classes <= 2 else ""
        return f"class {self._dataset.classes[label]}" + (f" ({color})" if color else "")

    def _update_note(self) -> None:
        tip = ""
        if self.editing and self._dataset is not None:
            left, right = self._labels()
            text = (f"Click adds {self._label_name(left)}, right click adds {self._label_name(right)}, "
                    "Shift+click removes the nearest point.")
        elif self._mode == PROJECTED and self._shown_plane is not None:
            text, tip = plane_note(self._shown_plane[1])
        else:
            text = ""
        self.note.setText(text)
        self.note.setToolTip(tip)
        self.note.setVisible(bool(text) and self.has_plane)

    def mark_row(self, row: int | None) -> None:
        """Ring the training point of row ``row`` (None: no ring)."""
        self._picked_row = row
        points = self.train_points.getData()
        if row is None or row >= len(points[0]):
            self.picked.clear()
            return
        self.picked.setData(x=[points[0][row]], y=[points[1][row]])

    def _on_click(self, event) -> None:
        if not self.has_plane or event.double():
            return
        box = self.plot.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(event.scenePos()):
            return                          # on an axis, not on the map
        at = box.mapSceneToView(event.scenePos())
        x1, x2, pixel = at.x(), at.y(), box.viewPixelSize()
        shift = bool(event.modifiers() & Qt.ShiftModifier)
        if self.editing and self._data_section is not None:
            if shift:
                self._remove_near(x1, x2, pixel)
            elif event.button() in (Qt.LeftButton, Qt.RightButton):
                left, right = self._labels()
                label = left if event.button() == Qt.LeftButton else right
                self._request(with_point_added(self._data_section, x1, x2, label))
            event.accept()
        elif event.button() == Qt.LeftButton:
            row, distance = nearest_point(self._train_positions(), x1, x2, pixel)
            if distance <= PICK_PIXELS:
                self.mark_row(row)
                self.row_picked.emit(row)

    def _train_positions(self) -> np.ndarray:
        x, y = self.train_points.getData()
        return np.column_stack([x, y])

    def _remove_near(self, x1: float, x2: float, pixel) -> None:
        """Shift+click: the nearest shown point goes (training, or test when test data is shown)."""
        candidates = [("train", *nearest_point(self._dataset.points_train, x1, x2, pixel))]
        if self.test_points.isVisible():
            candidates.append(("test", *nearest_point(self._dataset.points_test, x1, x2, pixel)))
        split, row, distance = min(candidates, key=lambda c: c[2])
        if distance <= REMOVE_PIXELS:
            self._request(with_point_removed(self._data_section, self._dataset, split, row))

    def _request(self, data: dict) -> None:
        if data != self._data_section:
            self._data_section = self._requested = data     # the next click builds on this one
            self.data_edit_requested.emit(data)
