"""The sentences the teaching views show, built from engine.teaching's values.

One renderer per fact, so the Why? tab and the Training dock can never say different
things about the same numbers.  Every sentence states what the number assumes
(full-batch gradients, a minimum, the optimiser's rule) and where the engine cannot
tell, says so instead of guessing.  Rich text (Qt's HTML subset).
"""
from __future__ import annotations

import html
import re

from engine.teaching import ChainRule, Curvature, StepLimit


def number(x: float | None, digits: int = 4) -> str:
    """x with ``digits`` significant digits; never rounds a non-zero value to 0."""
    return "-" if x is None else f"{x:.{digits}g}"


def _subscripts(text: str) -> str:
    """dL/dz_j -> dL/dz<sub>j</sub>: the engine writes plain text, the panel rich text."""
    return re.sub(r"_([a-z])\b", r"<sub>\1</sub>", html.escape(text, quote=False))


def chain_rule_html(c: ChainRule) -> str:
    """The product as the engine wrote it (symbols, then the numbers = the result) and
    what each factor is, for this case (cancelled output, softmax, element-wise)."""
    product = f"<b>{_subscripts(c.formula)}</b><br>{html.escape(c.numbers, quote=False)}"
    j, i = f"{c.node}[{c.unit}]", html.escape(c.source_label)
    if c.cancelled:
        why = (f"{j} is the output and the loss is cross-entropy on its {c.activation}: dL/dz = p − y = "
               f"{number(c.dL_dz)}. The factor f'(z) cancelled out, so a saturated output still learns.")
    elif c.slope is None:
        why = (f"{j} is a softmax output: each output depends on every logit, so dL/dz<sub>j</sub> sums over all "
               f"of them (dL/dz<sub>j</sub> = {number(c.dL_dz)}); there is no single f'(z) factor.")
    else:
        why = (f"dL/da: how the loss changes with {j}'s output; f'(z = {number(c.z)}) = {number(c.slope)}: the "
               f"slope of {c.activation} there; a<sub>i</sub>: the value {i} sends along this weight.")
    return f"{product}<br>{why}"


def check_text(c: ChainRule) -> str:
    """The finite-difference verdict with the numbers behind it (three states)."""
    k = c.check
    measured = (f"Central differences of the row's loss (steps h, 2h, 4h with h = {k.h:.1g}, Richardson) give "
                f"{number(k.estimate, 6)} ± {number(k.error_bar, 2)}; backprop gives {number(c.backprop, 6)}")
    if k.agrees is True:
        return f"✓ Backprop agrees with the finite difference. {measured}: they differ by {number(abs(c.backprop - k.estimate), 2)}, within the error bar."
    if k.agrees is False:
        return (f"✗ Backprop DISAGREES with the finite difference. {measured}: they differ by {number(abs(c.backprop - k.estimate), 2)}, "
                f"{abs(c.backprop - k.estimate) / k.error_bar:.0f}× the error bar.")
    if c.backprop == 0.0 and c.slope == 0.0:
        reason = "f'(z) is exactly 0 here, so no gradient reaches this weight from this row"
    else:
        reason = "a slope this close to 0 is below what a finite difference can resolve in float64"
    return f"? Cannot tell: too small to check. {measured}: {reason}."


def curvature_html(k: Curvature) -> str:
    """lambda_max, lambda_min and what kind of point this is, with how far to trust it."""
    found = (f"all {k.weights} eigenvalues ({k.hessian_vector_products} Hessian-vector products)" if k.complete
             else f"{len(k.ritz_values)} eigenvalue estimates from {k.hessian_vector_products} Hessian-vector "
                  f"products ({k.weights} weights)")
    if k.kind == "invalid":
        return "The curvature could not be measured here: the gradients are not finite."
    lines = [f"Largest Hessian eigenvalue λ<sub>max</sub> = {number(k.max_eigenvalue)}"
             + ("" if k.complete or k.max_settled else " (not yet converged: the true value is larger)")
             + f", smallest λ<sub>min</sub> = {number(k.min_eigenvalue)}; {found}."]
    if k.kind == "saddle":
        lines.append(f"<b>A saddle, not a minimum</b>: {k.negative} direction{'s' if k.negative != 1 else ''} "
                     f"curve{'s' if k.negative == 1 else ''} downwards (λ &lt; 0), so the loss can still fall by "
                     f"moving along {'them' if k.negative != 1 else 'it'}; near a saddle gradient descent "
                     f"slows down before it escapes.")
    elif k.kind == "minimum":
        lines.append(f"<b>A minimum</b>: every direction curves upwards. Condition number λ<sub>max</sub>/"
                     f"λ<sub>min</sub> = {number(k.condition_number)}: the larger it is, the more plain gradient "
                     f"descent zig-zags across the narrow valley.")
    elif k.kind == "flat":
        lines.append(f"<b>Flat directions</b>: no direction curves downwards, but some eigenvalues are within "
                     f"±{number(k.noise, 2)} of 0 (a valley floor, or too flat to measure): no condition number.")
    else:
        lines.append(f"No downward curvature found in {k.hessian_vector_products} directions, but with fewer "
                     f"products than weights that does not prove a minimum: no condition number.")
    return "<br>".join(lines)


def _rule_name(limit: StepLimit) -> tuple[str, str]:
    if limit.rule == "gd":
        return "2/λ<sub>max</sub>", "plain gradient descent"
    if limit.rule == "momentum":
        return "2(1 + β)/λ<sub>max</sub>", "heavy-ball momentum"
    return "2(1 + β)/((1 + 2β) λ<sub>max</sub>)", "Nesterov momentum"


def limit_html(limit: StepLimit) -> str:
    """How the learning rate compares with the limit, for the session's optimiser."""
    k = limit.curvature
    if limit.rule == "adaptive":
        text = ("Your optimiser divides each weight's step by a running size of its gradients, so its steps are "
                "about lr whatever the curvature: no 2/λ limit applies. Too large an lr makes it jitter around "
                "the minimum rather than blow up.")
    elif limit.rule == "sign":
        text = ("Your optimiser uses only the gradient's sign: steps have a set size whatever the curvature, so no "
                "2/λ limit applies. Too large a step jitters around the minimum; it settles only if the step "
                "shrinks.")
    elif limit.rule == "no curvature":
        text = "The loss does not curve upwards here (λ<sub>max</sub> is not clearly positive): no step-size limit."
    elif limit.limit is None:           # momentum with dampening 1: the weights never move
        text = "With dampening 1 the gradient never enters the momentum buffer: the weights do not move."
    else:
        formula, method = _rule_name(limit)
        ratio = number(limit.ratio, 3)
        verdict = (f"{ratio}× the limit: stable but slow, a crawl" if limit.ratio < 0.05 else
                   f"{ratio}× the limit: stable" if limit.ratio <= 1 else f"{ratio}× the limit: too large")
        text = (f"For {method} the stable limit is {formula} = <b>{number(limit.limit)}</b>; your learning rate "
                f"{number(limit.lr)} is {verdict}.")
        if limit.ratio > 1:
            text += (" Along the steepest direction each step overshoots by more than it corrects, so gradient "
                     "descent cannot settle in this valley: it is thrown out and usually settles somewhere flatter, "
                     "where the limit is larger. The loss runs off to NaN only at much larger rates.")
        if k.kind == "saddle":
            text += " The limit is that of a minimum; at this saddle the downward directions grow at any rate."
    if limit.minibatch:
        text += (" Each step uses a minibatch, whose gradient is a noisy sample of the full one: the noise makes "
                 "the loss jitter, more so near the limit.")
    return text


def limit_short(limit: StepLimit) -> str:
    """One line for the Training dock beside the learning rate."""
    if limit.rule in ("adaptive", "sign"):
        gd = limit.curvature.stable_lr
        return (f"no limit for {limit.optimizer}" + ("" if gd is None else f" (plain GD's: 2/λ = {number(gd, 3)})"))
    if limit.limit is None:
        return f"λ = {number(limit.curvature.max_eigenvalue, 3)}: not curved upwards here, no limit"
    formula = {"gd": "2/λ", "momentum": "2(1+β)/λ", "nesterov": "2(1+β)/((1+2β)λ)"}[limit.rule]
    verdict = "too large" if limit.ratio > 1 else "stable"
    return f"{formula} = {number(limit.limit, 3)}; yours is {number(limit.ratio, 2)}× that ({verdict})"
