"""The network as one standalone Python file that needs only NumPy.

The generated file embeds every tensor as base64 of its little-endian bytes (exact,
unlike printed decimals), defines only the activations the network uses, with the
engine's formulas, and a ``predict(X)`` that runs the nodes one line each in plan
order.  Run as a script it reads a CSV of features and prints the predictions.

User-given strings (node ids, feature names) only ever reach the generated code
through ``repr`` (inside literals or comments), so no name can inject code.
"""
from __future__ import annotations

import base64
import builtins
import keyword
import re
import textwrap
from typing import Mapping, Sequence

import numpy as np

from ..graph import Plan
from .onnx_export import checked_tensors

# The engine's formulas (engine/activations.py) in plain NumPy, since the script
# cannot count on scipy: sigmoid is computed as scipy's expit does, and erf comes
# from the standard library's math.erf, element by element.
_ACTIVATION_CODE = {
    "sigmoid": '''
        def sigmoid(z):
            """1 / (1 + e^-z); for very negative z, e^-z is inf and the result a correct 0."""
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(-z))
        ''',
    "tanh": '''
        def tanh(z):
            return np.tanh(z)
        ''',
    "relu": '''
        def relu(z):
            return np.maximum(z, 0)
        ''',
    "leaky_relu": '''
        def leaky_relu(z, alpha):
            return np.where(z > 0, z, alpha * z)
        ''',
    "elu": '''
        def elu(z, alpha):
            """z if z > 0 else alpha (e^z - 1); expm1 on min(z, 0) so e^z never overflows."""
            return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))
        ''',
    "softplus": '''
        def softplus(z):
            """ln(1 + e^z), computed stably."""
            return np.logaddexp(0, z)
        ''',
    "gelu": '''
        _erf = np.vectorize(math.erf, otypes=[np.float64])


        def gelu(z):
            """Exact GELU: 0.5 z (1 + erf(z / sqrt 2))."""
            return 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)).astype(z.dtype))
        ''',
    "silu": '''
        def silu(z):
            return z * sigmoid(z)
        ''',
    "softmax": '''
        def softmax(z):
            """e^z_i / sum_j e^z_j over each row, shifted by the row maximum to avoid overflow."""
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        ''',
}
_WITH_ALPHA = ("leaky_relu", "elu")

_MAIN = '''
def main(argv=None):
    """Read a CSV of features (a header naming the features is optional), print predictions."""
    import argparse
    import csv

    parser = argparse.ArgumentParser(description="Predict with the exported network.")
    parser.add_argument("csv", help="CSV file of input rows ('-' reads standard input)")
    args = parser.parse_args(argv)
    handle = sys.stdin if args.csv == "-" else open(args.csv, newline="", encoding="utf-8")
    with handle:
        rows = [row for row in csv.reader(handle) if row]
    columns = list(range(len(FEATURE_NAMES)))
    if rows and all(name in rows[0] for name in FEATURE_NAMES):
        # A header: take the features by name, so extra columns (a target) are fine.
        columns = [rows[0].index(name) for name in FEATURE_NAMES]
        rows = rows[1:]
    try:
        X = np.array([[float(row[c]) for c in columns] for row in rows], dtype=DTYPE)
    except (ValueError, IndexError) as exc:
        sys.exit(f"{args.csv}: each row needs {len(FEATURE_NAMES)} numbers in the order "
                 f"{', '.join(FEATURE_NAMES)} ({exc})")
    predictions = predict(X.reshape(-1, len(FEATURE_NAMES)))
    names = ["output"] if predictions.shape[1] == 1 else [f"output_{i}" for i in range(predictions.shape[1])]
    print(",".join(names))
    for row in predictions:
        print(",".join(repr(float(v)) for v in row))


if __name__ == "__main__":
    main()
'''


def _identifiers(plan: Plan) -> list[str]:
    """A distinct, valid Python variable name for each plan step, close to its node id."""
    used = {"X", "np", "math", "sys", "base64", "WEIGHTS", "DTYPE", "FEATURE_NAMES", "predict", "main"}
    used |= set(_ACTIVATION_CODE) | set(dir(builtins))   # a local must not hide what predict calls
    names = []
    for step in plan.steps:
        base = re.sub(r"\W", "_", step.node.id, flags=re.ASCII) or "node"
        if base[0].isdigit():
            base = f"n_{base}"
        name, n = base, 1
        if name in used or keyword.iskeyword(name):
            name = f"{base}_"             # the usual spelling for a name that is taken: in_, sum_
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names.append(name)
    return names


def _tensor_literal(array: np.ndarray) -> str:
    data = base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode("ascii")
    chunks = "\n".join(f'        "{line}"' for line in textwrap.wrap(data, 72)) or '        ""'
    return f"_tensor({list(array.shape)}, (\n{chunks}\n    ))"


def _call(fn: str, alpha: float, arg: str) -> str:
    if fn == "linear":
        return arg
    return f"{fn}({arg}, {alpha!r})" if fn in _WITH_ALPHA else f"{fn}({arg})"


def _forward_lines(plan: Plan, names: list[str]) -> list[str]:
    lines = []
    for step, var in zip(plan.steps, names):
        node, xs = step.node, [names[j] for j in step.inputs]
        if node.type == "input":
            expr = "X"
        elif node.type == "dense":
            w, b = f'WEIGHTS[{node.id + ".weight"!r}]', f'WEIGHTS[{node.id + ".bias"!r}]'
            expr = _call(node.activation, node.act_alpha, f"{xs[0]} @ {w}.T + {b}")
        elif node.type == "activation":
            expr = _call(node.activation, node.act_alpha, xs[0])
        elif node.type == "dropout":
            expr = xs[0]
        elif node.type == "add":
            expr = " + ".join(xs)
        else:
            expr = f"np.concatenate([{', '.join(xs)}], axis=1)"
        detail = f", {node.activation}" if node.type in ("dense", "activation") else ""
        lines.append(f"    # {node.type} {node.id!r}{detail}: width {step.width}"
                     + (" (identity at inference)" if node.type == "dropout" else ""))
        lines.append(f"    {var} = {expr}")
    return lines


def network_to_script(plan: Plan, tensors: Mapping[str, np.ndarray], feature_names: Sequence[str],
                      input_scaling: tuple[np.ndarray, np.ndarray] | None = None) -> str:
    """Python source of a NumPy-only module whose ``predict(X)`` matches ``Network.predict``.

    Float32 tensors give a float32 script (like a float32 network); otherwise float64.
    With ``input_scaling`` (shift, scale), ``predict`` takes raw columns and first
    standardises them as the network was trained: (X - INPUT_SHIFT) / INPUT_SCALE.
    """
    dtype = np.float32 if all(np.asarray(t).dtype == np.float32 for t in tensors.values()) else np.float64
    weights = checked_tensors(plan, tensors, dtype)
    names = _identifiers(plan)
    used = {s.node.activation for s in plan.steps if s.node.type in ("dense", "activation")} - {"linear"}
    if "silu" in used:
        used.add("sigmoid")
    out_step = plan.steps[plan.output_index]
    out_kind = f" ({out_step.node.activation})" if out_step.node.type in ("dense", "activation") else ""

    parts = [
        '"""Standalone NumPy inference for a network exported from NN Playground.',
        "",
        "    predict(X): X is [n_samples, n_features] with columns in FEATURE_NAMES order;",
        "    returns [n_samples, n_outputs], the output node's value.",
        "    Command line: python this_file.py features.csv  (prints one row per input row)",
        "",
        "Needs only NumPy.",
        '"""',
        "import base64",
        "import math",
        "import sys",
        "",
        "import numpy as np",
        "",
        f"DTYPE = np.{np.dtype(dtype).name}",
        f"FEATURE_NAMES = {list(feature_names)!r}",
        f"# Output: the value of node {out_step.node.id!r}{out_kind}, {out_step.width} column(s) per row.",
        "",
        "",
        "def _tensor(shape, data):",
        '    """Decode a tensor stored as base64 of its little-endian bytes (exact)."""',
        '    little_endian = np.dtype(DTYPE).newbyteorder("<")',
        "    return np.frombuffer(base64.b64decode(data), dtype=little_endian).astype(DTYPE).reshape(shape)",
        "",
        "",
        "# Tensors in the torch.nn.Linear layout: <node>.weight is [units, inputs], <node>.bias is [units].",
        "WEIGHTS = {",
        *[f"    {name!r}: {_tensor_literal(array)}," for name, array in weights.items()],
        "}",
    ]
    standardize_lines = []
    if input_scaling is not None:
        shift, scale = (np.asarray(a, dtype=dtype) for a in input_scaling)
        parts += ["",
                  "# The network was trained on standardised columns: predict() applies the same scaling.",
                  f"INPUT_SHIFT = {_tensor_literal(shift)}",
                  f"INPUT_SCALE = {_tensor_literal(scale)}"]
        standardize_lines = ["    X = (X - INPUT_SHIFT) / INPUT_SCALE"]
    for fn in sorted(used):
        parts += ["", "", textwrap.dedent(_ACTIVATION_CODE[fn]).strip("\n")]
    parts += [
        "", "",
        "def predict(X):",
        '    """The network\'s output for each row of X, node by node in execution order."""',
        "    X = np.asarray(X, dtype=DTYPE)",
        "    if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):",
        '        raise ValueError(f"X must have shape [n, {len(FEATURE_NAMES)}], got {list(X.shape)}")',
        *standardize_lines,
        *_forward_lines(plan, names),
        f"    return {names[plan.output_index]}",
        "",
        _MAIN,
    ]
    return "\n".join(parts).rstrip("\n") + "\n"
