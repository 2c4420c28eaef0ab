"""Tooltip text: what each choice does to the gradient, in a sentence or two.

Formulas come from the engine (``Activation.formula``/``slope_formula``, the loss
descriptions); the sentences here say why a learner should care.
"""
from __future__ import annotations

from engine.activations import ACTIVATIONS
from engine.losses import DESCRIPTIONS

_ACTIVATION_WHY = {
    "linear": "The gradient passes through unchanged, but a stack of linear layers is still one straight-line map.",
    "sigmoid": "Backprop multiplies by o(1 - o), at most 0.25 and near 0 when the neuron saturates, "
               "so every sigmoid layer shrinks the gradient (vanishing gradients in deep stacks).",
    "tanh": "Backprop multiplies by 1 - o², which is 1 at zero but near 0 when the neuron saturates at ±1.",
    "relu": "Backprop multiplies by exactly 1 where the input is positive, so the gradient is not shrunk; "
            "where it is negative the factor is 0, and a unit that is always negative stops learning.",
    "leaky_relu": "Like ReLU, but the negative side keeps a small slope (alpha), so no unit stops learning completely.",
    "elu": "Smooth below zero, with slope o + alpha there: fewer dead units than ReLU, outputs closer to zero mean.",
    "softplus": "A smooth ReLU; its slope is sigmoid(z), between 0 and 1, so it shrinks the gradient a little.",
    "gelu": "A smooth ReLU weighted by the normal distribution; its slope is near 1 for large inputs and near 0 far below zero.",
    "silu": "z·sigmoid(z): smooth, slightly negative for small negative inputs, slope near 1 for large ones.",
    "softmax": "Turns the outputs into probabilities that sum to 1. With cross-entropy its slope cancels "
               "and the output gradient is simply p - y.",
}


def activation_tip(name: str) -> str:
    act = ACTIVATIONS[name]
    return f"{act.formula};  {act.slope_formula}.\n{_ACTIVATION_WHY.get(name, '')}"


_LOSS_WHY = {
    "mse": "On a sigmoid output the gradient keeps the factor o(1 - o): a confidently wrong output learns slowly.",
    "mae": "Every error pulls with the same strength, so the steps do not shrink near the minimum.",
    "huber": "Behaves like MSE near the target and like MAE far from it.",
    "bce": "The output error is p - y whatever the sigmoid's slope: a confidently wrong output gets a full-size gradient.",
    "cross_entropy": "The output error is p - y: the softmax's slope never damps the gradient.",
    "hinge": "Gradient only from classes that are within the margin; points already classified well stop contributing.",
}


def loss_tip(name: str) -> str:
    return f"{DESCRIPTIONS.get(name, name)}\n{_LOSS_WHY.get(name, '')}"


OPTIMIZER_TIPS = {
    "sgd": "Plain gradient descent: w -= lr·g, each step proportional to the gradient. Momentum adds a running "
           "sum of past steps so it rolls through small bumps and along narrow valleys.",
    "adagrad": "Divides each weight's step by the root of its summed squared gradients, so weights with big "
               "gradients so far take ever smaller steps.",
    "rmsprop": "Divides each step by a running RMS of recent gradients: every weight moves at a similar pace, "
               "whatever the size of its gradient.",
    "adam": "Momentum plus RMSprop's scaling, with bias correction: steps are about lr in size whether the "
            "gradient is tiny or huge, so vanishing gradients hurt less.",
    "adamw": "Adam with weight decay applied directly to the weights instead of through the gradient.",
    "rprop": "Uses only the gradient's sign: a weight's step grows while the sign stays and shrinks when it "
             "flips. Meant for full batches.",
    "sign_sgd": "w -= lr·sign(g): fixed-size steps in the downhill direction; the gradient's size is ignored.",
}

HYPER_TIPS = {
    "momentum": "Fraction of the previous step added to this one (0 = none, 0.9 is common).",
    "dampening": "Scales down the new gradient's share of the momentum buffer.",
    "weight_decay": "Pulls every parameter (biases too) towards zero by this rate each step.",
    "nesterov": "Look ahead along the momentum before taking the gradient step.",
    "lr_decay": "Shrinks the learning rate as 1 / (1 + t·decay).",
    "initial_accumulator_value": "Starting value of the sum of squared gradients.",
    "eps": "Added to the denominator so a zero gradient history never divides by zero.",
    "alpha": "How fast the running average of squared gradients forgets (closer to 1 = slower).",
    "centered": "Divide by the gradient's variance instead of its raw second moment.",
    "betas": "Forgetting factors of the running mean (β1) and of the squared gradient (β2).",
    "amsgrad": "Never let the denominator shrink (the AMSGrad fix).",
    "etas": "Factors that shrink (first) or grow (second) a weight's step when the gradient's sign flips or stays.",
    "step_sizes": "Smallest and largest allowed step per weight.",
    # schedules
    "step_size": "Multiply the learning rate by gamma every this many updates.",
    "gamma": "Factor applied to the learning rate (per step_size updates, or per update when exponential).",
    "decay": "lr / (1 + decay·t): larger values slow down sooner.",
    "t_max": "Updates over which the cosine goes from lr down to eta_min.",
    "eta_min": "The learning rate the cosine ends at.",
    "warmup": "Ramp the learning rate up linearly over this many first updates.",
}

SCHEDULE_TIPS = {
    "constant": "The learning rate stays where you set it.",
    "step": "Cut the learning rate by gamma every step_size updates: big steps first, fine ones later.",
    "exponential": "Multiply the learning rate by gamma after every update.",
    "inverse_time": "lr / (1 + decay·t): a slow, steady cool-down.",
    "log": "lr / (1 + ln(1 + t)): an even slower cool-down.",
    "cosine": "Glide from lr to eta_min along half a cosine over t_max updates.",
}

INIT_TIPS = {
    "zeros": "All weights 0: every neuron in a layer gets the same gradient and they stay copies of each other.",
    "constant": "All weights the same value: like zeros, the neurons of a layer never become different.",
    "uniform": "Uniform in [a, b] whatever the layer size: wide layers can start saturated.",
    "normal": "Normal with a fixed std whatever the layer size: wide layers can start saturated.",
    "glorot_uniform": "Scaled by fan-in and fan-out so signals and gradients keep their size through tanh/sigmoid layers.",
    "glorot_normal": "Glorot's scaling with a normal distribution.",
    "he_uniform": "Scaled by fan-in for ReLU, which zeroes half its inputs; keeps gradients from fading.",
    "he_normal": "He's scaling with a normal distribution.",
}

REGULARIZATION_TIPS = {
    "none": "No penalty on the weights.",
    "l1": "Adds rate·sign(w) to each weight's gradient: pushes small weights to exactly zero (sparse networks).",
    "l2": "Adds rate·w to each weight's gradient: big weights shrink in proportion (weight decay).",
}

LEARNING_RATE_TIP = ("How far each update moves against the gradient. Too small crawls; too large overshoots "
                     "and oscillates, and far too large runs off to NaN. For plain full-batch gradient descent "
                     "near a minimum the stable limit is 2 / (largest curvature of the loss); momentum moves it, "
                     "adaptive and sign methods have none.")
REGULARIZATION_RATE_TIP = "Strength r of the penalty: r·Σ|w| (L1) or r/2·Σw² (L2) added to the loss being minimised."
PRECISION_TIP = ("float64 computes with about 16 significant digits, float32 with about 7: float32 is faster on "
                 "big networks, float64 makes finite-difference gradient checks exact enough.")
