"""Progress reports and cancellation for long engine computations.

A long computation (the loss landscape, the 2/lambda demo) calls ``report(progress,
fraction)`` as it goes; the caller's ``progress(fraction)`` returns True to go on and
False to stop, and then ``Cancelled`` ends the computation.  Cancelling is an
exception rather than a partial result: half a landscape grid is not a landscape.
"""
from __future__ import annotations

from typing import Callable, Optional

Progress = Optional[Callable[[float], bool]]


class Cancelled(Exception):
    """The caller's progress callback asked the computation to stop."""


def report(progress: Progress, fraction: float) -> None:
    """Tell ``progress`` how far the work is (0..1); raise ``Cancelled`` if it returns False."""
    if progress is None:
        return
    go_on = progress(min(1.0, max(0.0, float(fraction))))
    if go_on is False:
        raise Cancelled(f"cancelled at {fraction:.0%}")
    if go_on is not True:
        raise TypeError(f"a progress callback must return True (go on) or False (cancel), got {go_on!r}")


def part(progress: Progress, start: float, end: float) -> Progress:
    """A callback for one stage of a longer computation: its 0..1 maps to start..end."""
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * fraction)
