"""Engine speed against a minimal hand-written NumPy loop doing the same work.

Work per epoch is TensorFlow Playground's: one pass over 250 training points in
batches of 10 (tanh hidden layers, sigmoid output, binary cross-entropy, plain
SGD), then the loss on the 250 training and 250 test points.  The minimal loop is
the least code that does that math; the engine must reach at least half its speed.

Also: steps/s for 784-256-128-10 ReLU + softmax cross-entropy, Adam, batch 128,
float32, beside PyTorch on the CPU when torch is installed; and how BLAS thread
counts change both (threadpoolctl).

    python bench/engine.py [--quick]      prints a table, writes bench/results/engine.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import expit

# Run as a script, this file's folder comes first on sys.path and its name would
# shadow the ``engine`` package: put the repository root there instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from engine.graph import chain_network, compile_plan  # noqa: E402
from engine.losses import make_loss_head  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.optimizers import make_optimizer  # noqa: E402
from playground.project import build_session, parse_project  # noqa: E402

SHAPES = {"2-4-2-1": [4, 2], "2-8-8-8-1": [8, 8, 8], "2-8x6-1": [8] * 6, "2-64-64-64-1": [64, 64, 64]}
LR = 0.03


def chain_project(hidden, *, source="spiral", samples=500, act="tanh", out_units=1, out_act="sigmoid",
                  loss="bce", optimizer=None, batch=10, dtype="float64", shuffle=True) -> dict:
    network = chain_network([(f"h{i}", width, act) for i, width in enumerate(hidden)], out_units, out_act)
    return {"format": "nn-playground/1", "seed": 0, "dtype": dtype,
            "data": {"source": source, "samples": samples, "train_fraction": 0.5},
            "network": network,
            "training": {"loss": loss, "optimizer": optimizer or {"name": "sgd", "lr": LR},
                         "batch_size": batch, "shuffle": shuffle}}


def engine_epochs_per_second(hidden, seconds) -> float:
    session = build_session(parse_project(chain_project(hidden)))
    def epoch():
        session.epoch()
        session.evaluate()
    return _rate(epoch, seconds)


def minimal_epochs_per_second(hidden, seconds) -> float:
    """The same math written out as plainly as NumPy allows."""
    session = build_session(parse_project(chain_project(hidden)))   # only for identical data
    X, y = session.X_train, session.y_train
    Xt, yt = session.X_test, session.y_test
    rng = np.random.default_rng(0)
    sizes = [2] + list(hidden) + [1]
    Ws = [rng.uniform(-0.5, 0.5, (o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(o) for o in sizes[1:]]

    def forward(xb):
        acts = [xb]
        for W, b in zip(Ws[:-1], bs[:-1]):
            acts.append(np.tanh(acts[-1] @ W.T + b))
        return acts, acts[-1] @ Ws[-1].T + bs[-1]

    def bce(z, t):
        return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))

    def epoch():
        order = rng.permutation(len(X))
        for start in range(0, len(X), 10):
            rows = order[start:start + 10]
            acts, z = forward(X[rows])
            g = (expit(z) - y[rows]) / len(rows)
            for k in range(len(Ws) - 1, -1, -1):
                gW, gb = g.T @ acts[k], g.sum(0)
                if k:
                    g = (g @ Ws[k]) * (1 - acts[k] ** 2)
                Ws[k] -= LR * gW
                bs[k] -= LR * gb
        bce(forward(X)[1], y)
        bce(forward(Xt)[1], yt)
    return _rate(epoch, seconds)


def _rate(fn, seconds) -> float:
    fn()  # warm-up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def large_engine_steps_per_second(seconds) -> float:
    """One Adam step on random 784-wide rows (no data set of that width ships)."""
    project = chain_project([256, 128], act="relu", out_units=10, out_act="softmax", loss="cross_entropy")
    plan = compile_plan(parse_project(project).graph, 784)
    net = Network(plan, np.float32)
    rng = np.random.default_rng(0)
    net.initialize(rng)
    opt = make_optimizer({"name": "adam", "lr": 1e-3}, net.params.size, np.float32)
    head = make_loss_head("cross_entropy", plan.output_activation, 10, "classification", 10)
    X = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)

    def step():
        out = net.forward(X, training=True)
        _, grad = head.value_and_grad(net.output_pre_activation, out, y)
        net.backward(grad, head.wrt_logits)
        opt.step(net.params, net.grads, 1e-3)
    return _rate(step, seconds)


def large_torch_steps_per_second(seconds, threads) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads or os.cpu_count())
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    return _rate(step, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else 2.0
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None

    results = {"machine": {"python": platform.python_version(), "numpy": np.__version__,
                           "cpus": os.cpu_count()}, "small": [], "large": []}
    thread_counts = (1, 2) if threadpool_limits else (None,)
    print(f"{'shape':<14} {'BLAS':>4} {'engine ep/s':>12} {'minimal ep/s':>13} {'ratio':>6}")
    for threads in thread_counts:
        for name, hidden in SHAPES.items():
            with threadpool_limits(threads) if threads else _nothing():
                engine = engine_epochs_per_second(hidden, seconds)
                minimal = minimal_epochs_per_second(hidden, seconds)
            ratio = engine / minimal
            results["small"].append({"shape": name, "blas_threads": threads, "engine_epochs_per_s": engine,
                                     "minimal_epochs_per_s": minimal, "ratio": ratio})
            print(f"{name:<14} {threads or '-':>4} {engine:12.1f} {minimal:13.1f} {ratio:6.2f}")

    print("\n784-256-128-10 ReLU, softmax CE, Adam, batch 128, float32")
    print(f"{'BLAS':>4} {'engine steps/s':>15} {'torch steps/s':>14} {'ratio':>6}")
    for threads in thread_counts:
        with threadpool_limits(threads) if threads else _nothing():
            engine = large_engine_steps_per_second(seconds)
            torch_rate = large_torch_steps_per_second(seconds, threads)
        ratio = engine / torch_rate if torch_rate else None
        results["large"].append({"blas_threads": threads, "engine_steps_per_s": engine,
                                 "torch_steps_per_s": torch_rate, "ratio": ratio})
        print(f"{threads or '-':>4} {engine:15.1f} {torch_rate or float('nan'):14.1f} "
              f"{ratio if ratio else float('nan'):6.2f}")

    out = Path(__file__).resolve().parent / "results" / "engine.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    main()
