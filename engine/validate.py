"""Field checks shared by every part that reads user input.

Each returns the normalised value or raises ``ConfigError`` whose message starts
with ``where`` (the field's path, e.g. ``training.optimizer.lr``).
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .errors import ConfigError


def show(value: Any) -> str:
    """A value and its JSON-ish type, for 'got ...' in messages."""
    return f"{value!r} ({type(value).__name__})"


def number(where: str, value: Any, *, integer: bool = False, low: float | None = None,
           high: float | None = None, low_open: bool = False, high_open: bool = False,
           error: type[ConfigError] = ConfigError) -> float | int:
    """A finite number (never a bool), optionally an integer, optionally within bounds.

    With ``integer`` a float with an integral value (10.0) is accepted and returned as int.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(f"{where}: must be {'an integer' if integer else 'a number'}, got {show(value)}")
    if not math.isfinite(float(value)):
        raise error(f"{where}: must be a finite number, got {value!r}")
    if integer:
        if not float(value).is_integer():
            raise error(f"{where}: must be an integer, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    if low is not None and (value <= low if low_open else value < low):
        raise error(f"{where}: must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise error(f"{where}: must be {'<' if high_open else '<='} {high:g}, got {value!r}")
    return value


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
        raise error(f"dtype: must be float32 or float64, got {dtype!r}")
    return dt
