"""What the network gets right and wrong: the view for data without an input plane.

Classification: the confusion matrix (rows: true class, columns: predicted; each row
shaded by its share, counts written in the cells), with each class's accuracy beside
its name, for the training or the test rows.  Regression: predicted against actual,
with the line where they agree.  For image data (digits) the misclassified test
images with what they were taken for.  The numbers come with the frame's grid
(engine/outcomes.py), so this only draws.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ui.plots.base import PlotPanel, option_checkbox
from ui.theme import plot_colors

MAX_WRITTEN = 12          # classes up to which counts are written in the cells
GALLERY_COLUMNS = 8
IMAGE_PIXELS = 48         # on-screen size of one misclassified image


def _percent(share: float) -> str:
    return "–" if np.isnan(share) else f"{100 * share:.0f}%"


class OutcomesPlot(PlotPanel):
    draw_every = 2        # a matrix of counts reads just as well at 15 redraws a second

    def __init__(self, parent=None):
        super().__init__("Outcomes: confusion matrix or predicted against actual", parent)
        self.use_test = option_checkbox("Test rows", "Count the held-out test rows instead of the training rows.",
                                        checked=True)
        self.options.addWidget(self.use_test)
        self.use_test.toggled.connect(lambda _: self._mark_dirty())
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        self.matrix = pg.ImageItem(axisOrder="row-major")
        self.matrix.setColorMap(pg.ColorMap([0.0, 1.0], [QColor(255, 255, 255, 0), QColor(33, 102, 172)]))
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.diagonal = pg.PlotDataItem(pen=pg.mkPen("#888888", width=1, style=Qt.DashLine))
        for thing in (self.matrix, self.scatter, self.diagonal):
            item.addItem(thing)
        self._texts: list[pg.TextItem] = []
        self._foreground = "#202020"
        self.gallery = Gallery()
        self.layout().addWidget(self.gallery)
        self._dataset = None
        self._outcomes = None

    def set_theme(self, theme: str) -> None:
        super().set_theme(theme)
        self._foreground = plot_colors(theme)[1]
        self._mark_dirty()

    def set_session(self, info) -> None:
        self._dataset = info.dataset
        self._outcomes = None
        self._texts_for(0)
        self.matrix.clear()
        self.scatter.clear()
        self.diagonal.clear()
        classification = info.dataset.task == "classification"
        self.use_test.setEnabled(len(info.dataset.y_test) > 0)
        item = self.plot.getPlotItem()
        item.setAspectLocked(classification)
        item.invertY(classification)        # the first class on top, as a table reads
        if classification:
            item.setLabel("bottom", "predicted class")
            item.setLabel("left", "true class (accuracy)")
        else:
            item.setLabel("bottom", "actual")
            item.setLabel("left", "predicted")
        self.gallery.set_dataset(info.dataset)

    def pending(self) -> bool:
        # This view shares its place with the output map: while covered it waits, rather
        # than keep the draw clock ticking for nothing, and draws when it is shown.
        return self.dirty and self.isVisible() and not self.visibleRegion().isEmpty()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.dirty:
            self.draw(0.0)

    def show_frame(self, frame) -> None:
        # They come with the grid, or on their own for data without a plane (one input).
        outcomes = frame.grid.outcomes if frame.grid is not None else frame.outcomes
        if outcomes is not None:
            self._outcomes = outcomes
            self.dirty = True

    def _mark_dirty(self) -> None:
        if self._outcomes is not None:
            self.dirty = True

    # -- drawing ---------------------------------------------------------------------
    def redraw(self) -> None:
        outcomes = self._outcomes
        if outcomes is None:
            return
        if hasattr(outcomes, "classes"):        # engine.outcomes.ClassOutcomes
            self._draw_matrix(outcomes)
            self.gallery.show_wrong(outcomes)
        else:
            self._draw_scatter(outcomes)

    def shown_matrix(self, outcomes) -> tuple[np.ndarray, str]:
        if self.use_test.isChecked() and outcomes.test is not None:
            return outcomes.test, "test"
        return outcomes.train, "train"

    def _draw_matrix(self, outcomes) -> None:
        counts, which = self.shown_matrix(outcomes)
        n = len(outcomes.classes)
        totals = counts.sum(axis=1, keepdims=True)
        shares = counts / np.maximum(totals, 1)
        self.matrix.setImage(shares, autoLevels=False, levels=(0.0, 1.0))
        self.matrix.setRect(QRectF(-0.5, -0.5, n, n))
        accuracy = outcomes.accuracy_by_class(counts)
        names = [str(c) for c in outcomes.classes]
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setTicks([list(enumerate(names))])
        item.getAxis("left").setTicks([[(k, f"{name} ({_percent(accuracy[k])})") for k, name in enumerate(names)]])
        self.plot.setToolTip(f"Confusion matrix of the {which} rows: row = true class, column = predicted; "
                             f"the diagonal is right. Overall {_percent(np.trace(counts) / max(counts.sum(), 1))}.")
        self._write_counts(counts, shares)
        item.setRange(xRange=(-0.5, n - 0.5), yRange=(-0.5, n - 0.5), padding=0.02)

    def _write_counts(self, counts: np.ndarray, shares: np.ndarray) -> None:
        n = counts.shape[0]
        texts = self._texts_for(n * n if n <= MAX_WRITTEN else 0)
        for k, text in enumerate(texts):
            r, c = divmod(k, n)
            # dark cells get light text: the shade runs to a saturated blue
            text.setColor("#ffffff" if shares[r, c] > 0.55 else self._foreground)
            text.setText(f"{counts[r, c]:,}")
            text.setPos(c, r)

    def texts(self) -> list[str]:
        """The counts written in the cells, row by row (what a user reads)."""
        return [t.toPlainText() for t in self._texts]

    def _texts_for(self, count: int) -> list[pg.TextItem]:
        item = self.plot.getPlotItem()
        while len(self._texts) > count:
            item.removeItem(self._texts.pop())
        while len(self._texts) < count:
            text = pg.TextItem(anchor=(0.5, 0.5))
            item.addItem(text)
            self._texts.append(text)
        return self._texts

    def _draw_scatter(self, outcomes) -> None:
        use_test = self.use_test.isChecked() and outcomes.actual_test is not None
        actual = outcomes.actual_test if use_test else outcomes.actual_train
        predicted = outcomes.predicted_test if use_test else outcomes.predicted_train
        a, p = actual[:, 0], predicted[:, 0]
        finite = np.isfinite(p)
        self.scatter.setData(a[finite], p[finite], brush=pg.mkBrush(33, 102, 172, 150))
        lo = float(min(a.min(), p[finite].min() if finite.any() else a.min()))
        hi = float(max(a.max(), p[finite].max() if finite.any() else a.max()))
        self.diagonal.setData([lo, hi], [lo, hi])
        self.plot.setToolTip(f"Predicted against actual for the {'test' if use_test else 'training'} rows; "
                             "on the dashed line the prediction is exact.")


class Gallery(QScrollArea):
    """The first misclassified images, each captioned 'true → predicted'."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Misclassified images")
        self.setToolTip("Test images the network gets wrong: the true digit, then what it was taken for.")
        self.setWidgetResizable(True)
        self.setMinimumHeight(IMAGE_PIXELS + 60)        # one full row of images with captions
        self.setMaximumHeight(2 * (IMAGE_PIXELS + 40))
        self.caption = QLabel()
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.caption)
        self.grid = QGridLayout()
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.setWidget(inner)
        self.cells: list[tuple[QLabel, QLabel]] = []     # (image, 'true → predicted')
        self._dataset = None
        self._shown = None
        self.hide()

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset if dataset.image_shape is not None and dataset.task == "classification" else None
        self._shown = None
        self.setVisible(self._dataset is not None)

    def show_wrong(self, outcomes) -> None:
        data = self._dataset
        if data is None:
            return
        key = (outcomes.wrong_in, outcomes.wrong_rows.tobytes(), outcomes.wrong_predicted.tobytes())
        if key == self._shown:          # the same mistakes as last time: nothing to redraw
            return
        self._shown = key
        X, y = (data.X_test, data.y_test) if outcomes.wrong_in == "test" else (data.X_train, data.y_train)
        rows = outcomes.wrong_rows
        self.caption.setText(f"{outcomes.wrong_count:,} {outcomes.wrong_in} images misclassified"
                             + (f"; the first {len(rows)}:" if outcomes.wrong_count > len(rows) else ":"))
        self._cells(len(rows))
        images = data.raw_inputs(X[rows]) if len(rows) else X[:0]
        for (picture, caption), image, true, predicted in zip(self.cells, images, y[rows],
                                                               outcomes.wrong_predicted):
            picture.setPixmap(_ink(image.reshape(data.image_shape)))
            true, predicted = data.classes[int(true)], data.classes[int(predicted)]
            caption.setText(f"{true} → {predicted}")
            picture.setToolTip(f"true {true}, taken for {predicted}")
            picture.setAccessibleName(f"Image of {true} taken for {predicted}")

    def captions(self) -> list[str]:
        return [caption.text() for _, caption in self.cells if caption.isVisibleTo(self)]

    def _cells(self, count: int) -> None:
        while len(self.cells) < count:
            picture, caption = QLabel(), QLabel()
            picture.setFixedSize(IMAGE_PIXELS, IMAGE_PIXELS)
            caption.setAlignment(Qt.AlignCenter)
            row, column = divmod(len(self.cells), GALLERY_COLUMNS)
            self.grid.addWidget(picture, 2 * row, column)
            self.grid.addWidget(caption, 2 * row + 1, column)
            self.cells.append((picture, caption))
        for k, pair in enumerate(self.cells):
            for widget in pair:
                widget.setVisible(k < count)


def _ink(image: np.ndarray) -> QPixmap:
    """Dark ink on white, scaled from the image's own range."""
    lo, hi = float(np.min(image)), float(np.max(image))
    grey = 255 - np.clip((image - lo) / (hi - lo if hi > lo else 1.0) * 255, 0, 255).astype(np.uint8)
    grey = np.ascontiguousarray(grey)
    h, w = grey.shape
    qimage = QImage(grey.data, w, h, w, QImage.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(IMAGE_PIXELS, IMAGE_PIXELS, Qt.KeepAspectRatio, Qt.FastTransformation)
