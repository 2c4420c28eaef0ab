"""Runs side by side: named training runs' loss and accuracy curves and weight trajectories.

``RunRecorder`` follows one run as it trains: evaluations (loss and accuracy against
the step) and weight snapshots, each kept in bounded memory by thinning.  When a
buffer fills, every other entry is dropped and from then on only every second, fourth,
... call is kept, so the kept points stay evenly spread over the whole run (the latest
one is always kept too).  ``RunRecorder.run()`` freezes what it has into a ``Run``, an
immutable, picklable record; ``RunHistory`` is the list of named runs a learner can
overlay (like TensorBoard's runs), bounded to ``max_runs``.

The weight snapshots are the trajectory that ``engine.landscape`` projects onto a
loss-landscape slice and takes principal components of.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

DEFAULT_MAX_POINTS = 2000          # evaluations kept per run
DEFAULT_MAX_SNAPSHOTS = 200        # weight vectors kept per run...
DEFAULT_MAX_SNAPSHOT_BYTES = 32 * 2 ** 20   # ...and at most this much memory for them
DEFAULT_MAX_RUNS = 20
MIN_KEPT = 2                       # a thinned buffer keeps at least the first and the latest entry


class _Thinned:
    """At most ``capacity`` entries of a stream, evenly spread, plus the latest one."""

    def __init__(self, capacity: int):
        self.capacity = max(MIN_KEPT, int(capacity))
        self.stride = 1
        self.count = 0
        self.kept: list = []
        self.latest = None

    def add(self, item) -> None:
        self.latest = item
        if self.count % self.stride == 0:
            self.kept.append(item)
            if len(self.kept) >= self.capacity:
                self.kept = self.kept[::2]
                self.stride *= 2
        self.count += 1

    def items(self) -> list:
        if self.latest is not None and (not self.kept or self.kept[-1] is not self.latest):
            return self.kept + [self.latest]
        return list(self.kept)


def _optional(value) -> float:
    return math.nan if value is None else float(value)


def _frozen(values, dtype=np.float64) -> np.ndarray:
    a = np.array(values, dtype=dtype)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Run:
    """One finished (or paused) run.  ``steps[i]`` is the optimiser step of evaluation i;
    the loss and accuracy arrays line up with it, NaN where there was no value (no test
    set, a regression task).  ``weight_steps[k]`` is the step of snapshot
    ``weights[k]`` (flat, in the network's parameter layout).  ``note`` says what the
    run was (a preset's name, the settings that differ)."""

    name: str
    steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    weight_steps: np.ndarray
    weights: np.ndarray
    note: str = ""

    @property
    def has_accuracy(self) -> bool:
        return bool(np.any(np.isfinite(self.train_accuracy)))

    def renamed(self, name: str) -> "Run":
        return Run(_check_name(name), self.steps, self.train_loss, self.test_loss, self.train_accuracy,
                   self.test_accuracy, self.weight_steps, self.weights, self.note)

    def to_dict(self, include_weights: bool = False) -> dict:
        """JSON-ready (NaN as null); weights only when asked (they can be large)."""
        def listed(a):
            return [None if not math.isfinite(v) else v for v in a.tolist()]

        out: dict[str, Any] = {"name": self.name, "note": self.note, "steps": self.steps.tolist(),
                               "train_loss": listed(self.train_loss), "test_loss": listed(self.test_loss),
                               "train_accuracy": listed(self.train_accuracy),
                               "test_accuracy": listed(self.test_accuracy)}
        if include_weights:
            out["weight_steps"] = self.weight_steps.tolist()
            out["weights"] = self.weights.tolist()
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> "Run":
        """The inverse of ``to_dict``; every field is checked and a bad one named."""
        if not isinstance(raw, dict):
            raise ValueError(f"a run must be an object, got {type(raw).__name__}")
        name = _check_name(raw.get("name"))
        where = f"run {name!r}"
        steps = _number_list(raw.get("steps"), f"{where}.steps", allow_null=False)
        curves = [_number_list(raw.get(key, [None] * len(steps)), f"{where}.{key}", len(steps))
                  for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")]
        weight_steps = _number_list(raw.get("weight_steps", []), f"{where}.weight_steps", allow_null=False)
        weights = np.array(raw.get("weights", []), dtype=np.float64) if raw.get("weights") else np.zeros((0, 0))
        if weights.ndim != 2 or len(weights) != len(weight_steps):
            raise ValueError(f"{where}.weights: must be one weight vector per entry of weight_steps")
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise ValueError(f"{where}.note: must be text, got {note!r}")
        return cls(name, _frozen(steps, np.int64), *(_frozen(c) for c in curves), _frozen(weight_steps, np.int64),
                   _frozen(weights), note)


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a run's name must be non-empty text, got {name!r}")
    return name


def _number_list(raw: Any, where: str, length: int | None = None, allow_null: bool = True) -> list:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be a list of numbers")
    if length is not None and len(raw) != length:
        raise ValueError(f"{where}: has {len(raw)} entries, steps has {length}")
    out = []
    for i, v in enumerate(raw):
        if v is None and allow_null:
            out.append(math.nan)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(v)
        else:
            raise ValueError(f"{where}[{i}]: must be a finite number{' or null' if allow_null else ''}, got {v!r}")
    return out


class RunRecorder:
    """Records one run in bounded memory (see the module's note on thinning)."""

    def __init__(self, name: str, note: str = "", max_points: int = DEFAULT_MAX_POINTS,
                 max_snapshots: int = DEFAULT_MAX_SNAPSHOTS, max_snapshot_bytes: int = DEFAULT_MAX_SNAPSHOT_BYTES):
        self.name = _check_name(name)
        self.note = note
        self._points = _Thinned(max_points)
        self._max_snapshots = int(max_snapshots)
        self._max_bytes = int(max_snapshot_bytes)
        self._snapshots: _Thinned | None = None
        self._size: int | None = None

    def add_evaluation(self, step: int, train_loss: float, test_loss: float | None = None,
                       train_accuracy: float | None = None, test_accuracy: float | None = None) -> None:
        self._points.add((int(step), float(train_loss), _optional(test_loss), _optional(train_accuracy),
                          _optional(test_accuracy)))

    def add(self, evaluation) -> None:
        """Record an ``engine.session.Evaluation``."""
        self.add_evaluation(evaluation.step, evaluation.train_loss, evaluation.test_loss,
                            evaluation.train_accuracy, evaluation.test_accuracy)

    def add_weights(self, step: int, params: np.ndarray) -> None:
        """Record a copy of the flat weight vector at ``step``."""
        w = np.array(params, dtype=np.float64).reshape(-1)
        if self._snapshots is None:
            self._size = w.size
            fits = self._max_bytes // max(1, w.nbytes)
            self._snapshots = _Thinned(min(self._max_snapshots, fits))
        elif w.size != self._size:
            raise ValueError(f"run {self.name!r}: a weight vector of {w.size} values after ones of {self._size}; "
                             "a run keeps one network")
        self._snapshots.add((int(step), w))

    @property
    def snapshot_capacity(self) -> int | None:
        return None if self._snapshots is None else self._snapshots.capacity

    def run(self) -> Run:
        points = self._points.items()
        columns = list(zip(*points)) if points else [[]] * 5
        snaps = self._snapshots.items() if self._snapshots is not None else []
        weights = np.stack([w for _, w in snaps]) if snaps else np.zeros((0, self._size or 0))
        return Run(self.name, _frozen(columns[0], np.int64), *(_frozen(c) for c in columns[1:]),
                   _frozen([s for s, _ in snaps], np.int64), _frozen(weights), self.note)


class RunHistory:
    """Named runs in the order they were added, at most ``max_runs`` (the oldest go first)."""

    def __init__(self, max_runs: int = DEFAULT_MAX_RUNS):
        if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
            raise ValueError(f"max_runs must be a whole number >= 1, got {max_runs!r}")
        self.max_runs = max_runs
        self._runs: dict[str, Run] = {}

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(list(self._runs.values()))

    def __contains__(self, name: str) -> bool:
        return name in self._runs

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._runs)

    def get(self, name: str) -> Run:
        try:
            return self._runs[name]
        except KeyError:
            raise KeyError(f"no run named {name!r} (runs: {', '.join(self._runs) or 'none'})") from None

    def unique_name(self, base: str) -> str:
        """``base``, or "base (2)", "base (3)"... whichever is free."""
        base = _check_name(base)
        name, k = base, 2
        while name in self._runs:
            name, k = f"{base} ({k})", k + 1
        return name

    def add(self, run: Run) -> tuple[str, ...]:
        """Keep ``run`` (its name must be free); returns the names of the oldest runs
        dropped to stay within ``max_runs``."""
        if run.name in self._runs:
            raise ValueError(f"there is already a run named {run.name!r}; rename one (unique_name suggests one)")
        self._runs[run.name] = run
        dropped = []
        while len(self._runs) > self.max_runs:
            oldest = next(iter(self._runs))
            dropped.append(oldest)
            del self._runs[oldest]
        return tuple(dropped)

    def remove(self, name: str) -> Run:
        run = self.get(name)
        del self._runs[name]
        return run

    def rename(self, old: str, new: str) -> None:
        run = self.get(old)
        if new != old and new in self._runs:
            raise ValueError(f"there is already a run named {new!r}")
        renamed = run.renamed(new)
        self._runs = {(new if k == old else k): (renamed if k == old else v) for k, v in self._runs.items()}

    def clear(self) -> None:
        self._runs.clear()

    def to_list(self, include_weights: bool = False) -> list[dict]:
        return [r.to_dict(include_weights) for r in self._runs.values()]

    @classmethod
    def from_list(cls, raw: Any, max_runs: int = DEFAULT_MAX_RUNS) -> "RunHistory":
        if not isinstance(raw, list):
            raise ValueError("runs: must be a list of runs")
        history = cls(max_runs)
        for item in raw:
            history.add(Run.from_dict(item))
        return history
