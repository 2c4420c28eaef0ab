"""What the network gets right and wrong, for the views of data without an input plane.

Classification: a confusion matrix (rows: true class, columns: predicted) for the
training and the test rows, per-class accuracy, and the first misclassified rows.
Regression: predicted against actual values.  Computed in the engine's process from
a session (see playground/frames.py) so the views only draw.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WRONG = 64           # misclassified rows listed (enough to fill a grid of images)
MAX_POINTS = 2000        # predicted-vs-actual points per set; more only hide each other


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts [true class, predicted class] as int64."""
    index = np.asarray(true, dtype=np.int64) * n_classes + np.asarray(predicted, dtype=np.int64)
    return np.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Share of each true class predicted right; NaN for a class with no rows."""
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)


@dataclass(frozen=True, eq=False)
class ClassOutcomes:
    classes: tuple
    train: np.ndarray                 # confusion matrix of the training rows
    test: np.ndarray | None           # of the test rows; None without a test set
    wrong_rows: np.ndarray            # indices of misclassified rows (first MAX_WRONG)
    wrong_predicted: np.ndarray       # the class index predicted for each of them
    wrong_in: str                     # "test" or "train": which rows the indices are into
    wrong_count: int                  # misclassified rows in that set, all of them

    def accuracy_by_class(self, confusion: np.ndarray) -> np.ndarray:
        return per_class_accuracy(confusion)


@dataclass(frozen=True, eq=False)
class RegressionOutcomes:
    actual_train: np.ndarray          # [n, outputs], at most MAX_POINTS rows
    predicted_train: np.ndarray
    actual_test: np.ndarray | None
    predicted_test: np.ndarray | None


def _thin(n: int) -> np.ndarray:
    return np.arange(n) if n <= MAX_POINTS else np.linspace(0, n - 1, MAX_POINTS).astype(np.int64)


def class_outcomes(classes, true_train, pred_train, true_test=None, pred_test=None) -> ClassOutcomes:
    n = len(classes)
    train = confusion_matrix(true_train, pred_train, n)
    test = None if true_test is None or len(true_test) == 0 else confusion_matrix(true_test, pred_test, n)
    true, pred, where = (true_test, pred_test, "test") if test is not None else (true_train, pred_train, "train")
    wrong = np.flatnonzero(np.asarray(true) != np.asarray(pred))
    shown = wrong[:MAX_WRONG]
    return ClassOutcomes(tuple(classes), train, test, shown, np.asarray(pred)[shown], where, int(len(wrong)))


def regression_outcomes(actual_train, predicted_train, actual_test=None, predicted_test=None) -> RegressionOutcomes:
    keep = _thin(len(actual_train))
    test = None
    if actual_test is not None and len(actual_test):
        k = _thin(len(actual_test))
        test = (np.asarray(actual_test, dtype=np.float64)[k], np.asarray(predicted_test, dtype=np.float64)[k])
    return RegressionOutcomes(np.asarray(actual_train, dtype=np.float64)[keep],
                              np.asarray(predicted_train, dtype=np.float64)[keep],
                              None if test is None else test[0], None if test is None else test[1])


def session_outcomes(session) -> ClassOutcomes | RegressionOutcomes:
    """The outcomes of a TrainingSession's network on its data as it stands."""
    data = session.dataset

    def predict(X):
        out = session.network.forward(X, training=False)
        return session.head.predict_classes(out) if data.task == "classification" else np.array(out)

    has_test = len(data.y_test) > 0
    pred_train = predict(session.X_train)
    pred_test = predict(session.X_test) if has_test else None
    if data.task == "classification":
        return class_outcomes(data.classes, data.y_train, pred_train,
                              data.y_test if has_test else None, pred_test)
    return regression_outcomes(data.y_train, pred_train, data.y_test if has_test else None, pred_test)
