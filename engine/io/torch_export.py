"""The project as one readable PyTorch file: the model, its data loader and its training.

``torch_script`` writes a Python module with

* ``Net``, an ``nn.Module`` running the plan node by node (one line per node, as the
  NumPy script does), with state-dict keys named like the weight files
  (``<node id>.weight``, ``<node id>.bias``), whatever the node ids;
* ``load_weights`` / ``save_weights`` for .safetensors and .npz files, strict shapes;
* ``load_data`` for the data set written beside it by ``dataset_csv``;
* ``train``, which repeats the engine's training step for step: the same loss
  (mean over the batch), the torch.optim optimiser with the engine's hyperparameters
  (sign_sgd written out), the schedule (a torch scheduler or a LambdaLR with the
  engine's formula), L1/L2 on dense weights only, the engine's batch order and
  dropout masks drawn from NumPy generators seeded as the engine seeds them, and
  DistributedDataParallel when started by torchrun;
* a command line: ``train`` and ``predict`` (which names a classifier's predicted class
  from ``CLASS_NAMES``, the data set's labels).

The exporter itself never imports torch.  User-given strings (node ids, feature
names, class labels, the project's name) reach the generated code only through
``repr`` (and are printed through the csv module), so none can inject code; node
values are locals named ``v_<cleaned id>`` (see script_export) and modules are
attributes named by the node id when it is a plain Python name that nn.Module does
not use, else ``node_<cleaned id>``.
"""
from __future__ import annotations

import csv
import io
import keyword
import re
import textwrap
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..graph import Plan
from .class_names import check_class_count, class_name_list
from .onnx_export import checked_scaling, checked_tensors
from .script_export import variable_names

# nn.Module's own attributes (torch 2.13) and the names the generated class adds: a
# node named like one of them gets another attribute name (test_torch_export checks
# this list against the installed torch).
RESERVED_ATTRIBUTES = frozenset("""
    T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
    dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule
    half ipu load_state_dict modules mtia named_buffers named_children named_modules named_parameters
    parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to
    to_empty train training type xpu zero_grad input_shift input_scale
""".split())

TORCH_OPTIMIZERS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
                    "adamw": "AdamW", "rprop": "Rprop", "sign_sgd": "SignSGD"}

_ACTIVATIONS = {
    "sigmoid": "torch.sigmoid({x})",
    "tanh": "torch.tanh({x})",
    "relu": "torch.relu({x})",
    "leaky_relu": "F.leaky_relu({x}, negative_slope={alpha!r})",
    "elu": "F.elu({x}, alpha={alpha!r})",
    "softplus": "softplus({x})",
    "gelu": "F.gelu({x})",
    "silu": "F.silu({x})",
    "softmax": "torch.softmax({x}, dim=1)",
}


@dataclass(frozen=True)
class TorchTraining:
    """The project's training, resolved as the engine runs it (defaults filled in)."""

    seed: int
    dtype: str                          # "float64" or "float32"
    loss: str
    loss_on_logits: bool                # bce on sigmoid, cross_entropy on softmax: from the logits
    task: str                           # "classification" or "regression"
    classes: tuple
    n_outputs: int
    optimizer: str
    optimizer_settings: Mapping         # every hyperparameter, lr included
    schedule: str
    schedule_settings: Mapping          # the schedule's parameters, without warmup
    warmup: int
    batch_size: int                     # rows per update, at most the training rows
    full_batch: bool
    shuffle: bool
    regularization: str                 # "none", "l1" or "l2"
    regularization_rate: float
    name: str = ""

    @classmethod
    def from_session(cls, session, seed: int, name: str = "") -> "TorchTraining":
        """The settings of an engine ``TrainingSession`` built for the project with ``seed``."""
        dataset, head, schedule = session.dataset, session.head, session.schedule
        if getattr(session.network, "ablate_derivative", False):
            raise ConfigError("PyTorch export: the network trains without its derivatives f' (the teaching "
                              "experiment), which torch's autograd cannot do; turn the experiment off to export")
        if session.optimizer.name not in TORCH_OPTIMIZERS:
            raise ConfigError(f"PyTorch export: optimizer {session.optimizer.name!r} has no PyTorch form yet")
        if head.loss not in _LOSS_CALLS:
            raise ConfigError(f"PyTorch export: loss {head.loss!r} has no PyTorch form yet")
        return cls(seed=int(seed), dtype=session.network.dtype.name, loss=head.loss, loss_on_logits=head.wrt_logits,
                   task=dataset.task, classes=tuple(dataset.classes), n_outputs=head.n_outputs,
                   optimizer=session.optimizer.name, optimizer_settings=session.optimizer.hyperparameters,
                   schedule=schedule.name, schedule_settings=dict(schedule.params), warmup=schedule.warmup,
                   batch_size=session.batch_size, full_batch=session.batch_size >= len(session.X_train),
                   shuffle=bool(session.shuffle), regularization=session.regularization.kind,
                   regularization_rate=float(session.regularization.rate), name=name)


# --------------------------------------------------------------------------------------
# the data file
# --------------------------------------------------------------------------------------

def target_names(training: TorchTraining, target: str | None, width: int) -> list[str]:
    """Column names of the target: the data's own name when it has one."""
    base = target or ("label" if training.task == "classification" else "target")
    return [base] if width == 1 else [f"{base}_{i}" for i in range(width)]


def dataset_csv(feature_names: Sequence[str], targets: Sequence[str], X_train: np.ndarray, y_train: np.ndarray,
                X_test: np.ndarray, y_test: np.ndarray) -> str:
    """The rows as CSV: features, target (class index, or values), then ``split``.

    Training rows come first, in the engine's order (batches index into them), then
    the test rows.  Every float is written with ``repr``, which reads back exactly.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*feature_names, *targets, "split"])
    for X, y, split in ((X_train, y_train, "train"), (X_test, y_test, "test")):
        y = np.asarray(y).reshape(len(X), -1)
        for features, target in zip(np.asarray(X, dtype=np.float64).tolist(), y.tolist()):
            writer.writerow([*map(repr, features), *map(repr, target), split])
    return out.getvalue()


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------

def attribute_names(plan: Plan) -> dict[int, str]:
    """Plan index -> module attribute, for dense and dropout nodes.

    A node id that is an ASCII Python name, no keyword, not private and unused by
    nn.Module is kept (``self.h1``); any other becomes ``node_<cleaned id>``, made
    unique.  Kept names are taken first, so a renamed node never takes one.
    """
    steps = [(i, s.node.id) for i, s in enumerate(plan.steps) if s.node.type in ("dense", "dropout")]

    def plain(node_id: str) -> bool:
        return (node_id.isascii() and node_id.isidentifier() and not keyword.iskeyword(node_id)
                and not node_id.startswith("_") and node_id not in RESERVED_ATTRIBUTES)

    names = {i: node_id for i, node_id in steps if plain(node_id)}
    used = set(names.values())
    for i, node_id in steps:
        if i in names:
            continue
        base = "node_" + re.sub(r"\W", "_", node_id, flags=re.ASCII)
        name, n = base, 1
        while name in used or name in RESERVED_ATTRIBUTES:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names[i] = name
    return names


# --------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------

def _activation(fn: str, alpha: float, x: str) -> str:
    if fn == "linear":
        return x
    if fn not in _ACTIVATIONS:
        raise ConfigError(f"PyTorch export: activation {fn!r} has no PyTorch form yet")
    return _ACTIVATIONS[fn].format(x=x, alpha=alpha)


def _module_lines(plan: Plan, attributes: Mapping[int, str]) -> list[str]:
    lines = []
    for i, step in enumerate(plan.steps):
        node = step.node
        if node.type == "dense":
            units = "1 unit" if step.width == 1 else f"{step.width} units"
            lines.append(f"        # dense {node.id!r}: {step.in_width} inputs -> {units}, {node.activation}")
            lines.append(f"        self.{attributes[i]} = nn.Linear({step.in_width}, {step.width})")
        elif node.type == "dropout":
            lines.append(f"        # dropout {node.id!r}")
            lines.append(f"        self.{attributes[i]} = Dropout({node.p!r})")
    return lines


def _forward_lines(plan: Plan, attributes: Mapping[int, str], logits: bool) -> list[str]:
    """forward's body: one statement per node; with ``logits`` the output's pre-activation can be returned."""
    names = variable_names(plan)
    lines = []
    for i, step in enumerate(plan.steps):
        node, xs, var = step.node, [names[j] for j in step.inputs], names[i]
        detail = f", {node.activation}" if node.type in ("dense", "activation") else ""
        lines.append(f"        # {node.type} {node.id!r}{detail}: width {step.width}")
        if node.type == "input":
            lines.append(f"        {var} = x")
            continue
        if node.type == "dense":
            pre = f"self.{attributes[i]}({xs[0]})"
        elif node.type == "activation":
            pre = xs[0]
        elif node.type == "dropout":
            lines.append(f"        {var} = self.{attributes[i]}({xs[0]})")
            continue
        elif node.type == "add":
            lines.append(f"        {var} = {' + '.join(xs)}")
            continue
        elif node.type == "concat":
            lines.append(f"        {var} = torch.cat([{', '.join(xs)}], dim=1)")
            continue
        else:
            raise ConfigError(f"PyTorch export: node {node.id!r}: type {node.type!r} has no PyTorch form yet")
        if logits and i == plan.output_index:
            z = "z" + var[1:]
            lines += [f"        {z} = {pre}",
                      "        if logits:",
                      f"            return {z}          # the loss applies the {node.activation} itself, stably",
                      f"        {var} = {_activation(node.activation, node.act_alpha, z)}"]
        else:
            lines.append(f"        {var} = {_activation(node.activation, node.act_alpha, pre)}")
    lines.append(f"        return {names[plan.output_index]}")
    return lines


def _network_code(plan: Plan, attributes: Mapping[int, str], logits: bool, scaled: bool) -> str:
    renamed = {attributes[i]: plan.steps[i].node.id for i in attributes
               if plan.steps[i].node.type == "dense" and attributes[i] != plan.steps[i].node.id}
    init = ["    def __init__(self):", "        super().__init__()", *_module_lines(plan, attributes)]
    if scaled:
        init += ["        # The network was trained on standardized columns: forward() takes raw ones.",
                 '        self.register_buffer("input_shift", torch.tensor(INPUT_SHIFT, dtype=torch.float64), '
                 "persistent=False)",
                 '        self.register_buffer("input_scale", torch.tensor(INPUT_SCALE, dtype=torch.float64), '
                 "persistent=False)"]
    if renamed:
        init += ["        self.register_state_dict_post_hook(_keys_to_node_ids)",
                 "        self.register_load_state_dict_pre_hook(_keys_to_attributes)"]
    signature = "    def forward(self, x, logits=False):" if logits else "    def forward(self, x):"
    doc = ('        """The output node\'s value for each row of x (columns in FEATURE_NAMES order);\n'
           '        with logits=True the output\'s pre-activation, which the loss takes."""') if logits else \
        '        """The output node\'s value for each row of x (columns in FEATURE_NAMES order)."""'
    body = ["        x = (x - self.input_shift) / self.input_scale"] if scaled else []
    parts = []
    if renamed:
        parts += [_RENAMING.replace("@RENAMED@", "{\n" + "".join(
            f"    {attribute!r}: {node_id!r},\n" for attribute, node_id in renamed.items()) + "}"), "", ""]
    parts += ["class Net(nn.Module):",
              '    """The project\'s network, node by node in the playground\'s execution order."""',
              "", *init, "", signature, doc, *body, *_forward_lines(plan, attributes, logits)]
    return "\n".join(parts)


_RENAMING = '''\
# Node ids that are not Python attribute names: the module attribute -> the node id.
# The state dict uses the node ids, as the playground's weight files do.
NODE_OF_ATTRIBUTE = @RENAMED@


def _rename_keys(state_dict, prefix, renames):
    """Rename prefix + old + ".weight" (and ".bias") to prefix + new + ..., in place,
    keeping the order of the keys."""
    names = {f"{prefix}{old}.{kind}": f"{prefix}{new}.{kind}"
             for old, new in renames.items() for kind in ("weight", "bias")}
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        state_dict[names.get(key, key)] = value


def _keys_to_node_ids(module, state_dict, prefix, local_metadata):
    _rename_keys(state_dict, prefix, NODE_OF_ATTRIBUTE)


def _keys_to_attributes(module, state_dict, prefix, *unused):
    _rename_keys(state_dict, prefix, {node_id: attribute for attribute, node_id in NODE_OF_ATTRIBUTE.items()})'''


# --------------------------------------------------------------------------------------
# initial weights, optimiser, schedule, loss, regularisation
# --------------------------------------------------------------------------------------

def _init_spec(spec) -> tuple[str, dict]:
    from ..initializers import INITIALIZERS
    if isinstance(spec, str):
        name, given = spec, {}
    else:
        name, given = spec["name"], {k: v for k, v in spec.items() if k != "name"}
    return name, {key: float(given.get(key, default)) for key, default in INITIALIZERS[name].items()}


def _initial_weight_lines(plan: Plan) -> list[str]:
    """The engine's initialisers (engine/initializers.py), the same draws in the same order."""
    lines = []
    for step in plan.dense_steps:
        node, shape = step.node, (step.width, step.in_width)
        fan_in, fan_out = step.in_width, step.width
        name, p = _init_spec(node.init)
        draw = {
            "zeros": f"np.zeros({shape})",
            "constant": f"np.full({shape}, {p.get('value')!r})",
            "uniform": f"rng.uniform({p.get('a')!r}, {p.get('b')!r}, {shape})",
            "normal": f"rng.normal(0.0, {p.get('std')!r}, {shape})",
            "glorot_uniform": f"uniform_limit(rng, 6.0 / ({fan_in} + {fan_out}), {shape})",
            "glorot_normal": f"rng.normal(0.0, math.sqrt(2.0 / ({fan_in} + {fan_out})), {shape})",
            "he_uniform": f"uniform_limit(rng, 6.0 / {fan_in}, {shape})",
            "he_normal": f"rng.normal(0.0, math.sqrt(2.0 / {fan_in}), {shape})",
        }[name]
        lines += [f"    # {node.id!r}: {name}" + (f" {p}" if p else ""),
                  f"    weights[{node.id + '.weight'!r}] = {draw}",
                  f"    weights[{node.id + '.bias'!r}] = np.full({step.width}, {float(node.bias)!r})"]
    return lines


def _optimizer_code(training: TorchTraining) -> str:
    settings = ", ".join(f"{key}={value!r}" for key, value in training.optimizer_settings.items())
    cls = TORCH_OPTIMIZERS[training.optimizer]
    where = "" if training.optimizer == "sign_sgd" else "torch.optim."
    code = f'''\
def make_optimizer(parameters):
    """{cls} with the project's settings (every hyperparameter spelt out)."""
    return {where}{cls}(parameters, {settings})'''
    return (_SIGN_SGD + "\n\n\n" + code) if training.optimizer == "sign_sgd" else code


_SIGN_SGD = '''\
class SignSGD(torch.optim.Optimizer):
    """Sign SGD, the playground's sign_sgd (not in torch.optim): w -= lr * sign(g + weight_decay * w)."""

    def __init__(self, params, lr=1e-2, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad if group["weight_decay"] == 0 else p.grad.add(p, alpha=group["weight_decay"])
                p.sub_(torch.sign(g) * group["lr"])
        return loss'''


def _decay_formula(training: TorchTraining) -> tuple[str, str]:
    """(description, the engine's lr(t) before warm-up, as Python) for the LambdaLR form."""
    s, lr = training.schedule_settings, training.optimizer_settings["lr"]
    if training.schedule == "constant":
        return "constant", f"{lr!r}"
    if training.schedule == "step":
        return (f"step (step_size {s['step_size']}, gamma {s['gamma']!r})",
                f"{lr!r} * {s['gamma']!r} ** (t // {s['step_size']})")
    if training.schedule == "exponential":
        return f"exponential (gamma {s['gamma']!r})", f"{lr!r} * {s['gamma']!r} ** t"
    if training.schedule == "inverse_time":
        return f"inverse_time (decay {s['decay']!r})", f"{lr!r} / (1.0 + {s['decay']!r} * t)"
    if training.schedule == "log":
        return "log", f"{lr!r} / (1.0 + math.log1p(t))"
    if training.schedule == "cosine":
        t_max, eta = s["t_max"], s["eta_min"]
        return (f"cosine (t_max {t_max}, eta_min {eta!r})",
                f"{eta!r} + ({lr!r} - {eta!r}) * (1.0 + math.cos(math.pi * min(t, {t_max}) / {t_max})) / 2.0")
    raise ConfigError(f"PyTorch export: schedule {training.schedule!r} has no PyTorch form")


def _schedule_code(training: TorchTraining) -> str:
    s, warmup = training.schedule_settings, training.warmup
    if training.schedule == "constant" and not warmup:
        return '''\
def make_scheduler(optimizer):
    """The project's learning rate is constant: no scheduler."""
    return None'''
    if training.schedule == "step" and not warmup:
        return f'''\
def make_scheduler(optimizer):
    """The playground's 'step' schedule: lr * gamma ** (t // step_size)."""
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size={s['step_size']}, gamma={s['gamma']!r})'''
    if training.schedule == "exponential" and not warmup:
        return f'''\
def make_scheduler(optimizer):
    """The playground's 'exponential' schedule: lr * gamma ** t."""
    return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={s['gamma']!r})'''
    description, formula = _decay_formula(training)
    if warmup:
        body = f'''\
    if t < {warmup}:
        return decayed_lr(0) * (t + 1) / {warmup}       # warm-up: a linear ramp to the start of the decay
    return decayed_lr(t - {warmup})'''
        description += f", after {warmup} warm-up updates"
    else:
        body = "    return decayed_lr(t)"
    return f'''\
def decayed_lr(t):
    return {formula}


def scheduled_lr(t):
    """The learning rate of update t (0 for the first): the playground's {description}."""
{body}


def make_scheduler(optimizer):
    """LambdaLR multiplies the base rate by the factor: lr = LR * (scheduled_lr(t) / LR)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: scheduled_lr(t) / LR)'''


_LOSS_CALLS = {
    "mse": "F.mse_loss(output, target, reduction=\"sum\")",
    "mae": "F.l1_loss(output, target, reduction=\"sum\")",
    "huber": "F.huber_loss(output, target, reduction=\"sum\", delta=1.0)",
    "bce": "F.binary_cross_entropy_with_logits(output, target, reduction=\"sum\")",
    "cross_entropy": "F.cross_entropy(output, target, reduction=\"sum\")",
    "hinge": "F.multi_margin_loss(output, target, p=1, margin=1.0, reduction=\"sum\")",
}


def _loss_code(training: TorchTraining) -> str:
    per_row = training.loss in ("cross_entropy", "hinge")
    count = "batch_rows" if per_row or training.n_outputs == 1 else f"(batch_rows * {training.n_outputs})"
    what = "rows" if per_row else "values"
    return f'''\
def batch_loss(output, target, batch_rows):
    """The project's loss ({training.loss}), the mean over the {what} of a whole batch of batch_rows rows:
    torch's reduction="mean" when output holds the whole batch, this process's part of it
    when several processes share the batch (their parts add up to the mean)."""
    return {_LOSS_CALLS[training.loss]} / {count}'''


def _target_code(training: TorchTraining) -> str:
    if training.task == "regression":
        how, expr = "the regression targets", "torch.as_tensor(y, dtype=DTYPE)"
    elif training.loss in ("cross_entropy", "hinge"):
        how, expr = "class indices", "torch.as_tensor(y, dtype=torch.int64)"
    elif training.n_outputs == 1:
        how, expr = "a 0/1 column", "torch.as_tensor(y, dtype=DTYPE).reshape(-1, 1)"
    else:
        how, expr = "one-hot rows", f"F.one_hot(torch.as_tensor(y, dtype=torch.int64), {training.n_outputs}).to(DTYPE)"
    return f'''\
def encode_targets(y):
    """The targets as the loss compares them with the output: {how}."""
    return {expr}'''


def _penalty_code(training: TorchTraining) -> str:
    rate = training.regularization_rate
    if training.regularization == "l1":
        doc = f"L1: {rate!r} * sum |w|"
        term = f"{rate!r} * sum(layer.weight.abs().sum() for layer in dense_layers(model))"
    elif training.regularization == "l2":
        doc, term = (f"L2: {rate!r} / 2 * sum w^2",
                     f"0.5 * {rate!r} * sum((layer.weight * layer.weight).sum() for layer in dense_layers(model))")
    else:
        doc, term = "none", "0.0"
    return f'''\
def penalty(model):
    """The project's regularization on dense weights, never biases ({doc});
    the reported loss leaves it out."""
    return {term}'''


# --------------------------------------------------------------------------------------
# the file
# --------------------------------------------------------------------------------------

def _shown(file_name: str, stand_in: str) -> str:
    """A file name for the docstring: as it is if plain, else ``stand_in`` (no quote or backslash gets in)."""
    return file_name if re.fullmatch(r"[\w.+-]+", file_name, flags=re.ASCII) else stand_in


def _header(script: str, data_file: str, weights_file: str) -> str:
    script, data_file = _shown(script, "this_file.py"), _shown(data_file, "DATA_FILE")
    weights_file = _shown(weights_file, "WEIGHTS_FILE")
    return f'''\
"""A network from NN Playground in PyTorch: the model, its data and its training.

Beside this file: {data_file} (the data set; column 'split' says train or test) and
{weights_file} (the weights it was exported with).

    python {script} train --steps 1000 [--init-weights FILE] [--save-weights FILE] [--device cpu|cuda|mps]
    python {script} predict FILE.csv [--weights FILE] [--device ...]
    torchrun --nproc_per_node 2 {script} train --steps 1000      (DistributedDataParallel)

train() repeats the playground's training step for step: the same loss, optimiser,
schedule, regularization, batch order and dropout masks (drawn from NumPy generators
seeded as the playground seeds them).  Without --init-weights it starts from the
playground's initial weights for SEED, as `playground train` does.  Under torchrun
each process takes its share of every batch, so the updates are those of one process.

From Python:
    model = load_weights("{weights_file}")      # Net with the exported weights
    model = train(steps=1000, device="cuda")
    p = predict([[0.5, -1.0]], model)

Needs torch and NumPy.
"""'''


def torch_script(plan: Plan, tensors: Mapping[str, np.ndarray], training: TorchTraining,
                 feature_names: Sequence[str], input_scaling: tuple[np.ndarray, np.ndarray] | None = None,
                 script_name: str = "net.py", data_file: str = "net_data.csv",
                 weights_file: str = "net_weights.safetensors", source: str = "export") -> str:
    """Python source of the PyTorch module for ``plan`` trained as ``training`` says.

    ``tensors`` are checked against the plan (names, shapes, range) as for any export;
    the script reads them from ``weights_file`` and the data from ``data_file``, both
    beside it.  ``input_scaling`` (shift, scale) makes the model take raw columns.
    """
    dtype = np.dtype(training.dtype)
    checked_tensors(plan, tensors, dtype, source, "the PyTorch model")
    if input_scaling is not None:
        shift, scale = checked_scaling(input_scaling, feature_names, np.float64, "the PyTorch model")
        shift_text, scale_text = repr(shift.tolist()), repr(scale.tolist())
    else:
        shift_text = scale_text = "None"
    attributes = attribute_names(plan)
    logits = training.loss_on_logits
    uses = {s.node.activation for s in plan.steps if s.node.type in ("dense", "activation")}
    has_dropout = any(s.node.type == "dropout" for s in plan.steps)
    label = {"float64": "torch.float64", "float32": "torch.float32"}[training.dtype]
    classes = class_name_list(training.classes, "the PyTorch model")
    check_class_count(classes, plan.output_width, "the PyTorch model")
    constants = f'''\
HERE = Path(__file__).resolve().parent
DATA_FILE = HERE / {data_file!r}
WEIGHTS_FILE = HERE / {weights_file!r}

# The project
PROJECT_NAME = {training.name!r}
SEED = {training.seed!r}                       # the playground's seed: initial weights, batch order, dropout
DTYPE = {label}
NP_DTYPE = np.{dtype.name}
FEATURE_NAMES = {[str(name) for name in feature_names]!r}
TASK = {training.task!r}
CLASS_NAMES = {classes!r}          # class index -> label, in the playground's (sorted) order; None: regression
# The network was trained on (raw - INPUT_SHIFT) / INPUT_SCALE (None: raw columns).
INPUT_SHIFT = {shift_text}
INPUT_SCALE = {scale_text}

# Its training
LOSS = {training.loss!r}
LR = {training.optimizer_settings["lr"]!r}                       # the base learning rate
BATCH_SIZE = {training.batch_size!r}{"              # the whole training set" if training.full_batch else ""}
SHUFFLE = {training.shuffle!r}'''
    sections = [
        _header(script_name, data_file, weights_file),
        _IMPORTS,
        constants,
        "# " + "-" * 86 + "\n# The network\n# " + "-" * 86,
    ]
    if "softplus" in uses:
        sections.append(_SOFTPLUS)
    if has_dropout:
        sections.append(_DROPOUT)
    sections += [_network_code(plan, attributes, logits, input_scaling is not None),
                 _DENSE_LAYERS,
                 "# " + "-" * 86 + "\n# Weights\n# " + "-" * 86,
                 "def initial_weights():\n"
                 '    """The playground\'s initial weights for SEED: each dense node\'s initialiser, the same\n'
                 '    NumPy draws in the same order (execution order), biases at the node\'s bias."""\n'
                 "    rng = np.random.default_rng([SEED, 2])\n"
                 "    weights = {}\n" + "\n".join(_initial_weight_lines(plan)) + "\n    return weights",
                 _UNIFORM_LIMIT,
                 _WEIGHT_IO,
                 "# " + "-" * 86 + "\n# Data\n# " + "-" * 86,
                 _DATA,
                 _target_code(training),
                 "# " + "-" * 86 + "\n# Training\n# " + "-" * 86,
                 _optimizer_code(training),
                 _schedule_code(training),
                 _loss_code(training),
                 _penalty_code(training),
                 _BATCHES,
                 _DISTRIBUTED,
                 _EVALUATE.replace("@LOGITS@", ", logits=True" if logits else ""),
                 _TRAIN.replace("@LOGITS@", ", logits=True" if logits else "")
                       .replace("@MASKS@", _MASKS_SETUP if has_dropout else "")
                       .replace("@BATCH_MASKS@", _BATCH_MASKS if has_dropout else ""),
                 "# " + "-" * 86 + "\n# Prediction and the command line\n# " + "-" * 86,
                 _PREDICT,
                 _MAIN]
    return "\n\n\n".join(section.strip("\n") for section in sections) + "\n"


_IMPORTS = '''\
import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn'''

_SOFTPLUS = '''\
def softplus(z):
    """ln(1 + e^z), as the playground computes it (torch's F.softplus returns z itself above z = 20)."""
    return torch.logaddexp(z, torch.zeros((), dtype=z.dtype, device=z.device))'''

_DROPOUT = '''\
class DropoutMasks:
    """The playground's dropout masks: NumPy's generator seeded [SEED, 4] draws u of shape
    [batch rows, width] per dropout node and training step, in execution order; a unit
    is kept where u >= p and scaled by 1 / (1 - p).  Each process draws the masks of the
    whole batch and takes its own rows, so shared batches see the same masks."""

    def __init__(self):
        self.rng = np.random.default_rng([SEED, 4])
        self.batch_rows, self.rows = None, slice(None)

    def start_batch(self, batch_rows, first, stop):
        """The next batch has batch_rows rows, of which this process holds first:stop."""
        self.batch_rows, self.rows = batch_rows, slice(first, stop)

    def draw(self, x, p):
        keep = self.rng.random((self.batch_rows, x.shape[1])) >= p
        mask = keep.astype(NP_DTYPE) / (1.0 - p)
        return torch.from_numpy(mask[self.rows]).to(x.device)


class Dropout(nn.Module):
    """Inverted dropout: drop each value with probability p, scale the kept ones by 1 / (1 - p);
    the identity in eval mode.  train() gives it the playground's masks (DropoutMasks);
    without them it draws torch's own."""

    def __init__(self, p):
        super().__init__()
        self.p = p
        self.masks = None

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if self.masks is None:
            return F.dropout(x, self.p, training=True)
        return x * self.masks.draw(x, self.p)

    def extra_repr(self):
        return f"p={self.p}"'''

_DENSE_LAYERS = '''\
def dense_layers(model):
    """The model's nn.Linear layers: what regularization acts on."""
    return [module for module in model.modules() if isinstance(module, nn.Linear)]'''

_UNIFORM_LIMIT = '''\
def uniform_limit(rng, limit_squared, shape):
    """Uniform on [-limit, limit) with limit = sqrt(limit_squared): Glorot's and He's uniform."""
    limit = math.sqrt(limit_squared)
    return rng.uniform(-limit, limit, shape)'''

_WEIGHT_IO = '''\
SAFETENSORS_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64}


def read_weight_file(path):
    """(tensors as NumPy arrays, (shift, scale) or None, class names or None) from a
    .safetensors or .npz weight file.  Only numbers and text are read: npz members are
    never unpickled."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            tensors = {name: archive[name] for name in archive.files}
        scaling = [tensors.pop(name, None) for name in ("input_shift", "input_scale")]
        names = tensors.pop("class_names", None)
        names = None if names is None else json.loads(str(names))
    elif path.suffix == ".safetensors":
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(length))
            data = handle.read()
        metadata = header.pop("__metadata__", None) or {}
        tensors = {}
        for name, entry in header.items():
            first, stop = entry["data_offsets"]
            little_endian = np.dtype(SAFETENSORS_DTYPES[entry["dtype"]]).newbyteorder("<")
            values = np.frombuffer(data[first:stop], dtype=little_endian)
            tensors[name] = values.reshape(entry["shape"])
        scaling = [json.loads(metadata[name]) if name in metadata else None for name in ("input_shift", "input_scale")]
        names = json.loads(metadata["class_names"]) if "class_names" in metadata else None
    else:
        raise ValueError(f"{path}: a weight file must be .safetensors or .npz")
    scaling = None if scaling[0] is None else tuple(np.asarray(v, dtype=np.float64) for v in scaling)
    return tensors, scaling, names


def load_weights(path=WEIGHTS_FILE, model=None, device="cpu"):
    """model (a new Net on device if None) with the weights of a .safetensors or .npz file,
    strictly: the file holds exactly the network's tensors, each with its shape."""
    tensors, scaling, names = read_weight_file(path)
    if model is None:
        model = Net().to(device=device, dtype=DTYPE)
    expected = model.state_dict()
    for name, value in expected.items():
        if name not in tensors:
            raise ValueError(f"{path}: tensor {name!r} is missing (the file has: {', '.join(sorted(tensors))})")
        if tuple(tensors[name].shape) != tuple(value.shape):
            raise ValueError(f"{path}: tensor {name!r} has shape {list(tensors[name].shape)}, "
                             f"the network needs {list(value.shape)}")
    for name in tensors:
        if name not in expected:
            raise ValueError(f"{path}: tensor {name!r} does not belong to this network")
    if scaling is not None and (INPUT_SHIFT is None or not (np.array_equal(scaling[0], INPUT_SHIFT)
                                                            and np.array_equal(scaling[1], INPUT_SCALE))):
        raise ValueError(f"{path}: its weights were trained on columns scaled otherwise than this network's")
    if names is not None and names != CLASS_NAMES:
        raise ValueError(f"{path}: its weights were trained for other classes than this network's CLASS_NAMES")
    model.load_state_dict({name: torch.from_numpy(np.array(t)) for name, t in tensors.items()})
    return model


def save_weights(model, path):
    """Write the model's weights as .safetensors or .npz (the playground reads both), with the
    input scaling and the class names; the file is replaced only once it is complete."""
    path = Path(path)
    tensors = {name: t.detach().cpu().numpy() for name, t in model.state_dict().items()}
    scaling = {} if INPUT_SHIFT is None else {"input_shift": INPUT_SHIFT, "input_scale": INPUT_SCALE}
    names = {} if CLASS_NAMES is None else {"class_names": json.dumps(CLASS_NAMES)}     # JSON text
    partial = path.with_name(f".{path.name}.partial")
    if path.suffix == ".npz":
        with open(partial, "wb") as handle:
            np.savez(handle, **tensors, **{name: np.array(v, dtype=np.float64) for name, v in scaling.items()},
                     **{name: np.array(text) for name, text in names.items()})
    elif path.suffix == ".safetensors":
        codes = {np.dtype(dtype): code for code, dtype in SAFETENSORS_DTYPES.items()}
        metadata = {**{name: json.dumps(v) for name, v in scaling.items()}, **names}
        header, offset = {"__metadata__": metadata}, 0
        for name, t in tensors.items():
            header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape),
                            "data_offsets": [offset, offset + t.nbytes]}
            offset += t.nbytes
        text = json.dumps(header).encode("utf-8")
        text += b" " * (-len(text) % 8)
        with open(partial, "wb") as handle:
            handle.write(len(text).to_bytes(8, "little") + text)
            for t in tensors.values():
                handle.write(t.astype(t.dtype.newbyteorder("<")).tobytes())
    else:
        raise ValueError(f"{path}: save the weights as .safetensors or .npz")
    os.replace(partial, path)'''

_DATA = '''\
def load_data(path=DATA_FILE):
    """(X_train, y_train, X_test, y_test) as NumPy arrays from the exported CSV: raw feature
    columns (the model standardizes them if the project did), y the class index or the
    regression targets.  Training rows keep the playground's order: batches index them."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    width = len(FEATURE_NAMES)
    X = np.array([[float(v) for v in row[:width]] for row in rows], dtype=np.float64).reshape(-1, width)
    y = [[float(v) for v in row[width:-1]] for row in rows]
    y = np.array(y, dtype=np.int64)[:, 0] if TASK == "classification" else np.array(y, dtype=np.float64)
    train = np.array([row[-1] == "train" for row in rows], dtype=bool)
    return X[train], y[train], X[~train], y[~train]'''

_BATCHES = '''\
class Batches:
    """The rows of each batch in the playground's order: each pass over the training rows
    takes a permutation from NumPy's generator seeded [SEED, 3] (file order without
    shuffling), BATCH_SIZE rows at a time, the last batch of a pass partial.  A batch of
    the whole set takes the rows in file order."""

    def __init__(self, n_rows):
        self.n_rows = n_rows
        self.size = min(BATCH_SIZE, n_rows)
        self.per_epoch = math.ceil(n_rows / self.size)
        self.rng = np.random.default_rng([SEED, 3])
        self.epoch = 0
        self._start_pass()

    def _start_pass(self):
        self.order = self.rng.permutation(self.n_rows) if SHUFFLE else np.arange(self.n_rows)
        self.cursor = 0

    def next(self):
        if self.size >= self.n_rows:
            rows = np.arange(self.n_rows)
        else:
            rows = self.order[self.cursor:self.cursor + self.size]
        self.cursor += self.size
        if self.cursor >= self.n_rows:
            self.epoch += 1
            self._start_pass()
        return rows'''

_DISTRIBUTED = '''\
def check_device(device):
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: this torch sees no CUDA GPU")
    if device == "mps" and not (torch.backends.mps.is_available() and DTYPE == torch.float32):
        raise ValueError("--device mps: needs an Apple GPU and a float32 project (MPS has no float64)")


def start_processes(device):
    """(processes, this one's rank, its torch.device).  torchrun sets WORLD_SIZE, RANK and
    LOCAL_RANK: then join the process group (nccl on GPUs, gloo on the CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    check_device(device)
    if world == 1:
        return 1, 0, torch.device(device)
    if device == "mps":
        raise ValueError("several processes train on cpu or cuda, not mps")
    local = int(os.environ["LOCAL_RANK"])
    if device == "cuda":
        torch.cuda.set_device(local)
    torch.distributed.init_process_group("nccl" if device == "cuda" else "gloo")
    return world, torch.distributed.get_rank(), torch.device(device, local if device == "cuda" else None)


def share(batch_rows, world, rank):
    """first:stop of this process's rows of a batch: near-equal consecutive parts."""
    return batch_rows * rank // world, batch_rows * (rank + 1) // world'''

_EVALUATE = '''\
@torch.no_grad()
def evaluate(model, X, y):
    """(data loss, accuracy or None) of the model on a whole set, dropout off."""
    if len(X) == 0:
        return None, None
    model.eval()
    loss = batch_loss(model(X@LOGITS@), encode_targets(y), len(X)).item()
    accuracy = None
    if TASK == "classification":
        output = model(X)
        predicted = (output[:, 0] > 0.5).long() if output.shape[1] == 1 else output.argmax(dim=1)
        accuracy = (predicted == y).double().mean().item()
    model.train()
    return loss, accuracy


def _report(step, total, epoch, model, data):
    train_loss, train_accuracy = evaluate(model, data[0], data[1])
    test_loss, test_accuracy = evaluate(model, data[2], data[3])
    line = f"step {step}/{total}  epoch {epoch}  train loss {train_loss:.6g}"
    if test_loss is not None:
        line += f"  test loss {test_loss:.6g}"
    if train_accuracy is not None:
        line += f"  train accuracy {100 * train_accuracy:.1f}%"
    if test_accuracy is not None:
        line += f"  test accuracy {100 * test_accuracy:.1f}%"
    print(line, flush=True)'''

_MASKS_SETUP = '''
    masks = DropoutMasks()
    for module in model.modules():
        if isinstance(module, Dropout):
            module.masks = masks'''

_BATCH_MASKS = '''
        masks.start_batch(len(rows), first, stop)'''

_TRAIN = '''\
def train(steps=None, epochs=None, init_weights=None, save_weights_to=None, device="cpu", log_every=None,
          quiet=False):
    """Train as the playground does for steps updates (or epochs passes; default 100 epochs)
    and return the model.  Started by torchrun, each process computes its share of every
    batch and DistributedDataParallel averages the gradients: the loss of each share is
    multiplied by the number of processes so that the average is the whole batch's gradient."""
    world, rank, device = start_processes(device)
    model = Net().to(device=device, dtype=DTYPE)
    if init_weights is not None:
        load_weights(init_weights, model)
    else:
        model.load_state_dict({name: torch.from_numpy(t) for name, t in initial_weights().items()})
    X_train, y_train, X_test, y_test = load_data()
    data = [torch.as_tensor(X_train, dtype=DTYPE, device=device), torch.as_tensor(y_train, device=device),
            torch.as_tensor(X_test, dtype=DTYPE, device=device), torch.as_tensor(y_test, device=device)]
    targets = encode_targets(y_train).to(device)
    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = make_optimizer(model.parameters())
    scheduler = make_scheduler(optimizer)
    batches = Batches(len(X_train))@MASKS@
    total = steps if steps is not None else (epochs or 100) * batches.per_epoch
    log_every = log_every or max(batches.per_epoch, math.ceil(total / 10))
    talk = rank == 0 and not quiet
    if talk:
        _report(0, total, 0, model, data)
    model.train()
    step = 0
    while step < total:
        rows = batches.next()
        first, stop = share(len(rows), world, rank)
        mine = torch.as_tensor(rows[first:stop], device=device)@BATCH_MASKS@
        before = [p.detach().clone() for p in model.parameters()]
        objective = batch_loss(net(data[0][mine]@LOGITS@), targets[mine], len(rows)) * world + penalty(model)
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            with torch.no_grad():
                for p, kept in zip(model.parameters(), before):
                    p.copy_(kept)
            if rank == 0:
                print(f"diverged at step {step + 1}: a weight became NaN or infinite; kept the last finite "
                      "weights. Try a smaller learning rate.", file=sys.stderr)
            break
        step += 1
        if talk and (step % log_every == 0 or step == total):
            _report(step, total, batches.epoch, model, data)
    if save_weights_to is not None and rank == 0:
        save_weights(model, save_weights_to)
        if talk:
            print(f"saved weights to {save_weights_to}")
    if world > 1:
        torch.distributed.destroy_process_group()
    return model'''

_PREDICT = '''\
@torch.no_grad()
def predict(X, model=None, device="cpu"):
    """The output node's value for each row of X (raw feature columns in FEATURE_NAMES order),
    as a NumPy array; model defaults to the exported weights."""
    if model is None:
        model = load_weights(WEIGHTS_FILE, device=device)
    model.eval()
    parameter = next(model.parameters())
    X = torch.as_tensor(np.asarray(X, dtype=np.float64), dtype=parameter.dtype, device=parameter.device)
    return model(X.reshape(-1, len(FEATURE_NAMES))).cpu().numpy()


def class_names_of(predictions):
    """The predicted class of each row of predict()'s output, as its label (the playground's
    rule): for one output column the second class when it is above 0.5, else the largest column."""
    if CLASS_NAMES is None:
        raise ValueError("this network is not a classifier: it has no class names")
    predictions = np.asarray(predictions)
    index = (predictions[:, 0] > 0.5).astype(np.int64) if predictions.shape[1] == 1 else predictions.argmax(axis=1)
    return [CLASS_NAMES[i] for i in index]


def read_features(path):
    """The feature columns of a CSV file: by name if a header names them all (other columns,
    such as a target, are ignored), else the first columns in FEATURE_NAMES order."""
    handle = sys.stdin if path == "-" else open(path, newline="", encoding="utf-8")
    with handle:
        rows = [row for row in csv.reader(handle) if row]
    columns = list(range(len(FEATURE_NAMES)))
    if rows and all(name in rows[0] for name in FEATURE_NAMES):
        columns = [rows[0].index(name) for name in FEATURE_NAMES]
        rows = rows[1:]
    try:
        return np.array([[float(row[c]) for c in columns] for row in rows], dtype=np.float64)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: each row needs {len(FEATURE_NAMES)} numbers in the order "
                         f"{', '.join(FEATURE_NAMES)} ({exc})") from None'''

_MAIN = '''\
def main(argv=None):
    parser = argparse.ArgumentParser(description="Train or run the network exported from NN Playground.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="train as the playground does (torchrun: on several processes)")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="optimiser updates")
    length.add_argument("--epochs", type=int, help="passes over the training rows (default 100)")
    run.add_argument("--init-weights", metavar="FILE", help="start from these weights (.safetensors or .npz)")
    run.add_argument("--save-weights", metavar="FILE", help="write the trained weights (.safetensors or .npz)")
    run.add_argument("--device", choices=("cpu", "cuda", "mps"), default="cpu")
    run.add_argument("--log-every", type=int, metavar="N", help="a progress line every N steps")
    run.add_argument("--quiet", action="store_true")
    use = commands.add_parser("predict", help="print the output (and a classifier's class) for each row of a CSV file")
    use.add_argument("csv", help="CSV of feature rows ('-' reads standard input)")
    use.add_argument("--weights", default=str(WEIGHTS_FILE), metavar="FILE")
    use.add_argument("--device", choices=("cpu", "cuda", "mps"), default="cpu")
    args = parser.parse_args(argv)
    for name in ("steps", "epochs", "log_every"):
        if getattr(args, name, None) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    try:
        if args.command == "train":
            train(args.steps, args.epochs, args.init_weights, args.save_weights, args.device, args.log_every,
                  args.quiet)
            return
        check_device(args.device)
        predictions = predict(read_features(args.csv), load_weights(args.weights, device=args.device))
    except (ValueError, OSError, KeyError) as exc:
        sys.exit(f"{Path(__file__).name} {args.command}: {exc}")
    width = predictions.shape[1]
    labels = class_names_of(predictions) if CLASS_NAMES is not None else None
    out = csv.writer(sys.stdout, lineterminator="\\n")     # quotes a label holding commas, quotes or newlines
    out.writerow((["output"] if width == 1 else [f"output_{i}" for i in range(width)])
                 + (["class"] if labels is not None else []))
    for i, row in enumerate(predictions):
        out.writerow([repr(float(v)) for v in row] + ([labels[i]] if labels is not None else []))


if __name__ == "__main__":
    main()'''
