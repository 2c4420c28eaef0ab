"""A shown result belongs to the weights of one step: say so once they have moved on.

A learner believes the screen, and a stale number is a wrong number: the curvature,
the stable learning rate and a race are measured from the weights of one step.  When
training moves on the result is marked (with both steps); a new network clears it.
"""
from __future__ import annotations


class MeasuredAt:
    def __init__(self):
        self.step: int | None = None
        self.stale = False

    def measured(self, step: int) -> None:
        self.step, self.stale = int(step), False

    def clear(self) -> None:
        self.step, self.stale = None, False

    def moved_to(self, step: int) -> bool:
        """True once, the first time the weights are seen at another step than the result's."""
        if self.step is None or self.stale or step == self.step:
            return False
        self.stale = True
        return True

    def notice(self, now: int) -> str:
        return (f"Measured from the weights of step {self.step:,}; training has moved on (step {now:,}), "
                f"so these numbers are out of date.")
