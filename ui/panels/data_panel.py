"""The Data dock: which data set, how noisy, how it is split and batched, which
input features, and the seed.

Every change becomes new project sections (data, seed, training) emitted through
``rebuild_requested``; switching to a set with a different number of classes also
adapts the output layer and loss (``edits.fit_output``) so the project stays valid.
"""
from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QListView, QListWidget,
                               QListWidgetItem, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget)

from engine.data import DEFAULT_FEATURES, DEFAULT_SAMPLES, FEATURES, GENERATORS, SHIPPED, source_target
from engine.data.csv_source import inspect_csv
from engine.errors import ConfigError
from playground import edits
from playground.project import DEFAULT_BATCH_SIZE
from ui.panels.csv_dialog import CsvImportDialog, project_folder
from ui.panels.messages import show_error
from ui.panels.thumbnails import SIZE, source_thumbnails
from ui.panels.widgets import signals_blocked

FEATURE_TIPS = {"x1": "The first coordinate.", "x2": "The second coordinate.",
                "x1^2": "x1 squared: lets one layer draw circles and other curved boundaries.",
                "x2^2": "x2 squared: lets one layer draw circles and other curved boundaries.",
                "x1*x2": "The product: positive in two opposite quadrants, which is XOR's pattern.",
                "sin(x1)": "A wave along x1: helps with periodic patterns.",
                "sin(x2)": "A wave along x2: helps with periodic patterns."}


def _slider(name: str, tip: str, low: int, high: int) -> QSlider:
    slider = QSlider(Qt.Horizontal)
    slider.setRange(low, high)
    slider.setAccessibleName(name)
    slider.setToolTip(tip)
    return slider


class DataPanel(QWidget):
    rebuild_requested = Signal(dict, bool)       # sections for Project.with_changes, keep_weights
    csv_file_wanted = Signal()                   # ask the window for a path (a file dialog it owns)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._project = None
        self.thumbnails = source_thumbnails()
        self.sources = QListWidget()
        self.sources.setViewMode(QListView.IconMode)
        self.sources.setIconSize(QSize(SIZE, SIZE))
        self.sources.setGridSize(QSize(SIZE + 22, SIZE + 24))
        self.sources.setResizeMode(QListView.Adjust)
        self.sources.setMovement(QListView.Static)
        self.sources.setAccessibleName("Data set")
        self.sources.setToolTip("The data to learn. Built-in 2-D sets show the decision boundary; "
                                "iris and digits have more inputs.")
        for name, pixmap in self.thumbnails.items():
            item = QListWidgetItem(QIcon(pixmap), name)
            item.setData(Qt.UserRole, name)
            item.setToolTip(GENERATORS[name].description if name in GENERATORS else SHIPPED[name].description)
            self.sources.addItem(item)
        rows = -(-self.sources.count() // 3)
        self.sources.setFixedHeight(rows * (SIZE + 24) + 8)
        self.csv_button = QPushButton("Import CSV…")
        self.csv_button.setAccessibleName("Import CSV")
        self.csv_button.setToolTip("Train on your own table: choose a CSV file with a header row, "
                                   "then its target column and task.")
        self.loaded = QLabel()
        self.loaded.setAccessibleName("Loaded data")
        self.loaded.setWordWrap(True)
        self.noise = _slider("Noise", "How much the points are jittered: more noise, blurrier classes, "
                                      "more chance to overfit.", 0, 50)
        self.noise_label = QLabel()
        self.train_percent = _slider("Training data ratio", "Share of the points used for training; "
                                     "the rest is the test set the loss is also measured on.", 10, 100)
        self.train_label = QLabel()
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 10_000)
        self.batch_size.setAccessibleName("Batch size")
        self.batch_size.setToolTip("Rows averaged per update: small batches give noisy but cheap gradients, "
                                   "large ones smooth but expensive gradients.")
        self.full_batch = QCheckBox("Full")
        self.full_batch.setAccessibleName("Full batch")
        self.full_batch.setToolTip("Use every training row in each update: the exact gradient of the training loss.")
        self.features = {}
        for name in FEATURES:
            box = QCheckBox(name)
            box.setAccessibleName(f"Feature {name}")
            box.setToolTip(FEATURE_TIPS.get(name, name))
            self.features[name] = box
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setAccessibleName("Seed")
        self.seed.setToolTip("Fixes every random choice (points, split, initial weights, batch order): "
                             "the same seed gives the same run.")
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setAccessibleName("Regenerate data")
        self.regenerate.setToolTip("Draw new points and new initial weights (the next seed).")
        self._layout()
        self._connect()

    def _layout(self) -> None:
        features = QGridLayout()
        features.setSpacing(2)
        for k, box in enumerate(self.features.values()):
            features.addWidget(box, k // 2, k % 2)
        batch = QHBoxLayout()
        batch.addWidget(self.batch_size, 1)
        batch.addWidget(self.full_batch)
        seed = QHBoxLayout()
        seed.addWidget(self.seed, 1)
        seed.addWidget(self.regenerate)
        noise, ratio = QHBoxLayout(), QHBoxLayout()
        noise.addWidget(self.noise, 1)
        noise.addWidget(self.noise_label)
        ratio.addWidget(self.train_percent, 1)
        ratio.addWidget(self.train_label)
        form = QFormLayout()
        form.addRow("Noise", noise)
        form.addRow("Train share", ratio)
        form.addRow("Batch size", batch)
        form.addRow("Seed", seed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sources)
        layout.addWidget(self.loaded)
        layout.addWidget(self.csv_button)
        layout.addLayout(form)
        layout.addWidget(QLabel("Input features"))
        layout.addLayout(features)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.sources.itemClicked.connect(lambda item: self._source_chosen(item.data(Qt.UserRole)))
        self.csv_button.clicked.connect(self.csv_file_wanted)
        for slider in (self.noise, self.train_percent):
            slider.valueChanged.connect(self._update_labels)
            # While dragging, only the label moves; the data is rebuilt once on release.
            slider.valueChanged.connect(lambda _=0, s=slider: None if s.isSliderDown() else self._data_changed())
            slider.sliderReleased.connect(self._data_changed)
        self.batch_size.editingFinished.connect(self._batch_changed)
        self.full_batch.toggled.connect(self._batch_changed)
        for box in self.features.values():
            box.toggled.connect(self._data_changed)
        self.seed.editingFinished.connect(self._seed_changed)
        self.regenerate.clicked.connect(lambda: self._emit_seed(self.seed.value() + 1))

    def _update_labels(self) -> None:
        self.noise_label.setText(f"{self.noise.value()}%")
        self.train_label.setText(f"{self.train_percent.value()}%")

    # -- showing a project ------------------------------------------------------------
    def show_project(self, project) -> None:
        self._project = project
        data = project.data
        source = data["source"]
        widgets = [self.sources, self.noise, self.train_percent, self.batch_size, self.full_batch, self.seed,
                   *self.features.values()]
        with signals_blocked(*widgets):
            self.sources.clearSelection()
            for k in range(self.sources.count()):
                item = self.sources.item(k)
                item.setSelected(isinstance(source, str) and item.data(Qt.UserRole) == source)
            self.noise.setValue(round(100 * data.get("noise", 0.0)))
            self.train_percent.setValue(round(100 * data.get("train_fraction", 0.5)))
            batch = project.training.get("batch_size", DEFAULT_BATCH_SIZE)
            self.full_batch.setChecked(batch == "full")
            self.batch_size.setEnabled(batch != "full")
            if batch != "full":
                self.batch_size.setValue(batch)
            self.seed.setValue(project.seed)
            generated = isinstance(source, str) and source in GENERATORS
            chosen = set(data.get("features", DEFAULT_FEATURES))
            for name, box in self.features.items():
                box.setChecked(name in chosen)
                box.setEnabled(generated)
            self.noise.setEnabled(generated)
        self._show_loaded(source, project)
        self._update_labels()

    def _show_loaded(self, source, project) -> None:
        if isinstance(source, dict):
            path = Path(source["csv"]).expanduser()
            where = path if path.is_absolute() else project.base_dir / path
            self.loaded.setText(f"CSV file: <b>{path.name}</b>, target {source['target']}")
            self.loaded.setToolTip(f"{where}\n(stored in the project as {source['csv']!r})")
        else:
            self.loaded.setText(f"Data set: <b>{source}</b>")
            self.loaded.setToolTip(GENERATORS[source].description if source in GENERATORS
                                   else SHIPPED[source].description)

    # -- edits -------------------------------------------------------------------------
    def _data(self, **changes) -> dict:
        data = copy.deepcopy(self._project.data)
        data.update(changes)
        return data

    def _source_chosen(self, name: str) -> None:
        if self._project is None or self._project.data["source"] == name:
            return
        try:
            task, n_outputs = source_target(name)
        except ConfigError as exc:        # a shipped file gone missing, say
            show_error(self, f"Cannot use the {name} data set", str(exc))
            self.show_project(self._project)     # the selection goes back to the project's source
            return
        data = self._data(source=name)
        for key in ("added", "removed"):       # points edited by hand belong to the set they were edited on
            data.pop(key, None)
        if name in GENERATORS:
            data.pop("standardize", None)
            data.setdefault("samples", DEFAULT_SAMPLES)
            data.setdefault("features", list(DEFAULT_FEATURES))
        else:
            data["standardize"] = True      # measurements in different units: scale them alike
        self._emit_data(data, task, n_outputs)

    def _emit_data(self, data: dict, task: str, n_outputs: int) -> None:
        sections = {"data": data}
        sections.update(edits.fit_output(self._project.document, task, n_outputs))
        self.rebuild_requested.emit(sections, False)

    def _data_changed(self) -> None:
        if self._project is None:
            return
        changes = {"noise": self.noise.value() / 100, "train_fraction": self.train_percent.value() / 100}
        if isinstance(self._project.data["source"], str) and self._project.data["source"] in GENERATORS:
            changes["features"] = [n for n, box in self.features.items() if box.isChecked()]
        data = self._data(**changes)
        if data != self._project.data:
            self.rebuild_requested.emit({"data": data}, False)

    def _batch_changed(self) -> None:
        if self._project is None:
            return
        self.batch_size.setEnabled(not self.full_batch.isChecked())
        batch = "full" if self.full_batch.isChecked() else self.batch_size.value()
        if batch != self._project.training.get("batch_size", DEFAULT_BATCH_SIZE):
            training = dict(copy.deepcopy(self._project.training), batch_size=batch)
            self.rebuild_requested.emit({"training": training}, True)

    def _seed_changed(self) -> None:
        if self._project is not None and self.seed.value() != self._project.seed:
            self._emit_seed(self.seed.value())

    def _emit_seed(self, seed: int) -> None:
        if self._project is not None:
            sections = {"seed": seed}
            if "removed" in self._project.data:     # indices into the points of the old seed: meaningless now
                sections["data"] = {k: v for k, v in self._project.data.items() if k != "removed"}
            self.rebuild_requested.emit(sections, False)

    def import_csv(self, path: str) -> bool:
        """Show the file in the import dialog, and use it as the user set it up there."""
        if self._project is None:
            return False
        try:
            table = inspect_csv(Path(path))
        except ConfigError as exc:
            show_error(self, "Cannot import the CSV file", str(exc))
            return False
        dialog = CsvImportDialog(table, project_folder(self._project), self)
        if dialog.exec() != CsvImportDialog.Accepted:
            return False
        source = dialog.source()
        try:
            task, n_outputs = source_target(source, base_dir=self._project.base_dir)
        except ConfigError as exc:      # the file changed since the dialog read it
            show_error(self, "Cannot import the CSV file", str(exc))
            return False
        data = {"source": source, "train_fraction": self._project.data.get("train_fraction", 0.8)}
        self._emit_data(data, task, n_outputs)
        return True
