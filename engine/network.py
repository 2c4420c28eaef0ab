"""Execute a compiled plan: forward pass, backward pass, parameters in one buffer.

All weights and biases are views into ONE flat array ``params`` (weights of every
dense node first, then every bias) and their gradients into ``grads`` of the same
layout.  Optimisers and regularisation then work on whole arrays with a few NumPy
calls instead of a Python loop per tensor, which is most of the cost of a step in
a small network.  Tensor names follow torch.nn.Linear: ``<id>.weight`` is
[units, in_features], ``<id>.bias`` is [units].
"""
from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS
from .graph import Plan, PlanStep
from .initializers import initialize


class _Op:
    """One node at run time. ``forward`` keeps what ``backward`` needs."""

    z = None   # pre-activation, where the node has a transfer function
    a = None   # the node's output

    def __init__(self, step: PlanStep):
        self.step = step

    def forward(self, xs, training, rng):
        raise NotImplementedError

    def backward(self, grad, wrt_logits, need_input_grad):
        """Gradients for each input (None where ``need_input_grad`` is False)."""
        raise NotImplementedError


class _Input(_Op):
    def forward(self, xs, training, rng):
        self.a = xs[0]
        return self.a


class _Transfer(_Op):
    """Shared by dense and activation nodes: the activation and its backward step."""

    # The "remove f' from backprop" experiment (``Network.ablate_derivative``): the
    # backward step passes dL/da through as dL/dz, as if f'(z) were 1 everywhere.
    ablated = False

    def _activate(self, z):
        self.z = z
        self.a = z if self.act.name == "linear" else self.act.forward(z, self.alpha)
        return self.a

    def _grad_z(self, grad, wrt_logits):
        # wrt_logits: the loss already returned dL/dz because f' cancelled (see losses.py).
        if wrt_logits or self.ablated:
            return grad
        return self.act.backward(self.z, self.a, grad, self.alpha)


class _Dense(_Transfer):
    def __init__(self, step, weight, bias, grad_weight, grad_bias):
        super().__init__(step)
        self.act = ACTIVATIONS[step.node.activation]
        self.alpha = step.node.act_alpha
        self.weight, self.bias = weight, bias
        self.grad_weight, self.grad_bias = grad_weight, grad_bias
        self._z_buffers: dict[int, np.ndarray] = {}

    def forward(self, xs, training, rng):
        self.x = xs[0]
        rows = len(self.x)
        z = self._z_buffers.get(rows)
        if z is None or z.dtype != self.x.dtype:
            # One pre-activation buffer per batch size seen (training batch, last
            # partial batch, evaluation sets): steps reuse them instead of allocating.
            z = self._z_buffers[rows] = np.empty((rows, self.weight.shape[0]), dtype=np.result_type(self.x, self.weight))
        np.matmul(self.x, self.weight.T, out=z)
        z += self.bias
        return self._activate(z)

    def backward(self, grad, wrt_logits, need_input_grad):
        gz = self._grad_z(grad, wrt_logits)
        np.matmul(gz.T, self.x, out=self.grad_weight)
        np.add.reduce(gz, axis=0, out=self.grad_bias)   # np.sum's wrapper costs more than the sum here
        return [gz @ self.weight if need_input_grad[0] else None]


class _Activation(_Transfer):
    def __init__(self, step):
        super().__init__(step)
        self.act = ACTIVATIONS[step.node.activation]
        self.alpha = step.node.act_alpha

    def forward(self, xs, training, rng):
        return self._activate(xs[0])

    def backward(self, grad, wrt_logits, need_input_grad):
        return [self._grad_z(grad, wrt_logits)]


class _Dropout(_Op):
    """Inverted dropout: scale kept units by 1/(1-p) in training, identity at evaluation."""

    def forward(self, xs, training, rng):
        p = self.step.node.p
        if not training or p == 0.0:
            self.mask = None
            self.a = xs[0]
        else:
            keep = rng.random(xs[0].shape) >= p
            self.mask = keep.astype(xs[0].dtype) / (1.0 - p)
            self.a = xs[0] * self.mask
        return self.a

    def backward(self, grad, wrt_logits, need_input_grad):
        return [grad if self.mask is None else grad * self.mask]


class _Add(_Op):
    def forward(self, xs, training, rng):
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        self.a = out
        return out

    def backward(self, grad, wrt_logits, need_input_grad):
        return [grad] * len(need_input_grad)


class _Concat(_Op):
    def forward(self, xs, training, rng):
        self.bounds = np.cumsum([0] + [x.shape[1] for x in xs])
        self.a = np.concatenate(xs, axis=1)
        return self.a

    def backward(self, grad, wrt_logits, need_input_grad):
        return [grad[:, lo:hi] for lo, hi in zip(self.bounds[:-1], self.bounds[1:])]


_OPS = {"input": _Input, "activation": _Activation, "dropout": _Dropout, "add": _Add, "concat": _Concat}


class Network:
    """A plan made runnable: owns the parameter and gradient buffers.

    ``ablate_derivative``: backprop with every transfer function's derivative f'(z)
    replaced by 1 (softmax's Jacobian by the identity), the "remove f' from backprop"
    experiment.  The forward pass is unchanged, and so is the output delta where the
    loss cancels f' (sigmoid + bce, softmax + cross-entropy: p - y has no f' to remove).
    ``grads`` is then no longer the loss's gradient, which is the point of the experiment.
    """

    def __init__(self, plan: Plan, dtype=np.float64, ablate_derivative: bool = False):
        self.plan = plan
        self.dtype = np.dtype(dtype)
        dense = plan.dense_steps
        n_weights = sum(s.width * s.in_width for s in dense)
        self.params = np.zeros(plan.n_params, dtype=self.dtype)
        self.grads = np.zeros(plan.n_params, dtype=self.dtype)
        self.weights_view = self.params[:n_weights]     # what L1/L2 regularisation acts on
        self.weight_grads_view = self.grads[:n_weights]
        self.tensors: dict[str, np.ndarray] = {}
        self.grad_tensors: dict[str, np.ndarray] = {}
        self.offsets: dict[str, tuple[int, int]] = {}   # tensor name -> its [lo, hi) in the flat buffers
        w_at, b_at = 0, n_weights
        for s in dense:
            w_size = s.width * s.in_width
            for name, lo, hi, shape in ((f"{s.node.id}.weight", w_at, w_at + w_size, (s.width, s.in_width)),
                                        (f"{s.node.id}.bias", b_at, b_at + s.width, (s.width,))):
                self.offsets[name] = (lo, hi)
                self.tensors[name] = self.params[lo:hi].reshape(shape)
                self.grad_tensors[name] = self.grads[lo:hi].reshape(shape)
            w_at += w_size
            b_at += s.width
        self.ops: list[_Op] = []
        for s in plan.steps:
            if s.node.type == "dense":
                nid = s.node.id
                self.ops.append(_Dense(s, self.tensors[f"{nid}.weight"], self.tensors[f"{nid}.bias"],
                                       self.grad_tensors[f"{nid}.weight"], self.grad_tensors[f"{nid}.bias"]))
            else:
                self.ops.append(_OPS[s.node.type](s))
        # The input node's gradient is never used: skip that matmul in the first layer.
        self._need_input_grad = [tuple(plan.steps[i].node.type != "input" for i in s.inputs) for s in plan.steps]
        self._output = plan.output_index
        self._wiring = [(op, op.step.inputs) for op in self.ops]
        # Backward visits nodes from the output down; the input node needs no gradient.
        self._backward_wiring = [(i, self.ops[i], self.ops[i].step.inputs, self._need_input_grad[i])
                                 for i in range(self._output, -1, -1) if self.ops[i].step.node.type != "input"]
        self.ablate_derivative = ablate_derivative

    @property
    def ablate_derivative(self) -> bool:
        return self._ablate_derivative

    @ablate_derivative.setter
    def ablate_derivative(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"ablate_derivative must be True or False, got {value!r}")
        self._ablate_derivative = bool(value)
        for op in self.ops:
            if isinstance(op, _Transfer):
                op.ablated = self._ablate_derivative

    def initialize(self, rng: np.random.Generator) -> None:
        """Draw every weight from its node's initialiser; biases take the node's ``bias``."""
        for s in self.plan.dense_steps:
            initialize(self.tensors[f"{s.node.id}.weight"], s.node.init, rng)
            self.tensors[f"{s.node.id}.bias"][...] = s.node.bias

    def forward(self, X: np.ndarray, training: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
        values: list = [X] * len(self.ops)   # the input op reads slot 0's X
        for i, (op, inputs) in enumerate(self._wiring):
            values[i] = op.forward([values[j] for j in inputs] if inputs else [X], training, rng)
        return values[self._output]

    @property
    def output_pre_activation(self) -> np.ndarray | None:
        """The output node's z from the last forward pass (None if it has no transfer function)."""
        return self.ops[self._output].z

    def backward(self, grad_output: np.ndarray, wrt_logits: bool) -> list:
        """Fill ``grads`` from dL/d(output), or dL/dz of the output when ``wrt_logits``.

        Returns, per plan step, the gradient that reached that node's output
        (dL/dz at the output node when ``wrt_logits``), for the teaching views.
        """
        pending: list = [None] * len(self.ops)
        pending[self._output] = grad_output
        for i, op, inputs, need_input_grad in self._backward_wiring:
            grad = pending[i]
            if grad is None:
                continue
            input_grads = op.backward(grad, wrt_logits and i == self._output, need_input_grad)
            for src, g in zip(inputs, input_grads):
                if g is not None:
                    # A node feeding several others sums their gradients (never in place:
                    # add passes one array to all its inputs).
                    pending[src] = g if pending[src] is None else pending[src] + g
        return pending

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Evaluation-mode output (dropout off)."""
        return self.forward(np.asarray(X, dtype=self.dtype), training=False)

    def tensor_views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Views into ``flat`` (same layout as ``params``) shaped like each named tensor."""
        return {name: flat[lo:hi].reshape(self.tensors[name].shape) for name, (lo, hi) in self.offsets.items()}

    def node_output(self, node_id: str) -> np.ndarray | None:
        """A node's output from the last forward pass (for neuron heatmaps)."""
        return self.ops[self.plan.index[node_id]].a
