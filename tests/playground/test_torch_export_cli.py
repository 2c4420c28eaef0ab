"""``playground export ... --format pytorch``: the files it writes, without torch.

The script's behaviour under torch is tested in tests/engine/test_torch_export.py;
here: the command line, its refusals, the data file's exactness, a script that
parses, and ``train --save-weights`` carrying a standardized project's scaling.
"""
from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from engine.io.weights import WEIGHT_FORMATS, load_input_scaling, load_weights
from playground.cli import main
from playground.project import build_session, load_project
from playground.torch_export import pytorch_files

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


@pytest.fixture(scope="module")
def iris_weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iris")
    weights = folder / "iris.safetensors"
    assert main(["train", str(EXAMPLES / "iris.json"), "--steps", "5", "--save-weights", str(weights),
                 "--quiet"]) == 0
    return weights


def test_export_writes_the_script_its_data_and_its_weights(tmp_path, iris_weights, capsys):
    out = tmp_path / "iris_net.py"
    assert main(["export", str(EXAMPLES / "iris.json"), "--weights", str(iris_weights), "--format", "pytorch",
                 "-o", str(out)]) == 0
    script, data, weights = pytorch_files(out)
    assert (data.name, weights.name) == ("iris_net_data.csv", "iris_net_weights.safetensors")
    assert f"wrote {out}, {data}, {weights} (pytorch)" in capsys.readouterr().out
    source = script.read_text()
    ast.parse(source)
    assert "class Net(nn.Module)" in source and "torch.optim.Adam(parameters, lr=0.01" in source
    # The weights are those of --weights, with the input scaling beside them.
    session = build_session(load_project(EXAMPLES / "iris.json"))
    expected = load_weights(iris_weights)
    for name, t in load_weights(weights).items():
        np.testing.assert_array_equal(t, expected[name])
    np.testing.assert_array_equal(load_input_scaling(weights)[0], session.dataset.input_shift)


def test_data_file_holds_the_rows_exactly_in_the_engines_order(tmp_path):
    """Generated points with computed features: read back, they are the engine's arrays bit for bit."""
    doc = json.loads((EXAMPLES / "spiral.json").read_text())
    doc["data"]["features"] = ["x1", "sin(x2)", "x1*x2"]
    project_file = tmp_path / "spiral.json"
    project_file.write_text(json.dumps(doc))
    weights = tmp_path / "w.npz"
    assert main(["train", str(project_file), "--steps", "1", "--save-weights", str(weights), "--quiet"]) == 0
    assert main(["export", str(project_file), "--weights", str(weights), "--format", "pytorch",
                 "-o", str(tmp_path / "net.py")]) == 0
    with open(tmp_path / "net_data.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["x1", "sin(x2)", "x1*x2", "label", "split"]
    dataset = build_session(load_project(project_file)).dataset
    train = [r for r in rows[1:] if r[-1] == "train"]
    test = [r for r in rows[1:] if r[-1] == "test"]
    assert rows[1:] == train + test
    np.testing.assert_array_equal(np.array([r[:3] for r in train], dtype=float), dataset.X_train)
    np.testing.assert_array_equal(np.array([r[:3] for r in test], dtype=float), dataset.X_test)
    np.testing.assert_array_equal(np.array([r[3] for r in train], dtype=int), dataset.y_train)


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/net.txt"], "a pytorch export must be named *.py"),
    (["-o", "{tmp}/w.py"], "the weight file {tmp}/w_weights.safetensors (written beside {tmp}/w.py) is the "
                           "same file as --weights"),
])
def test_export_refuses_with_one_line(tmp_path, iris_weights, capsys, args, message):
    weights = tmp_path / "w_weights.safetensors"
    weights.write_bytes(iris_weights.read_bytes())
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(["export", str(EXAMPLES / "iris.json"), "--weights", str(weights), "--format", "pytorch",
                 *args]) == 2
    err = capsys.readouterr().err
    assert message.format(tmp=tmp_path) in err and err.count("\n") == 1
    assert not (tmp_path / "w.py").exists()


def test_export_of_weights_for_another_network_names_the_tensor(tmp_path, iris_weights, capsys):
    assert main(["export", str(EXAMPLES / "spiral.json"), "--weights", str(iris_weights), "--format", "pytorch",
                 "-o", str(tmp_path / "net.py")]) == 2
    assert "tensor 'h1.weight' has shape [8, 4], the network needs [8, 2]" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_train_saves_the_scaling_of_a_standardized_project(tmp_path, fmt):
    path = tmp_path / f"iris.{fmt}"
    assert main(["train", str(EXAMPLES / "iris.json"), "--steps", "2", "--save-weights", str(path), "--quiet"]) == 0
    dataset = build_session(load_project(EXAMPLES / "iris.json")).dataset
    shift, scale = load_input_scaling(path)
    np.testing.assert_array_equal(shift, dataset.input_shift)
    np.testing.assert_array_equal(scale, dataset.input_scale)
    # The file still loads and continues training as before.
    assert main(["train", str(EXAMPLES / "iris.json"), "--steps", "1", "--init-weights", str(path), "--quiet"]) == 0


def test_train_of_raw_columns_saves_no_scaling(tmp_path):
    path = tmp_path / "spiral.safetensors"
    assert main(["train", str(EXAMPLES / "spiral.json"), "--steps", "1", "--save-weights", str(path), "--quiet"]) == 0
    assert load_input_scaling(path) is None


def test_every_engine_choice_has_a_pytorch_form():
    """A new optimiser, schedule, loss or activation must be given its PyTorch form here too."""
    from engine.activations import ACTIVATIONS
    from engine.io import torch_export
    from engine.losses import LOSSES
    from engine.optimizers import OPTIMIZERS
    from engine.schedules import SCHEDULES
    assert set(torch_export.TORCH_OPTIMIZERS) == set(OPTIMIZERS)
    assert set(torch_export._LOSS_CALLS) == set(LOSSES)
    assert set(torch_export._ACTIVATIONS) | {"linear"} == set(ACTIVATIONS)
    base = torch_export.TorchTraining(seed=0, dtype="float64", loss="mse", loss_on_logits=False, task="regression",
                                      classes=(), n_outputs=1, optimizer="sgd", optimizer_settings={"lr": 0.1},
                                      schedule="", schedule_settings={"step_size": 2, "gamma": 0.5, "decay": 0.1,
                                                                      "t_max": 5, "eta_min": 0.0},
                                      warmup=0, batch_size=1, full_batch=False, shuffle=True, regularization="none",
                                      regularization_rate=0.0)
    from dataclasses import replace
    for name in SCHEDULES:
        ast.parse(torch_export._schedule_code(replace(base, schedule=name, warmup=3)))


def test_a_cancelled_export_writes_nothing(tmp_path):
    """The app's Cancel raises from the progress callback: at any point, no file appears."""
    from playground.torch_export import export_pytorch
    project = load_project(EXAMPLES / "iris.json")
    weights = build_session(project).weights()
    seen = []

    class Cancelled(Exception):
        pass

    def cancel_at(point):
        def progress(fraction):
            seen.append(fraction)
            if len(seen) == point:
                raise Cancelled
        return progress

    export_pytorch(project, weights, tmp_path / "all.py", progress=cancel_at(0))
    calls, seen[:] = len(seen), []
    assert calls >= 3 and sorted(p.name for p in tmp_path.iterdir()) == [
        "all.py", "all_data.csv", "all_weights.safetensors"]
    for point in range(1, calls + 1):
        with pytest.raises(Cancelled):
            export_pytorch(project, weights, tmp_path / f"net{point}.py", progress=cancel_at(point))
        seen.clear()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("all")) == []
