"""The CLI against hostile input: every case ends in exit 2 with one line, never a traceback.

Found by an outside fuzzing pass; each group below failed before its fix:

* outputs onto inputs or onto each other (the project overwritten, exit 0);
* numbers no float can hold, JSON nested 100,000 deep, integers over Python's 4,300
  digits, uniform bounds NumPy can not draw from (tracebacks with exit 1);
* special files: a FIFO as the project blocked forever, /dev/zero was read until
  memory ran out, a FIFO as an output was replaced by a regular file;
* an empty output path was silently ignored; /proc/h.csv was said not to exist;
* the one-BLAS-thread limit ran before NumPy was loaded and so did nothing.

Most runs call the CLI's ``main`` in this process (milliseconds each, so the cases can
be many); the ones that could hang or eat memory, and the thread count, which is
a property of a fresh process, run ``python -m playground`` in a subprocess.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from engine.errors import ConfigError
from playground.cli import main
from playground.project import MAX_PROJECT_BYTES, load_project
from tests.playground.test_cli import assert_invalid, classifier, tensors_2_4_1, write_project

HUGE = 10**400                      # a JSON integer no float can hold
MANY_DIGITS = "9" * 5000            # over Python's int-to-str limit (4,300 digits)
DEEP = 100_000


# --------------------------------------------------------------------------------------
# running the CLI
# --------------------------------------------------------------------------------------

@dataclass
class Result:
    """What a run left: the shape of subprocess.CompletedProcess, so test_cli's checks apply."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def cli_process_state():
    """Undo what the CLI's main does to its process (BLAS thread limits, environment),
    so running it inside pytest leaves later tests as they were."""
    from threadpoolctl import threadpool_limits
    saved_environ = dict(os.environ)
    try:
        with threadpool_limits(limits=None):       # restores the original limits on exit
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)


def run_main(*args, cwd: Path) -> Result:
    """``playground ARGS`` through the CLI's main function, in ``cwd``; exceptions propagate."""
    out, err = io.StringIO(), io.StringIO()
    with cli_process_state(), contextlib.chdir(cwd), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:                   # argparse's own exits
            code = exc.code
    return Result(code, out.getvalue(), err.getvalue())


def limit_memory() -> None:
    """Run in the child: a read of /dev/zero hits 4 GiB of address space, not the machine's RAM."""
    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))


def run_process(*args, cwd: Path, timeout: float = 30, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "playground", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=limit_memory, env=env)


# --------------------------------------------------------------------------------------
# files for the cases
# --------------------------------------------------------------------------------------

PROJECT_TEXT = json.dumps(classifier(samples=20), indent=2)


def project(folder: Path) -> Path:
    """The default 2-4-1 classifier on 20 circle points, as project.json."""
    path = folder / "project.json"
    path.write_text(PROJECT_TEXT, encoding="utf-8")
    return path


def weights(folder: Path, name: str = "w.npz") -> Path:
    np.savez(folder / name, **tensors_2_4_1())
    return folder / name


def csv_project(folder: Path) -> None:
    """proj/project.json reading proj/data.csv."""
    doc = classifier()
    doc["data"] = {"source": {"csv": "data.csv", "target": "label", "task": "classification"}}
    write_project(folder / "proj", doc)
    (folder / "proj" / "data.csv").write_text(
        "x1,x2,label\n" + "".join(f"{i / 10},{-i / 10},{i % 2}\n" for i in range(20)))


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry under ``folder``: its kind and its bytes (files) or target (links)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path))
        elif stat.S_ISFIFO(path.lstat().st_mode):
            out[rel] = ("fifo", b"")
        elif path.is_file():
            out[rel] = ("file", path.read_bytes())
        else:
            out[rel] = ("dir", b"")
    return out


@dataclass(frozen=True)
class Case:
    """``setup(folder)`` writes the files and returns the arguments; the run must exit 2
    with one line holding every fragment, and leave the folder exactly as set up."""

    setup: Callable[[Path], list]
    fragments: tuple[str, ...]


def train_with(*outputs, setup: Callable[[Path], object] = project, command: str = "train") -> Callable[[Path], list]:
    def build(folder: Path) -> list:
        setup(folder)
        return [command, "project.json", *(["--steps", 1, "--quiet"] if command == "train" else []), *outputs]
    return build


def with_init_weights(folder: Path) -> None:
    project(folder)
    weights(folder)


def with_symlink_to_project(folder: Path) -> None:
    project(folder)
    (folder / "link.json").symlink_to("project.json")


def with_hard_link_to_project(folder: Path) -> None:
    project(folder)
    os.link(folder / "project.json", folder / "hard.json")


def with_linked_folder(folder: Path) -> None:
    project(folder)
    (folder / "real").mkdir()
    (folder / "alias").symlink_to("real")


def with_sub_folder(folder: Path) -> None:
    project(folder)
    (folder / "sub").mkdir()


def export_onto(output: str, weights_name: str = "w.npz", fmt: str = "json") -> Callable[[Path], list]:
    def build(folder: Path) -> list:
        project(folder)
        weights(folder, weights_name)
        return ["export", "project.json", "--weights", weights_name, "--format", fmt, "-o", output]
    return build


def csv_history_onto_data(folder: Path) -> list:
    csv_project(folder)
    return ["train", "proj/project.json", "--steps", 1, "--quiet", "--history", "proj/data.csv"]


# Item 2: an output onto an input or onto another output.
OVERWRITES = {
    "--history onto the project": Case(train_with("--history", "project.json"),
                                       ("--history project.json", "the project file project.json")),
    "--save-weights onto the project": Case(train_with("--save-weights", "project.json"),
                                            ("--save-weights project.json", "the project file project.json")),
    "export -o onto the project": Case(export_onto("project.json"), ("-o project.json", "the project file")),
    "--history and --save-weights one file": Case(train_with("--save-weights", "w.json", "--history", "w.json"),
                                                  ("--save-weights w.json", "--history w.json")),
    "two spellings of one new file": Case(
        train_with("--save-weights", "out.json", "--history", "sub/../out.json", setup=with_sub_folder),
        ("--save-weights out.json", "--history sub/../out.json")),
    "one new file through a symlinked folder": Case(
        train_with("--save-weights", "real/w.json", "--history", "alias/w.json", setup=with_linked_folder),
        ("real/w.json", "alias/w.json")),
    "--save-weights onto a symlink to the project": Case(
        train_with("--save-weights", "link.json", setup=with_symlink_to_project),
        ("--save-weights link.json", "the project file project.json")),
    "--save-weights onto a hard link to the project": Case(
        train_with("--save-weights", "hard.json", setup=with_hard_link_to_project),
        ("--save-weights hard.json", "the project file project.json")),
    "--save-weights onto --init-weights": Case(
        train_with("--init-weights", "w.npz", "--save-weights", "w.npz", setup=with_init_weights),
        ("--save-weights w.npz", "--init-weights w.npz")),
    "export -o onto --weights": Case(export_onto("w.npz", fmt="npz"), ("-o w.npz", "--weights w.npz")),
    "--history onto the CSV data file": Case(csv_history_onto_data, ("--history proj/data.csv", "data.source")),
}


def project_with(mutate: Callable[[dict], None]) -> dict:
    doc = classifier(samples=20)
    mutate(doc)
    return doc


def raw_project(text: Callable[[str], str]) -> Callable[[Path], list]:
    """A project whose JSON text is edited (for what json.dumps can not write)."""
    def build(folder: Path) -> list:
        (folder / "project.json").write_text(text(PROJECT_TEXT), encoding="utf-8")
        return ["train", "project.json", "--steps", 1, "--quiet"]
    return build


def with_lr_text(value: str) -> Callable[[str], str]:
    return lambda text: text.replace('"lr": 0.01', f'"lr": {value}')


def deeply_nested(text: str) -> str:
    return text.replace('"name": "circle test project"', '"name": ' + "[" * DEEP + "]" * DEEP)


# Item 3: project values that were tracebacks (exit 1).  name -> (mutation, field named)
HOSTILE_VALUES: dict[str, tuple[Callable[[dict], None], str]] = {
    "seed": (lambda d: d.update(seed=HUGE), "seed"),
    "units": (lambda d: d["network"]["nodes"][1].update(units=HUGE), "network node 'h1'.units"),
    "lr": (lambda d: d["training"]["optimizer"].update(lr=HUGE), "training.optimizer.lr"),
    "batch_size": (lambda d: d["training"].update(batch_size=HUGE), "training.batch_size"),
    "samples": (lambda d: d["data"].update(samples=HUGE), "data.samples"),
    "layout": (lambda d: d.update(layout={"h1": [HUGE, 0]}), "layout.h1.x"),
    "bias": (lambda d: d["network"]["nodes"][1].update(bias=HUGE), "network node 'h1'.bias"),
    "constant init": (lambda d: d["network"]["nodes"][1].update(init={"name": "constant", "value": HUGE}),
                      "network node 'h1'.init.value"),
    "uniform bounds no float holds": (lambda d: d["network"]["nodes"][1].update(
        init={"name": "uniform", "a": -HUGE, "b": HUGE}), "network node 'h1'.init.a"),
    "uniform range NumPy can not draw": (lambda d: d["network"]["nodes"][1].update(
        init={"name": "uniform", "a": -1e308, "b": 1e308}), "network node 'h1'.init"),
    "warmup": (lambda d: d["training"].update(schedule={"name": "constant", "warmup": HUGE}),
               "training.schedule.warmup"),
}

OVERFLOWS = {
    **{f"huge {name}": Case(lambda folder, m=mutate: [
        "train", write_project(folder, project_with(m)).name, "--steps", 1, "--quiet"], ("project.json", field))
       for name, (mutate, field) in HOSTILE_VALUES.items()},
    "JSON nested 100,000 deep": Case(raw_project(deeply_nested), ("project.json", "nested")),
    "an integer of 5,000 digits": Case(raw_project(with_lr_text(MANY_DIGITS)),
                                       ("project.json", "training.optimizer.lr", "5,000 digits")),
    "an integer of 5,000 digits in an extra field": Case(
        raw_project(lambda text: text.replace('"seed": 0', f'"seed": 0, "notes": [{MANY_DIGITS}]')),
        ("project.json", "notes[0]")),
}


def weight_json(data_text: str) -> bytes:
    return ('{"format": "nn-playground-weights/1", "tensors": {"h1.weight": {"shape": [4, 2], "data": ['
            + ", ".join([data_text] * 8) + "]}}}").encode()


def with_weight_json(content: bytes, command: str) -> Callable[[Path], list]:
    def build(folder: Path) -> list:
        project(folder)
        (folder / "w.json").write_bytes(content)
        if command == "export":
            return ["export", "project.json", "--weights", "w.json", "--format", "npz", "-o", "out.npz"]
        return [command, "project.json", "--init-weights", "w.json"]
    return build


WEIGHT_FILES = {
    f"weights JSON {what} ({command})": Case(with_weight_json(content, command), ("w.json",))
    for what, content in (("with a number no float holds", weight_json(str(HUGE))),
                          ("with an integer of 5,000 digits", weight_json(MANY_DIGITS)),
                          ("nested 100,000 deep", b'{"tensors": ' + b"[" * DEEP + b"]" * DEEP + b"}"))
    for command in ("train", "gradcheck", "export")
}


def big_file(folder: Path) -> list:
    with open(folder / "project.json", "wb") as f:
        f.truncate(MAX_PROJECT_BYTES + 2**20)          # sparse: no 17 MiB actually written
    return ["train", "project.json", "--steps", 1]


def folder_as_project(folder: Path) -> list:
    (folder / "project.json").mkdir()
    return ["train", "project.json"]


def fifo_as_output(folder: Path) -> list:
    project(folder)
    os.mkfifo(folder / "h.csv")
    return ["train", "project.json", "--steps", 1, "--quiet", "--history", "h.csv"]


# Item 5 (the cases that cannot hang) and item 10.
SPECIAL_AND_EMPTY = {
    "a 17 MiB project file": Case(big_file, ("project.json", "MiB")),
    "a folder as the project": Case(folder_as_project, ("project.json", "folder")),
    "a FIFO as --history": Case(fifo_as_output, ("h.csv", "--history", "named pipe")),
    "--save-weights ''": Case(train_with("--save-weights", ""), ("--save-weights", "empty")),
    "--history ''": Case(train_with("--history", ""), ("--history", "empty")),
    "--init-weights ''": Case(train_with("--init-weights", ""), ("--init-weights", "empty")),
    "gradcheck --init-weights ''": Case(train_with("--init-weights", "", command="gradcheck"),
                                        ("--init-weights", "empty")),
    "export -o ''": Case(export_onto(""), ("-o", "empty")),
    "project ''": Case(lambda folder: ["train", ""], ("project file", "empty")),
}

CASES = {**OVERWRITES, **OVERFLOWS, **WEIGHT_FILES, **SPECIAL_AND_EMPTY}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_exits_2_and_changes_nothing(tmp_path, name):
    case = CASES[name]
    args = case.setup(tmp_path)
    before = snapshot(tmp_path)
    result = run_main(*args, cwd=tmp_path)
    assert_invalid(result, *case.fragments)
    assert snapshot(tmp_path) == before, "the failed run changed, added or removed a file"


def test_overwriting_the_project_fails_as_a_process_too(tmp_path):
    """The same refusal seen from outside: exit status 2 and one line from a real process."""
    project(tmp_path)
    result = run_process("train", "project.json", "--steps", 1, "--history", "project.json", cwd=tmp_path)
    assert_invalid(result, "--history project.json", "the project file project.json")
    assert (tmp_path / "project.json").read_text(encoding="utf-8") == PROJECT_TEXT


def test_distinct_outputs_still_work(tmp_path):
    """The checks refuse only real clashes: separate outputs next to the project and its inputs."""
    with_init_weights(tmp_path)
    result = run_main("train", "project.json", "--steps", 2, "--quiet", "--init-weights", "w.npz",
                      "--save-weights", "w2.npz", "--history", "h.csv", cwd=tmp_path)
    assert result.returncode == 0, result
    assert (tmp_path / "w2.npz").is_file() and (tmp_path / "h.csv").is_file()
    assert not list(tmp_path.glob(".playground-check-*")), "the writability probe was left behind"


# --------------------------------------------------------------------------------------
# the GUI's File > Open gets a ConfigError (a dialog), not a traceback
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(HOSTILE_VALUES))
def test_load_project_names_the_field_of_a_hostile_value(tmp_path, name):
    mutate, field = HOSTILE_VALUES[name]
    path = write_project(tmp_path, project_with(mutate))
    with pytest.raises(ConfigError, match=f"project.json: {field}".replace("(", r"\(").replace(".", r"\.")):
        load_project(path)


@pytest.mark.parametrize("edit,fragment", [(deeply_nested, "nested"), (with_lr_text(MANY_DIGITS), "digits")])
def test_load_project_refuses_deep_nesting_and_endless_integers(tmp_path, edit, fragment):
    path = tmp_path / "project.json"
    path.write_text(edit(PROJECT_TEXT), encoding="utf-8")
    with pytest.raises(ConfigError, match=fragment):
        load_project(path)


# --------------------------------------------------------------------------------------
# special files as the project: in a subprocess, because before the fix they hung or ate memory
# --------------------------------------------------------------------------------------

def fifo_project(folder: Path) -> str:
    os.mkfifo(folder / "project.json")
    return "project.json"


def zero_link(folder: Path) -> str:
    (folder / "project.json").symlink_to("/dev/zero")
    return "project.json"


SPECIAL_PROJECTS: dict[str, tuple[Callable[[Path], str], str]] = {
    "FIFO": (fifo_project, "named pipe"),
    "/dev/zero": (lambda folder: "/dev/zero", "character device"),
    "link to /dev/zero": (zero_link, "character device"),
}
SPECIAL_RUNS = [(name, command) for name in SPECIAL_PROJECTS for command in ("train", "gradcheck")]


@pytest.fixture(scope="module")
def special_file_runs(tmp_path_factory) -> dict[tuple[str, str], tuple[subprocess.CompletedProcess, str]]:
    """Every special-file run, side by side (each is a process start of about a second)."""
    jobs = {}
    for name, command in SPECIAL_RUNS:
        folder = tmp_path_factory.mktemp("special")
        jobs[name, command] = (folder, SPECIAL_PROJECTS[name][0](folder), command)
    with ThreadPoolExecutor(max_workers=4) as pool:
        # A subprocess.TimeoutExpired here means a run waited on the FIFO for a writer.
        futures = {key: pool.submit(run_process, command, project_arg, cwd=folder, timeout=30)
                   for key, (folder, project_arg, command) in jobs.items()}
        return {key: (future.result(), jobs[key][1]) for key, future in futures.items()}


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="needs POSIX files")
@pytest.mark.parametrize("name,command", SPECIAL_RUNS)
def test_special_file_as_project_is_refused_at_once(special_file_runs, name, command):
    result, project_arg = special_file_runs[name, command]
    assert_invalid(result, project_arg, SPECIAL_PROJECTS[name][1])


# --------------------------------------------------------------------------------------
# item 10: an unwritable folder is called that, not "does not exist"
# --------------------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_history_in_proc_says_it_cannot_be_written_there(tmp_path):
    project(tmp_path)
    result = run_main("train", "project.json", "--steps", 1, "--quiet", "--history", "/proc/h.csv", cwd=tmp_path)
    line = assert_invalid(result, "/proc/h.csv", "cannot write")
    assert "does not exist" not in line


def test_a_folder_that_does_not_exist_is_still_called_that(tmp_path):
    project(tmp_path)
    result = run_main("train", "project.json", "--steps", 1, "--history", "nowhere/h.csv", cwd=tmp_path)
    assert_invalid(result, "nowhere", "does not exist")


# --------------------------------------------------------------------------------------
# item 11: one BLAS thread, measured inside the CLI's process
# --------------------------------------------------------------------------------------

# Runs the CLI's real main, then reports the BLAS thread pools main left behind.
THREADS_PROBE = """
import json, sys
{preload}
from playground.cli import main
code = main(sys.argv[1:])
from threadpoolctl import threadpool_info
print("BLAS " + json.dumps([(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]))
sys.exit(code)
"""


@pytest.mark.parametrize("preload", ["", "import numpy, scipy.linalg"], ids=["fresh", "numpy already loaded"])
def test_cli_runs_with_one_blas_thread(tmp_path, preload):
    project(tmp_path)
    # Four threads by default, whatever this machine's core count, so the limit must act.
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_NUM_THREADS", "_MAXIMUM_THREADS"))}
    env.update(OPENBLAS_NUM_THREADS="4", OMP_NUM_THREADS="4", MKL_NUM_THREADS="4")
    result = subprocess.run([sys.executable, "-c", THREADS_PROBE.format(preload=preload), "train", "project.json",
                             "--steps", "1", "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env=env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("BLAS "))
    pools = json.loads(line[len("BLAS "):])
    assert pools, "threadpoolctl found no BLAS library in the CLI's process"
    assert all(threads == 1 for _, threads in pools), pools
