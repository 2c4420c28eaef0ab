"""The CSV import dialog alone: preview, column roles, missing values, counts, paths."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox

from engine.data import load_dataset
from engine.data.csv_source import inspect_csv
from ui.panels.csv_dialog import CsvImportDialog


def dialog_for(qtbot, path: Path, project_dir=None) -> CsvImportDialog:
    dialog = CsvImportDialog(inspect_csv(path), project_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def choose(qtbot, box, steps: int) -> None:
    """Move a combo box ``steps`` entries down (up if negative) with the keyboard, as a user would."""
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    for _ in range(abs(steps)):
        qtbot.keyClick(box, Qt.Key_Down if steps > 0 else Qt.Key_Up)


def import_button(dialog):
    return dialog.buttons.button(QDialogButtonBox.Ok)


@pytest.fixture
def pets(tmp_path) -> Path:
    path = tmp_path / "pets.csv"
    rows = ["id,colour,weight,legs,kind"]
    for i in range(30):
        weight = "" if i in (4, 9) else str(3 + i % 5)
        rows.append(f"{i},{('black', 'white', 'ginger')[i % 3]},{weight},4,{'cat' if i % 2 else 'dog'}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_preview_shows_the_rows_and_tints_missing_cells(qtbot, pets):
    dialog = dialog_for(qtbot, pets)
    assert dialog.preview.rowCount() == 30 and dialog.preview.columnCount() == 5
    assert dialog.preview.verticalHeaderItem(0).text() == "2"             # the file's line numbers
    empty = dialog.preview.item(4, 2)
    assert empty.text() == "" and empty.toolTip() == "missing"
    holds = {dialog.columns.item(r, 0).text(): dialog.columns.item(r, 1).text() for r in range(5)}
    assert holds["colour"] == "text, 3 values" and holds["weight"] == "numbers"
    assert dialog.columns.item(2, 2).text() == "2" and "6, 11" in dialog.columns.item(2, 2).toolTip()


def test_missing_values_stop_the_import_until_rows_are_left_out(qtbot, pets):
    dialog = dialog_for(qtbot, pets)
    assert dialog.target() == "kind" and dialog.task.currentData() == "classification"
    assert not import_button(dialog).isEnabled()
    assert "row 6, column 'weight': the value is missing" in dialog.summary.text()
    box = dialog.drop_missing
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    assert import_button(dialog).isEnabled()
    text = dialog.summary.text()
    assert "28 rows (2 left out for missing values)" in text and "2 classes" in text
    assert "cat: 14" in text and "dog: 14" in text
    assert dialog.source()["missing"] == "drop"


def test_a_text_column_is_one_hot_and_an_id_can_be_ignored(qtbot, pets):
    dialog = dialog_for(qtbot, pets)
    choose(qtbot, dialog.roles["weight"], 1)            # Feature -> Ignore: its gaps no longer matter
    choose(qtbot, dialog.roles["id"], 1)
    assert import_button(dialog).isEnabled(), dialog.summary.text()
    assert "one-hot" in dialog.summary.text() and "4 inputs" in dialog.summary.text()
    source = dialog.source()
    assert source["features"] == ["colour", "legs"] and "missing" not in source
    data = load_dataset(source, train_fraction=1.0)
    assert data.feature_names == ("colour=black", "colour=ginger", "colour=white", "legs")
    assert data.n_classes == 2 and data.X_train.shape == (30, 4)


def test_choosing_another_target_frees_the_old_one_and_guesses_the_task(qtbot, pets):
    dialog = dialog_for(qtbot, pets)
    choose(qtbot, dialog.roles["id"], 1)
    choose(qtbot, dialog.roles["legs"], 1)
    choose(qtbot, dialog.roles["weight"], 2)            # Feature -> Ignore -> Target
    assert dialog.target() == "weight" and dialog.role("kind") == "feature"
    assert dialog.task.currentData() == "classification"    # five whole values: looks like labels
    choose(qtbot, dialog.task, 1)
    assert dialog.task.currentData() == "regression"
    box = dialog.drop_missing
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    assert "regression on weight" in dialog.summary.text()
    assert dialog.source()["target"] == "weight"


def test_no_target_is_named(qtbot, pets):
    dialog = dialog_for(qtbot, pets)
    choose(qtbot, dialog.roles["kind"], -1)              # Target -> Ignore
    assert dialog.target() is None and not import_button(dialog).isEnabled()
    assert "choose a target column" in dialog.summary.text()


def test_a_file_beside_the_project_is_stored_relative(qtbot, pets, tmp_path):
    assert dialog_for(qtbot, pets, project_dir=tmp_path).source()["csv"] == "pets.csv"
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    assert dialog_for(qtbot, pets, project_dir=elsewhere).source()["csv"] == str(pets.resolve())
    assert dialog_for(qtbot, pets).source()["csv"] == str(pets.resolve())
