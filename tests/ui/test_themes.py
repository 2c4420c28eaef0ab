"""Themes switch completely and reversibly: text, backgrounds and the output surface."""
from __future__ import annotations

from PySide6.QtGui import QColor

from ui.theme import plot_colors, surface_colormap


def test_theme_switch_recolours_every_view(qtbot, window):
    for theme in ("dark", "light", "dark", "light"):
        window.set_theme(theme)
        background, foreground = (QColor(c) for c in plot_colors(theme))
        labels = window.network_view._labels
        assert labels and all(label.brush().color() == foreground for label in labels), theme
        assert window.network_view.view.backgroundBrush().color() == background
        lut = window.boundary.image.lut
        expected = surface_colormap(theme).getLookupTable(0.0, 1.0, len(lut), alpha=False)
        assert (abs(lut[:, :3].astype(int) - expected[:, :3].astype(int)) <= 1).all(), theme
        # the middle of the surface is close to the background: dark in dark, light in light
        middle = lut[len(lut) // 2][:3].astype(int)
        assert (middle.mean() < 110) == (theme == "dark"), (theme, middle)

