"""Import a CSV file: see the table, give each column a role, check, then use it.

The file is read once (engine.data.csv_source.inspect_csv); every choice re-runs
the engine's own loader on that table, so the counts and the error shown are
exactly what training will get, and a bad choice is named before anything changes.
The project then refers to the file by path: relative when it sits in the
project's folder, so the two can move together.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from engine.data.csv_source import TASKS, CsvColumn, CsvTable, load_table
from engine.errors import DataError
from ui.panels.widgets import combo

PREVIEW_ROWS = 200
ROLES = ("feature", "ignore", "target")    # target last: stepping through the list never passes it
MAX_CLASS_GUESS = 20     # a numeric target with at most this many whole values looks like class labels
MISSING_TINT = QColor(255, 170, 60, 110)


def guess_task(column: CsvColumn) -> str:
    whole = all(float(v).is_integer() for v in column.values) if column.kind == "number" else False
    if column.kind != "number" or (whole and column.distinct <= MAX_CLASS_GUESS):
        return "classification"
    return "regression"


def stored_path(csv: Path, project_dir: Path | None) -> str:
    """Relative to the project's folder when the file sits in it (or below), else absolute."""
    csv = csv.resolve()
    if project_dir is not None:
        try:
            return csv.relative_to(Path(project_dir).resolve()).as_posix()
        except ValueError:
            pass
    return str(csv)


def _holds(column: CsvColumn) -> str:
    if column.kind == "number":
        return "numbers"
    if column.kind == "mixed":
        return "numbers and text"
    many = "more than 50" if column.distinct > 50 else str(column.distinct)
    return f"text, {many} values"


class CsvImportDialog(QDialog):
    def __init__(self, table: CsvTable, project_dir: Path | None = None, parent=None):
        super().__init__(parent)
        self.table = table
        self.project_dir = project_dir
        self.setWindowTitle(f"Import {table.path.name}")
        self.preview = self._preview_table()
        self.columns = QTableWidget(len(table.header), 4)
        self.columns.setAccessibleName("Column roles")
        self.columns.setToolTip("What each column is for: an input feature, the target to predict, or ignored.")
        self.columns.setHorizontalHeaderLabels(["Column", "Holds", "Missing", "Role"])
        self.columns.verticalHeader().hide()
        self.roles: dict[str, QComboBox] = {}
        for r, column in enumerate(table.columns):
            self._column_row(r, column)
        self.columns.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.task = combo("Task", "Classification: the target holds class labels. "
                                  "Regression: it holds numbers to predict.", [(t, t, "") for t in TASKS])
        self.standardize = QCheckBox("Standardize inputs")
        self.standardize.setChecked(True)
        self.standardize.setAccessibleName("Standardize inputs")
        self.standardize.setToolTip("Shift and scale every input column to mean 0 and standard deviation 1, "
                                    "so no input dominates the gradient just because of its units.")
        self.drop_missing = QCheckBox("Leave out rows with a missing value")
        self.drop_missing.setAccessibleName("Leave out rows with missing values")
        self.drop_missing.setToolTip("Rows with an empty cell in a used column are skipped; "
                                     "otherwise such a row stops the import.")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Import summary")
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        for button, name in ((self.buttons.button(QDialogButtonBox.Ok), "Import"),
                             (self.buttons.button(QDialogButtonBox.Cancel), "Cancel import")):
            button.setAccessibleName(name)
            button.setToolTip(name)
        self.buttons.button(QDialogButtonBox.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._layout()
        self._set_target(table.header[-1])
        self.task.currentIndexChanged.connect(self._check)
        self.standardize.toggled.connect(self._check)
        self.drop_missing.toggled.connect(self._check)
        self.resize(760, 640)

    # -- building ---------------------------------------------------------------------
    def _preview_table(self) -> QTableWidget:
        rows = self.table.rows[:PREVIEW_ROWS]
        preview = QTableWidget(len(rows), len(self.table.header))
        preview.setAccessibleName("Preview")
        preview.setToolTip(f"The first {len(rows):,} of {len(self.table.rows):,} rows; empty cells are tinted.")
        preview.setHorizontalHeaderLabels(list(self.table.header))
        preview.setVerticalHeaderLabels([str(line) for line, _ in rows])      # the file's line numbers
        preview.setEditTriggers(QTableWidget.NoEditTriggers)
        for r, (_, fields) in enumerate(rows):
            for c, text in enumerate(fields):
                item = QTableWidgetItem(text)
                if not text:
                    item.setBackground(QBrush(MISSING_TINT))
                    item.setToolTip("missing")
                preview.setItem(r, c, item)
        return preview

    def _column_row(self, r: int, column: CsvColumn) -> None:
        self.columns.setItem(r, 0, QTableWidgetItem(column.name))
        self.columns.setItem(r, 1, QTableWidgetItem(_holds(column)))
        gaps = column.missing_lines
        missing = QTableWidgetItem(f"{len(gaps):,}" if gaps else "–")
        if gaps:
            shown = ", ".join(str(line) for line in gaps[:12]) + (", …" if len(gaps) > 12 else "")
            missing.setToolTip(f"Empty on rows {shown}")
        self.columns.setItem(r, 2, missing)
        for c in range(3):
            self.columns.item(r, c).setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
        role = combo(f"Role of {column.name}", f"What column {column.name} is for.",
                     [("Feature", "feature", "An input of the network."),
                      ("Ignore", "ignore", "Left out: an id, a note, a column you do not want."),
                      ("Target", "target", "What the network predicts (one column).")])
        if column.kind == "mixed":      # a typo in a number column: usable only when fixed
            role.setCurrentIndex(ROLES.index("ignore"))
        role.currentIndexChanged.connect(lambda _=0, name=column.name: self._role_changed(name))
        self.roles[column.name] = role
        self.columns.setCellWidget(r, 3, role)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Task", self.task)
        form.addRow(self.standardize)
        form.addRow(self.drop_missing)
        layout = QVBoxLayout(self)
        path = QLabel(str(self.table.path))
        path.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(path)
        layout.addWidget(self.preview, 3)
        layout.addWidget(self.columns, 2)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

    # -- choices ----------------------------------------------------------------------
    def role(self, name: str) -> str:
        return self.roles[name].currentData()

    def target(self) -> str | None:
        return next((name for name in self.table.header if self.role(name) == "target"), None)

    def features(self) -> list[str]:
        return [name for name in self.table.header if self.role(name) == "feature"]

    def _set_target(self, name: str) -> None:
        self.roles[name].setCurrentIndex(ROLES.index("target"))     # _role_changed does the rest

    def _role_changed(self, name: str) -> None:
        if self.role(name) == "target":
            for other, box in self.roles.items():       # one target: the previous one becomes an input again
                if other != name and box.currentData() == "target":
                    box.blockSignals(True)
                    box.setCurrentIndex(ROLES.index("feature"))
                    box.blockSignals(False)
            self.task.blockSignals(True)
            self.task.setCurrentIndex(TASKS.index(guess_task(self.table.column(name))))
            self.task.blockSignals(False)
        self._check()

    def source(self) -> dict:
        """The project's data.source for these choices (keys added only when not the default)."""
        source = {"csv": stored_path(self.table.path, self.project_dir), "target": self.target(),
                  "task": self.task.currentData(), "standardize": self.standardize.isChecked()}
        features = self.features()
        if len(features) != len(self.table.header) - 1:
            source["features"] = features
        if self.drop_missing.isChecked():
            source["missing"] = "drop"
        return source

    # -- checking ---------------------------------------------------------------------
    def _check(self) -> None:
        used = [self.target(), *self.features()]
        gaps = {line for name in used if name for line in self.table.column(name).missing_lines}
        self.drop_missing.setEnabled(bool(gaps))
        ok_button = self.buttons.button(QDialogButtonBox.Ok)
        try:
            if self.target() is None:
                raise DataError("choose a target column (Role: Target)")
            X, y, names, classes = load_table(self.table, self.target(), self.task.currentData(),
                                              self.standardize.isChecked(), features=self.features(),
                                              missing="drop" if self.drop_missing.isChecked() else "error")
        except DataError as exc:
            self.summary.setText(f"<span style='color:#c62828'>Cannot import: {_escape(str(exc))}</span>")
            ok_button.setEnabled(False)
            return
        ok_button.setEnabled(True)
        self.summary.setText(self._counts(len(y), names, classes, y, len(gaps) if self.drop_missing.isChecked()
                                          else 0))

    def _counts(self, n_rows: int, names, classes, y, dropped: int) -> str:
        rows = f"{n_rows:,} rows"
        if dropped:
            rows += f" ({dropped:,} left out for missing values)"
        inputs = f"{len(names)} input{'s' * (len(names) != 1)}"
        encoded = len(names) - len(self.features())
        if encoded:
            inputs += f" (text columns one-hot encoded: {encoded} extra)"
        if not classes:
            return f"{rows} · {inputs} · regression on {self.target()}"
        counts = Counter(y.tolist())
        listed = ", ".join(f"{_escape(str(c))}: {counts[k]:,}" for k, c in enumerate(classes[:12]))
        more = f", … ({len(classes) - 12} more)" if len(classes) > 12 else ""
        return f"{rows} · {inputs} · {len(classes)} classes ({listed}{more})"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def project_folder(project) -> Path | None:
    """The folder a relative CSV path is stored against: the saved project's, if any."""
    return Path(os.fspath(project.path)).parent if getattr(project, "path", None) else None
