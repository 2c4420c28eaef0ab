"""Import a CSV file: choose the target column and the task, check, then use it.

The file is read once here (engine.data.load_csv) so a bad file is reported in a
message box before anything changes; the project then refers to it by path.
"""
from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel

from engine.data.csv_source import TASKS
from engine.errors import DataError


def read_header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.reader(handle):
                if any(cell.strip() for cell in row):
                    return [cell.strip() for cell in row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from None
    raise DataError(f"{path}: the file is empty")


class CsvImportDialog(QDialog):
    def __init__(self, path: Path, columns: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Import {path.name}")
        self.path = path
        self.target = QComboBox()
        self.target.addItems(columns)
        self.target.setCurrentIndex(len(columns) - 1)
        self.target.setAccessibleName("Target column")
        self.target.setToolTip("The column the network should predict; every other column is an input.")
        self.task = QComboBox()
        self.task.addItems(TASKS)
        self.task.setAccessibleName("Task")
        self.task.setToolTip("Classification: the target holds class labels. Regression: it holds numbers to predict.")
        self.standardize = QCheckBox("Standardize inputs")
        self.standardize.setChecked(True)
        self.standardize.setAccessibleName("Standardize inputs")
        self.standardize.setToolTip("Shift and scale every input column to mean 0 and standard deviation 1, "
                                    "so no input dominates the gradient just because of its units.")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        for button, name in ((buttons.button(QDialogButtonBox.Ok), "Import"),
                             (buttons.button(QDialogButtonBox.Cancel), "Cancel import")):
            button.setAccessibleName(name)
            button.setToolTip(name)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel(str(path)))
        form.addRow("Target column", self.target)
        form.addRow("Task", self.task)
        form.addRow(self.standardize)
        form.addRow(buttons)

    def source(self) -> dict:
        return {"csv": str(self.path), "target": self.target.currentText(), "task": self.task.currentText(),
                "standardize": self.standardize.isChecked()}
