"""Fuzzing the project format through the CLI: whatever the file holds, never a traceback.

Hypothesis mutates a valid project (values replaced by huge or negative numbers,
strings, nulls, deep nesting, endless integers, huge strings, wrong types; keys
removed or added) and runs ``playground train --epochs 1`` or ``playground gradcheck``
through the CLI's main function in this process.  The run must end with a status
the contract knows (0 done, 1 gradcheck out of tolerance, 2 invalid input, 3 diverged)
and, when it refuses the file, say why on one line.  An exception escaping main is
the traceback a user would have seen: hypothesis then shows the smallest file that
causes it.

Bounded to add a few seconds to the suite: small data (20 points, at most 40 units
a layer), 150 examples, no example database written into the repository.
"""
from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.playground.test_hostile_cli import run_main

# FUZZ_EXAMPLES=5000 runs a longer fuzz by hand.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))

BASE: dict = {
    "format": "nn-playground/1",
    "name": "fuzz",
    "seed": 3,
    "dtype": "float64",
    "data": {"source": "circle", "samples": 20, "noise": 0.1, "train_fraction": 0.5, "features": ["x1", "x2"]},
    "network": {
        "nodes": [
            {"id": "in", "type": "input"},
            {"id": "h1", "type": "dense", "units": 4, "activation": "tanh",
             "init": {"name": "uniform", "a": -0.5, "b": 0.5}, "bias": 0.1},
            {"id": "drop", "type": "dropout", "p": 0.1},
            {"id": "h2", "type": "dense", "units": 3, "activation": "leaky_relu", "alpha": 0.1},
            {"id": "sum", "type": "concat"},
            {"id": "out", "type": "dense", "units": 1, "activation": "sigmoid", "init": "he_normal"},
        ],
        "edges": [["in", "h1"], ["h1", "drop"], ["drop", "h2"], ["h1", "sum"], ["h2", "sum"], ["sum", "out"]],
        "output": "out",
    },
    "training": {
        "loss": "bce",
        "optimizer": {"name": "adam", "lr": 0.01, "betas": [0.9, 0.999], "weight_decay": 0.0},
        "batch_size": 5,
        "shuffle": True,
        "schedule": {"name": "cosine", "t_max": 10, "eta_min": 0.0001, "warmup": 2},
        "regularization": {"kind": "l2", "rate": 0.001},
    },
    "layout": {"in": [0, 0], "h1": [100, 50]},
}

# Written into the JSON text as they are (json.dumps can not produce most of them);
# the examples hypothesis shows hold the short placeholders.
RAW = {
    "huge string": '"' + "x" * 100_000 + '"',
    "deep": "[" * 100_000 + "]" * 100_000,
    "endless integer": "9" * 5000,
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "float overflow": "1e999",
}
HUGE_INTS = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**20, 10**308, 10**309, 10**400]
# Floats at the edges, not in the middle: a legal 5,000,000 samples would only be slow.
EDGE_FLOATS = [0.0, -0.0, 0.5, 1.0, 1.5, -1.0, 2.0, 1e-3, 5e-324, 1e-308, 1e308, -1e308, 1.7976931348623157e308]
# Names the format knows, so a mutation can reach the checks behind the first one.
VOCABULARY = ["full", "none", "l1", "l2", "sgd", "adam", "adamw", "rprop", "sign_sgd", "rmsprop", "adagrad",
              "relu", "softmax", "linear", "gelu", "elu", "mse", "cross_entropy", "hinge", "huber", "mae",
              "iris", "digits", "xor", "spiral", "plane", "multi-gaussian", "dense", "input", "add", "concat",
              "activation", "dropout", "zeros", "constant", "normal", "step", "exponential", "log",
              "inverse_time", "float32", "float64", "x1^2", "sin(x1)", "in", "h1", "out", "classification",
              "regression", "nn-playground/1"]

scalars = st.one_of(
    st.sampled_from(HUGE_INTS).flatmap(lambda n: st.sampled_from([n, -n])),
    st.integers(-3, 40),
    st.sampled_from(EDGE_FLOATS),
    st.floats(-10, 10),
    st.sampled_from([f"@@{name}@@" for name in RAW]),
    st.sampled_from(VOCABULARY),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(VOCABULARY + ["a", "b", "std", "value", "csv"]),
                                                 inner, max_size=3)), max_leaves=6)


def every_path(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths to every value in ``doc``, containers included (the root is ``()``)."""
    paths = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            paths += every_path(value, prefix + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            paths += every_path(value, prefix + (index,))
    return paths


def parent_of(doc: Any, path: tuple) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutated_projects(draw) -> dict:
    """BASE after one to three mutations."""
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        # Not "format": any change there is refused first, before every other check.
        path = draw(st.sampled_from([p for p in every_path(doc) if p and p != ("format",)]))
        parent, key = parent_of(doc, path), path[-1]
        kind = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if kind == "replace":
            parent[key] = draw(values)
        elif kind == "delete":
            del parent[key]
        elif isinstance(parent[key], dict):
            parent[key][draw(st.sampled_from(VOCABULARY + ["extra", "batchsize", "lrr"]))] = draw(values)
        elif isinstance(parent[key], list):
            parent[key].append(draw(values))
        else:
            parent[key] = draw(values)
    return doc


def project_text(doc: dict) -> str:
    text = json.dumps(doc)
    for name, raw in RAW.items():
        text = text.replace(f'"@@{name}@@"', raw)
    return text


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """One folder for every example (module scope: hypothesis reruns the test body, not fixtures)."""
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=mutated_projects(), command=st.sampled_from(["train", "train", "gradcheck"]))
def test_any_project_ends_in_a_known_status_without_a_traceback(folder, doc, command):
    (folder / "project.json").write_text(project_text(doc), encoding="utf-8")
    args = ["train", "project.json", "--epochs", 1, "--quiet"] if command == "train" else \
        ["gradcheck", "project.json", "--rows", 4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # a diverging run may warn; only exceptions count here
        result = run_main(*args, cwd=folder)
    allowed = {0, 2, 3} if command == "train" else {0, 1, 2}
    assert result.returncode in allowed, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"playground {command}: project.json: "), lines[:3]
        assert len(lines[0]) <= 500, f"an unreadable message of {len(lines[0])} characters: {lines[0][:300]}"
