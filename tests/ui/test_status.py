"""The status bar's numbers stay readable whatever the loss does."""
from __future__ import annotations


def test_a_huge_loss_fits_the_status_bar():
    from ui.status import _loss
    assert _loss(0.693147) == "0.6931"
    assert _loss(123456789012345678.0) == "1.235e+17"
    assert _loss(float("inf")) == "inf" and _loss(float("nan")) == "NaN" and _loss(None) == "–"
