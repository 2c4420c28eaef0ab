"""How long the loss landscape and the backward-pass trace take, to choose default sizes.

For the spiral example (assets/examples/spiral.json, trained 500 steps): the grid's time
for random filter-normalised directions at several resolutions, the time to find the
Hessian's top two eigenvectors, the PCA directions of a 50-snapshot trajectory, and one
backward-pass trace of a row.  Then, for every shipped example, one evaluation's time
and the grid ``resolution_for_budget`` chooses (the default when none is given) with
the time it took.  Each measure runs with BLAS limited to 1 and 2
threads (threadpoolctl, when installed): this machine class has 2 cores.

    python bench/landscape.py [--quick]    prints a table, writes bench/results/landscape.json
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would
# shadow the ``engine`` package: put the repository root there instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from engine.backward_trace import trace_session_row, trace_support  # noqa: E402
from engine.landscape import (DEFAULT_RESOLUTION, hessian_directions, loss_landscape, pca_directions,  # noqa: E402
                              random_directions, resolution_for_budget)
from engine.objective import FullBatchObjective  # noqa: E402
from playground.project import build_session, load_project  # noqa: E402

EXAMPLES = ROOT / "assets" / "examples"
RESOLUTIONS = (21, 31, 41, 51, 61, 81, 101)


def spiral_session(steps: int = 500):
    session = build_session(load_project(EXAMPLES / "spiral.json"))
    trajectory = [session.network.params.copy()]
    for _ in range(50):
        session.step(steps // 50)
        trajectory.append(session.network.params.copy())
    return session, trajectory


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def spiral_measures(resolutions, repeats: int) -> dict:
    session, trajectory = spiral_session()
    objective = FullBatchObjective.of_session(session)
    random = random_directions(objective.network, 0, objective.start)
    grid = {r: best_of(repeats, lambda r=r: loss_landscape(objective, random, r)) for r in resolutions}
    return {
        "weights": objective.size,
        "train_rows": len(objective.X),
        "grid_seconds": grid,
        "hessian_directions_seconds": best_of(repeats, lambda: hessian_directions(objective)),
        "pca_directions_seconds": best_of(repeats, lambda: pca_directions(trajectory, objective.start)),
        "trace_row_ms": 1000 * best_of(repeats * 20, lambda: trace_session_row(session, 7)),
        "budget_resolution": resolution_for_budget(objective),
    }


def example_measures(repeats: int) -> dict:
    out = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        session = build_session(load_project(path))
        objective = FullBatchObjective.of_session(session)
        random = random_directions(objective.network, 0, objective.start)
        budget = resolution_for_budget(objective)
        out[path.stem] = {
            "weights": objective.size, "train_rows": len(objective.X),
            "evaluation_ms": 1000 * best_of(repeats * 10, lambda: objective.value(objective.start)),
            "budget_resolution": budget,
            "budget_seconds": best_of(1, lambda: loss_landscape(objective, random, budget)),
            "traceable": trace_support(session.network.plan) is None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer resolutions, one repeat")
    args = parser.parse_args()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    resolutions = (21, 41, 61) if args.quick else RESOLUTIONS
    repeats = 1 if args.quick else 3
    results = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "platform": platform.platform()},
               "default_resolution": DEFAULT_RESOLUTION, "threads": {}}
    for threads in ((1, 2) if threadpool_limits else (None,)):
        with threadpool_limits(threads) if threads else contextlib.nullcontext():
            results["threads"][str(threads or "default")] = {
                "spiral": spiral_measures(resolutions, repeats), "examples": example_measures(repeats)}
    for threads, block in results["threads"].items():
        spiral = block["spiral"]
        print(f"\nBLAS threads: {threads}.  spiral: {spiral['weights']} weights, {spiral['train_rows']} rows")
        print(f"  {'grid':>9} {'seconds':>8}")
        for r, seconds in spiral["grid_seconds"].items():
            print(f"  {r:>4} x {r:<3} {seconds:8.3f}")
        print(f"  Hessian top-2 directions {spiral['hessian_directions_seconds']:.3f} s, "
              f"PCA of 51 snapshots {spiral['pca_directions_seconds']:.4f} s, "
              f"one backward trace {spiral['trace_row_ms']:.2f} ms, "
              f"budget resolution {spiral['budget_resolution']}")
        print(f"  {'example':<10} {'weights':>7} {'rows':>5} {'eval ms':>8} {'budget grid':>11} {'seconds':>8}")
        for name, m in block["examples"].items():
            print(f"  {name:<10} {m['weights']:>7} {m['train_rows']:>5} {m['evaluation_ms']:8.3f} "
                  f"{m['budget_resolution']:>11} {m['budget_seconds']:8.3f}")
    out = ROOT / "bench" / "results" / "landscape.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
