"""The whole network as an ONNX model (opset 17, float32, dynamic batch).

Every plan step becomes a few standard operators, in plan order:

    dense       Gemm(x, W, b, transB=1)  then its activation (W is [units, in], torch layout)
    activation  Sigmoid, Tanh, Relu, LeakyRelu(alpha), Elu(alpha), Softplus, Softmax(axis=1);
                gelu = 0.5 * x * (1 + Erf(x / sqrt 2)) and silu = x * Sigmoid(x), because
                ONNX's own Gelu needs opset 20 and many runtimes stop at 17
    dropout     Identity (dropout is off at inference)
    add         chained Add, in edge order, so rounding matches the engine's sum
    concat      Concat(axis=1), inputs in edge order

The model's input is "input" [batch, n_features] and its output "output" is the
output node's value (probabilities for a sigmoid or softmax output).  Weights are
initializers named like the weight files (``<id>.weight``, ``<id>.bias``).  The
metadata (``metadata_props``) holds ``feature_names`` and, for a classifier,
``class_names``: JSON lists of the input columns and of the labels in output order.
``onnx`` is an optional extra, imported only when a model is built.
"""
from __future__ import annotations

import json
import math
from typing import Callable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, WeightsError
from ..graph import Plan
from ..network import Network
from .class_names import CLASS_NAMES_KEY, check_class_count, class_name_list, class_names_json
from .weights import assign_tensors

OPSET = 17
IR_VERSION = 8            # the IR version that goes with opset 17; newer runtimes all read it
PRODUCER = "nn-playground"
MISSING_ONNX = "ONNX export needs the 'onnx' package: pip install 'nn-playground[onnx]'"
_ELEMENTWISE = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softplus": "Softplus"}


def _beyond(values: np.ndarray, dtype) -> float | None:
    """The value of largest magnitude if it does not fit in ``dtype`` (finite float64 ``values``), else None."""
    if values.size == 0 or np.dtype(dtype).itemsize >= values.dtype.itemsize:
        return None
    high, low = float(values.max()), float(values.min())     # no |values| temporary for a large tensor
    peak = high if abs(high) >= abs(low) else low
    return peak if abs(peak) > float(np.finfo(dtype).max) else None     # Python floats: no cast warning


def checked_tensors(plan: Plan, tensors: Mapping[str, np.ndarray], dtype, source: str = "export",
                    target: str = "the export") -> dict[str, np.ndarray]:
    """The plan's tensors in ``dtype``, after the same checks as loading weights.

    Going through ``assign_tensors`` means a missing tensor or a wrong shape is
    reported exactly as when a weight file is loaded (tensor name and both shapes).
    A value too large for ``dtype`` is refused, naming the tensor, rather than
    becoming infinity in ``target``.
    """
    network = Network(plan, np.float64)
    assign_tensors(network, tensors, source=source)
    for name, values in network.tensors.items():
        peak = _beyond(values, dtype)
        if peak is not None:
            raise WeightsError(f"{source}: tensor '{name}' holds {peak:.4g}, beyond the {np.dtype(dtype).name} "
                               f"range of {target} (largest {np.finfo(dtype).max:.3g})")
    return {name: np.ascontiguousarray(t, dtype=dtype) for name, t in network.tensors.items()}


def checked_scaling(input_scaling: tuple[np.ndarray, np.ndarray], feature_names: Sequence[str], dtype,
                    target: str = "the export") -> tuple[np.ndarray, np.ndarray]:
    """The standardisation (shift, scale) in ``dtype``; a column whose mean or standard
    deviation does not fit (overflows, or the deviation rounds to 0) is refused by name."""
    shift, scale = (np.asarray(a, dtype=np.float64) for a in input_scaling)
    info = np.finfo(dtype)
    largest, tiny = float(info.max), float(info.tiny)
    for i, name in enumerate(feature_names):
        if not (np.isfinite(shift[i]) and abs(shift[i]) <= largest):
            raise ConfigError(f"column '{name}': its mean {shift[i]:.4g} is beyond the {info.dtype.name} range "
                              f"of {target} (largest {largest:.3g})")
        if not (np.isfinite(scale[i]) and tiny <= scale[i] <= largest):
            raise ConfigError(f"column '{name}': its standard deviation {scale[i]:.4g} cannot be represented "
                              f"in the {info.dtype.name} of {target}")
    return shift.astype(dtype), scale.astype(dtype)


class _Builder:
    """Collects nodes and initializers; hands out value names that never collide."""

    def __init__(self, helper, float_type: int):
        self.helper = helper
        self.float_type = float_type
        self.nodes: list = []
        self.used: set[str] = {"input", "output"}

    def name(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}_{n}"
        self.used.add(candidate)
        return candidate

    def op(self, op_type: str, inputs: Sequence[str], out: str, **attrs) -> str:
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def constant(self, base: str, value: float) -> str:
        out = self.name(base)
        tensor = self.helper.make_tensor(out, self.float_type, [], [value])
        self.nodes.append(self.helper.make_node("Constant", [], [out], name=out, value=tensor))
        return out

    def activation(self, fn: str, alpha: float, x: str, out: str) -> str:
        """Append ``fn`` applied to ``x``; the result is called ``out``."""
        if fn == "linear":
            return self.op("Identity", [x], out)
        if fn in _ELEMENTWISE:
            return self.op(_ELEMENTWISE[fn], [x], out)
        if fn == "leaky_relu":
            return self.op("LeakyRelu", [x], out, alpha=float(alpha))
        if fn == "elu":
            return self.op("Elu", [x], out, alpha=float(alpha))
        if fn == "softmax":
            return self.op("Softmax", [x], out, axis=1)
        if fn == "silu":
            return self.op("Mul", [x, self.op("Sigmoid", [x], self.name(f"{out}/sigmoid"))], out)
        if fn == "gelu":
            scaled = self.op("Div", [x, self.constant(f"{out}/sqrt2", math.sqrt(2.0))], self.name(f"{out}/scaled"))
            erf = self.op("Erf", [scaled], self.name(f"{out}/erf"))
            one_plus = self.op("Add", [erf, self.constant(f"{out}/one", 1.0)], self.name(f"{out}/one_plus"))
            half_x = self.op("Mul", [x, self.constant(f"{out}/half", 0.5)], self.name(f"{out}/half_x"))
            return self.op("Mul", [half_x, one_plus], out)
        raise ConfigError(f"ONNX export: activation {fn!r} has no ONNX form")


def _classes_doc(names: list | None, width: int) -> str:
    """The doc string's sentence on the classes (the metadata holds the same list)."""
    if names is None:
        return ""
    if width == 1:
        return f"; classes {class_names_json(names)}: the output is the probability of the second"
    return f"; classes in output column order: {class_names_json(names)}"


def network_to_onnx(plan: Plan, tensors: Mapping[str, np.ndarray], feature_names: Sequence[str],
                    input_scaling: tuple[np.ndarray, np.ndarray] | None = None,
                    progress: Callable[[float], None] | None = None, source: str = "export",
                    class_names: Sequence | None = None) -> bytes:
    """The serialized ONNX ModelProto of ``plan`` with ``tensors`` as its (float32) weights.

    With ``input_scaling`` (shift, scale) the model first computes (input - shift) / scale,
    the standardisation the network was trained behind, so it takes raw columns.
    ``class_names`` (``Dataset.classes``) go into the metadata and the doc string.
    ``progress`` is called with the fraction done between stages (it may raise to cancel);
    ``source`` starts the messages about the tensors (e.g. the weight file's name).
    """
    progress = progress or (lambda fraction: None)
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ConfigError(MISSING_ONNX) from None
    weights = checked_tensors(plan, tensors, np.float32, source, "the ONNX model")
    if input_scaling is not None:
        input_scaling = checked_scaling(input_scaling, feature_names, np.float32, "the ONNX model")
    names = class_name_list(class_names, "the ONNX model")
    check_class_count(names, plan.output_width, "the ONNX model")
    progress(0.1)
    b = _Builder(helper, TensorProto.FLOAT)
    initializers = []
    for name, array in weights.items():
        b.used.add(name)
        initializers.append(numpy_helper.from_array(array, name))

    network_input = "input"
    if input_scaling is not None:
        for name, array in zip(("input_shift", "input_scale"), input_scaling):
            b.used.add(name)
            initializers.append(numpy_helper.from_array(array, name))
        centred = b.op("Sub", ["input", "input_shift"], b.name("input/centred"))
        network_input = b.op("Div", [centred, "input_scale"], b.name("input/standardized"))

    values: list[str] = []             # the ONNX value holding each plan step's output
    for i, step in enumerate(plan.steps):
        node = step.node
        if node.type == "input":
            values.append(network_input)
            continue
        xs = [values[j] for j in step.inputs]
        out = "output" if i == plan.output_index else b.name(node.id)
        if node.type == "dense":
            has_act = node.activation != "linear"
            z = b.name(f"{node.id}/z") if has_act else out
            b.op("Gemm", [xs[0], f"{node.id}.weight", f"{node.id}.bias"], z, transB=1)
            if has_act:
                b.activation(node.activation, node.act_alpha, z, out)
        elif node.type == "activation":
            b.activation(node.activation, node.act_alpha, xs[0], out)
        elif node.type == "dropout":
            b.op("Identity", xs, out)
        elif node.type == "add":
            total = xs[0]
            for k, x in enumerate(xs[1:], start=2):
                total = b.op("Add", [total, x], out if k == len(xs) else b.name(f"{node.id}/partial{k}"))
        elif node.type == "concat":
            b.op("Concat", xs, out, axis=1)
        values.append(out)

    out_node = plan.steps[plan.output_index].node
    graph = helper.make_graph(
        b.nodes, "nn_playground",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", plan.input_width])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", plan.output_width])],
        initializer=initializers,
        doc_string=f"input columns: {', '.join(feature_names)}; output: the value of node '{out_node.id}'"
                   + _classes_doc(names, plan.output_width))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=PRODUCER, ir_version=IR_VERSION)
    props = {"feature_names": json.dumps(list(feature_names)), "output_node": out_node.id,
             "output_activation": plan.output_activation}
    if names is not None:
        props[CLASS_NAMES_KEY] = class_names_json(names)
    helper.set_model_props(model, props)
    progress(0.4)
    onnx.checker.check_model(model, full_check=True)
    progress(0.8)
    return model.SerializeToString()
