"""The network as one standalone Python file that needs only NumPy.

The generated file embeds every tensor as base64 of its little-endian bytes (exact,
unlike printed decimals), defines only the activations the network uses, with the
engine's formulas, and a ``predict(X)`` that runs the nodes one line each in plan
order.  Run as a script it reads a CSV of features and prints the predictions, and
for a classifier the predicted class by name (``CLASS_NAMES``, the data set's labels).

User-given strings (node ids, feature names, class labels) only ever reach the
generated code through ``repr`` (inside literals or comments), so no name can inject
code; the command line prints labels through the csv module, quoted as CSV needs.  Node
values live in locals named ``v_<cleaned id>``, a prefix no module-level name of the
generated file uses, so no node id can shadow ``INPUT_SHIFT``, ``WEIGHTS``, an
activation or a builtin that ``predict`` reads.
"""
from __future__ import annotations

import base64
import re
import textwrap
from typing import Callable, Mapping, Sequence

import numpy as np

from ..graph import Plan
from .class_names import check_class_count, class_name_list
from .onnx_export import checked_scaling, checked_tensors

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

# The playground's rule (engine/losses.py predict_classes), written out.
_CLASS_CODE = '''
def class_names_of(predictions):
    """The predicted class of each row of predict()'s output, as its label: for one output
    column the second class when it is above 0.5 (else the first), else the largest column."""
    if CLASS_NAMES is None:
        raise ValueError("this network is not a classifier: it has no class names")
    predictions = np.asarray(predictions)
    if predictions.shape[1] == 1:
        index = (predictions[:, 0] > 0.5).astype(np.int64)
    else:
        index = np.argmax(predictions, axis=1)
    return [CLASS_NAMES[i] for i in index]


def predict_class_names(X):
    """The predicted class label of each row of X."""
    return class_names_of(predict(X))
'''

_MAIN = '''
def main(argv=None):
    """Read a CSV of features (a header naming the features is optional), print predictions
    as CSV: the output columns, then for a classifier the predicted class's label."""
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
    labels = class_names_of(predictions) if CLASS_NAMES is not None else None
    out = csv.writer(sys.stdout, lineterminator="\\n")     # quotes a label holding commas, quotes or newlines
    out.writerow(names + (["class"] if labels is not None else []))
    for i, row in enumerate(predictions):
        out.writerow([repr(float(v)) for v in row] + ([labels[i]] if labels is not None else []))


if __name__ == "__main__":
    main()
'''


# Every local variable predict() creates for a node starts with this prefix, and no
# module-level name of the generated file (constants, helpers, activations, imports)
# or builtin does: so no node id can shadow a name predict reads, whatever it is
# (INPUT_SHIFT, WEIGHTS, sigmoid, len, ...).  test_script_names_never_shadow checks it.
LOCAL_PREFIX = "v_"
LINE_CHARS = 72         # base64 characters per line of an embedded tensor


def variable_names(plan: Plan) -> list[str]:
    """A distinct, valid Python variable name for each plan step: ``v_`` + its node id, cleaned."""
    used: set[str] = set()
    names = []
    for step in plan.steps:
        base = LOCAL_PREFIX + re.sub(r"\W", "_", step.node.id, flags=re.ASCII)
        name, n = base, 1
        while name in used:             # "a b" and "a_b" clean to the same name
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names.append(name)
    return names


def _tensor_literal(array: np.ndarray) -> str:
    """``_tensor(shape, "...")`` with the bytes as base64 in fixed-width string lines.

    The base64 text is sliced directly: linear in its length (textwrap.wrap on one
    long word took minutes for a million parameters).
    """
    data = base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode("ascii")
    lines = [f'        "{data[i:i + LINE_CHARS]}"' for i in range(0, len(data), LINE_CHARS)]
    chunks = "\n".join(lines) or '        ""'
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


def _weight_lines(weights: Mapping[str, np.ndarray], progress: Callable[[float], None]) -> list[str]:
    total, done, lines = max(1, sum(a.size for a in weights.values())), 0, []
    for name, array in weights.items():
        lines.append(f"    {name!r}: {_tensor_literal(array)},")
        done += array.size
        progress(done / total)
    return lines


def _class_lines(classes: list | None, width: int) -> list[str]:
    if classes is None:
        return ["CLASS_NAMES = None                # not a classifier: no class labels"]
    meaning = ("the output is the probability of CLASS_NAMES[1]" if width == 1
               else "output column k is the probability (or score) of CLASS_NAMES[k]")
    return [f"# The data set's class labels, sorted: {meaning}.",
            f"CLASS_NAMES = {classes!r}"]


def network_to_script(plan: Plan, tensors: Mapping[str, np.ndarray], feature_names: Sequence[str],
                      input_scaling: tuple[np.ndarray, np.ndarray] | None = None,
                      progress: Callable[[float], None] | None = None, source: str = "export",
                      class_names: Sequence | None = None) -> str:
    """Python source of a NumPy-only module whose ``predict(X)`` matches ``Network.predict``.

    Float32 tensors give a float32 script (like a float32 network); otherwise float64.
    With ``input_scaling`` (shift, scale), ``predict`` takes raw columns and first
    standardises them as the network was trained: (X - INPUT_SHIFT) / INPUT_SCALE.
    ``class_names`` (``Dataset.classes``) become ``CLASS_NAMES`` (None without them).
    ``progress`` is called with the fraction done after each tensor (it may raise to cancel).
    """
    progress = progress or (lambda fraction: None)
    dtype = np.float32 if all(np.asarray(t).dtype == np.float32 for t in tensors.values()) else np.float64
    weights = checked_tensors(plan, tensors, dtype, source, "the script")
    classes = class_name_list(class_names, "the script")
    check_class_count(classes, plan.output_width, "the script")
    names = variable_names(plan)
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
        "    predict_class_names(X): a classifier's predicted class label per row (CLASS_NAMES).",
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
        *_class_lines(classes, out_step.width),
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
        *_weight_lines(weights, progress),
        "}",
    ]
    standardize_lines = []
    if input_scaling is not None:
        shift, scale = checked_scaling(input_scaling, feature_names, dtype, "the script")
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
        _CLASS_CODE,
        _MAIN,
    ]
    return "\n".join(parts).rstrip("\n") + "\n"
