"""Colours shared by every view, and the light and dark application themes.

The diverging map is TensorFlow Playground's: orange for negative (class 0), a pale
neutral for zero, blue for positive (class 1).  Heatmaps, edges and data points all
use it, so one colour means the same sign everywhere on screen.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

NEGATIVE = "#f59322"
NEUTRAL = "#e8eaeb"
POSITIVE = "#0877bd"
# Qualitative colours for per-layer series and for classes beyond two.
SERIES = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
          "#7f7f7f", "#ff7f0e")
THEMES = ("light", "dark")


def diverging_colormap() -> pg.ColorMap:
    return pg.ColorMap([0.0, 0.5, 1.0], [QColor(NEGATIVE), QColor(NEUTRAL), QColor(POSITIVE)])


def surface_colormap(theme: str = "light") -> pg.ColorMap:
    """The diverging map washed out towards the theme's background, for surfaces under
    data points: points keep the full colours, so a misclassified point stands out."""
    background = QColor(plot_colors(theme)[0])

    def wash(color: str, keep: float = 0.45) -> QColor:
        c = QColor(color)
        return QColor.fromRgbF(*(keep * v + (1 - keep) * b for v, b in
                                 zip((c.redF(), c.greenF(), c.blueF()),
                                     (background.redF(), background.greenF(), background.blueF()))))
    middle = wash(NEUTRAL, 1.0) if theme == "light" else wash(NEUTRAL, 0.25)
    return pg.ColorMap([0.0, 0.5, 1.0], [wash(NEGATIVE), middle, wash(POSITIVE)])


def diverging_lut_bgra(n: int = 256) -> np.ndarray:
    """[n, 4] uint8 in QImage.Format_ARGB32 byte order (B, G, R, A on little-endian)."""
    rgba = diverging_colormap().getLookupTable(0.0, 1.0, n, alpha=True)
    return np.ascontiguousarray(rgba[:, [2, 1, 0, 3]].astype(np.uint8))


def density_colormap(theme: str = "light") -> pg.ColorMap:
    """Sequential map for densities: empty bins blend into the plot background."""
    stops = ("#ffffff", "#c6dbef", "#4292c6", "#08306b") if theme == "light" else \
            ("#1e1e1e", "#1f4e79", "#6baed6", "#f7fbff")
    return pg.ColorMap([0.0, 0.2, 0.6, 1.0], [QColor(c) for c in stops])


def class_color(index: int, n_classes: int) -> str:
    if n_classes <= 2:
        return (NEGATIVE, POSITIVE)[min(index, 1)]
    return SERIES[index % len(SERIES)]


def plot_colors(theme: str) -> tuple[str, str]:
    """(background, foreground) for pyqtgraph widgets."""
    return ("#ffffff", "#303030") if theme == "light" else ("#1e1e1e", "#d0d0d0")


def apply_theme(app: QApplication, theme: str) -> None:
    """Fusion style with a light or dark palette (plots follow via ``plot_colors``)."""
    app.setStyle("Fusion")
    if theme != "dark":
        app.setPalette(app.style().standardPalette())
        return
    p = QPalette()
    base, window, text = QColor("#232323"), QColor("#2d2d2d"), QColor("#e0e0e0")
    for role, color in ((QPalette.Window, window), (QPalette.WindowText, text), (QPalette.Base, base),
                        (QPalette.AlternateBase, window), (QPalette.Text, text), (QPalette.Button, window),
                        (QPalette.ButtonText, text), (QPalette.ToolTipBase, base), (QPalette.ToolTipText, text),
                        (QPalette.Highlight, QColor(POSITIVE)), (QPalette.HighlightedText, QColor("#ffffff")),
                        (QPalette.PlaceholderText, QColor("#909090"))):
        p.setColor(role, color)
    p.setColor(QPalette.Disabled, QPalette.Text, QColor("#707070"))
    p.setColor(QPalette.Disabled, QPalette.ButtonText, QColor("#707070"))
    p.setColor(QPalette.Disabled, QPalette.WindowText, QColor("#707070"))
    app.setPalette(p)
