"""The backward-pass view's sentences, built from one ``RowTrace``.

Every number printed here is one of the trace's own (engine/backward_trace.py), with
four significant digits (``number``); sums are broken out term by term in the order
of the units.  Plain text with a little rich text (Qt's HTML subset): the side panel
shows ``focus_html``, the line under the diagram ``slope_note``.
"""
from __future__ import annotations

import html

import numpy as np

from engine.activations import ACTIVATIONS
from engine.backward_trace import ABLATED, CANCELLED, SOFTMAX
from ui.panels.teaching_text import number

PHASES = ("row", "forward", "backward", "update")
ROW, FORWARD, BACKWARD, UPDATE = range(len(PHASES))
MAX_TERMS = 8           # a longer sum lists its largest terms and the rest together
PEAK_SLOPE = {"sigmoid": 0.25}      # the steepest f' of a transfer function (1 for the others here)
FLAT, STEEP = 0.1, 0.7              # f' below / above this share of its peak: "nearly flat" / "steep"

PHASE_HINTS = {
    ROW: "The row's features sit on the inputs. Press Forward (F) to push them through the network.",
    FORWARD: "Forward: each edge carries w·a from its neuron; a neuron sums them with its bias into z and "
             "outputs a = f(z). Edge labels: w·a into the chosen neuron. Next: Backward (B).",
    BACKWARD: "Backward: from the output's δ = dL/dz back, each neuron's δ = f'(z) × Σ w·δ over the next layer. "
              "Edge labels: the chosen neuron's terms w·δ of that sum. Next: Update (U).",
    UPDATE: "Update: each weight moves by Δw = -lr × δ (of the neuron it feeds) × a (of the neuron it comes "
            "from). Edge labels: Δw into the chosen neuron.",
}

WHY_F_PRIME = (
    "<b>Why does backprop take the derivative of the transfer function?</b> A weight reaches the loss only "
    "through the neuron it feeds: the weight changes z = Σ w·a + b, z changes the neuron's output a = f(z), "
    "and a changes the loss. The chain rule multiplies the slope of each link: dL/dw = dL/da × f'(z) × a<sub>in</sub>. "
    "The middle factor f'(z) is how much a small change of z moves a. Where f is steep, nudging the weight "
    "moves the output and so the loss; where f is flat (a saturated sigmoid or tanh, a ReLU below 0), the "
    "same nudge changes nothing, so that weight is not to blame and its step is small. Drop f' and every "
    "neuron is treated as if its output followed z one for one: the step no longer points downhill. "
    "The line above says what f' does for the chosen neuron on this row.")


def weight_name(source_label: str, target_label: str) -> str:
    return f"w[{source_label}→{target_label}]"


def _factor(x: float) -> str:
    text = number(x)
    return f"({text})" if text.startswith("-") else text


def _sum(terms: list[tuple[float, float]], names: list[str] | None = None) -> str:
    """a1×b1 + a2×b2 + ...: at most MAX_TERMS of them, the largest; the rest summed."""
    order = list(range(len(terms)))
    if len(terms) > MAX_TERMS:
        order = sorted(np.argsort([-abs(a * b) for a, b in terms])[:MAX_TERMS].tolist())
    parts = [f"{number(terms[k][0])}×{_factor(terms[k][1])}" for k in order]
    if len(terms) > MAX_TERMS:
        rest = sum(a * b for k, (a, b) in enumerate(terms) if k not in order)
        parts.append(f"[{len(terms) - MAX_TERMS} smaller terms: {number(rest)}]")
    return " + ".join(parts)


def _source(trace, node):
    return trace.node(node.source)


# -- the header ----------------------------------------------------------------------------

def row_summary(rt, phase: int) -> str:
    """Which row, its target and prediction, the loss (and after the step), and the step."""
    t = rt.trace
    x = ", ".join(number(v) for v in t.x)
    target = str(t.target_class) if t.target_class is not None else ", ".join(number(v) for v in t.target)
    subset = "training" if rt.subset == "train" else "test"
    text = f"Row {t.row} of the {subset} set: x = ({x}), target y = {target}"
    if phase >= FORWARD:
        p = ", ".join(number(v) for v in t.prediction)
        text += f"; prediction p = {p}; loss {number(t.loss_value)}"
    if phase >= UPDATE:
        text += f" → {number(t.loss_after)} after the step"
    if phase >= BACKWARD:
        text += f". At the output {t.output_rule_text}"
    return f"{html.escape(text)} <i>(weights of step {rt.step:,})</i>"


# -- the chosen neuron, phase by phase --------------------------------------------------------

def forward_lines(trace, node, unit: int) -> list[str]:
    j = node.labels[unit]
    if node.kind == "input":
        return [f"{j} = {number(node.a[unit])}: the row's feature, passed on as a."]
    src = _source(trace, node)
    if node.kind == "dense":
        terms = [(node.weight[unit, i], src.a[i]) for i in range(src.width)]
        lines = [f"z_{j} = Σ w·a + b = {_sum(terms)} + b {_factor(node.bias[unit])} = {number(node.z[unit])}"]
    elif node.kind == "dropout":
        return [f"{j}: dropout is off when tracing (evaluation mode): a = z = {number(node.a[unit])}."]
    else:
        lines = [f"z_{j} = a of {src.labels[unit]} = {number(node.z[unit])}"]
    lines.append(f"a_{j} = {node.activation}(z) = {number(node.a[unit])}")
    return lines


def _output_delta(trace, node, unit: int) -> list[str]:
    j = node.labels[unit]
    rule = node.delta_rule
    if rule == CANCELLED:
        body = (f"δ_{j} = p - y = {number(trace.prediction[unit])} - {_factor(trace.target[unit])} "
                f"= {number(node.delta[unit])}")
    elif rule == SOFTMAX:
        weighted = float(np.dot(node.dL_da, node.a))
        body = (f"δ_{j} = a × (dL/da - Σ a·dL/da) = {number(node.a[unit])} × ({number(node.dL_da[unit])} - "
                f"{_factor(weighted)}) = {number(node.delta[unit])}")
    else:
        slope = 1.0 if rule == ABLATED or node.slope is None else node.slope[unit]
        body = (f"δ_{j} = dL/da × f'(z) = {number(node.dL_da[unit])} × {_factor(slope)} "
                f"= {number(node.delta[unit])}")
    return [body, f"({trace.output_rule_text})"]


def backward_lines(trace, node, unit: int) -> list[str]:
    j = node.labels[unit]
    if node.kind == "input":
        return ["Inputs have no δ: the chain ends at the first layer's weights."]
    if node.consumer is None:
        return _output_delta(trace, node, unit)
    consumer = trace.node(node.consumer)
    terms = [(consumer.weight[k, unit] if consumer.kind == "dense" else 1.0, consumer.delta[k])
             for k in range(consumer.width) if consumer.kind == "dense" or k == unit]
    total = number(node.dL_da[unit])
    if node.delta_rule == ABLATED:
        slope, slope_text = 1.0, "1 (f' removed)"
    else:
        slope = 1.0 if node.slope is None else node.slope[unit]
        slope_text = f"f'(z)={number(slope)}"
    return [f"δ_{j} = f'(z) × Σ_k w_k·δ_k over {consumer.node}",
            f"= {slope_text} × ({_sum(terms)})",
            f"= {_factor(slope)} × {_factor(node.dL_da[unit])} = {number(node.delta[unit])}",
            f"(Σ = {total}: how much the loss changes with a_{j})"]


def update_lines(rt, node, unit: int) -> list[str]:
    trace = rt.trace
    if node.kind != "dense":
        return ["This node has no weights of its own: the step changes the dense layers' weights and biases."]
    src = _source(trace, node)
    lr, j = trace.lr, node.labels[unit]
    lines = [f"One plain SGD step on this row at lr = {number(lr)}: Δw = -lr × δ_{j} × a_i"]
    for i in range(src.width):
        lines.append(f"{weight_name(src.labels[i], j)}: Δw = -{number(lr)} × "
                     f"{_factor(node.delta[unit])} × {_factor(src.a[i])} = {number(node.weight_step[unit, i])}: "
                     f"{number(node.weight[unit, i])} → {number(node.weight_after[unit, i])}")
    lines.append(f"b_{j}: Δb = -{number(lr)} × {_factor(node.delta[unit])} = {number(node.bias_step[unit])}: "
                 f"{number(node.bias[unit])} → {number(node.bias_after[unit])}")
    return lines


def caveats(rt) -> list[str]:
    """What the traced step is not: say so next to it."""
    notes = [f"Training itself takes {rt.optimizer} steps on batches of {rt.batch_size} rows; this is the plain "
             f"gradient step of this one row, and the network is not changed."]
    if rt.regularization:
        notes.append(f"The {rt.regularization} penalty is left out of this row's loss and step.")
    if rt.trace.ablated:
        notes.append("This network trains with f' removed from backprop, so this step does not follow the "
                     "loss's slope (the loss after it may rise).")
    return notes


def focus_html(rt, node_id: str, unit: int, phase: int) -> str:
    """Everything the chosen neuron's numbers say, up to ``phase``."""
    trace = rt.trace
    node = trace.node(node_id)
    sections = [("Forward", forward_lines(trace, node, unit))] if phase >= FORWARD else []
    if phase >= BACKWARD:
        sections.append(("Backward", backward_lines(trace, node, unit)))
    if phase >= UPDATE:
        sections.append(("Update", update_lines(rt, node, unit)))
        sections.append(("Loss of this row", [f"{number(trace.loss_value)} before, {number(trace.loss_after)} "
                                              "after the step", *caveats(rt)]))
    if not sections:
        return (f"<b>{html.escape(node.labels[unit])}</b><br>{html.escape(PHASE_HINTS[ROW])}")
    body = "".join(f"<p><b>{title}</b><br>{'<br>'.join(html.escape(line) for line in lines)}</p>"
                   for title, lines in sections)
    return f"<b>{html.escape(node.labels[unit])}</b> ({html.escape(node.node)}, {node.activation}){body}"


# -- the line under the diagram: what f' does here ----------------------------------------

def _steepness(activation: str, slope: float) -> str:
    share = slope / PEAK_SLOPE.get(activation, 1.0)
    if slope == 0.0:
        return "flat"
    if share < FLAT:
        return "nearly flat"
    return "steep" if share > STEEP else "moderately steep"


def _cancelled_note(trace, node, unit: int) -> str:
    p, y = trace.prediction[unit], trace.target[unit]
    if trace.output_activation == "sigmoid":
        meeting = (f"for sigmoid with binary cross-entropy, dL/dp = (p - y)/(p(1 - p)) meets f'(z) = p(1 - p) "
                   f"(here {number(p * (1 - p))})")
    else:
        meeting = (f"for {trace.output_activation} with cross-entropy, dL/dp_j = -y_j/p_j meets the "
                   f"{trace.output_activation}'s Jacobian")
    return (f"At the output the loss's slope and f' cancel: {meeting}, leaving δ = p - y = {number(p)} - "
            f"{_factor(y)} = {number(node.delta[unit])}. The output's δ is its error however flat "
            f"{trace.output_activation} is at p, so a confidently wrong output still learns fast.")


def slope_note(rt, node_id: str, unit: int, phase: int) -> str:
    """f'(z) for the chosen neuron, in words tied to its numbers."""
    trace = rt.trace
    node = trace.node(node_id)
    j = node.labels[unit]
    if node.kind == "input":
        return "Inputs have no transfer function: f' appears only where a neuron computes a = f(z)."
    if phase < FORWARD:
        return f"Press Forward (F) to see z, a and f'(z) for {j}."
    if node.delta_rule == CANCELLED and phase >= BACKWARD:
        return _cancelled_note(trace, node, unit)
    if node.slope is None:
        return (f"{j} is a softmax output: each output depends on every z, so there is no single f'(z); "
                "the Jacobian takes its place.")
    slope, z = float(node.slope[unit]), float(node.z[unit])
    act = ACTIVATIONS[node.activation]
    text = (f"f'(z) scales how much a change in z moves a ({act.slope_formula}). At z = {number(z)} "
            f"{node.activation} is {_steepness(node.activation, slope)} (f' = {number(slope)})")
    if node.delta_rule == ABLATED and phase >= BACKWARD:
        return text + ", but this network trains with f' removed, so δ passes Σ w·δ on unscaled."
    if phase < BACKWARD:
        return text + ": backprop will scale the blame reaching this neuron by that much."
    if node.consumer is None:
        return text + f", so δ = dL/da × f' = {number(node.delta[unit])}."
    product = f"δ = f' × Σ w·δ = {number(slope)} × {_factor(node.dL_da[unit])} = {number(node.delta[unit])}"
    if slope == 0.0:
        return text + f", so {product}: no blame passes back through {j} for this row, and its incoming " \
                      "weights get no update from it."
    share = slope / PEAK_SLOPE.get(node.activation, 1.0)
    return text + f", so {product}: the blame arriving is scaled to {share:.0%} of what {node.activation} " \
                  "passes where it is steepest."
