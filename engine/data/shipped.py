"""Small real data sets shipped with the app as CSV files in ``assets/datasets/``.

They are read with ``load_csv`` like any user file, so scikit-learn (which produced
them once, see assets/datasets/README.md) is not needed at run time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.data.csv_source import load_csv

DATASETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "datasets"


@dataclass(frozen=True)
class ShippedDataset:
    """A CSV file in ``DATASETS_DIR`` and how to read it."""

    name: str
    filename: str
    target: str
    task: str
    description: str
    image_shape: tuple[int, int] | None = None      # rows are images of this shape (row-major pixels)

    @property
    def path(self) -> Path:
        return DATASETS_DIR / self.filename

    def load(self, standardize: bool = False):
        """``(X, y, feature_names, classes)`` as ``load_csv`` returns them."""
        return load_csv(self.path, self.target, self.task, standardize=standardize)


SHIPPED: dict[str, ShippedDataset] = {d.name: d for d in (
    ShippedDataset("iris", "iris.csv", "species", "classification",
                   "Fisher's iris flowers: 150 samples, 4 measurements in cm, 3 species."),
    ShippedDataset("digits", "digits.csv", "digit", "classification",
                   "Handwritten digits as 8x8 images of ink counts 0-16: 1797 samples, 64 pixels, 10 classes.",
                   image_shape=(8, 8)),
)}
