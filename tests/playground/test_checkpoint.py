"""Trained projects (.nnpg): saved with weights, optimiser memory and loss history,
reopened to continue bit for bit; hostile files refused in one line naming what is
wrong; File > Load weights reads any weight file with the parameter named on a
mismatch.

The continuation is compared with the same training run without a break (np.array_equal).
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.io.weights import save_weights
from playground.checkpoint import (HISTORY_COLUMNS, MAX_DIRECTORY_BYTES, MAX_STATE_BYTES, MEMBERS, STATE_FORMAT,
                                   is_trained_file, load_trained, read_weight_file, save_trained)
from playground.project import build_session, load_project, project_text, save_project
from tests.engine.test_session import csv_data, hidden_net  # noqa: F401  (csv_data is a fixture)
from tests.engine.test_training_state import assert_same_training, dropout_project

ADAM = {"name": "adam", "lr": 0.01}


def history_rows(n=3):
    rows = np.array([[5.0 * k, k, 0.7 / (k + 1), 0.75 / (k + 1), 0.5 + 0.1 * k, np.nan] for k in range(n)])
    assert rows.shape[1] == len(HISTORY_COLUMNS)
    return rows


@pytest.fixture
def trained(tmp_path):
    """A project trained 23 steps (mid-pass, with dropout and shuffling), its session and file."""
    p = dropout_project(ADAM)
    session = build_session(p)
    session.step(23)
    path = tmp_path / "spiral.nnpg"
    save_trained(path, p, session.state(), history_rows())
    return p, session, path


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --------------------------------------------------------------------------------------
# saving and reopening
# --------------------------------------------------------------------------------------

def test_reopened_training_continues_bit_for_bit(trained):
    p, never_closed, path = trained
    opened = load_trained(path)
    assert opened.project.document == p.document and opened.project.path == path
    reopened = build_session(opened.project)
    reopened.restore(opened.state)
    assert_same_training(never_closed, reopened)
    assert never_closed.step(40) == reopened.step(40) == 40
    assert_same_training(never_closed, reopened)


def test_loss_history_round_trips_with_unmeasured_values(trained):
    _, _, path = trained
    history = load_trained(path).history
    assert np.array_equal(history, history_rows(), equal_nan=True)


def test_the_archive_holds_a_plain_project_json_and_a_versioned_state(trained):
    p, session, path = trained
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == list(MEMBERS)
        assert archive.read("project.json").decode() == project_text(p)
        state = json.loads(archive.read("state.json"))
    assert state["format"] == STATE_FORMAT == "nn-playground-state/1"
    assert (state["step"], state["optimizer"]["name"], state["optimizer"]["t"]) == (23, "adam", 23)
    # project.json extracted alone is an ordinary project file.
    alone = path.parent / "alone.json"
    with zipfile.ZipFile(path) as archive:
        alone.write_bytes(archive.read("project.json"))
    assert load_project(alone).document == p.document
    # weights.safetensors extracted alone is an ordinary weight file for the network.
    weights = path.parent / "alone.safetensors"
    with zipfile.ZipFile(path) as archive:
        weights.write_bytes(archive.read("weights.safetensors"))
    got = read_weight_file(weights, session.network.plan)
    for name, tensor in session.weights().items():
        assert np.array_equal(got[name], tensor)


def test_the_same_training_saves_the_same_bytes(trained, tmp_path):
    p, session, path = trained
    again = tmp_path / "again.nnpg"
    save_trained(again, p, session.state(), history_rows())
    assert again.read_bytes() == path.read_bytes()


def test_a_plain_project_file_still_opens_without_state(tmp_path):
    p = dropout_project(ADAM)
    plain = tmp_path / "plain.json"
    save_project(p, plain)
    opened = load_trained(plain)
    assert opened.state is None and opened.history is None and opened.project.document == p.document
    assert not is_trained_file(plain)


def test_a_diverged_training_saves_and_reopens_diverged(tmp_path):
    p = dropout_project({"name": "sgd", "lr": 1e6, "momentum": 0.5})
    session = build_session(p)
    with np.errstate(all="ignore"):
        session.step(200)
    assert session.divergence is not None
    save_trained(tmp_path / "d.nnpg", p, session.state())
    opened = load_trained(tmp_path / "d.nnpg")
    reopened = build_session(opened.project)
    reopened.restore(opened.state)
    assert reopened.divergence == session.divergence and reopened.step(3) == 0
    assert opened.history is None


def test_a_csv_beside_the_trained_file_is_found_relative_to_it(tmp_path, csv_data):
    data, _ = csv_data
    folder = tmp_path / "moved"
    folder.mkdir()
    (folder / "rows.csv").write_bytes(Path(data["source"]["csv"]).read_bytes())
    base = dropout_project(ADAM)
    p = dataclasses.replace(base, path=folder / "x.json").with_changes(
        data=dict(data, source=dict(data["source"], csv="rows.csv")), network=hidden_net("tanh"),
        training=dict(base.training, loss="mse"))
    session = build_session(p)
    session.step(3)
    save_trained(folder / "x.nnpg", p, session.state())
    opened = load_trained(folder / "x.nnpg")
    build_session(opened.project).restore(opened.state)      # the relative CSV resolved beside the file


# --------------------------------------------------------------------------------------
# writing: names and atomicity
# --------------------------------------------------------------------------------------

def test_suffixes_keep_the_two_kinds_apart(trained, tmp_path):
    p, session, path = trained
    with pytest.raises(ConfigError, match=r"a trained project must be named \*\.nnpg") as exc:
        save_trained(tmp_path / "x.json", p, session.state())
    one_line(exc)
    with pytest.raises(ConfigError, match="holds a trained project; save it with its training state"):
        save_project(p, tmp_path / "y.nnpg")
    with pytest.raises(ConfigError, match="is a trained project .*unzip it for its project.json") as exc:
        load_project(path)
    one_line(exc)


def test_a_failed_save_leaves_the_earlier_file_whole(trained):
    p, session, path = trained
    before = path.read_bytes()
    state = session.state()
    bad = dataclasses.replace(state, grads=state.grads.astype(np.int64))     # a dtype no weight file holds
    with pytest.raises(ConfigError, match="cannot be saved"):
        save_trained(path, p, bad)
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == [path.name]
    with pytest.raises(ConfigError, match=r"history: must be rows of 6 columns"):
        save_trained(path, p, state, np.zeros((2, 3)))


# --------------------------------------------------------------------------------------
# hostile files: one line naming the member, field or tensor
# --------------------------------------------------------------------------------------

def rewrite(path: Path, replace: dict[str, bytes | None] | None = None, extra: list | None = None) -> None:
    """Rebuild the archive with some members replaced (None: removed) or appended."""
    with zipfile.ZipFile(path) as archive:
        members = [(name, archive.read(name)) for name in archive.namelist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            if replace and name in replace:
                data = replace[name]
            if data is not None:
                archive.writestr(name, data)
        for name, data in extra or []:
            archive.writestr(name, data)
    path.write_bytes(out.getvalue())


def state_json(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("state.json"))


def refused(path: Path, match: str) -> str:
    with pytest.raises(ConfigError, match=match) as exc:
        load_trained(path)
    message = one_line(exc)
    assert str(path) in message
    return message


@pytest.mark.parametrize("member", MEMBERS)
def test_a_missing_member_is_named(trained, member):
    _, _, path = trained
    rewrite(path, {member: None})
    refused(path, f"member '{member}' is missing")


@pytest.mark.parametrize("field, value, match", [
    ("format", "nn-playground-state/2", "state.json: format: 'nn-playground-state/2' was written by a newer"),
    ("format", "something", 'state.json: format: must be "nn-playground-state/1"'),
    ("step", -1, r"state.json: step: must be in \[0, "),
    ("step", "12", "state.json: step: must be an integer"),
    ("cursor", 10**400, "state.json: cursor: .*too large"),
    ("dtype", "float16", "state.json: dtype: must be float32 or float64"),
    ("batch_loss", "NaN", "state.json: batch_loss: must be a number"),
    ("undo", 1, "state.json: undo: must be true or false"),
    ("optimizer", {"name": "lbfgs", "t": 1, "buffers": []}, "state.json: optimizer.name: unknown optimizer"),
    ("optimizer", {"name": "adam", "t": 1, "buffers": ["sum"]}, "state.json: optimizer.buffers: must list"),
    ("divergence", {"step": 0, "reason": "x"}, r"state.json: divergence.step: must be in \[1, "),
    ("random", {"init": {}}, "state.json: random.init.bit_generator: must be 'PCG64'"),
    ("history", {"columns": ["step"], "rows": 3}, "state.json: history: must be"),
])
def test_a_bad_state_field_is_named(trained, field, value, match):
    _, _, path = trained
    doc = state_json(path)
    doc[field] = value
    rewrite(path, {"state.json": json.dumps(doc).encode()})
    refused(path, match)


def test_a_missing_state_field_and_a_bad_random_word_are_named(trained):
    _, _, path = trained
    doc = state_json(path)
    del doc["epoch"]
    rewrite(path, {"state.json": json.dumps(doc).encode()})
    refused(path, "state.json: epoch: missing")
    doc["epoch"] = 1
    doc["random"]["order"]["inc"] = "0x" + "f" * 40
    rewrite(path, {"state.json": json.dumps(doc).encode()})
    refused(path, r"state.json: random.order.inc: must be a hex string like '0x1f' of at most 128 bits")


def test_a_state_dtype_other_than_the_projects_is_refused(trained):
    _, _, path = trained
    doc = state_json(path)
    doc["dtype"] = "float32"
    rewrite(path, {"state.json": json.dumps(doc).encode()})
    refused(path, "state.json: dtype float32 differs from the project's float64")


def test_a_bad_project_json_is_named(trained):
    _, _, path = trained
    rewrite(path, {"project.json": b'{"format": "nn-playground/1"}'})
    refused(path, "project.json: .*network: missing|project.json: data")


def test_weights_of_another_shape_name_the_tensor(trained):
    p, session, path = trained
    tensors = session.weights()
    tensors["h.weight"] = np.zeros((6, 3))
    buffer = path.parent / "w.safetensors"
    save_weights(buffer, tensors)
    rewrite(path, {"weights.safetensors": buffer.read_bytes()})
    message = refused(path, r"weights.safetensors: tensor 'h.weight' has shape \[6, 3\], the network needs \[6, 2\]")
    assert "nnpg-" not in message           # the unpacking folder never shows


def test_missing_extra_nan_or_wrongly_typed_tensors_are_named(trained):
    p, session, path = trained
    original = path.read_bytes()
    tensors = session.weights()
    buffer = path.parent / "w.safetensors"
    cases = [({k: v for k, v in tensors.items() if k != "out.bias"}, "tensor 'out.bias' is missing"),
             (dict(tensors, **{"spare.weight": np.zeros(2)}), "tensor 'spare.weight' does not belong"),
             (dict(tensors, **{"out.bias": np.array([np.nan])}), "tensor 'out.bias' holds NaN"),
             ({k: v.astype(np.float32) for k, v in tensors.items()}, "tensor '[a-z.]+' is float32, the project "
                                                                       "trains in float64")]
    for weights, match in cases:
        path.write_bytes(original)
        save_weights(buffer, weights)
        rewrite(path, {"weights.safetensors": buffer.read_bytes()})
        refused(path, "weights.safetensors: " + match)
    state = session.state()
    path.write_bytes(original)
    save_weights(buffer, {"grads": state.grads, "undo": state.undo, "optimizer.exp_avg": state.optimizer.buffers[
        "exp_avg"], "history": history_rows()})
    rewrite(path, {"state.safetensors": buffer.read_bytes()})
    refused(path, "state.safetensors: tensor 'optimizer.exp_avg_sq' is missing")


def test_damaged_or_foreign_archives_are_refused(trained, tmp_path):
    _, _, path = trained
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    refused(path, "not a readable trained project")
    # A weight archive (npz is a zip too) is not a trained project.
    npz = tmp_path / "w.nnpg"
    np.savez(npz.with_suffix(".npz"), a=np.zeros(2))
    npz.write_bytes(npz.with_suffix(".npz").read_bytes())
    refused(npz, "member 'project.json' is missing")


def test_a_member_appearing_twice_is_refused(trained):
    _, _, path = trained
    with pytest.warns(UserWarning, match="Duplicate name"):
        rewrite(path, extra=[("state.json", b"{}")])
    refused(path, "member 'state.json' appears twice")


def test_oversized_members_and_directories_are_refused_before_reading(trained):
    _, _, path = trained
    original = path.read_bytes()
    rewrite(path, {"state.json": b" " * (MAX_STATE_BYTES + 1)})    # deflates to a few kilobytes
    assert path.stat().st_size < 1_000_000
    refused(path, f"state.json is {MAX_STATE_BYTES + 1:,} bytes; at most {MAX_STATE_BYTES:,}")
    # An end record that claims a huge directory (zipfile would hold every entry in memory).
    end = original.rfind(b"PK\x05\x06")
    huge = original[:end + 12] + (MAX_DIRECTORY_BYTES + 1).to_bytes(4, "little") + original[end + 16:]
    path.write_bytes(huge)
    refused(path, "its zip directory declares")


def test_a_fifo_is_not_opened(tmp_path):
    fifo = tmp_path / "pipe.nnpg"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="named pipe"):
        load_trained(fifo)


# --------------------------------------------------------------------------------------
# File > Load weights
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".safetensors", ".npz", ".json", ".nnpg"])
def test_load_weights_reads_every_exported_format(trained, tmp_path, suffix):
    p, session, path = trained
    weight_file = path if suffix == ".nnpg" else tmp_path / f"w{suffix}"
    if suffix != ".nnpg":
        save_weights(weight_file, session.weights())
    fresh = build_session(p)
    tensors = read_weight_file(weight_file, fresh.network.plan)
    fresh.load_weights(tensors, source=str(weight_file))
    for name, tensor in session.weights().items():
        assert np.array_equal(fresh.weights()[name], tensor)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz", ".json"])
def test_load_weights_names_the_mismatching_parameter(trained, tmp_path, suffix):
    p, session, _ = trained
    weight_file = tmp_path / f"w{suffix}"
    tensors = session.weights()
    plan = session.network.plan
    for broken, match in [(dict(tensors, **{"out.weight": np.zeros((1, 5))}),
                           r"tensor 'out.weight' has shape \[1, 5\], the network needs \[1, 6\]"),
                          ({k: v for k, v in tensors.items() if k != "h.bias"}, "tensor 'h.bias' is missing"),
                          (dict(tensors, **{"extra.bias": np.zeros(1)}), "tensor 'extra.bias' does not belong"),
                          (dict(tensors, **{"h.bias": np.full(6, np.inf)}), "tensor 'h.bias' holds NaN or infinite")]:
        save_weights(weight_file, broken)
        with pytest.raises(ConfigError, match=match) as exc:
            read_weight_file(weight_file, plan)
        assert str(weight_file) in one_line(exc)


def test_loading_weights_clears_a_divergence(trained, tmp_path):
    p, session, _ = trained
    save_weights(tmp_path / "good.safetensors", session.weights())
    wild = build_session(p.with_changes(training=dict(p.training, optimizer={"name": "sgd", "lr": 1e6})))
    with np.errstate(all="ignore"):
        wild.step(200)
    assert wild.divergence is not None
    wild.load_weights(read_weight_file(tmp_path / "good.safetensors", wild.network.plan))
    assert wild.divergence is None
