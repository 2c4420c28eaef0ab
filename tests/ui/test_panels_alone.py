"""Each panel tested alone against a project, as napari tests one control against one
model: no main window, no training process, only the panel's own signals."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from playground.project import Project, load_project
from tests.ui.conftest import EXAMPLES
from ui.layer_controls import LayerControls
from ui.panels.data_panel import DataPanel
from ui.panels.training_panel import TrainingPanel


def spiral() -> Project:
    return load_project(EXAMPLES / "spiral.json")


def shown(qtbot, panel, project):
    qtbot.addWidget(panel)
    panel.show_project(project)
    panel.resize(420, 640)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def accepted(project: Project, sections: dict) -> Project:
    """What the keeper would do: the sections must make a valid project."""
    return project.with_changes(**sections)


# -- training panel ---------------------------------------------------------------------
def test_typing_a_learning_rate_asks_for_exactly_that_rate(qtbot):
    project = spiral()
    panel = shown(qtbot, TrainingPanel(), project)
    edit = panel.learning_rate.lineEdit()
    qtbot.mouseClick(edit, Qt.LeftButton)
    edit.selectAll()
    with qtbot.waitSignal(panel.learning_rate_requested) as blocker:
        qtbot.keyClicks(edit, "0.25")
        qtbot.keyClick(edit, Qt.Key_Return)
    training, lr = blocker.args
    assert lr == 0.25 and training["optimizer"]["lr"] == 0.25
    assert training["optimizer"]["name"] == project.training["optimizer"]["name"]
    assert accepted(project, {"training": training}).training["optimizer"]["lr"] == 0.25


def test_choosing_a_loss_with_the_keyboard_rebuilds_with_that_loss(qtbot):
    project = spiral()
    panel = shown(qtbot, TrainingPanel(), project)
    panel.loss.setFocus()
    qtbot.waitUntil(panel.loss.hasFocus)
    before = panel.loss.currentData()
    with qtbot.waitSignal(panel.rebuild_requested) as blocker:
        qtbot.keyClick(panel.loss, Qt.Key_Down)
    sections, keep_weights = blocker.args
    assert sections["training"]["loss"] == panel.loss.currentData() != before
    assert keep_weights        # a new loss keeps the trained weights
    assert accepted(project, sections).training["loss"] == panel.loss.currentData()


def test_an_optimizer_change_carries_the_typed_learning_rate(qtbot):
    project = spiral()
    panel = shown(qtbot, TrainingPanel(), project)
    panel.optimizer.setFocus()
    qtbot.waitUntil(panel.optimizer.hasFocus)
    lr = project.training["optimizer"]["lr"]
    with qtbot.waitSignal(panel.optimizer_requested) as blocker:
        qtbot.keyClick(panel.optimizer, Qt.Key_Down)
    training, spec = blocker.args
    assert spec["name"] == panel.optimizer.currentData() != project.training["optimizer"]["name"]
    assert spec["lr"] == lr and training["optimizer"] == spec
    assert accepted(project, {"training": training}).training["optimizer"]["name"] == spec["name"]


# -- data panel -------------------------------------------------------------------------
def click_source(qtbot, panel: DataPanel, name: str) -> None:
    items = [panel.sources.item(k) for k in range(panel.sources.count())]
    item = next(i for i in items if i.data(Qt.UserRole) == name)
    panel.sources.scrollToItem(item)
    centre = panel.sources.visualItemRect(item).center()
    qtbot.mouseClick(panel.sources.viewport(), Qt.LeftButton, pos=centre)


def test_clicking_iris_fits_three_softmax_outputs(qtbot):
    project = spiral()
    panel = shown(qtbot, DataPanel(), project)
    with qtbot.waitSignal(panel.rebuild_requested) as blocker:
        click_source(qtbot, panel, "iris")
    sections, keep_weights = blocker.args
    assert sections["data"]["source"] == "iris" and not keep_weights
    changed = accepted(project, sections)
    out = [n for n in changed.document["network"]["nodes"] if n["id"] == changed.document["network"]["output"]][0]
    assert (out["units"], out["activation"], changed.training["loss"]) == (3, "softmax", "cross_entropy")


def test_clicking_a_regression_set_fits_a_linear_output(qtbot):
    project = spiral()
    panel = shown(qtbot, DataPanel(), project)
    with qtbot.waitSignal(panel.rebuild_requested) as blocker:
        click_source(qtbot, panel, "plane")
    changed = accepted(project, blocker.args[0])
    assert changed.training["loss"] == "mse"


def test_ticking_a_feature_asks_for_it(qtbot):
    project = spiral()
    panel = shown(qtbot, DataPanel(), project)
    box = panel.features["sin(x1)"]
    with qtbot.waitSignal(panel.rebuild_requested) as blocker:
        qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    assert "sin(x1)" in blocker.args[0]["data"]["features"]
    assert "sin(x1)" in accepted(project, blocker.args[0]).data["features"]


# -- layer controls ---------------------------------------------------------------------
def test_plus_adds_a_neuron_to_that_layer_only(qtbot):
    project = spiral()
    network = project.document["network"]
    controls = LayerControls()
    qtbot.addWidget(controls)
    hidden = [n for n in network["nodes"] if n["type"] == "dense" and n["id"] != network["output"]]
    controls.set_network(network, [(n["id"], 60.0 * (k + 1)) for k, n in enumerate(hidden)])
    controls.place(lambda x: x)
    controls.resize(600, controls.height())
    controls.show()
    qtbot.waitExposed(controls)
    first = hidden[0]["id"]
    plus = controls.units[first].plus
    with qtbot.waitSignal(controls.network_edited) as blocker:
        qtbot.mouseClick(plus, Qt.LeftButton)
    units = {n["id"]: n.get("units") for n in blocker.args[0]["nodes"]}
    assert units[first] == hidden[0]["units"] + 1
    assert all(units[n["id"]] == n["units"] for n in hidden[1:])
    accepted(project, {"network": blocker.args[0]})


def test_removing_f_prime_is_a_click_and_shows_on_a_loaded_project(qtbot):
    project = spiral()
    panel = shown(qtbot, TrainingPanel(), project)
    box = panel.ablate
    with qtbot.waitSignal(panel.rebuild_requested) as blocker:
        qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    sections, keep_weights = blocker.args
    changed = accepted(project, sections)
    assert changed.training["ablate_derivative"] is True and keep_weights
    panel.show_project(changed)
    assert panel.ablate.isChecked()


def test_another_data_set_drops_the_points_edited_by_hand(qtbot):
    project = spiral()
    edited = project.with_changes(data=dict(project.data, added=[[1.0, 2.0, 1]], removed=[0, 3]))
    panel = shown(qtbot, DataPanel(), edited)
    with qtbot.waitSignal(panel.rebuild_requested) as blocker:
        click_source(qtbot, panel, "iris")
    data = accepted(edited, blocker.args[0]).data
    assert "added" not in data and "removed" not in data
    with qtbot.waitSignal(panel.rebuild_requested) as blocker:
        qtbot.mouseClick(panel.regenerate, Qt.LeftButton)
    changed = accepted(edited, blocker.args[0])
    assert changed.seed == edited.seed + 1 and "removed" not in changed.data and changed.data["added"]
