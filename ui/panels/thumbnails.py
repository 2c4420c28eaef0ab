"""Preview icons of every data source, drawn once at start-up from a quick sample."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap

from engine.data import GENERATORS, load_dataset, source_names
from engine.errors import ConfigError
from ui.theme import NEUTRAL, class_color, diverging_colormap

SIZE = 56


def _sample(name: str):
    if name in GENERATORS:
        data = load_dataset(name, samples=300, noise=0.0, train_fraction=1.0, seed=0)
        return data.points_train, data.y_train, data.task, data.n_classes
    data = load_dataset(name, train_fraction=1.0, standardize=True)
    return data.X_train[:, :2], data.y_train, data.task, data.n_classes


def _paint(points: np.ndarray, y: np.ndarray, task: str, n_classes: int) -> QPixmap:
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(QColor(NEUTRAL))
    span = np.max(np.abs(points)) or 1.0
    xy = (points / span * 0.45 + 0.5) * SIZE
    if task == "regression":
        values = y[:, 0] / (np.max(np.abs(y[:, 0])) or 1.0) * 0.5 + 0.5
        colors = diverging_colormap().map(values, mode="qcolor")
    else:
        palette = [QColor(class_color(k, n_classes)) for k in range(max(2, n_classes))]
        colors = [palette[int(k)] for k in y]
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(Qt.NoPen)
    for (px, py), color in zip(xy, colors):
        painter.setBrush(color)
        painter.drawEllipse(QPointF(px, SIZE - py), 1.6, 1.6)
    painter.end()
    return pixmap


def source_thumbnails() -> dict[str, QPixmap]:
    """name -> icon pixmap of a quick sample (a plain tile where the file is missing)."""
    out = {}
    for name in source_names():
        try:
            out[name] = _paint(*_sample(name))
        except ConfigError:         # a missing shipped file: list the source without a preview
            out[name] = QPixmap(SIZE, SIZE)
            out[name].fill(QColor(NEUTRAL))
    return out
