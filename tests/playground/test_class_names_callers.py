"""The callers carry the data set's class names (and input scaling) into every export:
``export_model`` / ``encode_model`` (the app), ``playground export`` and ``train
--save-weights`` (the CLI), and the PyTorch export, whose script prints them.

A CSV data set whose labels hold quotes, commas, newlines and code goes through the
real command line; the generated scripts are run as subprocesses and must print each
label as it is.  A regression project writes no class names anywhere.
"""
from __future__ import annotations

import copy
import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.io.weights import WEIGHT_FORMATS, load_class_names, load_input_scaling, load_weights, save_weights
from playground.cli import main
from playground.export import EXPORT_FORMATS, FILE_SUFFIX, encode_model, export_model, export_project
from playground.project import build_session, load_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
IRIS = EXAMPLES / "iris.json"
LABELS = ('say "hi", then\nleave', "it's ok", "z" * 3000, '""";import os;os.system("touch PWNED")#')


def onnx_class_names(path: Path):
    import onnx
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return json.loads(props["class_names"]) if "class_names" in props else None


def import_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(argv: list, cwd: Path) -> list[list[str]]:
    """A generated script's command line in a subprocess; its stdout parsed as CSV."""
    done = subprocess.run([sys.executable, *map(str, argv)], capture_output=True, timeout=120, cwd=cwd,
                          env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return list(csv.reader(io.StringIO(done.stdout.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    """The iris session after a few steps and its weight file (written without class names)."""
    session = build_session(load_project(IRIS))
    session.step(30)
    weights = tmp_path_factory.mktemp("iris") / "iris.safetensors"
    save_weights(weights, session.weights())
    return session, weights


# --- the app's entry points ----------------------------------------------------------

@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_export_model_weight_files_carry_the_input_scaling(tmp_path, iris, fmt):
    """Was dropped: export_model and encode_model wrote weight files without the scaling."""
    session, _ = iris
    dataset = session.dataset
    out = tmp_path / f"w{FILE_SUFFIX[fmt]}"
    export_model(session.network.plan, session.weights(), dataset.feature_names, fmt, out, dataset.input_scaling)
    np.testing.assert_array_equal(load_input_scaling(out)[1], dataset.input_scale)
    encoded = tmp_path / f"e{FILE_SUFFIX[fmt]}"
    encoded.write_bytes(encode_model(session.network.plan, session.weights(), dataset.feature_names, fmt,
                                     dataset.input_scaling))
    np.testing.assert_array_equal(load_input_scaling(encoded)[0], dataset.input_shift)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export_model_carries_the_class_names_in_every_format(tmp_path, iris, fmt):
    session, _ = iris
    dataset = session.dataset
    out = tmp_path / f"m{FILE_SUFFIX[fmt]}"
    export_model(session.network.plan, session.weights(), dataset.feature_names, fmt, out, dataset.input_scaling,
                 class_names=dataset.classes)
    assert read_class_names(fmt, out) == ["setosa", "versicolor", "virginica"] == list(dataset.classes)


def read_class_names(fmt: str, path: Path):
    if fmt in WEIGHT_FORMATS:
        return load_class_names(path)
    if fmt == "onnx":
        return onnx_class_names(path)
    return import_script(path).CLASS_NAMES


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_the_old_call_without_class_names_still_exports(tmp_path, iris, fmt):
    session, _ = iris
    out = tmp_path / f"m{FILE_SUFFIX[fmt]}"
    export_model(session.network.plan, session.weights(), session.dataset.feature_names, fmt, out,
                 session.dataset.input_scaling)
    assert read_class_names(fmt, out) is None


def test_class_names_that_do_not_fit_are_refused_before_writing(tmp_path, iris):
    session, _ = iris
    for fmt in EXPORT_FORMATS:
        out = tmp_path / f"m{FILE_SUFFIX[fmt]}"
        with pytest.raises(ValueError, match=f"the {fmt} export: the data set has 2 classes, but the network's "
                                             "output has 3 columns"):
            export_model(session.network.plan, session.weights(), session.dataset.feature_names, fmt, out,
                         class_names=("a", "b"))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export_project_names_the_classes(tmp_path, iris, fmt):
    _, weights = iris
    out = tmp_path / f"m{FILE_SUFFIX[fmt]}"
    export_project(IRIS, weights, fmt, out)
    assert read_class_names(fmt, out) == ["setosa", "versicolor", "virginica"]


# --- the command line, with hostile labels --------------------------------------------

@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A CSV project whose labels are LABELS, trained by ``playground train --save-weights``."""
    folder = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    with open(folder / "data.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "label"])
        for i in range(120):
            k = i % len(LABELS)
            writer.writerow([k + rng.normal(0, 0.3), -k + rng.normal(0, 0.3), LABELS[k]])
    doc = json.loads(IRIS.read_text())
    doc["data"] = {"source": {"csv": "data.csv", "target": "label", "task": "classification"},
                   "train_fraction": 0.7, "standardize": True}
    doc["network"]["nodes"][-1]["units"] = len(LABELS)
    (folder / "project.json").write_text(json.dumps(doc))
    weights = folder / "trained.npz"
    assert main(["train", str(folder / "project.json"), "--steps", "300", "--save-weights", str(weights),
                 "--quiet"]) == 0
    session = build_session(load_project(folder / "project.json"))
    session.load_weights(load_weights(weights))
    return folder, weights, session


def test_train_save_weights_carries_the_labels(hostile):
    _, weights, session = hostile
    assert load_class_names(weights) == list(session.dataset.classes) == sorted(LABELS)


def expected_labels(folder: Path, session) -> list[str]:
    """The engine's class for each row of data.csv (file order), by arg-max of its output."""
    with open(folder / "data.csv", newline="", encoding="utf-8") as handle:
        raw = np.array([row[:2] for row in list(csv.reader(handle))[1:]], dtype=np.float64)
    standardized = (raw - session.dataset.input_shift) / session.dataset.input_scale
    return [session.dataset.classes[k] for k in np.argmax(session.network.predict(standardized), axis=1)]


def test_numpy_export_prints_each_label_as_it_is(hostile):
    folder, weights, session = hostile
    out = folder / "model.py"
    assert main(["export", str(folder / "project.json"), "--weights", str(weights), "--format", "numpy",
                 "-o", str(out)]) == 0
    printed = run([out, "data.csv"], cwd=folder)
    assert printed[0] == [f"output_{i}" for i in range(len(LABELS))] + ["class"]
    names = [row[-1] for row in printed[1:]]
    assert names == expected_labels(folder, session)
    assert set(names) == set(LABELS)                    # every class is predicted: each label printed whole
    module = import_script(out)
    assert module.CLASS_NAMES == sorted(LABELS)
    assert not (folder / "PWNED").exists()


def test_onnx_export_holds_the_labels(hostile, tmp_path):
    folder, weights, _ = hostile
    out = tmp_path / "model.onnx"
    assert main(["export", str(folder / "project.json"), "--weights", str(weights), "--format", "onnx",
                 "-o", str(out)]) == 0
    assert onnx_class_names(out) == sorted(LABELS)


def test_pytorch_export_prints_the_labels_and_keeps_them_in_its_weights(hostile, tmp_path):
    pytest.importorskip("torch")
    folder, weights, session = hostile
    out = folder / "net.py"
    assert main(["export", str(folder / "project.json"), "--weights", str(weights), "--format", "pytorch",
                 "-o", str(out)]) == 0
    assert load_class_names(folder / "net_weights.safetensors") == sorted(LABELS)
    printed = run([out, "predict", "data.csv"], cwd=folder)
    assert printed[0] == [f"output_{i}" for i in range(len(LABELS))] + ["class"]
    assert [row[-1] for row in printed[1:]] == expected_labels(folder, session)
    script = import_script(out)
    assert script.CLASS_NAMES == sorted(LABELS)
    model = script.load_weights()
    for suffix in ("npz", "safetensors"):             # the script's own weight files keep them too
        path = tmp_path / f"w.{suffix}"
        script.save_weights(model, path)
        assert load_class_names(path) == sorted(LABELS)
        script.load_weights(path)
    other = tmp_path / "other.safetensors"
    tensors = {name: t.detach().numpy() for name, t in model.state_dict().items()}
    save_weights(other, tensors, input_scaling=(script.INPUT_SHIFT, script.INPUT_SCALE),
                 class_names=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="trained for other classes than this network's CLASS_NAMES"):
        script.load_weights(other)


# --- regression: no class names --------------------------------------------------------

REGRESSION = {"source": "plane", "samples": 100, "train_fraction": 0.8}


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regression")
    doc = json.loads((EXAMPLES / "spiral.json").read_text())
    doc = copy.deepcopy(doc)
    doc["data"] = dict(REGRESSION)
    doc["network"]["nodes"][-1]["activation"] = "linear"
    doc["training"]["loss"] = "mse"
    (folder / "project.json").write_text(json.dumps(doc))
    weights = folder / "w.safetensors"
    assert main(["train", str(folder / "project.json"), "--steps", "3", "--save-weights", str(weights),
                 "--quiet"]) == 0
    return folder, weights


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_a_regression_project_writes_no_class_names(regression, tmp_path, fmt):
    folder, weights = regression
    assert load_class_names(weights) is None
    out = tmp_path / f"m{FILE_SUFFIX[fmt]}"
    export_project(folder / "project.json", weights, fmt, out)
    assert read_class_names(fmt, out) is None
    if fmt in WEIGHT_FORMATS:
        assert b"class_names" not in out.read_bytes()


def test_a_regression_pytorch_script_prints_no_class(regression, tmp_path):
    pytest.importorskip("torch")
    folder, weights = regression
    out = tmp_path / "net.py"
    assert main(["export", str(folder / "project.json"), "--weights", str(weights), "--format", "pytorch",
                 "-o", str(out)]) == 0
    assert import_script(out).CLASS_NAMES is None
    assert load_class_names(tmp_path / "net_weights.safetensors") is None
    printed = run([out, "predict", "net_data.csv"], cwd=tmp_path)
    assert printed[0] == ["output"]
