"""``playground train`` and ``playground gradcheck``: the headless runs.

Output files (weights, history) are written only at the end and atomically, so
an interrupted or failed run never leaves a half-written file.  Their folders are
checked before training starts, so a typo does not cost a long run.
"""
from __future__ import annotations

import csv
import io
import os
import sys
import time
from pathlib import Path

from engine.errors import ConfigError
from engine.gradcheck import gradcheck
from engine.io.atomic import write_text_atomic
from engine.io.weights import format_of, load_weights, save_weights
from engine.session import Evaluation, TrainingSession
from playground.project import build_session, load_project

DEFAULT_EPOCHS = 100
PROGRESS_INTERVAL_S = 1.0


def _check_output_path(path: str | None, what: str) -> None:
    if path is None:
        return
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise ConfigError(f"{path}: the folder for the {what} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{path}: cannot write the {what} there (permission denied)")


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
    if path:
        session.load_weights(load_weights(path), source=str(path))


def run_train(args) -> int:
    if args.save_weights:
        format_of(args.save_weights)
    _check_output_path(args.save_weights, "weights")
    _check_output_path(args.history, "history")
    project = load_project(args.project)
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

    if args.history:
        write_text_atomic(args.history, _history_csv(rows, classification))
    if args.save_weights:
        save_weights(args.save_weights, session.weights())

    summary = (f"trained {session.step_count} steps ({session.epoch_count} epochs) in {elapsed:.1f} s: "
               f"train loss {_fmt(evaluation.train_loss)}, test loss {_fmt(evaluation.test_loss)}")
    if classification:
        summary += (f", train accuracy {_fmt(evaluation.train_accuracy, True)}, "
                    f"test accuracy {_fmt(evaluation.test_accuracy, True)}")
    print(summary)
    if args.save_weights:
        print(f"saved weights to {args.save_weights}")
    if session.divergence is not None:
        saved = f"; saved them to {args.save_weights}" if args.save_weights else ""
        print(f"playground train: diverged: {session.divergence.reason}; kept the last finite weights{saved}. "
              f"Try a smaller learning rate.", file=sys.stderr)
        return 3
    return 0


def run_gradcheck(args) -> int:
    project = load_project(args.project)
    # Central differences need float64: in float32 the difference quotient keeps ~3 digits.
    project = project.with_changes(dtype="float64")
    session = build_session(project)
    _load_start_weights(session, args.init_weights)
    rows = slice(0, args.rows)
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
    if failed:
        print(f"gradcheck: {len(failed)} tensor(s) above tolerance {args.tolerance:g}: {', '.join(failed)}. "
              "A ReLU-type kink near a data point can cause this without a bug.", file=sys.stderr)
        return 1
    print(f"gradcheck: all {len(results)} tensors within {args.tolerance:g}")
    return 0
