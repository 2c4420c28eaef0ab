"""Hostile and extreme input to file I/O, memory estimates and exports.

Found by fuzzing: archives whose members declare gigabytes, temporary files left by
killed writers, values at the edge of float64/float32, node ids that collide with
the names of the generated script.  Every case must end in a one-line ConfigError
naming the file, column or tensor (the CLI's exit 2), or in a correct result; never
in a traceback, a NumPy warning, silent zeros or a huge allocation.
"""
from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.data import load_dataset
from engine.data.csv_source import load_csv, standardization
from engine.errors import ConfigError, DataError, WeightsError
from engine.graph import compile_plan, parse_network
from engine.io import atomic, weights
from engine.io.atomic import TEMP_SUFFIX, remove_stale_temp_files, write_bytes_atomic
from engine.io.onnx_export import network_to_onnx
from engine.io.script_export import LOCAL_PREFIX, network_to_script
from engine.io.weights import load_weights, save_weights
from engine.memory import batch_rows, check_training_memory, optimizer_copies, training_memory
from engine.network import Network

REPO = Path(__file__).resolve().parents[2]
SMALL_READ = 8 * 2**20      # a refused file must be judged on its declarations: far below its data


def chain_plan(widths, n_features=2, activation="tanh", output_units=1):
    nodes, edges, prev = [{"id": "in", "type": "input"}], [], "in"
    for i, units in enumerate(widths):
        nodes.append({"id": f"h{i + 1}", "type": "dense", "units": units, "activation": activation})
        edges.append([prev, f"h{i + 1}"])
        prev = f"h{i + 1}"
    nodes.append({"id": "out", "type": "dense", "units": output_units, "activation": "sigmoid"})
    edges.append([prev, "out"])
    return compile_plan(parse_network({"nodes": nodes, "edges": edges, "output": "out"}), n_features)


def small_network(seed=0):
    network = Network(chain_plan([4]))
    network.initialize(np.random.default_rng(seed))
    return network


def expected_shapes(network):
    return {name: t.shape for name, t in network.tensors.items()}


def peak_bytes_of(call):
    """Run ``call``; return (its exception or None, the peak of traced allocations)."""
    tracemalloc.start()
    try:
        call()
        error = None
    except Exception as exc:       # noqa: BLE001 - the caller inspects it
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, peak


# --- item 4: declared sizes are checked before any data is read ----------------------

def bomb_npz(path: Path, name: str, elements: int) -> None:
    """An npz whose member declares ``elements`` float64 zeros: tiny on disk, huge when read."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (elements,)})
    zeros = bytes(2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for _ in range(elements * 8 // len(zeros)):
                member.write(zeros)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """64 MiB of zeros declared as h1.weight, about 64 KiB compressed."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    bomb_npz(path, "h1.weight", 2**23)
    assert path.stat().st_size < 2**20
    return path


def test_npz_member_with_a_wrong_declared_shape_is_refused_before_reading(bomb):
    network = small_network()
    error, peak = peak_bytes_of(lambda: load_weights(bomb, expected=expected_shapes(network)))
    assert isinstance(error, WeightsError)
    assert str(error) == f"{bomb}: tensor 'h1.weight' has shape [8388608], the network needs [4, 2]"
    assert peak < SMALL_READ


def test_npz_member_beyond_the_memory_budget_is_refused_before_reading(bomb, monkeypatch):
    monkeypatch.setattr(weights, "available_memory", lambda: 32 * 2**20)   # budget: half of it
    error, peak = peak_bytes_of(lambda: load_weights(bomb))
    assert isinstance(error, WeightsError) and "tensor 'h1.weight'" in str(error)
    assert "the file declares 64 MiB of tensors, more than the 16 MiB this machine can load" in str(error)
    assert peak < SMALL_READ


def test_export_refuses_a_compressed_huge_member_before_reading_it(bomb, tmp_path):
    """The fuzzed case: ``playground export`` with an npz member far larger than the network."""
    from playground.export import export_project
    project = REPO / "assets" / "examples" / "spiral.json"
    error, peak = peak_bytes_of(lambda: export_project(project, bomb, "onnx", tmp_path / "m.onnx"))
    assert isinstance(error, WeightsError) and "tensor 'h1.weight' has shape [8388608]" in str(error)
    assert peak < 32 * 2**20          # the project's own data and network, not the member
    assert not list(tmp_path.iterdir())


def test_npz_member_whose_size_disagrees_with_its_header_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((4, 2)))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("h1.weight.npy", buffer.getvalue() + bytes(1000))   # 1000 undeclared bytes
    with pytest.raises(WeightsError, match=r"tensor 'h1\.weight': shape \[4, 2\] needs 64 bytes of data, "
                                           r"but the archive member holds 1064"):
        load_weights(path)


def test_npz_member_that_is_not_an_array_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(WeightsError, match=r"w\.npz: member 'notes\.txt' is not a \.npy array"):
        load_weights(path)


def safetensors_file(path: Path, header: dict, data: bytes = b"") -> None:
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)


def test_safetensors_header_declaring_more_data_than_the_file_holds_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    safetensors_file(path, {"h1.weight": {"dtype": "F64", "shape": [2**30], "data_offsets": [0, 2**33]}})
    error, peak = peak_bytes_of(lambda: load_weights(path))
    assert isinstance(error, WeightsError)
    assert "tensor 'h1.weight': its data ends at byte" in str(error) and "past the end of the file" in str(error)
    assert peak < SMALL_READ


def test_safetensors_wrong_shape_is_refused_before_reading(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, {"h1.weight": np.zeros((2048, 2048)), "h1.bias": np.zeros(4)})   # 32 MiB
    error, peak = peak_bytes_of(lambda: load_weights(path, expected=expected_shapes(small_network())))
    assert str(error) == f"{path}: tensor 'h1.weight' has shape [2048, 2048], the network needs [4, 2]"
    assert peak < SMALL_READ


@pytest.mark.parametrize("header, message", [
    ({"h1.weight": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}, r"has dtype 'I64', expected floating"),
    ({"h1.weight": {"dtype": "F64", "shape": [2], "data_offsets": [0, 8]}}, r"needs 16 bytes, its data_offsets span 8"),
    ({"h1.weight": {"dtype": "F64", "shape": [-1], "data_offsets": [0, 8]}}, r"'shape' must be a list"),
    ({"h1.weight": {"dtype": "F64", "shape": [1]}}, r"needs 'dtype', 'shape' and 'data_offsets'"),
])
def test_bad_safetensors_declarations_name_the_tensor(tmp_path, header, message):
    path = tmp_path / "w.safetensors"
    safetensors_file(path, header, bytes(16))
    with pytest.raises(WeightsError, match=rf"w\.safetensors: tensor 'h1\.weight'.*{message}"):
        load_weights(path)


def test_safetensors_header_length_beyond_the_file_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes((2**62).to_bytes(8, "little") + b"{}")
    with pytest.raises(WeightsError, match=r"its header claims \d+ bytes; the file has 2 after the length"):
        load_weights(path)


def test_json_weight_file_larger_than_the_network_needs_is_refused_unparsed(tmp_path):
    network = small_network()
    doc = {"tensors": {name: {"shape": list(t.shape), "data": t.ravel().tolist()}
                       for name, t in network.tensors.items()}}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(doc) + " " * (2 * 2**20))
    assert set(load_weights(path)) == set(network.tensors)        # without a network to compare, it loads
    with pytest.raises(WeightsError, match=r"w\.json: [\d,]+ bytes is too large for a JSON weight file for this "
                                           r"network \(at most [\d,]+\); use \.safetensors or \.npz"):
        load_weights(path, expected=expected_shapes(network))


@pytest.mark.parametrize("fmt", weights.WEIGHT_FORMATS)
def test_expected_shapes_accept_the_right_file_and_name_a_stranger(tmp_path, fmt):
    network = small_network()
    path = tmp_path / f"w.{fmt}"
    save_weights(path, dict(network.tensors, **{"extra.bias": np.zeros(3)}))
    with pytest.raises(WeightsError, match=rf"w\.{fmt}: tensor 'extra\.bias' does not belong to this network"):
        load_weights(path, expected=expected_shapes(network))
    save_weights(path, network.tensors)
    loaded = load_weights(path, expected=expected_shapes(network))
    assert all(np.array_equal(loaded[name], t) for name, t in network.tensors.items())


# --- item 4: the memory estimate ------------------------------------------------------

def test_a_batch_beyond_the_data_is_estimated_as_one_full_batch():
    plan = chain_plan([8, 8])
    huge = training_memory(plan, np.float64, 250, 250, 10**12)
    assert huge == training_memory(plan, np.float64, 250, 250, "full")
    assert batch_rows(10**12, 250) == 250 and batch_rows(10, 250) == 10
    assert huge.total < 2**30           # the fuzzed message said 149011.6 GiB


def test_full_data_evaluation_is_counted():
    """10,000,000 samples x 1000 units passed the old check and then failed allocating 37 GiB."""
    plan = chain_plan([1000])
    estimate = training_memory(plan, np.float64, 5_000_000, 5_000_000, 10)
    one_pass = 5_000_000 * 1000 * 8
    assert estimate.buffers >= one_pass            # pre-activations of the evaluation, kept for reuse
    assert estimate.working >= one_pass            # the outputs of the evaluation
    with pytest.raises(ConfigError, match=r"need about \d+\.\d GiB to train .*but only 32\.0 GiB"):
        check_training_memory(plan, np.float64, 5_000_000, 5_000_000, 10, available=32 * 2**30)


def test_parameter_copies_follow_the_optimizer():
    plan = chain_plan([12000, 12000])          # the fuzzed network: estimated 6.4 GiB, peak 9.95 GB
    for spec, buffers in (({"name": "sgd"}, 2), ({"name": "sgd", "momentum": 0.9}, 3), ({"name": "adam"}, 4),
                          ({"name": "adam", "amsgrad": True}, 5)):
        assert optimizer_copies(spec, np.float64) == buffers
        estimate = training_memory(plan, np.float64, 250, 250, 10, spec)
        assert estimate.parameters == plan.n_params * 8 * (6 + buffers)
    # Peak RSS of `playground train --steps 2 --save-weights` on this network, measured:
    # 7.1 GB with sgd, 9.4 GB with adam (the fuzzed run, on the old writer: 9.95 GB).
    assert training_memory(plan, np.float64, 250, 250, 10, {"name": "sgd"}).total > 7.2e9
    assert training_memory(plan, np.float64, 250, 250, 10, {"name": "adam"}).total > 9.95e9


MEASURE = r"""
import json, os, sys
sys.path.insert(0, {repo!r})
import numpy as np
from engine.data import load_dataset
from engine.graph import compile_plan, parse_network
from engine.io.weights import save_weights
from engine.losses import make_loss_head
from engine.network import Network
from engine.session import TrainingSession

def resident():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

doc = json.loads(sys.argv[1])
data = load_dataset("circle", samples=doc["samples"], train_fraction=0.8)
before = resident()
plan = compile_plan(parse_network(doc["network"]), 2)
head = make_loss_head("bce", plan.output_activation, plan.output_width, "classification", 2)
session = TrainingSession(Network(plan), data, head, doc["optimizer"], batch_size=doc["batch"])
session.evaluate()
session.step(session.steps_per_epoch + 2)
session.evaluate()
session.snapshot()
save_weights(os.path.join(sys.argv[2], "w.safetensors"), session.weights())
# VmHWM is this process's own peak; ru_maxrss would also count the forked copy of
# the (large) pytest process that existed before exec, so it grew with the suite.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(peak * 1024 - before)
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="measures resident memory through /proc")
@pytest.mark.parametrize("widths, activation, samples, batch, optimizer", [
    ((1500, 1500), "tanh", 500, 10, {"name": "adam"}),           # parameter-bound
    ((400, 400), "gelu", 40000, 4000, {"name": "sgd"}),          # activation-bound, minibatches
    ((600,), "relu", 30000, "full", {"name": "rmsprop"}),         # full batch
])
def test_estimate_covers_the_measured_peak(tmp_path, widths, activation, samples, batch, optimizer):
    nodes, edges, prev = [{"id": "in", "type": "input"}], [], "in"
    for i, units in enumerate(widths):
        nodes.append({"id": f"h{i}", "type": "dense", "units": units, "activation": activation})
        edges.append([prev, f"h{i}"])
        prev = f"h{i}"
    nodes.append({"id": "out", "type": "dense", "units": 1, "activation": "sigmoid"})
    edges.append([prev, "out"])
    network = {"nodes": nodes, "edges": edges, "output": "out"}
    doc = {"network": network, "samples": samples, "batch": batch, "optimizer": optimizer}
    result = subprocess.run([sys.executable, "-c", MEASURE.format(repo=str(REPO)), json.dumps(doc), str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    measured = int(result.stdout)
    n_train = round(0.8 * samples)
    estimate = training_memory(compile_plan(parse_network(network), 2), np.float64, n_train, samples - n_train,
                               batch, optimizer).total
    assert measured <= estimate <= 1.6 * measured + 96 * 2**20, (measured, estimate)


# --- item 6: temporary files of killed writers ---------------------------------------

def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def temp_name(target: str, pid: int, host: str | None = None, tag: str = "abcd1234") -> str:
    return f".{target}.{pid}@{atomic._host_tag() if host is None else host}.{tag}{TEMP_SUFFIX}"


def test_temporary_file_carries_our_pattern_and_pid(tmp_path):
    with atomic.atomic_path(tmp_path / "model.onnx") as tmp:
        assert tmp.name.startswith(f".model.onnx.{os.getpid()}@") and tmp.name.endswith(TEMP_SUFFIX)
        assert atomic._TEMP_NAME.match(tmp.name)
        tmp.write_bytes(b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_a_write_removes_only_temporary_files_of_dead_writers(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        stale = tmp_path / temp_name("w.npz", dead_pid())
        keep = [tmp_path / temp_name("w.npz", os.getpid(), tag="mine0001"),      # this process: live
                tmp_path / temp_name("other.json", live.pid, tag="live0001"),    # another live writer
                tmp_path / temp_name("w.npz", dead_pid(), host="elsewhere"),     # another host's PID means nothing here
                tmp_path / ".w.npz.k3j4h5g6.tmp",                               # not our pattern
                tmp_path / "notes.txt"]
        for path in [stale, *keep]:
            path.write_bytes(b"partial")
        write_bytes_atomic(tmp_path / "w.npz", b"complete")
        assert not stale.exists()
        assert all(path.exists() for path in keep)
        assert (tmp_path / "w.npz").read_bytes() == b"complete"
    finally:
        live.stdin.close()
        live.wait()


def test_cleaning_never_follows_a_folder_or_link(tmp_path):
    folder = tmp_path / temp_name("a", dead_pid())
    folder.mkdir()
    assert remove_stale_temp_files(tmp_path) == [] and folder.is_dir()


WRITER = r"""
import sys
sys.path.insert(0, {repo!r})
import numpy as np
from engine.io import weights

target, mode = sys.argv[1], sys.argv[2]
weights.CHUNK = 2**20               # many progress reports within the file


def report(fraction):
    if mode == "stall" and fraction >= 0.5:
        print("half written", flush=True)
        sys.stdin.read()            # wait here to be killed mid-write


print("started", flush=True)
weights.save_weights(target, {{"big.weight": np.full((2048, 4096), 2.0)}}, progress=report)   # 64 MiB
print("done", flush=True)
"""


def start_writer(target: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER.format(repo=str(REPO)), str(target), mode],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def our_temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX)]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_9_mid_write_keeps_the_old_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "w.safetensors"
    old = {"big.weight": np.ones((2, 2))}
    save_weights(target, old)
    writer = start_writer(target, "stall")
    try:
        assert writer.stdout.readline() == "started\n"
        assert writer.stdout.readline() == "half written\n"
        (leftover,) = our_temporaries(tmp_path)
        assert f".{writer.pid}@" in leftover.name and 0 < leftover.stat().st_size < 64 * 2**20
    finally:
        writer.kill()               # SIGKILL: no handler, no finally clause runs in the writer
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    assert np.array_equal(load_weights(target)["big.weight"], old["big.weight"])   # the old file, complete
    assert leftover.exists()

    new = {"big.weight": np.full((3, 3), 7.0)}
    save_weights(target, new)
    assert our_temporaries(tmp_path) == []
    assert np.array_equal(load_weights(target)["big.weight"], new["big.weight"])


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_9_at_any_moment_leaves_a_complete_file(tmp_path):
    target = tmp_path / "w.safetensors"
    old = {"big.weight": np.ones((2, 2))}
    save_weights(target, old)
    writer = start_writer(target, "run")
    assert writer.stdout.readline() == "started\n"
    writer.kill()
    writer.wait()
    loaded = load_weights(target)["big.weight"]           # old or new, but readable and complete
    assert np.array_equal(loaded, old["big.weight"]) or (loaded.shape == (2048, 4096) and np.all(loaded == 2.0))
    write_bytes_atomic(tmp_path / "other.bin", b"x")       # any write in the folder cleans up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.bin", "w.safetensors"]


# --- item 7: values at the edge of the float range -----------------------------------

def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.write_text("\n".join([",".join(header)] + [",".join(repr(float(v)) for v in r) for r in rows]) + "\n")
    return path


def test_standardizing_a_column_near_float64s_limit_is_exact_not_zeros(tmp_path):
    rows = [[1e300 * (i + 1), float(i), i % 2] for i in range(6)]
    path = write_csv(tmp_path / "big.csv", ["big", "small", "y"], rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no overflow warnings either
        data = load_dataset({"csv": str(path), "target": "y", "task": "classification", "standardize": True},
                            train_fraction=1.0)
    X = data.X_train
    assert np.allclose(X.mean(axis=0), 0) and np.allclose(X.std(axis=0), 1)
    raw = np.array(rows)[:, :2]
    assert np.allclose((raw - data.input_shift) / data.input_scale, X)


def test_a_column_whose_differences_overflow_is_named(tmp_path):
    rows = [[1.7e308, 0], [-1.7e308, 1], [1.7e308, 0]]
    path = write_csv(tmp_path / "wide.csv", ["wide", "y"], rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=r"column 'wide': values from -1\.7e\+308 to 1\.7e\+308 are too far "
                                            r"apart to standardize"):
            load_csv(path, "y", "classification", standardize=True)
        with pytest.raises(DataError, match="column 'wide'"):        # named through load_dataset too
            load_dataset({"csv": str(path), "target": "y", "task": "classification", "standardize": True})


def test_ordinary_columns_standardize_exactly_as_before():
    X = np.random.default_rng(3).normal(5, 3, (200, 4))
    shift, scale = standardization(X)
    assert np.array_equal(shift, X.mean(axis=0)) and np.array_equal(scale, (X - X.mean(axis=0)).std(axis=0))


def test_onnx_export_refuses_weights_beyond_float32_naming_the_tensor():
    network = small_network()
    tensors = dict(network.tensors, **{"h1.weight": np.full((4, 2), 1e308)})
    with pytest.raises(WeightsError, match=r"w\.npz: tensor 'h1\.weight' holds 1e\+308, beyond the float32 range "
                                           r"of the ONNX model"):
        network_to_onnx(network.plan, tensors, ["x1", "x2"], source="w.npz")


def test_onnx_export_refuses_a_standardization_beyond_float32_naming_the_column():
    network = small_network()
    scaling = (np.array([2.5e300, 0.0]), np.array([1.1e300, 1.0]))
    with pytest.raises(ConfigError, match=r"column 'big': its mean 2\.5e\+300 is beyond the float32 range"):
        network_to_onnx(network.plan, network.tensors, ["big", "small"], scaling)


def test_cli_export_of_weights_beyond_float32_exits_2_naming_the_tensor(tmp_path):
    from playground.project import build_session, load_project
    project = REPO / "assets" / "examples" / "spiral.json"
    session = build_session(load_project(project))
    tensors = session.weights()
    tensors["h2.weight"][0, 0] = -1e308
    save_weights(tmp_path / "w.npz", tensors)
    result = subprocess.run([sys.executable, "-m", "playground", "export", str(project), "--weights",
                             str(tmp_path / "w.npz"), "--format", "onnx", "-o", str(tmp_path / "m.onnx")],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "w.npz: tensor 'h2.weight' holds -1e+308, beyond the float32 range of the ONNX model" in line
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("value, message", [
    ("1e300", r"tensor 'h1\.bias' holds 1e\+300, beyond the float32 range"),
    ("-1e39", r"tensor 'h1\.bias' holds -1e\+39, beyond the float32 range"),
    ("1e400", r"tensor 'h1\.bias' holds NaN or infinite values"),
    ("NaN", r"tensor 'h1\.bias' holds NaN or infinite values"),
    ("1" + "0" * 400, r"tensor 'h1\.bias': a value is too large for float64"),
])
def test_json_values_beyond_their_dtype_are_named_without_numpy_warnings(tmp_path, value, message):
    path = tmp_path / "w.json"
    path.write_text('{"tensors": {"h1.bias": {"dtype": "float32", "shape": [2], "data": [%s, 1]}}}' % value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(WeightsError, match=message):
            load_weights(path)


def test_json_with_nesting_or_digits_beyond_pythons_limits_is_a_clear_error(tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{"tensors": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(WeightsError, match=r"w\.json: not a JSON weight file"):
        load_weights(path)


# --- items 8 and 9: the NumPy script -------------------------------------------------

def import_script(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_node_ids_that_match_generated_names_still_predict(tmp_path):
    """INPUT_SHIFT / INPUT_SCALE as node ids made predict() fail on standardized data."""
    rng = np.random.default_rng(0)
    raw = rng.normal([100.0, -3.0, 0.5], [20.0, 0.1, 4.0], (60, 3))
    rows = [list(r) + [float(r[0] * 0.01 + r[2])] for r in raw]
    csv_path = write_csv(tmp_path / "d.csv", ["a", "b", "c", "target"], rows)
    data = load_dataset({"csv": str(csv_path), "target": "target", "task": "regression", "standardize": True},
                        train_fraction=1.0)
    ids = ["INPUT_SHIFT", "INPUT_SCALE", "class", "X", "len", "predict", "_tensor", "WEIGHTS", "sigmoid",
           "np", "a b", "a_b", f"{LOCAL_PREFIX}X"]
    nodes = [{"id": "DTYPE", "type": "input"},
             {"id": ids[0], "type": "dense", "units": 5, "activation": "tanh"},
             {"id": ids[1], "type": "dense", "units": 5, "activation": "gelu"},
             {"id": ids[2], "type": "add"},
             {"id": ids[3], "type": "activation", "fn": "silu"},
             {"id": ids[4], "type": "dense", "units": 4, "activation": "sigmoid"},
             {"id": ids[5], "type": "dropout", "p": 0.2},
             {"id": ids[6], "type": "dense", "units": 3, "activation": "relu"},
             {"id": ids[7], "type": "concat"},
             {"id": ids[8], "type": "activation", "fn": "elu"},
             {"id": ids[9], "type": "dense", "units": 3, "activation": "leaky_relu"},
             {"id": ids[10], "type": "dense", "units": 2},
             {"id": ids[11], "type": "dense", "units": 2},
             {"id": ids[12], "type": "concat"},
             {"id": "FEATURE_NAMES", "type": "dense", "units": 1}]
    edges = [["DTYPE", ids[0]], ["DTYPE", ids[1]], [ids[0], ids[2]], [ids[1], ids[2]], [ids[2], ids[3]],
             [ids[3], ids[4]], [ids[4], ids[5]], [ids[5], ids[6]], [ids[6], ids[7]], [ids[3], ids[7]],
             [ids[7], ids[8]], [ids[8], ids[9]], [ids[9], ids[10]], [ids[9], ids[11]], [ids[10], ids[12]],
             [ids[11], ids[12]], [ids[12], "FEATURE_NAMES"]]
    network = Network(compile_plan(parse_network({"nodes": nodes, "edges": edges, "output": "FEATURE_NAMES"}), 3))
    network.initialize(np.random.default_rng(1))
    source = network_to_script(network.plan, network.tensors, data.feature_names, data.input_scaling)
    (tmp_path / "model.py").write_text(source)
    module = import_script(tmp_path / "model.py", "hostile_ids_model")
    expected = network.predict(data.X_train)
    assert np.allclose(module.predict(raw), expected, rtol=1e-12, atol=1e-12)


def test_script_names_never_shadow():
    """No module-level name of a generated script starts with the node-variable prefix."""
    network = small_network()
    source = network_to_script(network.plan, network.tensors, ["x1", "x2"], (np.zeros(2), np.ones(2)))
    module_names = {line.split("=")[0].split("(")[0].replace("def ", "").replace("import ", "").strip()
                    for line in source.splitlines() if line and not line[0].isspace() and line[0] not in "#\"')}"}
    assert "INPUT_SHIFT" in module_names and "predict" in module_names
    assert not [name for name in module_names if name.startswith(LOCAL_PREFIX)]
    import builtins
    assert not [name for name in dir(builtins) if name.startswith(LOCAL_PREFIX)]


def test_embedded_tensors_are_fixed_width_lines_and_exact(tmp_path):
    network = Network(chain_plan([300, 300], n_features=5))      # 92k parameters, many lines
    network.initialize(np.random.default_rng(2))
    source = network_to_script(network.plan, network.tensors, [f"f{i}" for i in range(5)])
    lines = [line.strip() for line in source.splitlines() if line.startswith('        "')]
    full = [line for line in lines if len(line) == 72 + 2]     # 72 base64 characters in quotes
    assert len(lines) > 1000 and max(map(len, lines)) == 74
    assert len(full) >= len(lines) - len(network.tensors)     # only each tensor's last line is shorter
    (tmp_path / "m.py").write_text(source)
    module = import_script(tmp_path / "m.py", "wide_model")
    for name, tensor in network.tensors.items():
        assert np.array_equal(module.WEIGHTS[name], tensor)
