"""First-order optimisers that update one flat parameter buffer in place.

Every parameter of a network lives as a view in ONE contiguous 1-D buffer
``params`` and its gradient in a buffer ``grads`` of the same size and dtype
(float32 or float64).  An optimiser updates ``params`` with a handful of
whole-array NumPy ufunc calls writing into preallocated state and scratch
buffers (``out=``), so a step allocates nothing and costs a few microseconds
on a small network.  ``grads`` is only read, never modified.

The update rules and defaults are those of ``torch.optim`` (torch 2.x, with
``maximize=False``); each class docstring spells its rule out.  In the
formulas ``p`` is a parameter, ``g`` its gradient, ``t`` the 1-based number
of this update since construction or ``reset()``, and ``lr`` the learning
rate passed to ``step`` (the schedule's value for this update).  An
optimiser's ``weight_decay`` acts on every element of the buffer, biases
included, as torch.optim's does.

Use :func:`make_optimizer` to build one from the project's
``training.optimizer`` object (validated, :class:`ConfigError` on bad input)
and :func:`base_lr` for the learning rate a schedule starts from.

``state()`` and ``load_state()`` carry everything an optimiser remembers between
updates (the update count ``t`` and its buffers, under torch.optim's state names),
so a saved training continues bit for bit.  Every optimiser here keeps all of its
memory in ``t`` and those buffers: nothing it remembers is left out.  (The race's L-BFGS and other SciPy methods are not training
optimisers: they run to completion inside one race and keep nothing.)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import ConfigError
from engine.validate import flag, float_dtype, number, show as _show

FIELD = "training.optimizer"


# --------------------------------------------------------------------------
# validation helpers: each returns the normalised value or raises ConfigError
# naming ``training.optimizer.<key>``
# --------------------------------------------------------------------------

def _field(key: str) -> str:
    return f"{FIELD}.{key}"


def _real(key: str, value: Any) -> float:
    """A finite real number (int or float, not bool)."""
    return number(_field(key), value)


def _min(key: str, value: Any, low: float, *, strict: bool) -> float:
    """A number > low (``strict``) or >= low."""
    return number(_field(key), value, low=low, low_open=strict)


def _interval(key: str, value: Any, low: float, high: float, *, high_open: bool) -> float:
    """A number in [low, high) or [low, high]."""
    return number(_field(key), value, low=low, high=high, high_open=high_open)


def _bool(key: str, value: Any) -> bool:
    return flag(_field(key), value)


def _pair(key: str, value: Any) -> tuple[float, float]:
    """Two numbers given as a 2-element list (or tuple)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{_field(key)}: must be a list of 2 numbers, got {value!r}")
    return _real(f"{key}[0]", value[0]), _real(f"{key}[1]", value[1])


def _beta(key: str, value: float, original: Any) -> None:
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{_field(key)}: must be in [0, 1), got {original!r}")


def _betas(value: Any) -> tuple[float, float]:
    b1, b2 = _pair("betas", value)
    _beta("betas[0]", b1, value[0])
    _beta("betas[1]", b2, value[1])
    return b1, b2


def _dtype(dtype: Any) -> np.dtype:
    return float_dtype(dtype)


# --------------------------------------------------------------------------
# saved state
# --------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class OptimizerState:
    """What an optimiser remembers: its name, update count and buffers (copies).

    ``buffers`` maps torch.optim's state names (``exp_avg``, ``momentum_buffer``,
    ...) to flat arrays the size of the parameter buffer.  Plain data: picklable.
    """

    name: str
    t: int
    buffers: dict[str, np.ndarray]


# --------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------

class Optimizer:
    """Base class: holds validated hyperparameters, the step count and state.

    ``step(params, grads, lr)`` applies one update to ``params`` in place;
    ``reset()`` forgets the step count and all state (moments, step sizes).
    Subclasses define ``name``, ``DEFAULTS`` (torch's constructor defaults,
    including ``lr``), ``_validate``, ``_allocate``, ``_reset_state`` and
    ``_update``.
    """

    name: str = ""
    DEFAULTS: dict[str, Any] = {}
    # torch.optim's name for each state buffer -> the attribute holding it (None
    # when these hyperparameters need no such buffer).  Scratch buffers are not
    # state: every update writes them before reading them.
    STATE: dict[str, str] = {}

    def __init__(self, size: int, dtype: Any, /, **hyper: Any):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral) or size < 0:
            raise ValueError(f"size must be a non-negative int, got {size!r}")
        self.size = int(size)
        self._shape = (self.size,)
        self.dtype = _dtype(dtype)
        unknown = [k for k in hyper if k not in self.DEFAULTS]
        if unknown:
            raise ConfigError(
                f"{_field(str(unknown[0]))}: unknown parameter for {self.name}; "
                f"valid: {', '.join(['name', *self.DEFAULTS])}")
        merged = {**self.DEFAULTS, **hyper}
        self._hyper: dict[str, Any] = self._validate(merged)
        self.t = 0  # updates done since construction / reset
        self._allocate()
        self.reset()

    # -- public API --------------------------------------------------------
    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The effective hyperparameters (defaults filled in), for display."""
        return dict(self._hyper)

    @property
    def lr(self) -> float:
        """The configured (base) learning rate; ``step`` uses the lr it is given."""
        return self._hyper["lr"]

    def step(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """Apply one update to ``params`` in place, reading ``grads``."""
        if (params.shape != self._shape or grads.shape != self._shape
                or params.dtype != self.dtype or grads.dtype != self.dtype):
            raise ValueError(
                f"{self.name}: expected params and grads of shape {self._shape} and "
                f"dtype {self.dtype}, got {params.shape} {params.dtype} and "
                f"{grads.shape} {grads.dtype}")
        self.t += 1
        self._update(params, grads, float(lr))

    def reset(self) -> None:
        """Clear the step count and every state buffer."""
        self.t = 0
        self._reset_state()

    def state(self) -> OptimizerState:
        """A copy of the update count and every state buffer."""
        return OptimizerState(self.name, self.t, {key: array.copy() for key, array in self._buffers().items()})

    def load_state(self, state: OptimizerState, allow_nonfinite: bool = False) -> None:
        """Take over ``state`` (from ``state()`` of an optimiser like this one), all or nothing.

        The buffers must be the ones these hyperparameters use, with this size and
        dtype: a mismatch raises ConfigError naming the buffer.  Non-finite values
        are refused unless ``allow_nonfinite`` (a diverged training's state holds them).
        """
        where = "optimizer state"
        if state.name != self.name:
            raise ConfigError(f"{where}: saved for the {state.name!r} optimizer, this training uses {self.name!r}")
        t = number(f"{where}.t", state.t, integer=True, low=0, high=2**62)
        own = self._buffers()
        extra = sorted(set(state.buffers) - set(own))
        if extra:
            raise ConfigError(f"{where}: buffer '{extra[0]}' is not used by {self.name} with these settings "
                              f"(it uses: {', '.join(own) or 'no buffers'})")
        for key, target in own.items():
            if key not in state.buffers:
                raise ConfigError(f"{where}: buffer '{key}' is missing ({self.name} with these settings needs "
                                  f"{', '.join(own)})")
            value = state.buffers[key]
            if not isinstance(value, np.ndarray) or value.shape != target.shape or value.dtype != target.dtype:
                got = f"{list(value.shape)} {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
                raise ConfigError(f"{where}: buffer '{key}' is {got}, this network needs "
                                  f"{list(target.shape)} {target.dtype}")
            if not allow_nonfinite and not np.all(np.isfinite(value)):
                raise ConfigError(f"{where}: buffer '{key}' holds NaN or infinite values")
        for key, target in own.items():
            np.copyto(target, state.buffers[key])
        self.t = t

    def _buffers(self) -> dict[str, np.ndarray]:
        """The state buffers in use, by torch.optim's names."""
        out = {}
        for key, attribute in self.STATE.items():
            array = getattr(self, attribute)
            if array is not None:
                out[key] = array
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper.items())
        return f"{type(self).__name__}({args})"

    # -- helpers for subclasses -------------------------------------------
    def _zeros(self) -> np.ndarray:
        return np.zeros(self.size, dtype=self.dtype)

    def _decayed(self, params: np.ndarray, grads: np.ndarray, wd: float,
                 out: np.ndarray) -> np.ndarray:
        """``g + wd * p`` (into ``out``), or ``grads`` itself when wd == 0."""
        if wd == 0.0:
            return grads
        np.multiply(params, wd, out=out)
        out += grads
        return out

    # -- subclass hooks ----------------------------------------------------
    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _allocate(self) -> None:
        raise NotImplementedError

    def _reset_state(self) -> None:
        pass

    def _update(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------
# the optimisers
# --------------------------------------------------------------------------

class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD.

    ::

        g = g + weight_decay * p
        if momentum != 0:
            b = g                                   (t == 1)
            b = momentum * b + (1 - dampening) * g  (t > 1)
            g = g + momentum * b   if nesterov else   g = b
        p = p - lr * g

    Nesterov momentum requires momentum > 0 and dampening == 0 (as torch).
    """

    name = "sgd"
    DEFAULTS = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0,
                "weight_decay": 0.0, "nesterov": False}
    STATE = {"momentum_buffer": "_buf"}

    def _validate(self, h):
        out = {
            "lr": _min("lr", h["lr"], 0.0, strict=True),
            "momentum": _min("momentum", h["momentum"], 0.0, strict=False),
            "dampening": _interval("dampening", h["dampening"], 0.0, 1.0, high_open=False),
            "weight_decay": _min("weight_decay", h["weight_decay"], 0.0, strict=False),
            "nesterov": _bool("nesterov", h["nesterov"]),
        }
        if out["nesterov"] and (out["momentum"] <= 0.0 or out["dampening"] != 0.0):
            raise ConfigError(
                f"{_field('nesterov')}: Nesterov momentum requires momentum > 0 and "
                f"dampening 0, got momentum {h['momentum']!r} and dampening {h['dampening']!r}")
        return out

    def _allocate(self):
        self._d = self._zeros()     # g + wd * p
        self._s = self._zeros()     # scratch
        self._buf = self._zeros() if self._hyper["momentum"] != 0.0 else None

    def _reset_state(self):
        if self._buf is not None:
            self._buf.fill(0.0)

    def _update(self, p, g, lr):
        h = self._hyper
        mu = h["momentum"]
        d = self._decayed(p, g, h["weight_decay"], self._d)
        s = self._s
        if mu != 0.0:
            b = self._buf
            if self.t == 1:
                np.copyto(b, d)
            else:
                b *= mu
                damp = h["dampening"]
                if damp == 0.0:
                    b += d
                else:
                    np.multiply(d, 1.0 - damp, out=s)
                    b += s
            if h["nesterov"]:
                np.multiply(b, mu, out=s)
                s += d
                d = s
            else:
                d = b
        np.multiply(d, lr, out=s)
        p -= s


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad.

    ::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        S = S + g * g                       (S starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(S) + eps)
    """

    name = "adagrad"
    DEFAULTS = {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                "initial_accumulator_value": 0.0, "eps": 1e-10}
    STATE = {"sum": "_sum"}

    def _validate(self, h):
        return {
            "lr": _min("lr", h["lr"], 0.0, strict=True),
            "lr_decay": _min("lr_decay", h["lr_decay"], 0.0, strict=False),
            "weight_decay": _min("weight_decay", h["weight_decay"], 0.0, strict=False),
            "initial_accumulator_value": _min(
                "initial_accumulator_value", h["initial_accumulator_value"], 0.0, strict=False),
            "eps": _min("eps", h["eps"], 0.0, strict=True),
        }

    def _allocate(self):
        self._d = self._zeros()
        self._s = self._zeros()
        self._sum = self._zeros()

    def _reset_state(self):
        self._sum.fill(self._hyper["initial_accumulator_value"])

    def _update(self, p, g, lr):
        h = self._hyper
        d = self._decayed(p, g, h["weight_decay"], self._d)
        s, acc = self._s, self._sum
        clr = lr / (1.0 + (self.t - 1) * h["lr_decay"])
        np.multiply(d, d, out=s)
        acc += s
        np.sqrt(acc, out=s)
        s += h["eps"]
        np.divide(d, s, out=s)
        s *= clr
        p -= s


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop.

    ::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g        (running mean of g)
            denom = sqrt(v - a * a) + eps
        else:
            denom = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / denom
            p = p - lr * b
        else:
            p = p - lr * g / denom

    All of v, a and b start at zero.
    """

    name = "rmsprop"
    DEFAULTS = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                "momentum": 0.0, "centered": False}
    STATE = {"square_avg": "_v", "grad_avg": "_avg", "momentum_buffer": "_buf"}

    def _validate(self, h):
        return {
            "lr": _min("lr", h["lr"], 0.0, strict=True),
            "alpha": _interval("alpha", h["alpha"], 0.0, 1.0, high_open=True),
            "eps": _min("eps", h["eps"], 0.0, strict=True),
            "weight_decay": _min("weight_decay", h["weight_decay"], 0.0, strict=False),
            "momentum": _min("momentum", h["momentum"], 0.0, strict=False),
            "centered": _bool("centered", h["centered"]),
        }

    def _allocate(self):
        h = self._hyper
        self._d = self._zeros()
        self._s = self._zeros()
        self._v = self._zeros()
        self._avg = self._zeros() if h["centered"] else None
        self._buf = self._zeros() if h["momentum"] > 0.0 else None

    def _reset_state(self):
        for a in (self._v, self._avg, self._buf):
            if a is not None:
                a.fill(0.0)

    def _update(self, p, g, lr):
        h = self._hyper
        alpha = h["alpha"]
        d = self._decayed(p, g, h["weight_decay"], self._d)
        s, v = self._s, self._v
        v *= alpha
        np.multiply(d, d, out=s)
        s *= 1.0 - alpha
        v += s
        if self._avg is not None:
            a = self._avg
            np.subtract(d, a, out=s)        # a += (1 - alpha) * (g - a), torch's lerp
            s *= 1.0 - alpha
            a += s
            np.multiply(a, a, out=s)
            np.subtract(v, s, out=s)
            np.sqrt(s, out=s)
        else:
            np.sqrt(v, out=s)
        s += h["eps"]
        np.divide(d, s, out=s)
        if self._buf is not None:
            b = self._buf
            b *= h["momentum"]
            b += s
            np.multiply(b, lr, out=s)
        else:
            s *= lr
        p -= s


class Adam(Optimizer):
    """Adam, as torch.optim.Adam (weight decay is L2, added to the gradient).

    ::

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        bc1 = 1 - beta1 ** t ;  bc2 = 1 - beta2 ** t
        if amsgrad:
            v_max = max(v_max, v) ;  denom = sqrt(v_max) / sqrt(bc2) + eps
        else:
            denom = sqrt(v) / sqrt(bc2) + eps
        p = p - (lr / bc1) * m / denom

    m, v and v_max start at zero.
    """

    name = "adam"
    DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                "weight_decay": 0.0, "amsgrad": False}
    STATE = {"exp_avg": "_m", "exp_avg_sq": "_v", "max_exp_avg_sq": "_vmax"}
    _decoupled = False

    def _validate(self, h):
        return {
            "lr": _min("lr", h["lr"], 0.0, strict=True),
            "betas": _betas(h["betas"]),
            "eps": _min("eps", h["eps"], 0.0, strict=True),
            "weight_decay": _min("weight_decay", h["weight_decay"], 0.0, strict=False),
            "amsgrad": _bool("amsgrad", h["amsgrad"]),
        }

    def _allocate(self):
        self._d = self._zeros()
        self._s = self._zeros()
        self._m = self._zeros()
        self._v = self._zeros()
        self._vmax = self._zeros() if self._hyper["amsgrad"] else None

    def _reset_state(self):
        for a in (self._m, self._v, self._vmax):
            if a is not None:
                a.fill(0.0)

    def _update(self, p, g, lr):
        h = self._hyper
        b1, b2 = h["betas"]
        wd = h["weight_decay"]
        if self._decoupled:
            if wd != 0.0:
                p *= 1.0 - lr * wd
            d = g
        else:
            d = self._decayed(p, g, wd, self._d)
        s, m, v = self._s, self._m, self._v
        np.subtract(d, m, out=s)            # m += (1 - beta1) * (g - m), torch's lerp
        s *= 1.0 - b1
        m += s
        v *= b2
        np.multiply(d, d, out=s)
        s *= 1.0 - b2
        v += s
        t = self.t
        bc1 = 1.0 - b1 ** t
        bc2_sqrt = math.sqrt(1.0 - b2 ** t)
        if self._vmax is not None:
            np.maximum(self._vmax, v, out=self._vmax)
            np.sqrt(self._vmax, out=s)
        else:
            np.sqrt(v, out=s)
        s /= bc2_sqrt
        s += h["eps"]
        np.divide(m, s, out=s)
        s *= lr / bc1
        p -= s


class AdamW(Adam):
    """AdamW, as torch.optim.AdamW (decoupled weight decay).

    ::

        p = p * (1 - lr * weight_decay)
        then the Adam update (see Adam) with g left as it is:
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v or v_max) / sqrt(1 - beta2 ** t) + eps
        p = p - (lr / (1 - beta1 ** t)) * m / denom
    """

    name = "adamw"
    DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                "weight_decay": 1e-2, "amsgrad": False}
    _decoupled = True


class Rprop(Optimizer):
    """Resilient backpropagation, as torch.optim.Rprop.

    Each element keeps its own step size ``s`` (set to ``lr`` on the first
    update) and its previous gradient ``g_prev`` (starting at 0)::

        r = g * g_prev
        s = s * etaplus   where r > 0
        s = s * etaminus  where r < 0   (and g = 0 there)
        s unchanged       where r == 0
        s = clamp(s, step_sizes[0], step_sizes[1])
        p = p - sign(g) * s
        g_prev = g        (with the zeroed elements)

    The learning rate only sets the initial step sizes: a learning rate that
    changes after the first update (a schedule) has no effect until
    ``reset()``, exactly as with torch.optim.Rprop and an LR scheduler.
    """

    name = "rprop"
    DEFAULTS = {"lr": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0)}
    STATE = {"prev": "_prev", "step_size": "_steps"}

    def _validate(self, h):
        etaminus, etaplus = _pair("etas", h["etas"])
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ConfigError(
                f"{_field('etas')}: must satisfy 0 < etaminus < 1 < etaplus, "
                f"got {list(h['etas'])!r}")
        lo, hi = _pair("step_sizes", h["step_sizes"])
        if not 0.0 <= lo < hi:
            raise ConfigError(
                f"{_field('step_sizes')}: must satisfy 0 <= min < max, "
                f"got {list(h['step_sizes'])!r}")
        return {"lr": _min("lr", h["lr"], 0.0, strict=True),
                "etas": (etaminus, etaplus), "step_sizes": (lo, hi)}

    def _allocate(self):
        self._s = self._zeros()
        self._prev = self._zeros()
        self._steps = self._zeros()
        self._pos = np.zeros(self.size, dtype=bool)
        self._neg = np.zeros(self.size, dtype=bool)

    def _reset_state(self):
        self._prev.fill(0.0)
        self._steps.fill(0.0)

    def _update(self, p, g, lr):
        etaminus, etaplus = self._hyper["etas"]
        lo, hi = self._hyper["step_sizes"]
        s, prev, steps, pos, neg = self._s, self._prev, self._steps, self._pos, self._neg
        if self.t == 1:
            steps.fill(lr)
        np.multiply(g, prev, out=s)
        np.greater(s, 0.0, out=pos)
        np.less(s, 0.0, out=neg)
        np.multiply(steps, etaplus, out=steps, where=pos)
        np.multiply(steps, etaminus, out=steps, where=neg)
        np.clip(steps, lo, hi, out=steps)
        np.copyto(prev, g)
        np.copyto(prev, 0.0, where=neg)
        np.sign(prev, out=s)
        s *= steps
        p -= s


class SignSGD(Optimizer):
    """Sign SGD (not in torch.optim): only the sign of the gradient is used.

    ::

        p = p - lr * sign(g + weight_decay * p)        (sign(0) = 0)
    """

    name = "sign_sgd"
    DEFAULTS = {"lr": 1e-2, "weight_decay": 0.0}

    def _validate(self, h):
        return {"lr": _min("lr", h["lr"], 0.0, strict=True),
                "weight_decay": _min("weight_decay", h["weight_decay"], 0.0, strict=False)}

    def _allocate(self):
        self._s = self._zeros()

    def _update(self, p, g, lr):
        s = self._s
        d = self._decayed(p, g, self._hyper["weight_decay"], s)
        np.sign(d, out=s)
        s *= lr
        p -= s


# --------------------------------------------------------------------------
# registry and factory
# --------------------------------------------------------------------------

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW, Rprop, SignSGD)
}

#: torch.optim's constructor defaults per optimiser, including ``lr`` (read-only use).
DEFAULTS: dict[str, dict[str, Any]] = {name: dict(cls.DEFAULTS) for name, cls in OPTIMIZERS.items()}


def _lookup(spec: Any) -> type[Optimizer]:
    if not isinstance(spec, dict):
        raise ConfigError(f"{FIELD}: must be an object with a 'name', got {_show(spec)}")
    if "name" not in spec:
        raise ConfigError(f"{_field('name')}: missing; valid: {', '.join(OPTIMIZERS)}")
    name = spec["name"]
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ConfigError(
            f"{_field('name')}: unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]


def make_optimizer(spec: dict, size: int, dtype: Any) -> Optimizer:
    """Build the optimiser ``spec`` describes, e.g. ``{"name": "adam", "lr": 0.01}``.

    Every key is validated; missing keys take torch's defaults.  Raises
    :class:`ConfigError` naming ``training.optimizer.<key>`` on bad input.
    """
    cls = _lookup(spec)
    hyper = {k: v for k, v in spec.items() if k != "name"}
    return cls(size, dtype, **hyper)


def base_lr(spec: dict) -> float:
    """The learning rate ``spec`` asks for, or its optimiser's default."""
    cls = _lookup(spec)
    if "lr" in spec:
        return _min("lr", spec["lr"], 0.0, strict=True)
    return float(cls.DEFAULTS["lr"])
