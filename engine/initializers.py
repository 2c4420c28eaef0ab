"""Weight initialisers: how the first weights are drawn, seeded.

Glorot (Xavier) keeps the variance of activations roughly constant through tanh or
sigmoid layers: Var(w) = 2 / (fan_in + fan_out).  He (Kaiming) doubles it for ReLU,
which zeroes half its inputs: Var(w) = 2 / fan_in.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError
from .validate import brief, number

# name -> (parameters with their defaults; None means required)
INITIALIZERS: dict[str, dict[str, float | None]] = {
    "zeros": {},
    "constant": {"value": None},
    "uniform": {"a": 0.0, "b": 1.0},          # torch.nn.init.uniform_ defaults
    "normal": {"std": 1.0},                   # torch.nn.init.normal_ default, mean 0
    "glorot_uniform": {},
    "glorot_normal": {},
    "he_uniform": {},
    "he_normal": {},
}
DEFAULT_INIT = "glorot_uniform"
# Where an editor starts a required parameter (the format itself has no default for it).
INIT_STARTING_VALUES: dict[str, dict[str, float]] = {"constant": {"value": 0.1}}


def _split(spec: Any, where: str) -> tuple[str, dict]:
    if isinstance(spec, str):
        name, params = spec, {}
    elif isinstance(spec, dict) and isinstance(spec.get("name"), str):
        name, params = spec["name"], {k: v for k, v in spec.items() if k != "name"}
    else:
        raise ConfigError(f"{where}: must be an initialiser name or {{\"name\": ..., ...}}, got {brief(spec)}")
    if name not in INITIALIZERS:
        raise ConfigError(f"{where}: unknown initialiser {brief(name)}; choose one of {', '.join(INITIALIZERS)}")
    allowed = INITIALIZERS[name]
    for key, value in params.items():
        if key not in allowed:
            raise ConfigError(f"{where}.{brief(key)}: {name} takes no such parameter"
                              + (f" (it takes {', '.join(allowed)})" if allowed else ""))
    # number() also refuses integers too large for a float, which math.isfinite would not survive.
    params = {key: number(f"{where}.{key}", value) for key, value in params.items()}
    merged = {k: params.get(k, default) for k, default in allowed.items()}
    missing = [k for k, v in merged.items() if v is None]
    if missing:
        raise ConfigError(f"{where}: {name} needs '{missing[0]}'")
    if name == "uniform":
        _check_uniform_bounds(merged["a"], merged["b"], where)
    if name == "normal" and merged["std"] < 0:
        raise ConfigError(f"{where}.std: must be >= 0, got {merged['std']}")
    return name, merged


def _check_uniform_bounds(a: float, b: float, where: str) -> None:
    if a >= b:
        raise ConfigError(f"{where}: uniform needs a < b, got a={a:g}, b={b:g}")
    # NumPy draws a + (b - a) * u and refuses (OverflowError) when b - a is not a finite float.
    if not math.isfinite(b - a):
        raise ConfigError(f"{where}: uniform needs b - a to be a finite number, got a={a:g}, b={b:g}")


def check_init(spec: Any, where: str) -> None:
    """Raise ConfigError if ``spec`` is not a valid initialiser description."""
    _split(spec, where)


def initialize(out: np.ndarray, spec: Any, rng: np.random.Generator) -> None:
    """Fill the weight matrix ``out`` ([units, fan_in], torch layout) in place."""
    name, p = _split(spec, "init")
    fan_out, fan_in = out.shape
    if name == "zeros":
        out[...] = 0.0
    elif name == "constant":
        out[...] = p["value"]
    elif name == "uniform":
        out[...] = rng.uniform(p["a"], p["b"], out.shape)
    elif name == "normal":
        out[...] = rng.normal(0.0, p["std"], out.shape)
    elif name == "glorot_uniform":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        out[...] = rng.uniform(-limit, limit, out.shape)
    elif name == "glorot_normal":
        out[...] = rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), out.shape)
    elif name == "he_uniform":
        limit = math.sqrt(6.0 / fan_in)
        out[...] = rng.uniform(-limit, limit, out.shape)
    else:  # he_normal
        out[...] = rng.normal(0.0, math.sqrt(2.0 / fan_in), out.shape)
