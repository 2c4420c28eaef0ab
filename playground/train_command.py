"""``playground train``, ``gradcheck`` and ``export``: the headless runs.

Output files (weights, history, exports) are written only at the end and atomically,
so an interrupted or failed run never leaves a half-written file.  Every path is
checked before anything slow happens, so a typo does not cost a long run: no path
is empty, each output's folder exists and takes new files, and no output is an
input (the project, a weight file, the data file) or another output, however it is
spelt (symlinks and hard links included).
"""
from __future__ import annotations

import csv
import errno
import io
import math
import os
import stat
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.errors import ConfigError, WeightsError
from engine.gradcheck import gradcheck
from engine.io.atomic import write_text_atomic
from engine.io.weights import format_of, load_weights, save_weights, tensor_shapes
from engine.session import Evaluation, TrainingSession
from playground.project import Project, build_session, data_file, load_project

DEFAULT_EPOCHS = 100
PROGRESS_INTERVAL_S = 1.0


# --------------------------------------------------------------------------------------
# paths: checked before anything is read or trained
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NamedPath:
    """A path as the user gave it, with what it is for (``--history``, ``the project file``)."""

    role: str
    path: str
    note: str = ""          # where the path came from, when not the command line

    def __str__(self) -> str:
        return f"{self.role} {self.path}" + (f" ({self.note})" if self.note else "")


def require_paths(*paths: NamedPath) -> None:
    """Refuse an empty path: argparse accepts ``--save-weights ""``, which would else be ignored."""
    for named in paths:
        if named.path == "":
            raise ConfigError(f"{named.role}: the path is empty; give a file name")


_SPECIAL_KINDS = {stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device",
                  stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def check_output(named: NamedPath) -> None:
    """The output can be created: a file (or nothing yet) in a folder that takes new files."""
    try:
        info = os.stat(named.path)
    except OSError:
        info = None               # not there yet (or a dangling link, which the write replaces)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{named.path}: {named.role} names a folder; give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        # The atomic write would rename a regular file over it (as root: over /dev/null).
        kind = next((name for test, name in _SPECIAL_KINDS.items() if test(info.st_mode)), "not a regular file")
        raise ConfigError(f"{named.path}: {named.role} is {kind}; give a regular file")
    folder = Path(os.path.abspath(named.path)).parent
    if not folder.is_dir():
        raise ConfigError(f"{named.path}: the folder {folder} for {named.role} does not exist")
    _check_folder_takes_files(named, folder)


def _check_folder_takes_files(named: NamedPath, folder: Path) -> None:
    """Create and remove a file there: os.access says yes to root even on /proc or a read-only mount."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".playground-check-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ConfigError(f"{named.path}: cannot write {named.role} in {folder}: {_why_not_writable(exc)}") from None
    os.close(fd)
    os.unlink(probe)


def _why_not_writable(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.ENOENT:      # the folder exists (checked), but e.g. /proc makes no files
        return "the folder does not accept new files"
    return exc.strerror or str(exc)


def _identity(path: str) -> tuple:
    """What makes two paths one file: device and inode if it exists (symlinks and hard
    links agree), else the absolute path with its folder's symlinks resolved."""
    try:
        info = os.stat(path)
        return ("inode", info.st_dev, info.st_ino)
    except OSError:
        absolute = os.path.abspath(path)
        return ("path", os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute)))


def check_distinct(inputs: list[NamedPath], outputs: list[NamedPath]) -> None:
    """No output may be an input or another output: the write would replace it."""
    seen_outputs: list[tuple[NamedPath, tuple]] = []
    for out in outputs:
        out_id = _identity(out.path)
        for source in inputs:
            if _identity(source.path) == out_id:
                raise ConfigError(f"{out} is the same file as {source}; refusing to overwrite an input")
        for other, other_id in seen_outputs:
            if other_id == out_id:
                raise ConfigError(f"{other} and {out} are the same file; one would overwrite the other")
        seen_outputs.append((out, out_id))


def check_outputs_against_data(project: Project, outputs: list[NamedPath]) -> None:
    """Outputs against the file the project's data comes from (known once it is read)."""
    source = data_file(project)
    if source is not None:
        check_distinct([NamedPath("the data file", str(source), note="data.source")], outputs)


def _present(*paths: NamedPath) -> list[NamedPath]:
    return [p for p in paths if p.path is not None]


# --------------------------------------------------------------------------------------
# weight files
# --------------------------------------------------------------------------------------

@contextmanager
def reading_weights(path: str) -> Iterator[None]:
    """Report a weight file the reader chokes on as invalid input, naming the file.

    engine/io's JSON reader let OverflowError (an integer too large for a float),
    RecursionError (deep nesting) and ValueError (an integer over Python's 4,300
    digits) escape; they are the file's fault, not a bug to show as a traceback.
    Kept as a safety net whatever the reader does.
    """
    try:
        yield
    except ConfigError:
        raise
    except (OverflowError, RecursionError, ValueError, MemoryError) as exc:
        raise WeightsError(f"{path}: not a readable weight file ({_weights_problem(exc)})") from None


def _weights_problem(exc: BaseException) -> str:
    if isinstance(exc, OverflowError):
        return "a number is too large for a float"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, MemoryError):
        return "too large to load into memory"
    if "integer string conversion" in str(exc):
        return "an integer has too many digits"
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}%" if percent else f"{value:.4g}"


class _Progress:
    """Periodic progress on stderr: a rewritten line on a terminal, plain lines otherwise."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.start = self.last = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.printed = False

    def update(self, session: TrainingSession, evaluation: Evaluation, done: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < PROGRESS_INTERVAL_S and not (force and self.printed)):
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else 0.0
        line = (f"step {done}/{self.total} ({100 * done / self.total:.0f}%)  epoch {session.epoch_count}  "
                f"train loss {_fmt(evaluation.train_loss)}  test loss {_fmt(evaluation.test_loss)}  "
                f"{rate:,.0f} steps/s  ETA {eta:.0f} s")
        if self.tty:
            sys.stderr.write("\r" + line.ljust(100))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.printed = True

    def close(self) -> None:
        if self.enabled and self.tty and self.printed:
            sys.stderr.write("\n")


def _history_csv(rows: list[dict], classification: bool) -> str:
    columns = ["step", "epoch", "train_loss", "test_loss"]
    if classification:
        columns += ["train_accuracy", "test_accuracy"]
    columns.append("lr")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in columns})
    return out.getvalue()


def _load_start_weights(session: TrainingSession, path: str | None) -> None:
    if path is not None:
        with reading_weights(path):
            # Names and shapes are checked from the file's headers before any data is read.
            tensors = load_weights(path, expected=tensor_shapes(session.network))
        session.load_weights(tensors, source=str(path))


def _train_paths(args) -> tuple[list[NamedPath], list[NamedPath]]:
    """The run's inputs and outputs, each checked as far as it can be without reading."""
    inputs = _present(NamedPath("the project file", args.project), NamedPath("--init-weights", args.init_weights))
    outputs = _present(NamedPath("--save-weights", args.save_weights), NamedPath("--history", args.history))
    require_paths(*inputs, *outputs)
    if args.save_weights is not None:
        format_of(args.save_weights)
    for out in outputs:
        check_output(out)
    check_distinct(inputs, outputs)
    return inputs, outputs


def run_train(args) -> int:
    _, outputs = _train_paths(args)
    project = load_project(args.project)
    check_outputs_against_data(project, outputs)
    session = build_session(project, seed=args.seed)
    _load_start_weights(session, args.init_weights)

    total = args.steps if args.steps else (args.epochs or DEFAULT_EPOCHS) * session.steps_per_epoch
    log_every = args.log_every or session.steps_per_epoch
    classification = session.dataset.task == "classification"
    rows: list[dict] = []

    def log(evaluation: Evaluation) -> None:
        rows.append({"step": session.step_count, "epoch": session.epoch_count, "lr": session.lr,
                     "train_loss": evaluation.train_loss, "test_loss": evaluation.test_loss,
                     "train_accuracy": evaluation.train_accuracy, "test_accuracy": evaluation.test_accuracy})

    progress = _Progress(total, enabled=not args.quiet)
    started = time.perf_counter()
    evaluation = session.evaluate()
    log(evaluation)
    done = 0
    while done < total and session.divergence is None:
        chunk = min(log_every - session.step_count % log_every, total - done)
        done += session.step(chunk)
        evaluation = session.evaluate()
        log(evaluation)
        progress.update(session, evaluation, done, force=done == total)
    progress.close()
    elapsed = time.perf_counter() - started

    if args.history is not None:
        write_text_atomic(args.history, _history_csv(rows, classification))
    if args.save_weights is not None:
        # A standardized project's scaling and a classifier's class names go with the weights:
        # a loader need not recompute them from the data.
        save_weights(args.save_weights, session.weights(), input_scaling=session.dataset.input_scaling,
                     class_names=session.dataset.classes)

    summary = (f"trained {session.step_count} steps ({session.epoch_count} epochs) in {elapsed:.1f} s: "
               f"train loss {_fmt(evaluation.train_loss)}, test loss {_fmt(evaluation.test_loss)}")
    if classification:
        summary += (f", train accuracy {_fmt(evaluation.train_accuracy, True)}, "
                    f"test accuracy {_fmt(evaluation.test_accuracy, True)}")
    print(summary)
    if args.save_weights is not None:
        print(f"saved weights to {args.save_weights}")
    if session.divergence is not None:
        saved = f"; saved them to {args.save_weights}" if args.save_weights is not None else ""
        print(f"playground train: diverged: {session.divergence.reason}; kept the last finite weights{saved}. "
              f"Try a smaller learning rate.", file=sys.stderr)
        return 3
    return 0


def run_gradcheck(args) -> int:
    require_paths(*_present(NamedPath("the project file", args.project),
                            NamedPath("--init-weights", args.init_weights)))
    project = load_project(args.project)
    # Central differences need float64: in float32 the difference quotient keeps ~3 digits.
    project = project.with_changes(dtype="float64")
    session = build_session(project)
    _load_start_weights(session, args.init_weights)
    rows = slice(0, args.rows)
    # Weights that overflow (a constant init of 1e308) show up as non-finite errors
    # below, said in one line; NumPy's overflow warnings would only add noise on stderr.
    with np.errstate(all="ignore"):
        results = gradcheck(session.network, session.head, session.X_train[rows], session.y_train[rows],
                            session.regularization)
    width = max(len(r.name) for r in results)
    print(f"{'tensor'.ljust(width)}  {'shape':>10}  {'max rel error':>13}  {'max abs error':>13}")
    failed = []
    for r in results:
        mark = "" if r.max_relative_error <= args.tolerance else "  FAIL"
        print(f"{r.name.ljust(width)}  {'x'.join(map(str, r.shape)):>10}  {r.max_relative_error:13.3e}  "
              f"{r.max_abs_error:13.3e}{mark}")
        if mark:
            failed.append(r.name)
    overflowed = [r.name for r in results if not (math.isfinite(r.max_relative_error)
                                                  and math.isfinite(r.max_abs_error))]
    if overflowed:
        print(f"gradcheck: the loss or its gradient is not finite (NaN or inf) at these weights for "
              f"{', '.join(overflowed)}; nothing can be compared. Are the initial weights or biases huge?",
              file=sys.stderr)
        return 1
    if failed:
        why = ("The project removes f' from backprop (training.ablate_derivative), so these gradients are "
               "not the loss's: that is the experiment, not a bug." if session.network.ablate_derivative
               else "A ReLU-type kink near a data point can cause this without a bug.")
        print(f"gradcheck: {len(failed)} tensor(s) above tolerance {args.tolerance:g}: {', '.join(failed)}. {why}",
              file=sys.stderr)
        return 1
    print(f"gradcheck: all {len(results)} tensors within {args.tolerance:g}")
    return 0


def _export_outputs(args) -> list[NamedPath]:
    """What ``export`` writes: OUT, and for pytorch its data and weight files beside it."""
    output = NamedPath("-o", args.output)
    if args.fmt != "pytorch" or not args.output:
        return [output]
    from playground.torch_export import check_script_path, pytorch_files
    check_script_path(args.output)
    _, data, weights = pytorch_files(args.output)
    return [output, NamedPath("the data file", str(data), note=f"written beside {args.output}"),
            NamedPath("the weight file", str(weights), note=f"written beside {args.output}")]


def run_export(args) -> int:
    """``playground export``: the paths checked like train's, then playground.export (or
    playground.torch_export) does the work."""
    inputs = [NamedPath("the project file", args.project), NamedPath("--weights", args.weights)]
    outputs = _export_outputs(args)
    require_paths(*inputs, *outputs)
    for output in outputs:
        check_output(output)
    check_distinct(inputs, outputs)
    check_outputs_against_data(load_project(args.project), outputs)
    # The project is checked above (its errors are ConfigErrors), so what this guard
    # turns into "not a readable weight file" can only come from reading --weights.
    with reading_weights(args.weights):
        if args.fmt == "pytorch":
            from playground.torch_export import export_pytorch_project
            export_pytorch_project(args.project, args.weights, args.output)
        else:
            from playground.export import export_project
            export_project(args.project, args.weights, args.fmt, args.output)
    written = ", ".join(output.path for output in outputs)
    print(f"wrote {written} ({args.fmt})")
    return 0
