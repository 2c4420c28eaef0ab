"""The outcomes view alone, fed real frames of real sessions: what it shows is what
the network does, counted independently here."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import QPoint, Qt

from playground.frames import compute_frame
from playground.project import build_session, load_project
from tests.ui.conftest import EXAMPLES
from ui.plots.outcomes_view import OutcomesPlot


def shown_view(qtbot, session) -> OutcomesPlot:
    view = OutcomesPlot()
    qtbot.addWidget(view)
    view.resize(700, 600)
    view.show()
    qtbot.waitExposed(view)
    view.set_session(SimpleNamespace(dataset=session.dataset))
    view.show_frame(compute_frame(session, 0.0))
    qtbot.waitUntil(view.pending)
    view.draw(0.0)
    return view


def test_confusion_cells_are_the_counts_of_the_test_rows(qtbot):
    session = build_session(load_project(EXAMPLES / "iris.json"))
    session.step(40)
    view = shown_view(qtbot, session)
    predicted = np.argmax(session.network.forward(session.X_test, training=False), axis=1)
    true = session.dataset.y_test
    by_hand = [str(int(np.sum((true == r) & (predicted == c)))) for r in range(3) for c in range(3)]
    assert view.texts() == by_hand
    ticks = view.plot.getPlotItem().getAxis("left")._tickLevels[0]
    first = [label for _, label in ticks][0]
    share = np.mean(predicted[true == 0] == 0)
    assert first == f"{session.dataset.classes[0]} ({100 * share:.0f}%)"


def test_the_train_rows_at_a_click(qtbot):
    session = build_session(load_project(EXAMPLES / "iris.json"))
    view = shown_view(qtbot, session)
    box = view.use_test
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    assert not box.isChecked() and view.pending()
    view.draw(1.0)
    assert sum(int(t) for t in view.texts()) == len(session.dataset.y_train)


def test_digits_show_the_misclassified_images_with_what_they_were_taken_for(qtbot):
    session = build_session(load_project(EXAMPLES / "digits.json"))
    view = shown_view(qtbot, session)             # untrained: most images are wrong
    assert view.gallery.isVisible()
    data = session.dataset
    predicted = np.argmax(session.network.forward(session.X_test, training=False), axis=1)
    wrong = np.flatnonzero(predicted != data.y_test)[:64]
    expected = [f"{data.classes[data.y_test[k]]} → {data.classes[predicted[k]]}" for k in wrong]
    assert view.gallery.captions() == expected
    assert f"{np.sum(predicted != data.y_test):,} test images misclassified" in view.gallery.caption.text()


def test_regression_shows_predicted_against_actual(qtbot, tmp_path):
    session = build_session(load_project(EXAMPLES / "spiral.json").with_changes(
        data={"source": "plane", "samples": 200}, training=dict(
            load_project(EXAMPLES / "spiral.json").training, loss="mse"),
        network=_linear_output(load_project(EXAMPLES / "spiral.json").document["network"])))
    view = shown_view(qtbot, session)
    x, y = view.scatter.getData()
    out = session.network.forward(session.X_test, training=False)[:, 0]
    assert np.allclose(np.sort(x), np.sort(session.dataset.y_test[:, 0]))
    assert np.allclose(np.sort(y), np.sort(out))
    assert not view.gallery.isVisible()


def _linear_output(network: dict) -> dict:
    import copy
    net = copy.deepcopy(network)
    for node in net["nodes"]:
        if node["id"] == net["output"]:
            node["activation"] = "linear"
    return net
