"""The ``playground`` command: headless training and checks, or the desktop app.

    playground                      open the desktop app
    playground PROJECT.json         open the desktop app with that project
    playground train PROJECT.json [--steps N | --epochs N] [--init-weights FILE]
                     [--save-weights FILE] [--history FILE.csv] [--seed N] [--log-every N] [--quiet]
    playground gradcheck PROJECT.json [--init-weights FILE] [--rows N] [--tolerance X]
    playground export PROJECT.json --weights FILE --format F -o OUT
                     (F: onnx, safetensors, npz, json, numpy, or pytorch: OUT.py with OUT_data.csv
                      and OUT_weights.safetensors beside it)

Exit status: 0 done; 1 gradcheck found a gradient out of tolerance; 2 invalid input
(one line on stderr naming the culprit, never a traceback); 3 training diverged
(the last finite weights are kept and saved).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from engine.errors import ConfigError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_INVALID, EXIT_DIVERGED = 0, 1, 2, 3
SUBCOMMANDS = ("train", "gradcheck", "export")
# A message quoting a hostile file (a 10 MB string as a node id) must stay a line a
# person can read: its start names the field, its end says what is allowed.
MAX_MESSAGE_CHARS = 400


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments with exit status 2 and one line, like our other errors."""

    def error(self, message: str):
        self.exit(EXIT_INVALID, f"{self.prog}: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="playground", description="NN Playground: train neural networks and watch them learn.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train a project headless")
    train.add_argument("project", help="project file (JSON, format nn-playground/1)")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive_int, help="number of optimiser updates")
    length.add_argument("--epochs", type=_positive_int, help="number of passes over the training rows (default 100)")
    train.add_argument("--init-weights", metavar="FILE", help="start from these weights (.safetensors/.npz/.json)")
    train.add_argument("--save-weights", metavar="FILE", help="write the trained weights (format from the suffix)")
    train.add_argument("--history", metavar="FILE.csv", help="write the loss history as CSV")
    train.add_argument("--seed", type=_seed, help="override the project's seed")
    train.add_argument("--log-every", type=_positive_int, metavar="N",
                       help="history row every N steps (default: once per epoch)")
    train.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    check = sub.add_parser("gradcheck", help="compare backprop with central differences")
    check.add_argument("project")
    check.add_argument("--init-weights", metavar="FILE")
    check.add_argument("--rows", type=_positive_int, default=64, help="training rows to use (default 64)")
    check.add_argument("--tolerance", type=_positive_float, default=1e-6,
                       help="largest acceptable relative error (default 1e-6)")

    export = sub.add_parser("export", help="export trained weights for other tools")
    export.add_argument("project")
    export.add_argument("--weights", required=True, metavar="FILE")
    export.add_argument("--format", required=True, dest="fmt",
                        choices=("onnx", "safetensors", "npz", "json", "numpy", "pytorch"),
                        help="pytorch writes OUT.py, OUT_data.csv and OUT_weights.safetensors: a model "
                             "and a script that trains it as the playground does")
    export.add_argument("-o", "--output", required=True, metavar="OUT")
    return parser


# Read by OpenBLAS, MKL, BLIS, Accelerate and OpenMP when they are loaded.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                         "VECLIB_MAXIMUM_THREADS")


def use_one_blas_thread() -> None:
    """Limit BLAS to one thread for this process.

    The engine's matrices are small: a second BLAS thread buys little and, when the
    other core is busy, its spin-waiting made a 64-wide step 20x slower here
    (bench/engine.py prints both).

    threadpoolctl can only limit libraries already loaded, so NumPy and SciPy (each
    with its own OpenBLAS) are imported first; the environment variables cover any
    BLAS loaded later.  Called before NumPy was imported, threadpool_limits alone
    was a no-op.
    """
    for name in BLAS_THREAD_VARIABLES:
        os.environ[name] = "1"
    import numpy  # noqa: F401  (loads NumPy's BLAS)
    import scipy.special  # noqa: F401  (the engine's activations use it; it loads SciPy's BLAS)
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)


def one_line(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` as one readable line: control characters escaped, the middle cut if long."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in message)
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    return f"{text[:head]} ... {text[len(text) - (limit - head):]}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and not argv[0].startswith("-")):
        from ui.app import main as app_main   # Qt is imported only for the app
        return app_main(argv)
    args = build_parser().parse_args(argv)
    use_one_blas_thread()
    try:
        if args.command == "train":
            from playground.train_command import run_train
            return run_train(args)
        if args.command == "gradcheck":
            from playground.train_command import run_gradcheck
            return run_gradcheck(args)
        from playground.train_command import run_export
        return run_export(args)
    except ConfigError as exc:
        print(one_line(f"playground {args.command}: {exc}"), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"playground {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
