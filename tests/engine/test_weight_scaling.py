"""Weight files carry a standardized network's input scaling, and nothing else changes."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from engine.errors import WeightsError
from engine.io.weights import WEIGHT_FORMATS, load_input_scaling, load_weights, save_weights

TENSORS = {"h.weight": np.arange(6.0).reshape(2, 3), "h.bias": np.array([0.5, -0.25])}
EXPECTED = {"h.weight": (2, 3), "h.bias": (2,)}
# Values that print with 17 digits and the extremes of float64: each must come back exactly.
SCALING = (np.array([0.1, -1e300, 1 / 3]), np.array([2 / 3, 5e-324, 1e308]))


@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_scaling_round_trips_exactly_and_leaves_the_tensors_alone(tmp_path, fmt):
    path = tmp_path / f"w.{fmt}"
    save_weights(path, TENSORS, input_scaling=SCALING)
    shift, scale = load_input_scaling(path)
    assert shift.tobytes() == SCALING[0].tobytes() and scale.tobytes() == SCALING[1].tobytes()
    loaded = load_weights(path, expected=EXPECTED)
    assert set(loaded) == set(TENSORS)
    for name, t in TENSORS.items():
        np.testing.assert_array_equal(loaded[name], t)


@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_no_scaling_reads_as_none(tmp_path, fmt):
    path = tmp_path / f"w.{fmt}"
    save_weights(path, TENSORS)
    assert load_input_scaling(path) is None


def test_where_each_format_keeps_it(tmp_path):
    """Where a foreign reader finds it: safetensors metadata, npz members, JSON keys."""
    from safetensors import safe_open
    paths = {fmt: tmp_path / f"w.{fmt}" for fmt in WEIGHT_FORMATS}
    for path in paths.values():
        save_weights(path, TENSORS, input_scaling=SCALING)
    with safe_open(str(paths["safetensors"]), "np") as handle:
        assert json.loads(handle.metadata()["input_shift"]) == SCALING[0].tolist()
        assert sorted(handle.keys()) == sorted(TENSORS)          # safetensors.load_file gives the tensors alone
    with np.load(paths["npz"], allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["input_scale"], SCALING[1])
    doc = json.loads(paths["json"].read_text())
    assert doc["input_shift"] == SCALING[0].tolist() and set(doc["tensors"]) == set(TENSORS)


def test_half_a_scaling_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **TENSORS, input_shift=np.zeros(3))
    with pytest.raises(WeightsError, match="has 'input_shift' but not 'input_scale'"):
        load_input_scaling(path)


@pytest.mark.parametrize("bad, message", [
    ({"input_shift": [0.0], "input_scale": [0.0]}, "'input_scale' must hold positive numbers"),
    ({"input_shift": [0.0, 1.0], "input_scale": [1.0]}, "'input_shift' has 2 columns, 'input_scale' 1"),
    ({"input_shift": "zero", "input_scale": [1.0]}, "'input_shift' must be a list of numbers"),
])
def test_a_bad_scaling_is_named(tmp_path, bad, message):
    path = tmp_path / "w.json"
    save_weights(path, TENSORS)
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, **bad}))
    with pytest.raises(WeightsError, match=message):
        load_input_scaling(path)


def test_an_npz_scaling_member_is_never_unpickled(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **TENSORS, input_shift=np.array([object()], dtype=object), input_scale=np.ones(1))
    with zipfile.ZipFile(path) as archive:
        assert "input_shift.npy" in archive.namelist()
    with pytest.raises(WeightsError, match="must be a float64 vector"):
        load_input_scaling(path)
