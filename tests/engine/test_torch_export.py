"""The PyTorch export: the generated script's train() against the engine, step for step.

Each case exports a project, trains it N steps in the engine and N steps in the
script (torch, float64) from the same initial weights, and compares every tensor to
1e-10.  Together the cases use every optimiser, schedule, loss and regulariser, the
residual and concat examples, dropout, shuffled and ordered batches.  A forked
2-process gloo run (the environment torchrun sets) must equal the 1-process run.
"""
from __future__ import annotations

import ast
import copy
import importlib.util
import itertools
import json
import multiprocessing
import socket
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.io.torch_export import RESERVED_ATTRIBUTES  # noqa: E402
from engine.io.weights import load_input_scaling, load_weights, save_weights  # noqa: E402
from playground.project import build_session, load_project, parse_project  # noqa: E402
from playground.torch_export import export_pytorch, pytorch_files  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
STEPS = 25
TOLERANCE = 1e-10
_modules = itertools.count()


def chain(hidden, out_units=1, out_activation="sigmoid", extra=()):
    """A network section: input, dense layers (id, units, activation), then "out"; ``extra``
    nodes (id, spec) are put after the named layer as a one-input node."""
    nodes, edges, prev = [{"id": "in", "type": "input"}], [], "in"
    for node_id, units, activation in hidden:
        nodes.append({"id": node_id, "type": "dense", "units": units, "activation": activation})
        edges.append([prev, node_id])
        prev = node_id
        for after, spec in extra:
            if after == node_id:
                nodes.append(spec)
                edges.append([prev, spec["id"]])
                prev = spec["id"]
    nodes.append({"id": "out", "type": "dense", "units": out_units, "activation": out_activation})
    edges.append([prev, "out"])
    return {"nodes": nodes, "edges": edges, "output": "out"}


def project(optimizer, *, loss="bce", schedule=None, regularization=None, network=None, source="circle",
            batch_size=7, shuffle=True, samples=60, features=("x1", "x2"), dtype="float64", seed=5, **data):
    doc = {"format": "nn-playground/1", "name": "case", "seed": seed, "dtype": dtype,
           "data": {"source": source, "samples": samples, "features": list(features), **data},
           "network": network or chain([("h1", 5, "tanh")]),
           "training": {"loss": loss, "optimizer": optimizer, "batch_size": batch_size, "shuffle": shuffle,
                        "schedule": schedule or {"name": "constant"},
                        "regularization": regularization or {"kind": "none", "rate": 0.0}}}
    return doc


def example(name, **training):
    doc = json.loads((EXAMPLES / f"{name}.json").read_text())
    doc["training"].update(training)
    return doc


CASES = {
    "residual, adam": example("residual"),
    "concat, adam": example("concat"),
    "sgd nesterov, step, l2, dropout": project(
        {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        schedule={"name": "step", "step_size": 4, "gamma": 0.5}, regularization={"kind": "l2", "rate": 0.01},
        network=chain([("h1", 6, "relu"), ("h2", 4, "tanh")], extra=[("h1", {"id": "drop", "type": "dropout",
                                                                             "p": 0.3})])),
    "sgd dampening, exponential, l1": project(
        {"name": "sgd", "lr": 0.2, "momentum": 0.5, "dampening": 0.3},
        schedule={"name": "exponential", "gamma": 0.9}, regularization={"kind": "l1", "rate": 0.003}),
    "adagrad, inverse_time with warm-up": project(
        {"name": "adagrad", "lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.001, "initial_accumulator_value": 0.1},
        schedule={"name": "inverse_time", "decay": 0.1, "warmup": 5}),
    "rmsprop centered momentum, log": project(
        {"name": "rmsprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
        schedule={"name": "log"}, network=chain([("h1", 5, "elu"), ("h2", 5, "leaky_relu")])),
    "adam amsgrad, cosine past t_max": project(
        {"name": "adam", "lr": 0.05, "amsgrad": True, "weight_decay": 0.01, "eps": 1e-6},
        schedule={"name": "cosine", "t_max": 10, "eta_min": 0.001}, regularization={"kind": "l2", "rate": 0.001}),
    "adamw, exponential with warm-up, shuffle off": project(
        {"name": "adamw", "lr": 0.02, "weight_decay": 0.1, "betas": [0.8, 0.99]},
        schedule={"name": "exponential", "gamma": 0.95, "warmup": 3}, shuffle=False, batch_size=8),
    "rprop, step, full batch": project(
        {"name": "rprop", "lr": 0.05, "etas": [0.4, 1.3], "step_sizes": [1e-5, 1.0]},
        schedule={"name": "step", "step_size": 3}, batch_size="full"),
    "sign_sgd, constant with warm-up, l1": project(
        {"name": "sign_sgd", "lr": 0.01, "weight_decay": 0.01}, schedule={"name": "constant", "warmup": 4},
        regularization={"kind": "l1", "rate": 0.01}),
    "mse regression, gelu and silu": project(
        {"name": "adam", "lr": 0.01}, loss="mse", source="plane",
        network=chain([("h1", 6, "gelu"), ("h2", 4, "silu")], out_activation="linear")),
    "mae regression, softplus": project(
        {"name": "sgd", "lr": 0.05, "momentum": 0.9}, loss="mae", source="multi-gaussian",
        network=chain([("h1", 6, "softplus")], out_activation="linear"), features=("x1", "x2", "x1*x2")),
    "huber regression": project(
        {"name": "rmsprop", "lr": 0.01}, loss="huber", source="plane", noise=0.5,
        network=chain([("h1", 6, "tanh")], out_activation="linear"), regularization={"kind": "l2", "rate": 0.01}),
    "cross_entropy on softmax, standardized iris": example("iris", batch_size=16),
    "cross_entropy on logits": project(
        {"name": "adam", "lr": 0.01}, loss="cross_entropy",
        network=chain([("h1", 5, "relu")], out_units=2, out_activation="linear")),
    "hinge": project(
        {"name": "sgd", "lr": 0.1}, loss="hinge", network=chain([("h1", 5, "tanh")], out_units=2,
                                                               out_activation="linear")),
    "mse on one-hot classes, softmax output": project(
        {"name": "adagrad", "lr": 0.1}, loss="mse", source="xor",
        network=chain([("h1", 5, "sigmoid")], out_units=2, out_activation="softmax")),
}


def load_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_net_{next(_modules)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def export(doc, folder: Path):
    """(session, script module, initial weight file): the project exported with its initial
    weights shifted at random, so that the run does not depend on the seeded draw."""
    proj = parse_project(copy.deepcopy(doc))
    session = build_session(proj)
    rng = np.random.default_rng(11)
    start = {name: t + 0.2 * rng.standard_normal(t.shape) for name, t in session.weights().items()}
    init = folder / "init.npz"
    save_weights(init, start)
    session.load_weights(start)
    export_pytorch(proj, start, folder / "net.py")
    return session, load_script(folder / "net.py"), init


def largest_difference(model, session) -> float:
    state = model.state_dict()
    assert set(state) == set(session.network.tensors)
    return max(float(np.max(np.abs(state[name].detach().cpu().numpy() - t))) for name, t in session.weights().items())


@pytest.mark.parametrize("name", list(CASES))
def test_script_trains_as_the_engine(name, tmp_path):
    session, script, init = export(CASES[name], tmp_path)
    assert session.step(STEPS) == STEPS
    model = script.train(steps=STEPS, init_weights=init, quiet=True)
    assert largest_difference(model, session) < TOLERANCE


def test_fresh_run_starts_from_the_engines_initial_weights(tmp_path):
    """No --init-weights: the script draws the engine's initial weights for the seed."""
    doc = project({"name": "adam", "lr": 0.01}, network={
        "nodes": [{"id": "in", "type": "input"},
                  {"id": "a", "type": "dense", "units": 4, "activation": "tanh", "init": "he_normal", "bias": 0.1},
                  {"id": "b", "type": "dense", "units": 3, "activation": "relu", "init": {"name": "uniform", "a": -1}},
                  {"id": "c", "type": "dense", "units": 3, "init": {"name": "normal", "std": 0.3}},
                  {"id": "d", "type": "dense", "units": 4, "init": "glorot_normal"},
                  {"id": "e", "type": "dense", "units": 2, "init": "he_uniform"},
                  {"id": "cat", "type": "concat"},
                  {"id": "f", "type": "dense", "units": 2, "init": {"name": "constant", "value": 0.2}},
                  {"id": "out", "type": "dense", "units": 1, "activation": "sigmoid", "init": "zeros"}],
        "edges": [["in", "a"], ["a", "b"], ["a", "c"], ["in", "d"], ["d", "e"], ["b", "cat"], ["c", "cat"],
                  ["e", "cat"], ["cat", "f"], ["f", "out"]], "output": "out"})
    proj = parse_project(doc)
    session = build_session(proj)
    export_pytorch(proj, session.weights(), tmp_path / "net.py")
    script = load_script(tmp_path / "net.py")
    drawn = script.initial_weights()
    for name, t in session.weights().items():
        np.testing.assert_array_equal(drawn[name], t)
    session.step(STEPS)
    assert largest_difference(script.train(steps=STEPS, quiet=True), session) < TOLERANCE


def test_float32_project_trains_in_float32_close_to_the_engine(tmp_path):
    doc = project({"name": "adam", "lr": 0.01}, dtype="float32")
    session, script, init = export(doc, tmp_path)
    session.step(STEPS)
    model = script.train(steps=STEPS, init_weights=init, quiet=True)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert largest_difference(model, session) < 1e-4


def _rank(script_path, rank, port, init, out):
    import os
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    load_script(script_path).train(steps=STEPS, init_weights=init, save_weights_to=out, quiet=True)


def test_two_processes_take_the_steps_of_one(tmp_path):
    """DDP over gloo with the environment torchrun sets: batches of 7 rows split 3 + 4,
    dropout masks and L2 shared, must give the single process's weights."""
    doc = CASES["sgd nesterov, step, l2, dropout"]
    session, script, init = export(doc, tmp_path)
    single = script.train(steps=STEPS, init_weights=init, quiet=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Spawned, not forked: a fork of this process (torch's thread pools already running,
    # Qt loaded by other tests) could hang in the child at exit; each child imports torch.
    context = multiprocessing.get_context("spawn")
    out = tmp_path / "two.safetensors"
    workers = [context.Process(target=_rank, args=(tmp_path / "net.py", rank, port, init, out)) for rank in (0, 1)]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join(timeout=180)
        assert [worker.exitcode for worker in workers] == [0, 0]
    finally:
        for worker in workers:          # never leave a hung rank behind
            if worker.is_alive():
                worker.kill()
    both = load_weights(out)
    for name, t in single.state_dict().items():
        np.testing.assert_allclose(both[name], t.numpy(), rtol=0, atol=TOLERANCE)
    session.step(STEPS)
    assert largest_difference(single, session) < TOLERANCE


# --------------------------------------------------------------------------------------
# the model, its names and its files
# --------------------------------------------------------------------------------------

ODD_IDS = ["1st layer", "a.b", "forward", "class", "_private", "h1", "node_a_b", "training", "ünï"]


def odd_network():
    nodes = [{"id": "x in", "type": "input"}]
    edges, prev = [], "x in"
    for node_id in ODD_IDS:
        nodes.append({"id": node_id, "type": "dense", "units": 3, "activation": "tanh"})
        edges.append([prev, node_id])
        prev = node_id
    nodes += [{"id": "drop 'it'", "type": "dropout", "p": 0.2},
              {"id": 'out"""\nimport os', "type": "dense", "units": 1, "activation": "sigmoid"}]
    edges += [[prev, "drop 'it'"], ["drop 'it'", 'out"""\nimport os']]
    return {"nodes": nodes, "edges": edges, "output": 'out"""\nimport os'}


def test_odd_node_ids_keep_their_names_in_the_state_dict(tmp_path):
    from safetensors.torch import load_file
    session, script, init = export(project({"name": "sgd", "lr": 0.1}, network=odd_network()), tmp_path)
    model = script.Net().double()
    assert set(model.state_dict()) == set(session.network.tensors)
    _, _, weights_file = pytorch_files(tmp_path / "net.py")
    model.load_state_dict(load_file(str(weights_file)))           # strict, as a PyTorch user loads it
    X = session.dataset.X_test
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(model(torch.from_numpy(X)).numpy(), session.network.predict(X), atol=1e-12)
    assert "h1" in dict(model.named_children()) and "forward" not in dict(model.named_children())
    session.step(STEPS)
    assert largest_difference(script.train(steps=STEPS, init_weights=init, quiet=True), session) < TOLERANCE


def test_no_name_reaches_the_code_but_as_a_literal(tmp_path):
    doc = project({"name": "sgd", "lr": 0.1}, network=odd_network())
    doc["name"] = 'x"""; import os #'
    proj = parse_project(doc)
    export_pytorch(proj, build_session(proj).weights(), tmp_path / "net.py")
    tree = ast.parse((tmp_path / "net.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert imported == {"argparse", "csv", "json", "math", "os", "sys", "Path", "numpy", "torch", "nn",
                        "torch.nn.functional"}


def test_reserved_names_cover_nn_module():
    """A node named like an nn.Module attribute must not become one (it would be shadowed)."""
    module_names = {name for name in dir(torch.nn.Module) if not name.startswith("_")} | set(vars(torch.nn.Module()))
    assert {name for name in module_names if not name.startswith("_")} <= RESERVED_ATTRIBUTES


def test_load_weights_is_strict(tmp_path):
    session, script, init = export(CASES["hinge"], tmp_path)
    good = session.weights()
    for label, tensors, message in [
        ("missing", {k: v for k, v in good.items() if k != "h1.bias"}, "'h1.bias' is missing"),
        ("extra", {**good, "h9.weight": np.zeros((1, 1))}, "'h9.weight' does not belong"),
        ("shape", {**good, "out.weight": np.zeros((2, 4))}, "'out.weight' has shape [2, 4], the network needs [2, 5]")]:
        path = tmp_path / f"{label}.safetensors"
        save_weights(path, tensors)
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            script.load_weights(path)


def test_standardized_data_goes_out_raw_and_the_model_scales_it(tmp_path):
    doc = example("iris")
    proj = load_project(EXAMPLES / "iris.json")
    session = build_session(proj)
    export_pytorch(proj, session.weights(), tmp_path / "net.py")
    script = load_script(tmp_path / "net.py")
    X_train, y_train, X_test, _ = script.load_data()
    shift, scale = session.dataset.input_scaling
    np.testing.assert_array_equal((X_train - shift) / scale, session.dataset.X_train)
    np.testing.assert_array_equal(y_train, session.dataset.y_train)
    assert X_train.min() > 0 and doc["data"]["standardize"]            # iris in cm: raw, not centred
    # The exported weight file carries the scaling; the model takes raw columns.
    _, _, weights_file = pytorch_files(tmp_path / "net.py")
    np.testing.assert_array_equal(load_input_scaling(weights_file)[0], shift)
    np.testing.assert_allclose(script.predict(X_test), session.network.predict(session.dataset.X_test), atol=1e-12)


def test_saved_weights_come_back_to_the_playground(tmp_path):
    proj = load_project(EXAMPLES / "iris.json")
    session = build_session(proj)
    export_pytorch(proj, session.weights(), tmp_path / "net.py")
    script = load_script(tmp_path / "net.py")
    model = script.train(steps=3, quiet=True)
    for suffix in ("npz", "safetensors"):
        path = tmp_path / f"trained.{suffix}"
        script.save_weights(model, path)
        tensors = load_weights(path, expected={k: v.shape for k, v in session.network.tensors.items()})
        for name, t in model.state_dict().items():
            np.testing.assert_array_equal(tensors[name], t.numpy())
        np.testing.assert_array_equal(load_input_scaling(path)[1], session.dataset.input_scale)
        assert set(script.load_weights(path).state_dict()) == set(tensors)


def test_command_line_predicts_and_trains(tmp_path, capsys):
    session, script, init = export(CASES["cross_entropy on softmax, standardized iris"], tmp_path)
    script.main(["predict", str(tmp_path / "net_data.csv"), "--weights", str(init)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "output_0,output_1,output_2,class"          # iris: the class by name, last
    predicted = np.array([[float(v) for v in line.split(",")[:3]] for line in lines[1:]])
    expected = session.network.predict(np.vstack([session.dataset.X_train, session.dataset.X_test]))
    np.testing.assert_allclose(predicted, expected, atol=1e-12)
    assert [line.split(",")[3] for line in lines[1:]] == [session.dataset.classes[k]
                                                           for k in np.argmax(expected, axis=1)]

    script.main(["train", "--steps", "4", "--init-weights", str(init), "--save-weights", str(tmp_path / "w.npz"),
                 "--log-every", "2"])
    out = capsys.readouterr().out
    assert "step 4/4" in out and "test accuracy" in out
    session.step(4)
    tensors = load_weights(tmp_path / "w.npz")
    assert max(float(np.max(np.abs(tensors[k] - v))) for k, v in session.weights().items()) < TOLERANCE
    with pytest.raises(SystemExit, match="tensor 'h1.weight' is missing"):
        save_weights(tmp_path / "bad.npz", {"x.weight": np.zeros((1, 1))})
        script.main(["predict", str(tmp_path / "net_data.csv"), "--weights", str(tmp_path / "bad.npz")])
