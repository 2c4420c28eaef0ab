"""Comparison presets: pairs of example projects that differ in one setting, each pair
answering one of the follow-up questions about backprop by showing it.

The first project of a pair is the reference, trained and kept as a run; the second
is the one to watch, trained with the first laid over it in the loss plot.  Each
project's ``note`` says what to look for.  tests/playground/test_compare_presets.py
trains both sides headless and checks that each pair shows what its note claims.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playground.examples import EXAMPLES_DIR

COMPARE_DIR = EXAMPLES_DIR / "compare"


@dataclass(frozen=True)
class ComparePreset:
    key: str
    title: str                  # a button's text
    question: str               # what the pair answers, in a sentence
    paths: tuple[Path, Path]    # the reference, then the run to watch
    steps: int                  # optimiser updates each side trains for
    view: str = "loss"          # what the loss plot should show: "loss" or "accuracy"
    look_at: str = "the Loss panel"     # where the difference shows


def _pair(first: str, second: str) -> tuple[Path, Path]:
    return COMPARE_DIR / f"{first}.json", COMPARE_DIR / f"{second}.json"


PRESETS: tuple[ComparePreset, ...] = (
    ComparePreset("fprime", "Remove f' from backprop",
                  "What if backprop left out the derivative of the transfer function?",
                  _pair("fprime-kept", "fprime-removed"), steps=1500),
    ComparePreset("mse-vs-ce", "Sigmoid + MSE vs cross-entropy",
                  "Why does a saturated sigmoid learn so slowly with MSE, and not with cross-entropy?",
                  _pair("sigmoid-cross-entropy", "sigmoid-mse"), steps=2000, view="accuracy",
                  look_at="the Loss panel, showing accuracy"),
    ComparePreset("deep", "Sigmoid vs ReLU, 6 layers deep",
                  "Why do deep sigmoid networks hardly learn? (the vanishing gradient)",
                  _pair("deep-relu", "deep-sigmoid"), steps=1500, look_at="the Gradient norm per layer panel"),
    ComparePreset("sign-sgd", "Sign-SGD: fixed vs decaying step",
                  "Why does sign-SGD need a step that shrinks?",
                  _pair("sign-sgd-decaying", "sign-sgd-fixed"), steps=2000),
)
