"""Learning-rate schedules: ``lr(t)`` for the optimiser update number ``t``.

``t`` is the number of optimiser updates done before this one (0 for the first
update).  ``lr`` below is the base learning rate (the optimiser's ``lr``).

Every schedule accepts an optional ``warmup`` W (an int >= 0)::

    lr(t) = base(0) * (t + 1) / W     for t < W
    lr(t) = base(t - W)               for t >= W

where ``base`` is the schedule's own formula, so the decay starts once the
warm-up ends.  Build one with :func:`make_schedule` from the project's
``training.schedule`` object; bad input raises :class:`ConfigError` naming
``training.schedule.<key>``.
"""
from __future__ import annotations

import math
from typing import Any


from engine.errors import ConfigError
from engine.validate import number, show as _show

FIELD = "training.schedule"

SCHEDULES: tuple[str, ...] = ("constant", "step", "exponential", "inverse_time", "log", "cosine")


def _field(key: str) -> str:
    return f"{FIELD}.{key}"


def _real(key: str, value: Any, **bounds) -> float:
    """A finite number; ``bounds`` as engine.validate.number takes them."""
    return number(_field(key), value, **bounds)


def _int(key: str, value: Any, low: int) -> int:
    """An integer >= low; a float with an integral value (10.0) is accepted."""
    return number(_field(key), value, integer=True, low=low)


def _pow(base: float, exponent: int) -> float:
    try:
        return base ** exponent
    except OverflowError:
        return math.inf


_REQUIRED = object()


class Schedule:
    """Base class: ``schedule(t)`` returns the learning rate of update ``t``.

    Applies the warm-up (see the module docstring) around ``_lr(t)``, the
    subclass's own formula.  ``PARAMS`` maps each parameter to its default
    (``_REQUIRED`` if it has none).
    """

    name: str = ""
    PARAMS: dict[str, Any] = {}

    def __init__(self, base_lr: float, /, warmup: Any = 0, **params: Any):
        self.base_lr = number("training.optimizer.lr", base_lr, low=0.0, low_open=True)
        self.warmup = _int("warmup", warmup, 0)
        unknown = [k for k in params if k not in self.PARAMS]
        if unknown:
            raise ConfigError(
                f"{_field(str(unknown[0]))}: unknown parameter for the {self.name} schedule; "
                f"valid: {', '.join(['name', *self.PARAMS, 'warmup'])}")
        for key, default in self.PARAMS.items():
            if key not in params:
                if default is _REQUIRED:
                    raise ConfigError(f"{_field(key)}: required by the {self.name} schedule")
                params[key] = default
        self.params: dict[str, Any] = self._validate(params)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The effective settings (defaults filled in), for display."""
        return {**self.params, "warmup": self.warmup}

    def __call__(self, t: int) -> float:
        if t < 0:
            raise ValueError(f"t must be >= 0, got {t!r}")
        w = self.warmup
        if t < w:
            return self._lr(0) * (t + 1) / w
        return self._lr(t - w)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}(base_lr={self.base_lr!r}, {args})"

    def _validate(self, p: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _lr(self, t: int) -> float:
        raise NotImplementedError


class Constant(Schedule):
    """``lr(t) = lr``."""

    name = "constant"
    PARAMS: dict[str, Any] = {}

    def _lr(self, t):
        return self.base_lr


class Step(Schedule):
    """``lr(t) = lr * gamma ** (t // step_size)`` (torch StepLR; step_size required, gamma 0.1)."""

    name = "step"
    PARAMS = {"step_size": _REQUIRED, "gamma": 0.1}

    def _validate(self, p):
        gamma = _real("gamma", p["gamma"], low=0.0, low_open=True)
        return {"step_size": _int("step_size", p["step_size"], 1), "gamma": gamma}

    def _lr(self, t):
        return self.base_lr * _pow(self.params["gamma"], t // self.params["step_size"])


class Exponential(Schedule):
    """``lr(t) = lr * gamma ** t`` (torch ExponentialLR; gamma default 0.99)."""

    name = "exponential"
    PARAMS = {"gamma": 0.99}

    def _validate(self, p):
        gamma = _real("gamma", p["gamma"], low=0.0, low_open=True)
        return {"gamma": gamma}

    def _lr(self, t):
        return self.base_lr * _pow(self.params["gamma"], t)


class InverseTime(Schedule):
    """``lr(t) = lr / (1 + decay * t)`` (decay default 0.01)."""

    name = "inverse_time"
    PARAMS = {"decay": 0.01}

    def _validate(self, p):
        decay = _real("decay", p["decay"], low=0.0)
        return {"decay": decay}

    def _lr(self, t):
        return self.base_lr / (1.0 + self.params["decay"] * t)


class Log(Schedule):
    """``lr(t) = lr / (1 + ln(1 + t))``."""

    name = "log"
    PARAMS: dict[str, Any] = {}

    def _lr(self, t):
        return self.base_lr / (1.0 + math.log1p(t))


class Cosine(Schedule):
    """Cosine annealing without restarts (torch CosineAnnealingLR's closed form).

    ``lr(t) = eta_min + (lr - eta_min) * (1 + cos(pi * min(t, t_max) / t_max)) / 2``

    so it stays at ``eta_min`` after ``t_max`` updates; t_max required (>= 1),
    eta_min default 0 (>= 0).
    """

    name = "cosine"
    PARAMS = {"t_max": _REQUIRED, "eta_min": 0.0}

    def _validate(self, p):
        eta_min = _real("eta_min", p["eta_min"], low=0.0)
        return {"t_max": _int("t_max", p["t_max"], 1), "eta_min": eta_min}

    def _lr(self, t):
        t_max, eta_min = self.params["t_max"], self.params["eta_min"]
        c = math.cos(math.pi * min(t, t_max) / t_max)
        return eta_min + (self.base_lr - eta_min) * (1.0 + c) / 2.0


_CLASSES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, Step, Exponential, InverseTime, Log, Cosine)
}
assert tuple(_CLASSES) == SCHEDULES

#: Per schedule, its parameters and defaults (None where the parameter is required).
SCHEDULE_DEFAULTS: dict[str, dict[str, Any]] = {
    name: {**{k: (None if v is _REQUIRED else v) for k, v in cls.PARAMS.items()}, "warmup": 0}
    for name, cls in _CLASSES.items()
}

#: Where an editor starts a required parameter (the format itself has no default for it).
SCHEDULE_STARTING_VALUES: dict[str, Any] = {"step_size": 500, "t_max": 2000}


def make_schedule(spec: dict | None, base_lr: float) -> Schedule:
    """Build the schedule ``spec`` describes (``None`` means constant).

    ``spec`` is e.g. ``{"name": "step", "step_size": 100, "gamma": 0.5, "warmup": 10}``.
    """
    if spec is None:
        return Constant(base_lr)
    if not isinstance(spec, dict):
        raise ConfigError(f"{FIELD}: must be an object with a 'name', got {_show(spec)}")
    if "name" not in spec:
        raise ConfigError(f"{_field('name')}: missing; valid: {', '.join(SCHEDULES)}")
    name = spec["name"]
    if not isinstance(name, str) or name not in _CLASSES:
        raise ConfigError(
            f"{_field('name')}: unknown schedule {name!r}; valid: {', '.join(SCHEDULES)}")
    params = {k: v for k, v in spec.items() if k != "name"}
    return _CLASSES[name](base_lr, **params)
