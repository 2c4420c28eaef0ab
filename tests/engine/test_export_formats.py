"""Export formats at engine level: weight files, ONNX, the standalone NumPy script.

Each format is read back by the tool a user would use and must reproduce the
engine's predictions: weight files bit for bit, the float64 NumPy script to 1e-12,
ONNX (float32) to 1e-5.
"""
from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.data import load_dataset
from engine.errors import ConfigError, WeightsError
from engine.graph import compile_plan, parse_network
from engine.io.onnx_export import MISSING_ONNX, network_to_onnx
from engine.io.script_export import network_to_script
from engine.io.weights import WEIGHT_FORMATS, assign_tensors, load_weights, save_weights
from engine.network import Network

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "assets" / "examples").glob("*.json"))
EXAMPLE_IDS = [p.stem for p in EXAMPLES]
ACTIVATION_NAMES = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu",
                    "softmax")


def example_network(path: Path, dtype=np.float64, seed=0):
    """The example's network with its initial weights and non-zero biases, and its data set."""
    doc = json.loads(path.read_text())
    data = doc["data"]
    dataset = load_dataset(data["source"], samples=data.get("samples", 500),
                           features=tuple(data.get("features", ("x1", "x2"))),
                           train_fraction=data.get("train_fraction", 0.5),
                           standardize=data.get("standardize", False))
    network = Network(compile_plan(parse_network(doc["network"]), dataset.n_features), dtype)
    rng = np.random.default_rng(seed)
    network.initialize(rng)
    for step in network.plan.dense_steps:
        network.tensors[f"{step.node.id}.bias"][...] = rng.normal(0, 0.3, step.width)
    return network, dataset


def network_from(nodes, edges, output, n_features, seed=0):
    network = Network(compile_plan(parse_network({"nodes": nodes, "edges": edges, "output": output}), n_features))
    rng = np.random.default_rng(seed)
    network.initialize(rng)
    for step in network.plan.dense_steps:
        network.tensors[f"{step.node.id}.bias"][...] = rng.normal(0, 0.3, step.width)
    return network


def every_node_network():
    """A DAG with every activation (as dense and as activation nodes), dropout, 3-way add, concat."""
    nodes = [{"id": "in", "type": "input"},
             {"id": "h_relu", "type": "dense", "units": 6, "activation": "relu"},
             {"id": "h_tanh", "type": "dense", "units": 6, "activation": "tanh"},
             {"id": "h_gelu", "type": "dense", "units": 6, "activation": "gelu"},
             {"id": "sum", "type": "add"},
             {"id": "drop", "type": "dropout", "p": 0.3},
             {"id": "leaky", "type": "activation", "fn": "leaky_relu", "alpha": 0.2}]
    edges = [["in", "h_relu"], ["in", "h_tanh"], ["in", "h_gelu"],
             ["h_relu", "sum"], ["h_tanh", "sum"], ["h_gelu", "sum"], ["sum", "drop"], ["drop", "leaky"]]
    branches = {"linear": None, "sigmoid": None, "elu": 0.7, "softplus": None, "silu": None, "softmax": None}
    for fn, alpha in branches.items():
        node = {"id": f"d_{fn}", "type": "dense", "units": 5, "activation": fn}
        if alpha is not None:
            node["alpha"] = alpha
        nodes.append(node)
        edges += [["leaky", f"d_{fn}"], [f"d_{fn}", "cat"]]
    nodes += [{"id": "cat", "type": "concat"},
              {"id": "a_gelu", "type": "activation", "fn": "gelu"},
              {"id": "a_silu", "type": "activation", "fn": "silu"},
              {"id": "a_elu", "type": "activation", "fn": "elu"},
              {"id": "a_tanh", "type": "activation", "fn": "tanh"},
              {"id": "a_softplus", "type": "activation", "fn": "softplus"},
              {"id": "a_relu", "type": "activation", "fn": "relu"},
              {"id": "a_sigmoid", "type": "activation", "fn": "sigmoid"},
              {"id": "out", "type": "dense", "units": 4, "activation": "softmax"}]
    edges += [["cat", "a_gelu"], ["a_gelu", "a_silu"], ["a_silu", "a_elu"], ["a_elu", "a_tanh"],
              ["a_tanh", "a_softplus"], ["a_softplus", "a_relu"], ["a_relu", "a_sigmoid"], ["a_sigmoid", "out"]]
    return network_from(nodes, edges, "out", 3)


def single_activation_network(fn):
    """in -> dense(fn) -> activation(fn) -> dense linear: one activation in both forms, raw output."""
    alpha = {"leaky_relu": 0.2, "elu": 0.5}.get(fn)
    extra = {} if alpha is None else {"alpha": alpha}
    nodes = [{"id": "in", "type": "input"}, {"id": "h", "type": "dense", "units": 7, "activation": fn, **extra},
             {"id": "a", "type": "activation", "fn": fn, **extra}, {"id": "out", "type": "dense", "units": 2}]
    return network_from(nodes, [["in", "h"], ["h", "a"], ["a", "out"]], "out", 3)


def inputs(n_features, n=1000, seed=1):
    # float32-representable inputs, so ONNX and the engine see the same numbers.
    return np.random.default_rng(seed).normal(0, 2, (n, n_features)).astype(np.float32).astype(np.float64)


# --- weight files -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("path", EXAMPLES, ids=EXAMPLE_IDS)
def test_weight_file_round_trip_is_bit_for_bit(tmp_path, path, dtype, fmt):
    network, dataset = example_network(path, dtype)
    file = tmp_path / f"w.{fmt}"
    save_weights(file, network.tensors)
    loaded = load_weights(file)
    assert sorted(loaded) == sorted(network.tensors)
    assert all(loaded[name].dtype == dtype for name in loaded)
    fresh = Network(network.plan, dtype)
    assign_tensors(fresh, loaded, source=str(file))
    X = inputs(network.plan.input_width)
    assert np.array_equal(fresh.predict(X), network.predict(X))
    assert np.array_equal(fresh.params, network.params)


@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_wrong_shape_names_tensor_and_both_shapes(tmp_path, fmt):
    network, _ = example_network(EXAMPLES[EXAMPLE_IDS.index("spiral")])
    tensors = dict(network.tensors, **{"h2.weight": np.zeros((8, 3))})
    save_weights(tmp_path / f"w.{fmt}", tensors)
    with pytest.raises(WeightsError, match=r"'h2\.weight' has shape \[8, 3\], the network needs \[8, 8\]"):
        assign_tensors(Network(network.plan), load_weights(tmp_path / f"w.{fmt}"), source="w")
    with pytest.raises(WeightsError, match=r"'h2\.weight' has shape \[8, 3\], the network needs \[8, 8\]"):
        network_to_script(network.plan, tensors, ["x1", "x2"])


def test_missing_tensor_is_named(tmp_path):
    network, _ = example_network(EXAMPLES[EXAMPLE_IDS.index("residual")])
    tensors = {k: v for k, v in network.tensors.items() if k != "h3.bias"}
    save_weights(tmp_path / "w.npz", tensors)
    with pytest.raises(WeightsError, match=r"w\.npz: tensor 'h3\.bias' is missing"):
        assign_tensors(Network(network.plan), load_weights(tmp_path / "w.npz"), source=str(tmp_path / "w.npz"))
    with pytest.raises(WeightsError, match=r"'h3\.bias' is missing"):
        network_to_onnx(network.plan, tensors, ["x1", "x2"])


class _Payload:
    """Pickles to a call of open(marker, 'w'): loading it with pickle would create the marker."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_npz_with_object_array_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    np.savez(buffer, **{"h1.weight": np.array([_Payload(str(marker))], dtype=object)})
    (tmp_path / "evil.npz").write_bytes(buffer.getvalue())
    with pytest.raises(WeightsError, match="evil.npz: not a readable npz weight file"):
        load_weights(tmp_path / "evil.npz")
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a JSON weight file"),
    ('{"format": "nn-playground-weights/1"}', "needs a 'tensors' object"),
    ('{"tensors": {"h1.bias": {"shape": [2]}}}', r"tensor 'h1\.bias': needs 'shape' and 'data'"),
    ('{"tensors": {"h1.bias": {"shape": [3], "data": [1, 2]}}}', r"tensor 'h1\.bias': 'data' must hold 3 numbers"),
    ('{"tensors": {"h1.bias": {"shape": [2], "data": [1, "2"]}}}', r"tensor 'h1\.bias': 'data' must hold only"),
    ('{"tensors": {"h1.bias": {"shape": [2], "data": [true, 2]}}}', r"tensor 'h1\.bias': 'data' must hold only"),
    ('{"tensors": {"h1.bias": {"shape": [-2], "data": []}}}', r"'shape' must be a list of non-negative"),
    ('{"tensors": {"h1.bias": {"shape": [1], "data": [1], "dtype": "object"}}}', "dtype must be float32 or"),
])
def test_bad_json_weight_file(tmp_path, content, message):
    (tmp_path / "w.json").write_text(content)
    with pytest.raises(WeightsError, match=message):
        load_weights(tmp_path / "w.json")


# --- ONNX ---------------------------------------------------------------------------

def run_onnx(model_bytes, X):
    import onnxruntime as ort
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": X.astype(np.float32)})[0]


def check_onnx(network, feature_names):
    import onnx
    # The engine in float64 on the float32-rounded weights: only ONNX's float32 arithmetic differs.
    rounded = Network(network.plan)
    assign_tensors(rounded, {k: v.astype(np.float32) for k, v in network.tensors.items()})
    model_bytes = network_to_onnx(network.plan, network.tensors, feature_names)
    model = onnx.load_from_string(model_bytes)
    onnx.checker.check_model(model, full_check=True)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert model.producer_name == "nn-playground"
    assert json.loads({p.key: p.value for p in model.metadata_props}["feature_names"]) == list(feature_names)
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "input" and out.name == "output"
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert inp.type.tensor_type.shape.dim[0].dim_param        # a named, dynamic batch dimension
    assert inp.type.tensor_type.shape.dim[1].dim_value == network.plan.input_width
    assert {i.data_type for i in model.graph.initializer} == {onnx.TensorProto.FLOAT}
    X = inputs(network.plan.input_width)
    expected = rounded.predict(X)
    got = run_onnx(model_bytes, X)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-5
    assert np.max(np.abs(run_onnx(model_bytes, X[:1]) - expected[:1])) <= 1e-5


@pytest.mark.parametrize("path", EXAMPLES, ids=EXAMPLE_IDS)
def test_onnx_matches_engine_for_every_example(path):
    network, dataset = example_network(path)
    check_onnx(network, dataset.feature_names)


def test_onnx_every_node_type_and_activation():
    network = every_node_network()
    used = {s.node.activation for s in network.plan.steps if s.node.type in ("dense", "activation")}
    assert used == set(ACTIVATION_NAMES)
    check_onnx(network, ["a", "b", "c"])


@pytest.mark.parametrize("fn", ACTIVATION_NAMES)
def test_onnx_each_activation_raw_output(fn):
    check_onnx(single_activation_network(fn), ["a", "b", "c"])


def test_onnx_node_ids_that_clash_with_graph_names():
    nodes = [{"id": "input", "type": "input"}, {"id": "output", "type": "dense", "units": 3, "activation": "gelu"},
             {"id": "h.weight", "type": "dense", "units": 3}, {"id": "out", "type": "add"}]
    edges = [["input", "output"], ["output", "h.weight"], ["output", "out"], ["h.weight", "out"]]
    check_onnx(network_from(nodes, edges, "out", 2), ["x1", "x2"])


def test_onnx_without_the_package_says_how_to_install(monkeypatch):
    network, _ = example_network(EXAMPLES[0])
    monkeypatch.setitem(sys.modules, "onnx", None)      # makes `import onnx` raise ImportError
    with pytest.raises(ConfigError) as info:
        network_to_onnx(network.plan, network.tensors, ["x1", "x2"])
    assert str(info.value) == MISSING_ONNX


# --- standalone NumPy script --------------------------------------------------------

def import_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script_cli(script: Path, X: np.ndarray, feature_names, tmp_path: Path, block_scipy=False) -> np.ndarray:
    """Run ``python script.py data.csv`` and parse the printed predictions."""
    csv = tmp_path / "features.csv"
    # Extra column first and features by name: the script picks the columns from the header.
    header = ",".join(["target", *feature_names])
    np.savetxt(csv, np.column_stack([np.zeros(len(X)), X]), delimiter=",", header=header, comments="", fmt="%.17g")
    if block_scipy:
        code = ("import runpy, sys; sys.modules['scipy'] = None; sys.argv = sys.argv[1:]; "
                "runpy.run_path(sys.argv[0], run_name='__main__')")
        argv = [sys.executable, "-c", code, str(script), str(csv)]
    else:
        argv = [sys.executable, str(script), str(csv)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("output")
    return np.array([[float(v) for v in line.split(",")] for line in lines[1:]])


@pytest.mark.parametrize("path", EXAMPLES, ids=EXAMPLE_IDS)
def test_numpy_script_matches_engine(tmp_path, path):
    network, dataset = example_network(path)
    source = network_to_script(network.plan, network.tensors, dataset.feature_names)
    compile(source, "script.py", "exec")
    assert "scipy" not in source.split('"""', 2)[2]
    script = tmp_path / "model.py"
    script.write_text(source)
    X = inputs(network.plan.input_width, n=200)
    expected = network.predict(X)
    assert np.max(np.abs(import_script(script).predict(X) - expected)) <= 1e-12
    printed = run_script_cli(script, X, dataset.feature_names, tmp_path)
    assert printed.shape == expected.shape and np.max(np.abs(printed - expected)) <= 1e-12


def test_numpy_script_every_node_type_without_scipy(tmp_path):
    network = every_node_network()
    script = tmp_path / "model.py"
    script.write_text(network_to_script(network.plan, network.tensors, ["a", "b", "c"]))
    X = inputs(3)
    expected = network.predict(X)
    assert np.max(np.abs(import_script(script).predict(X) - expected)) <= 1e-12
    printed = run_script_cli(script, X[:50], ["a", "b", "c"], tmp_path, block_scipy=True)
    assert np.max(np.abs(printed - expected[:50])) <= 1e-12


@pytest.mark.parametrize("fn", ACTIVATION_NAMES)
def test_numpy_script_each_activation(tmp_path, fn):
    network = single_activation_network(fn)
    script = tmp_path / "model.py"
    script.write_text(network_to_script(network.plan, network.tensors, ["a", "b", "c"]))
    X = inputs(3) * 10         # wide range: saturation and overflow paths too
    assert np.max(np.abs(import_script(script).predict(X) - network.predict(X))) <= 1e-12


def test_numpy_script_float32_network(tmp_path):
    network, dataset = example_network(EXAMPLES[EXAMPLE_IDS.index("residual")], np.float32)
    script = tmp_path / "model.py"
    script.write_text(network_to_script(network.plan, network.tensors, dataset.feature_names))
    X = inputs(2)
    got = import_script(script).predict(X)
    assert got.dtype == np.float32
    assert np.max(np.abs(got - network.predict(X))) <= 1e-6


def test_numpy_script_names_cannot_inject_code(tmp_path):
    """Node ids and feature names become literals or comments, never code; variables stay valid."""
    evil = "x'\n__import__('os').system('touch PWNED')#"
    nodes = [{"id": "in", "type": "input"}, {"id": evil, "type": "dense", "units": 3, "activation": "relu"},
             {"id": "len", "type": "dense", "units": 3, "activation": "sigmoid"},
             {"id": "1st layer", "type": "activation", "fn": "tanh"}, {"id": "sum", "type": "add"},
             {"id": "sigmoid", "type": "dropout", "p": 0.5}]
    edges = [["in", evil], [evil, "len"], [evil, "1st layer"], ["len", "sum"], ["1st layer", "sum"],
             ["sum", "sigmoid"]]
    network = network_from(nodes, edges, "sigmoid", 2)
    features = ['a"""b', "c\nd"]
    script = tmp_path / "model.py"
    script.write_text(network_to_script(network.plan, network.tensors, features))
    module = import_script(script)
    assert module.FEATURE_NAMES == features
    X = inputs(2, n=20)
    assert np.max(np.abs(module.predict(X) - network.predict(X))) <= 1e-12
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_numpy_script_refuses_wrong_width(tmp_path):
    network, dataset = example_network(EXAMPLES[0])
    script = tmp_path / "model.py"
    script.write_text(network_to_script(network.plan, network.tensors, dataset.feature_names))
    with pytest.raises(ValueError, match=r"X must have shape \[n, 2\], got \[4, 3\]"):
        import_script(script).predict(np.zeros((4, 3)))
