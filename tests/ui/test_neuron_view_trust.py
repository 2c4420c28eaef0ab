"""The neuron view tells the truth and stays readable (issue 12, items 5, 6, 12, 14, 17):
every input feature on its own colour scale, the Graph editor named for networks the
buttons cannot edit, skip edges that go around neurons, an export of the diagram
alone, and labels that follow the application's font."""
from __future__ import annotations

import json
import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import EXAMPLES, WAIT_MS
from ui.network_view import RADIUS
from ui.plots.neuron_maps import TRANSPARENT
from ui.theme import diverging_lut_bgra, plot_colors

FEATURES = ["x1", "x2", "sin(x1)", "x1^2"]


def spiral_variant(tmp_path, name: str, change) -> str:
    document = json.loads((EXAMPLES / "spiral.json").read_text())
    change(document)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    return str(path)


def with_features(document) -> None:
    document["data"]["features"] = FEATURES


def six_hidden_layers(document) -> None:
    nodes = document["network"]["nodes"]
    hidden = [{"id": f"h{i}", "type": "dense", "units": 8, "activation": "tanh"} for i in range(1, 7)]
    document["network"]["nodes"] = [nodes[0], *hidden, nodes[-1]]
    ids = [n["id"] for n in document["network"]["nodes"]]
    document["network"]["edges"] = [[a, b] for a, b in zip(ids, ids[1:])]


def heatmaps_shown(view, node_id: str) -> bool:
    return all(not n.heat.pixmap().isNull() for n in view._neurons[node_id])


def contrast(pixmap) -> float:
    """How far the heatmap's strongest cell is from the neutral colour, as a share of the
    distance from neutral to the end of the colour scale (1.0: the scale is used fully)."""
    image = pixmap.toImage().convertToFormat(QImage.Format_ARGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    inside = pixels[pixels[..., 3] > 0][:, :3].astype(float)
    lut = diverging_lut_bgra(TRANSPARENT)[:, :3].astype(float)
    neutral, end = lut[127], max(np.linalg.norm(lut[0] - lut[127]), np.linalg.norm(lut[-1] - lut[127]))
    return float(np.linalg.norm(inside - neutral, axis=1).max() / end)


# -- item 5: every input feature readable ------------------------------------------------
def test_every_input_feature_uses_its_own_colour_scale(qtbot, make_window, tmp_path):
    window = make_window(spiral_variant(tmp_path, "features", with_features))
    view = window.network_view
    qtbot.waitUntil(lambda: heatmaps_shown(view, "in"), timeout=WAIT_MS)
    # Old: one scale for the node (max |x1^2| = 36), so x1, x2 and sin(x1) were near-blank.
    for name, neuron in zip(FEATURES, view._neurons["in"]):
        assert contrast(neuron.heat.pixmap()) > 0.8, name
    tips = [n.ring.toolTip() for n in view._neurons["in"]]
    assert "its own colour scale" in tips[0] and "±6" in tips[0], tips[0]
    assert "±1" in tips[2] and "±36" in tips[3], tips
    hidden_tip = view._neurons["h1"][0].ring.toolTip()
    assert "shared by every unit of h1" in hidden_tip and "±1" in hidden_tip, hidden_tip


def test_a_unit_joined_by_concat_looks_as_in_its_source(qtbot, make_window):
    window = make_window("concat.json")          # cat = [a (tanh, 4 units), b (relu, 4 units)]
    view = window.network_view
    qtbot.waitUntil(lambda: heatmaps_shown(view, "cat"), timeout=WAIT_MS)
    frame = window.controller.latest_frame
    assert np.abs(frame.grid.node_outputs["b"]).max() > 1.5     # relu reaches beyond tanh's range
    for u in range(4):
        for source, k in (("a", u), ("b", u)):
            copy = view._neurons["cat"][u + 4 * (source == "b")].heat.pixmap().toImage()
            assert copy == view._neurons[source][k].heat.pixmap().toImage(), (source, k)
    assert "come from a" in view._neurons["cat"][0].ring.toolTip()


# -- item 6: networks the buttons cannot edit point to the Graph editor ----------------------
def test_non_chain_network_points_to_the_graph_editor(qtbot, make_window):
    window = make_window("residual.json")
    controls = window.network_view.controls
    text = controls.layers.caption.text()
    assert "Graph editor" in text and "project file" not in text, text
    button = controls.open_editor
    assert button.isVisible() and button.accessibleName()
    with qtbot.waitSignal(window.network_view.editor_requested, timeout=WAIT_MS):
        qtbot.mouseClick(button, Qt.LeftButton)


def test_chain_network_hides_the_graph_editor_button(qtbot, window):
    assert not window.network_view.controls.open_editor.isVisible()


# -- item 12: skip edges go around the neurons they skip -------------------------------------
def sampled(path, n: int = 400) -> np.ndarray:
    points = [path.pointAtPercent(t) for t in np.linspace(0.0, 1.0, n)]
    return np.array([(p.x(), p.y()) for p in points])


def test_no_edge_runs_through_a_neuron_it_does_not_connect(qtbot, make_window):
    window = make_window("residual.json")
    view = window.network_view
    centres = np.array([(r.center().x(), r.center().y()) for r in
                        (n.ring.rect() for neurons in view._neurons.values() for n in neurons)])
    skips = 0
    for path in view._edges.paths:
        points = sampled(path)
        ends = points[[0, -1]]
        # the neurons this edge connects: its ends lie on their rings
        own = np.linalg.norm(centres[:, None, :] - ends[None, :, :], axis=2).min(axis=1) <= RADIUS + 1
        distance = np.linalg.norm(points[:, None, :] - centres[None, ~own, :], axis=2).min()
        assert distance >= RADIUS, (ends.tolist(), distance)
        skips += ends[1, 0] - ends[0, 0] > 2 * 170 - 2 * RADIUS      # spans more than one column
    assert skips == 8          # h1 -> sum, one per unit, are the skip edges checked here


# -- item 14: the diagram alone, small -------------------------------------------------------
def test_export_image_writes_the_diagram_alone(qtbot, window, tmp_path):
    view = window.network_view
    qtbot.waitUntil(lambda: heatmaps_shown(view, "h3"), timeout=WAIT_MS)
    svg = tmp_path / "network.svg"
    view.export_image(str(svg))
    text = svg.read_text()
    neurons = sum(len(n) for n in view._neurons.values())
    assert svg.stat().st_size < 300_000, svg.stat().st_size     # was 6.5 MB
    assert 0 < text.count("<image") <= neurons                   # was 251 embedded images
    assert "h1 · tanh" in text and ">x1<" in text.replace(" ", "")
    assert "neurons" not in text and "hidden layer" not in text     # no +/- groups, no combo boxes
    png = tmp_path / "network.png"
    view.export_image(str(png))
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 600
    corner = QColor(image.pixel(2, 2))
    assert corner == QColor(plot_colors("light")[0]), corner.name()


def test_export_image_names_a_bad_format_or_folder(qtbot, window, tmp_path):
    try:
        window.network_view.export_image(str(tmp_path / "network.bmpx"))
    except ValueError as exc:
        assert ".bmpx" in str(exc) and "PNG" in str(exc)
    else:
        raise AssertionError("an unknown suffix was accepted")
    assert not (tmp_path / "network.bmpx").exists()
    for suffix in ("svg", "png"):
        target = tmp_path / "no such folder" / f"network.{suffix}"
        try:
            window.network_view.export_image(str(target))
        except OSError as exc:
            assert str(target) in str(exc)
        else:
            raise AssertionError(f"{target} was reported written")


# -- item 17: labels follow the application's font ----------------------------------------
def on_screen(view, label) -> QRectF:
    return label.deviceTransform(view.view.viewportTransform()).mapRect(label.boundingRect())


def check_labels_readable(view, font: QFont) -> None:
    least = max(QFontMetricsF(font).height(), 8 / 72 * view.logicalDpiY() * 1.1) * 0.9
    viewport = QRectF(view.view.viewport().rect())
    rects = [on_screen(view, label) for label in view._labels]
    for label, rect in zip(view._labels, rects):
        assert rect.height() >= least, (label.text(), rect.height(), least)
        assert viewport.contains(rect), (label.text(), rect, viewport)
    for i, a in enumerate(rects):          # no two labels on top of each other
        for b in rects[i + 1:]:
            assert not a.intersects(b), (a, b)
    groups = sorted((g.geometry() for g in view.controls.units.values()), key=lambda r: r.x())
    for left, right in zip(groups, groups[1:]):
        assert left.right() < right.left(), (left, right)
    boxes = sorted((b.geometry() for b in view.controls.activations.values()), key=lambda r: r.x())
    for left, right in zip(boxes, boxes[1:]):
        assert left.right() < right.left(), (left, right)


def test_labels_stay_readable_and_follow_the_app_font(qtbot, make_window, tmp_path):
    window = make_window(spiral_variant(tmp_path, "six", six_hidden_layers))
    view = window.network_view
    before = view.view.viewport().size()
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: view.view.viewport().size() != before, timeout=WAIT_MS)
    # Old: the scene was scaled to fit, so with six layers its labels were ~6 px.
    check_labels_readable(view, view.font())
    app = QApplication.instance()
    original = app.font()
    bigger = QFont(original)
    bigger.setPointSizeF(original.pointSizeF() * 1.5)
    try:
        app.setFont(bigger)
        qtbot.waitUntil(lambda: math.isclose(view._labels[0].font().pointSizeF(), bigger.pointSizeF()),
                        timeout=WAIT_MS)
        check_labels_readable(view, bigger)
    finally:
        app.setFont(original)
    qtbot.waitUntil(lambda: math.isclose(view._labels[0].font().pointSizeF(), original.pointSizeF()),
                    timeout=WAIT_MS)
