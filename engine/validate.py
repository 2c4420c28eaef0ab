"""Field checks shared by every part that reads user input.

Each returns the normalised value or raises ``ConfigError`` whose message starts
with ``where`` (the field's path, e.g. ``training.optimizer.lr``).
"""
from __future__ import annotations

import math
import numbers
import reprlib
import sys
from typing import Any

import numpy as np

from .errors import ConfigError

# JSON integers are unbounded, floats are not: an integer above this cannot become a
# float (float() raises OverflowError), so it is refused by name before any conversion.
LARGEST_FLOAT_INT = int(sys.float_info.max)
# Messages are one line; a hostile file's 10 MB string or 4,000-digit number would
# make that line unreadable, so values are shown shortened.
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 6
_SHORT.maxlevel = 3
_MAX_SHOWN_DIGITS = 30


def brief(value: Any) -> str:
    """A short repr for messages: long strings, lists and integers are abbreviated."""
    if isinstance(value, int) and not isinstance(value, bool):
        digits = _digit_count(value)
        if digits > _MAX_SHOWN_DIGITS:
            return f"an integer of {digits:,} digits"
    try:
        return _SHORT.repr(value)
    except ValueError:     # an integer nested in a container beyond Python's int-to-str limit
        return f"a {type(value).__name__}"


def _digit_count(value: int) -> int:
    try:
        return len(str(abs(value)))
    except ValueError:     # over Python's int-to-str limit (4,300 digits): estimate from the bits
        return int(abs(value).bit_length() * math.log10(2)) + 1


def show(value: Any) -> str:
    """A value and its JSON-ish type, for 'got ...' in messages."""
    return f"{brief(value)} ({type(value).__name__})"


def _plain_number(where: str, value: Any, error: type[ConfigError]) -> int | float:
    """``value`` as a Python int (kept exact) or a finite float; refuses what no float can hold."""
    if isinstance(value, numbers.Integral):
        value = int(value)
        if abs(value) > LARGEST_FLOAT_INT:
            raise error(f"{where}: {brief(value)} is too large (numbers must be below {sys.float_info.max:.4g})")
        return value
    try:
        value = float(value)
    except OverflowError:      # e.g. a Fraction too big for a float
        raise error(f"{where}: {brief(value)} is too large (numbers must be below "
                    f"{sys.float_info.max:.4g})") from None
    if not math.isfinite(value):
        raise error(f"{where}: must be a finite number, got {value!r}")
    return value


def number(where: str, value: Any, *, integer: bool = False, low: float | None = None,
           high: float | None = None, low_open: bool = False, high_open: bool = False,
           error: type[ConfigError] = ConfigError) -> float | int:
    """A finite number (never a bool), optionally an integer, optionally within bounds.

    With ``integer`` a float with an integral value (10.0) is accepted and returned as int.
    Integers are compared with the bounds exactly, never through a float.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(f"{where}: must be {'an integer' if integer else 'a number'}, got {show(value)}")
    value = _plain_number(where, value, error)
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise error(f"{where}: must be an integer, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise error(f"{where}: must be {_bounds(low, high, low_open, high_open)}, got {brief(value)}")
    return value


def _bounds(low, high, low_open: bool, high_open: bool) -> str:
    """'> 0', '<= 1' or 'in (0, 1]': the allowed range as the message states it."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    return f"{'<' if high_open else '<='} {high:g}"


def flag(where: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{where}: must be true or false, got {show(value)}")
    return bool(value)


def float_dtype(dtype: Any, error: type[ConfigError] = ConfigError) -> np.dtype:
    """float32 or float64, the two precisions the engine trains in."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise error(f"dtype: must be float32 or float64, got {brief(dtype)}")
    return dt
