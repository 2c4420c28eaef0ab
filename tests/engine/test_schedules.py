"""Learning-rate schedules against hand-computed values."""
from __future__ import annotations

import math

import pytest

from engine.errors import ConfigError
from engine.schedules import SCHEDULE_DEFAULTS, SCHEDULES, make_schedule

LR = 0.1


def values(spec, ts, lr=LR):
    schedule = make_schedule(spec, lr)
    return [schedule(t) for t in ts]


def close(got, expected):
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_names():
    assert SCHEDULES == ("constant", "step", "exponential", "inverse_time", "log", "cosine")


def test_constant():
    close(values(None, [0, 1, 1000]), [0.1, 0.1, 0.1])
    close(values({"name": "constant"}, [0, 5]), [0.1, 0.1])


def test_step():
    close(values({"name": "step", "step_size": 2, "gamma": 0.5}, range(6)),
          [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    # gamma defaults to 0.1, as torch StepLR
    close(values({"name": "step", "step_size": 100}, [0, 99, 100, 250]),
          [0.1, 0.1, 0.01, 0.001])


def test_exponential():
    close(values({"name": "exponential", "gamma": 0.5}, range(4)), [0.1, 0.05, 0.025, 0.0125])
    close(values({"name": "exponential"}, [0, 1, 2]), [0.1, 0.1 * 0.99, 0.1 * 0.99 * 0.99])


def test_exponential_growth_overflows_to_inf():
    assert values({"name": "exponential", "gamma": 2.0}, [5000]) == [math.inf]


def test_inverse_time():
    close(values({"name": "inverse_time", "decay": 0.5}, [0, 1, 2, 6]),
          [0.1, 0.1 / 1.5, 0.05, 0.025])
    close(values({"name": "inverse_time"}, [100]), [0.05])  # decay 0.01


def test_log():
    close(values({"name": "log"}, [0, 1, 3]),
          [0.1, 0.1 / (1 + 0.6931471805599453), 0.1 / (1 + 1.3862943611198906)])


def test_cosine():
    spec = {"name": "cosine", "t_max": 4, "eta_min": 0.01}
    close(values(spec, [0, 1, 2, 3, 4, 10]),
          [0.1,
           0.01 + 0.09 * (1 + math.sqrt(0.5)) / 2,
           0.055,
           0.01 + 0.09 * (1 - math.sqrt(0.5)) / 2,
           0.01,
           0.01])
    close(values({"name": "cosine", "t_max": 2}, [0, 1, 2, 3]), [0.1, 0.05, 0.0, 0.0])


def test_warmup_then_step():
    spec = {"name": "step", "step_size": 2, "gamma": 0.5, "warmup": 4}
    close(values(spec, range(9)), [0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_warmup_then_cosine():
    spec = {"name": "cosine", "t_max": 4, "eta_min": 0.01, "warmup": 2}
    close(values(spec, [0, 1, 2, 4, 6, 100]), [0.05, 0.1, 0.1, 0.055, 0.01, 0.01])


def test_warmup_constant_and_integral_float():
    close(values({"name": "constant", "warmup": 10.0}, [0, 4, 9, 10, 50]),
          [0.01, 0.05, 0.1, 0.1, 0.1])
    close(values({"name": "log", "warmup": 0}, [0, 1]), [0.1, 0.1 / (1 + math.log(2))])


def test_hyperparameters_and_defaults():
    assert make_schedule({"name": "step", "step_size": 5}, LR).hyperparameters == {
        "step_size": 5, "gamma": 0.1, "warmup": 0}
    assert make_schedule(None, LR).hyperparameters == {"warmup": 0}
    assert SCHEDULE_DEFAULTS == {
        "constant": {"warmup": 0},
        "step": {"step_size": None, "gamma": 0.1, "warmup": 0},
        "exponential": {"gamma": 0.99, "warmup": 0},
        "inverse_time": {"decay": 0.01, "warmup": 0},
        "log": {"warmup": 0},
        "cosine": {"t_max": None, "eta_min": 0.0, "warmup": 0},
    }


def test_negative_t_is_a_bug():
    with pytest.raises(ValueError):
        make_schedule(None, LR)(-1)


INVALID = [
    ({"name": "linear"}, "training.schedule.name: unknown schedule 'linear'; "
                         "valid: constant, step, exponential, inverse_time, log, cosine"),
    ({"name": None}, "training.schedule.name: unknown schedule None"),
    ({"gamma": 0.5}, "training.schedule.name: missing"),
    ("step", "training.schedule: must be an object"),
    ({"name": "step"}, "training.schedule.step_size: required"),
    ({"name": "step", "step_size": 0}, "training.schedule.step_size: must be >= 1, got 0"),
    ({"name": "step", "step_size": 1.5}, "training.schedule.step_size: must be an integer"),
    ({"name": "step", "step_size": "10"}, "training.schedule.step_size: must be an integer"),
    ({"name": "step", "step_size": True}, "training.schedule.step_size: must be an integer"),
    ({"name": "step", "step_size": 10, "gamma": -0.5}, "training.schedule.gamma: must be > 0"),
    ({"name": "step", "step_size": 10, "gamma": "0.5"}, "training.schedule.gamma: must be a number"),
    ({"name": "exponential", "gamma": 0}, "training.schedule.gamma: must be > 0"),
    ({"name": "exponential", "gamma": float("nan")}, "training.schedule.gamma: must be a finite"),
    ({"name": "inverse_time", "decay": -1}, "training.schedule.decay: must be >= 0"),
    ({"name": "cosine"}, "training.schedule.t_max: required"),
    ({"name": "cosine", "t_max": 0}, "training.schedule.t_max: must be >= 1"),
    ({"name": "cosine", "t_max": 10, "eta_min": -1e-3}, "training.schedule.eta_min: must be >= 0"),
    ({"name": "constant", "warmup": -1}, "training.schedule.warmup: must be >= 0"),
    ({"name": "constant", "warmup": 2.5}, "training.schedule.warmup: must be an integer"),
    ({"name": "log", "gamma": 0.5},
     "training.schedule.gamma: unknown parameter for the log schedule; valid: name, warmup"),
    ({"name": "step", "step_size": 3, "t_max": 5},
     "training.schedule.t_max: unknown parameter for the step schedule; "
     "valid: name, step_size, gamma, warmup"),
]


@pytest.mark.parametrize("spec, message", INVALID, ids=[m[:60] for _, m in INVALID])
def test_invalid_spec_names_the_field(spec, message):
    with pytest.raises(ConfigError) as err:
        make_schedule(spec, LR)
    assert message in str(err.value)
