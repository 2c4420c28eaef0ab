"""Exports carry a classifier's class names: weight-file metadata, ONNX metadata, the NumPy script.

Labels come from a data file, so the hostile ones (quotes, newlines, a very long one, code)
must come back exactly, the scripts must still run and print them, and a regression
network (no classes) must write none.  Each file is read back the way another tool would.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ConfigError, WeightsError
from engine.graph import compile_plan, parse_network
from engine.io.class_names import MAX_CLASS_NAMES_BYTES
from engine.io.onnx_export import network_to_onnx
from engine.io.script_export import network_to_script
from engine.io.weights import (WEIGHT_FORMATS, load_class_names, load_input_scaling, load_weights,
                               save_weights, tensor_shapes)
from engine.network import Network

# Sorted, as Dataset.classes are; each one a way to break a literal, a CSV line or a JSON string.
HOSTILE = ('"""; __import__("os").system("touch PWNED") #', "comma, and \"quote\"", "it's\nline\r\nbreak",
           "tab\there \\ back\\slash \u00e9\u4e2d\U0001f600", "x" * 20_000)
NUMBERS = (0, 2.5, 10)


def classifier(n_classes: int, n_features: int = 3, seed: int = 0) -> Network:
    """A softmax classifier (or one sigmoid column for two classes) with random weights."""
    units, activation = (1, "sigmoid") if n_classes == 2 else (n_classes, "softmax")
    return _network(units, activation, n_features, seed)


def regressor(n_features: int = 3) -> Network:
    return _network(2, "linear", n_features, 0)


def _network(units: int, activation: str, n_features: int, seed: int) -> Network:
    doc = {"nodes": [{"id": "in", "type": "input"}, {"id": "h", "type": "dense", "units": 5, "activation": "tanh"},
                     {"id": "out", "type": "dense", "units": units, "activation": activation}],
           "edges": [["in", "h"], ["h", "out"]], "output": "out"}
    network = Network(compile_plan(parse_network(doc), n_features))
    rng = np.random.default_rng(seed)
    network.initialize(rng)
    for step in network.plan.dense_steps:
        network.tensors[f"{step.node.id}.bias"][...] = rng.normal(0, 1.0, step.width)
    return network


def rows(n_features: int, n: int = 40) -> np.ndarray:
    return np.random.default_rng(3).normal(0, 2.0, (n, n_features))


# --- weight files --------------------------------------------------------------------

@pytest.mark.parametrize("labels", [HOSTILE, NUMBERS], ids=["hostile text", "numbers"])
@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_weight_files_carry_the_labels_exactly_and_the_tensors_alone(tmp_path, fmt, labels):
    network = classifier(len(labels))
    path = tmp_path / f"w.{fmt}"
    scaling = (np.array([0.1, -2.0, 1 / 3]), np.array([1.5, 2.0, 0.25]))
    save_weights(path, network.tensors, input_scaling=scaling, class_names=labels)
    names = load_class_names(path)
    assert names == list(labels) and [type(n) for n in names] == [type(n) for n in labels]
    np.testing.assert_array_equal(load_input_scaling(path)[0], scaling[0])
    tensors = load_weights(path, expected=tensor_shapes(network))
    assert set(tensors) == set(network.tensors)
    for name, t in network.tensors.items():
        np.testing.assert_array_equal(tensors[name], t)


def test_where_a_foreign_reader_finds_them(tmp_path):
    """safetensors metadata (JSON text), an npz member (a string holding JSON), a JSON key."""
    from safetensors import safe_open
    network = classifier(len(HOSTILE))
    paths = {fmt: tmp_path / f"w.{fmt}" for fmt in WEIGHT_FORMATS}
    for path in paths.values():
        save_weights(path, network.tensors, class_names=HOSTILE)
    with safe_open(str(paths["safetensors"]), "np") as handle:
        assert json.loads(handle.metadata()["class_names"]) == list(HOSTILE)
        assert sorted(handle.keys()) == sorted(network.tensors)
    with np.load(paths["npz"], allow_pickle=False) as archive:      # no pickle needed
        assert json.loads(str(archive["class_names"])) == list(HOSTILE)
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["class_names"] == list(HOSTILE)


@pytest.mark.parametrize("classes", [None, ()], ids=["not given", "regression"])
@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_no_classes_write_no_entry(tmp_path, fmt, classes):
    network = regressor()
    path = tmp_path / f"w.{fmt}"
    save_weights(path, network.tensors, class_names=classes)
    assert load_class_names(path) is None
    raw = path.read_bytes()
    assert b"class_names" not in raw


def test_labels_beyond_the_cap_are_refused_by_size_and_nothing_is_written(tmp_path):
    network = classifier(3)
    huge = ("a", "b", "c" * MAX_CLASS_NAMES_BYTES)
    for fmt in WEIGHT_FORMATS:
        with pytest.raises(ConfigError, match=rf"class names take {MAX_CLASS_NAMES_BYTES + 14:,} bytes as JSON, "
                                              rf"more than the {MAX_CLASS_NAMES_BYTES:,}"):
            save_weights(tmp_path / f"w.{fmt}", network.tensors, class_names=huge)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("label, shown", [(None, "None"), (float("nan"), "nan"), (True, "True"),
                                          (b"bytes", "b'bytes'")])
def test_a_label_that_is_not_text_or_a_number_is_named(tmp_path, label, shown):
    with pytest.raises(ConfigError, match=f"class label {shown} is not text or a finite number"):
        save_weights(tmp_path / "w.npz", classifier(2).tensors, class_names=("a", label))


def test_numpy_labels_are_written_as_plain_numbers(tmp_path):
    path = tmp_path / "w.json"
    save_weights(path, classifier(3).tensors, class_names=np.array([1, 2, 7]))
    assert load_class_names(path) == [1, 2, 7]


def _safetensors_with_metadata(path: Path, metadata: dict) -> None:
    header = json.dumps({"__metadata__": metadata}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header)


@pytest.mark.parametrize("value, message", [
    ("[1, ", "'class_names' is not JSON text"),
    ('{"a": 1}', "'class_names' must be a list of labels"),
    ("[NaN]", "holds nan; a label is text or a finite number"),
    ('[["nested"]]', "holds \\['nested'\\]; a label is text or a finite number"),
    (json.dumps(["x" * MAX_CLASS_NAMES_BYTES]), "class names take"),
])
def test_a_bad_entry_in_a_file_is_named(tmp_path, value, message):
    path = tmp_path / "w.safetensors"
    _safetensors_with_metadata(path, {"class_names": value})
    with pytest.raises(WeightsError, match=message):
        load_class_names(path)
    json_path = tmp_path / "w.json"
    json_path.write_text(json.dumps({"format": "nn-playground-weights/1", "tensors": {}, "class_names": {"a": 1}}))
    with pytest.raises(WeightsError, match="'class_names' must be a list of labels"):
        load_class_names(json_path)


def test_an_npz_member_declaring_a_huge_string_is_refused_before_reading(tmp_path):
    """The .npy header may claim 400 MB of text in a tiny file: its size is checked first."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<U100000000", "fortran_order": False, "shape": ()})
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("class_names.npy", header.getvalue() + b"[\0\0\0")
    with pytest.raises(WeightsError, match="'class_names' must be a string of at most"):
        load_class_names(path)
    with zipfile.ZipFile(path, "w") as archive:       # an object array is never unpickled
        buffer = io.BytesIO()
        np.save(buffer, np.array(["a"], dtype=object), allow_pickle=True)
        archive.writestr("class_names.npy", buffer.getvalue())
    with pytest.raises(WeightsError, match="must be a string"):
        load_class_names(path)


def test_load_weights_ignores_the_class_names_member(tmp_path):
    network = classifier(3)
    path = tmp_path / "w.npz"
    save_weights(path, network.tensors, class_names=("a", "b", "c"))
    with zipfile.ZipFile(path) as archive:
        assert "class_names.npy" in archive.namelist()
    assert set(load_weights(path, expected=tensor_shapes(network))) == set(network.tensors)


# --- ONNX ----------------------------------------------------------------------------

def onnx_metadata(model_bytes: bytes) -> tuple[dict, str]:
    import onnx
    model = onnx.load_from_string(model_bytes)
    return {p.key: p.value for p in model.metadata_props}, model.graph.doc_string


@pytest.mark.parametrize("labels", [HOSTILE, NUMBERS], ids=["hostile text", "numbers"])
def test_onnx_metadata_holds_the_labels(labels):
    import onnxruntime as ort
    network = classifier(len(labels))
    model = network_to_onnx(network.plan, network.tensors, ["a", "b", "c"], class_names=labels)
    metadata, doc = onnx_metadata(model)
    assert json.loads(metadata["class_names"]) == list(labels)
    assert "classes in output column order: " + metadata["class_names"] in doc
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    assert json.loads(session.get_modelmeta().custom_metadata_map["class_names"]) == list(labels)


def test_onnx_binary_classifier_says_which_class_its_column_is():
    network = classifier(2)
    metadata, doc = onnx_metadata(network_to_onnx(network.plan, network.tensors, ["a", "b", "c"],
                                                  class_names=("cat", "dog")))
    assert json.loads(metadata["class_names"]) == ["cat", "dog"]
    assert 'classes ["cat", "dog"]: the output is the probability of the second' in doc


def test_onnx_regression_has_no_class_names():
    network = regressor()
    for classes in (None, ()):
        metadata, doc = onnx_metadata(network_to_onnx(network.plan, network.tensors, ["a", "b", "c"],
                                                      class_names=classes))
        assert "class_names" not in metadata and "class" not in doc


def test_labels_that_do_not_fit_the_output_are_refused():
    network = classifier(3)
    with pytest.raises(ConfigError, match="the data set has 4 classes, but the network's output has 3 columns"):
        network_to_onnx(network.plan, network.tensors, ["a", "b", "c"], class_names=("a", "b", "c", "d"))
    binary = classifier(2)
    with pytest.raises(ConfigError, match=r"has 3 classes, but the network's output has 1 column \(the "
                                          r"probability of the second class\), which needs 2"):
        network_to_script(binary.plan, binary.tensors, ["a", "b", "c"], class_names=("a", "b", "c"))


# --- the NumPy script ----------------------------------------------------------------

def import_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(script: Path, X: np.ndarray, tmp_path: Path) -> list[list[str]]:
    """``python script.py rows.csv`` in a subprocess; its output parsed as CSV."""
    data = tmp_path / "rows.csv"
    np.savetxt(data, X, delimiter=",", fmt="%.17g")
    done = subprocess.run([sys.executable, str(script), str(data)], capture_output=True, timeout=60,
                          cwd=tmp_path, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return list(csv.reader(io.StringIO(done.stdout.decode("utf-8"), newline="")))


def expected_labels(network: Network, X: np.ndarray, labels) -> list:
    """The playground's own rule: its loss head's predict_classes (threshold, or arg-max)."""
    from engine.losses import make_loss_head
    loss = "bce" if network.plan.output_width == 1 else "cross_entropy"
    head = make_loss_head(loss, network.plan.output_activation, network.plan.output_width, "classification",
                          len(labels))
    return [labels[k] for k in head.predict_classes(network.predict(X))]


@pytest.mark.parametrize("labels", [HOSTILE, ("no", "yes"), NUMBERS], ids=["hostile text", "binary", "numbers"])
def test_numpy_script_prints_each_rows_class_by_name(tmp_path, labels):
    network = classifier(len(labels))
    script = tmp_path / "model.py"
    script.write_text(network_to_script(network.plan, network.tensors, ["a", "b", "c"], class_names=labels),
                      encoding="utf-8")
    X = rows(3)
    printed = run_script(script, X, tmp_path)
    width = network.plan.output_width
    assert printed[0] == (["output"] if width == 1 else [f"output_{i}" for i in range(width)]) + ["class"]
    expected = expected_labels(network, X, labels)
    assert [row[-1] for row in printed[1:]] == [str(label) for label in expected]
    assert len(set(expected)) > 1                             # the rows do not all land in one class
    np.testing.assert_allclose(np.array([row[:-1] for row in printed[1:]], dtype=float), network.predict(X),
                               rtol=0, atol=1e-12)
    module = import_script(script)
    assert module.CLASS_NAMES == list(labels)
    assert module.predict_class_names(X) == expected
    assert not (tmp_path / "PWNED").exists()


def test_numpy_script_of_a_regression_network_names_no_class(tmp_path):
    network = regressor()
    script = tmp_path / "model.py"
    script.write_text(network_to_script(network.plan, network.tensors, ["a", "b", "c"], class_names=()))
    printed = run_script(script, rows(3, n=5), tmp_path)
    assert printed[0] == ["output_0", "output_1"] and all(len(row) == 2 for row in printed)
    module = import_script(script)
    assert module.CLASS_NAMES is None
    with pytest.raises(ValueError, match="not a classifier"):
        module.predict_class_names(rows(3, n=2))


def test_a_safetensors_header_beyond_the_format_limit_is_refused_when_writing(tmp_path, monkeypatch):
    """Readers refuse a header over 100 MiB; the writer says so, rather than write an unreadable file."""
    from engine.io import weights
    monkeypatch.setattr(weights, "SAFETENSORS_MAX_HEADER", 4096)
    network = classifier(3)
    scaling = (np.zeros(3), np.ones(3))
    with pytest.raises(WeightsError, match=r"the safetensors header \(tensor names, input scaling, class names\) "
                                           r"would take [0-9,]+ bytes, more than the 4,096 the format allows; "
                                           r"save as \.npz instead"):
        save_weights(tmp_path / "w.safetensors", network.tensors, input_scaling=scaling,
                     class_names=("a", "b", "c" * 5000))
    assert not list(tmp_path.iterdir())
    save_weights(tmp_path / "w.npz", network.tensors, input_scaling=scaling, class_names=("a", "b", "c" * 5000))
