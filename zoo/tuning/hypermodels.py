"""`ZooHyperModel`: a keras-tuner search space over any registered zoo model.

A space is a dict `{key: spec}`; a key is a model option (see
`zoo.describe(name).options`) or one of `optimizer`, `learning_rate`,
`momentum`, `weight_decay`, `batch_size`. A spec is

| spec                          | keras-tuner hyperparameter              |
|-------------------------------|-----------------------------------------|
| `[a, b, c]` (a list)          | `hp.Choice`                             |
| `(low, high)` (a tuple)       | `hp.Int` (ints) or `hp.Float` (floats)  |
| `(low, high, "log")`          | the same, sampled on a log scale        |
| `(low, high, step)`           | the same, on a grid of `step`           |
| `None`                        | not tuned: the model's default is used  |

Values are checked by the same validators as `zoo.build`, before any trial.

`momentum` and `weight_decay` reach only the optimizers that take them, and
the default learning-rate range is per optimizer (Adadelta's is near 1.0):
see `zoo.tuning.optimizer_knobs`.
"""

import numbers
import warnings

import keras_tuner as kt

from zoo.core.checks import check_choice, check_float, check_int, suggest
from zoo.core.pipelines import is_dataset
from zoo.models.optimizers import list_optimizers
from zoo.models.options import REQUIRED, VALIDATORS
from zoo.models.registry import build as build_model, describe
from zoo.core.tasks import check_task, compile_model
from zoo.tuning.optimizer_knobs import KNOBS, OptimizerKnobs

# The optimizers of the classic textbooks (the default choice list).
CLASSIC_OPTIMIZERS = ("adam", "sgd", "momentum", "nag", "adagrad", "rmsprop", "adadelta")
TRAINING_KEYS = ("optimizer", "learning_rate", "momentum", "weight_decay", "batch_size")
_TRAINING_DEFAULTS = {"optimizer": "adam", "learning_rate": 1e-3, "momentum": 0.9,
                      "weight_decay": 0.0, "batch_size": 32}
_INT_KEYS = {"depth", "width", "kernel_size", "convs_per_block", "blocks_per_stage",
             "num_heads", "ffn_width", "embedding_dim", "max_len", "patch_size",
             "vocab_size", "batch_size"}
_FLOAT_KEYS = {"l1", "l2", "dropout", "mask_value", "learning_rate", "momentum",
               "weight_decay"}

_COMMON_SPACE = {
    "depth": (1, 3),
    "width": [16, 32, 64],
    "activation": ["relu", "elu", "gelu", "swish"],
    "dropout": (0.0, 0.5, 0.1),
    "l2": [0.0, 1e-5, 1e-4, 1e-3],
    "optimizer": list(CLASSIC_OPTIMIZERS),
    "learning_rate": (1e-4, 1e-1, "log"),
    "batch_size": [16, 32, 64, 128],
}
_FAMILY_SPACE = {
    "cnn": {"width": [8, 16, 32, 64]},
    "mlp": {"depth": (1, 4), "width": [32, 64, 128, 256]},
    "rnn": {"depth": (1, 2), "activation": ["tanh", "relu"]},
    "transformer": {"activation": ["gelu", "relu"]},
}


def default_space(name):
    """The search space `ZooHyperModel` tunes for model `name` by default."""
    info = describe(name)
    space = dict(_COMMON_SPACE, **_FAMILY_SPACE.get(info.family, {}))
    allowed = set(info.options) | set(TRAINING_KEYS)
    return {key: spec for key, spec in space.items() if key in allowed}


def _check_value(key, value, argument, model_defaults):
    """One value of `key`, checked and canonical (as `zoo.build` would)."""
    if key == "optimizer":
        return check_choice(argument, value, list_optimizers())
    if key == "learning_rate":
        return check_float(argument, value, include_low=False)
    if key == "momentum":
        return check_float(argument, value, 0.0, 1.0)
    if key == "weight_decay":
        return check_float(argument, value)
    if key == "batch_size":
        return check_int(argument, value, minimum=1)
    if key in _FLOAT_KEYS and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = float(value)
    checked = VALIDATORS[key](argument, value)
    if checked is None and model_defaults.get(key) is not None:
        raise ValueError(f"`{argument}` cannot be None.")
    return checked


class _Dimension:
    """One tuned key: its kind (`choice`, `int`, `float`) and bounds."""

    def __init__(self, key, spec, model_defaults):
        argument = f"space[{key!r}]"
        default = model_defaults.get(key, _TRAINING_DEFAULTS.get(key))
        if isinstance(spec, list):
            if not spec:
                raise ValueError(f"`{argument}` is an empty list; give at least one choice.")
            values = []
            for v in spec:
                if v is None:
                    raise TypeError(f"`{argument}` holds None; list real values only.")
                v = _check_value(key, v, argument, model_defaults)
                if v not in values:
                    values.append(v)
            self.kind, self.values = "choice", values
            self.default = default if default in values else values[0]
            return
        if not isinstance(spec, tuple) or len(spec) not in (2, 3):
            raise TypeError(
                f"`{argument}` must be a list of choices or a (low, high[, 'log' | step]) "
                f"tuple; got {spec!r}. To pin one value use fixed={{{key!r}: value}}."
            )
        if key not in _INT_KEYS | _FLOAT_KEYS:
            raise TypeError(f"`{argument}`: {key!r} takes a list of choices, not a range.")
        low, high = (_check_value(key, v, argument, model_defaults) for v in spec[:2])
        if not low < high:
            raise ValueError(f"`{argument}` needs low < high; got {spec!r}.")
        third = spec[2] if len(spec) == 3 else None
        self.sampling, self.step = "linear", None
        if isinstance(third, str):
            self.sampling = check_choice(f"{argument}[2]", third, ("linear", "log"))
            if self.sampling == "log" and low <= 0:
                raise ValueError(f"`{argument}`: log sampling needs low > 0; got {low}.")
        elif third is not None:
            self.step = (check_int if key in _INT_KEYS else check_float)(
                f"{argument}[2]", third, *((1,) if key in _INT_KEYS else ())
            )
            if not self.step:
                raise ValueError(f"`{argument}`: the step must be > 0.")
        self.kind = "int" if key in _INT_KEYS else "float"
        self.low, self.high = low, high
        self.default = default if default is not None and low <= default <= high else low
        if self.kind == "int":
            self.default = int(self.default)

    def declare(self, hp, name):
        if self.kind == "choice" and isinstance(self.values[0], bool):
            # keras-tuner's Choice would turn bools into ints.
            if len(self.values) == 1:
                return hp.Fixed(name, self.values[0])
            return hp.Boolean(name, default=self.default)
        if self.kind == "choice":
            return hp.Choice(name, self.values, default=self.default)
        kwargs = dict(sampling=self.sampling, default=self.default)
        if self.step is not None:
            kwargs["step"] = self.step
        cls = hp.Int if self.kind == "int" else hp.Float
        return cls(name, self.low, self.high, **kwargs)

    def to_spec(self):
        if self.kind == "choice":
            return list(self.values)
        third = self.step if self.step is not None else self.sampling
        return (self.low, self.high, third)


class ZooHyperModel(kt.HyperModel):
    """A keras-tuner `HyperModel` for any model of the zoo registry.

    `build(hp)` builds `name` with `zoo.build` and compiles it with
    `zoo.compile_model`; `fit(hp, model, ...)` trains it with the tuned
    `batch_size`. Over `keras_tuner.HyperModel` this adds a default search
    space per model family (depth, width, activation, dropout, L2, the
    classic optimizers, a log-scale learning rate, batch size) that users
    narrow or extend with plain dicts, every value checked before the
    first trial.

    Args:
        name: a name from `zoo.list_models()`.
        input_shape: shape of one sample (see `zoo.build`).
        num_classes: classes, labels or targets (see `zoo.build`).
        task: `"binary"`, `"multiclass"`, `"multilabel"` or `"regression"`.
            Defaults to `"multiclass"`, as in `zoo.build` (there is no model
            or data yet to infer it from).
        space: `{key: spec}` merged into the default space: a spec replaces
            the default one, `None` removes the key (see the module doc).
        fixed: `{key: value}` pinned for every trial (removed from the
            space), e.g. `{"activation": "relu"}` or `{"vocab_size": 20}`.
        defaults: start from `default_space(name)` (`True`) or from an empty
            space, so that only `space` is tuned (`False`).

    Example:

    >>> hypermodel = ZooHyperModel(
    ...     "mlp.baseline", input_shape=(30,), num_classes=2, task="binary",
    ...     space={"learning_rate": (1e-4, 1e-1, "log"), "optimizer": ["adam", "sgd"]},
    ...     fixed={"activation": "relu"})
    >>> sorted(hypermodel.space)[:3]
    ['batch_size', 'depth', 'dropout']
    """

    def __init__(self, name, input_shape, num_classes=None, task="multiclass", space=None,
                 fixed=None, defaults=True):
        info = describe(name)
        super().__init__(name=name.replace(".", "_"))
        self.model_name = name
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.num_classes = num_classes
        self.task = check_task(task)
        self.defaults = bool(defaults)
        model_defaults = dict(info.options)
        allowed = list(info.options) + list(TRAINING_KEYS)
        space, fixed = dict(space or {}), dict(fixed or {})
        for argument, given in (("space", space), ("fixed", fixed)):
            unknown = sorted(set(given) - set(allowed))
            if unknown:
                raise ValueError(
                    f"Unknown `{argument}` key(s) {unknown} for {name!r}."
                    f"{suggest(unknown[0], allowed)} Allowed keys: {sorted(allowed)}."
                )
        both = sorted(set(space) & set(fixed))
        if both:
            raise ValueError(f"Key(s) {both} are in both `space` and `fixed`; give each once.")
        self.fixed = {
            k: _check_value(k, v, f"fixed[{k!r}]", model_defaults) for k, v in fixed.items()
        }
        merged = default_space(name) if self.defaults else {}
        merged.update(space)
        self._dims = {
            k: _Dimension(k, spec, model_defaults)
            for k, spec in merged.items()
            if spec is not None and k not in self.fixed and k not in KNOBS
        }
        tuned_optimizer = self._dims.get("optimizer")
        self._knobs = OptimizerKnobs(
            {k: merged[k] for k in KNOBS if merged.get(k) is not None and k not in self.fixed},
            given=set(space), fixed=self.fixed,
            optimizers=tuned_optimizer.values if tuned_optimizer else
            [self.fixed.get("optimizer", _TRAINING_DEFAULTS["optimizer"])],
            tuned=tuned_optimizer is not None,
            make_dimension=lambda key, spec: _Dimension(key, spec, model_defaults),
        )
        missing = [k for k, v in model_defaults.items()
                   if v is REQUIRED and k not in self.fixed and k not in self._dims]
        if missing:
            raise ValueError(
                f"Model {name!r} needs {missing}: pass them in `fixed`, e.g. "
                f"fixed={{{missing[0]!r}: ...}}."
            )
        # A bad shape or task fails here, not in the first trial.
        self._example = build_model(name, self.input_shape, num_classes, self.task,
                                    **self._model_options({}))

    def example_model(self):
        """The model with default options, compiled: what `run_search` checks
        the data against before the first trial."""
        return compile_model(self._example, task=self.task)

    @property
    def space(self):
        """The tuned keys and their specs, as normalized lists and tuples."""
        return dict({k: d.to_spec() for k, d in self._dims.items()}, **self._knobs.space)

    def _model_options(self, tuned):
        values = {k: d.default for k, d in self._dims.items()}
        values.update(tuned)
        values.update(self.fixed)
        return {k: v for k, v in values.items() if k not in TRAINING_KEYS}

    def build(self, hp):
        tuned = {key: dim.declare(hp, key) for key, dim in self._dims.items()}
        values = dict(tuned, **self.fixed)
        model = build_model(self.model_name, self.input_shape, self.num_classes, self.task,
                            **self._model_options(tuned))
        optimizer = values.get("optimizer", _TRAINING_DEFAULTS["optimizer"])
        compile_model(model, task=self.task, optimizer=optimizer,
                      **self._knobs.declare(hp, optimizer))
        # Built now, so checkpoints (with optimizer state) load into any copy.
        model.optimizer.build(model.trainable_variables)
        return model

    def fit(self, hp, model, *args, **kwargs):
        if "batch_size" in self._dims:
            kwargs["batch_size"] = hp.get("batch_size")
        elif "batch_size" in self.fixed:
            kwargs["batch_size"] = self.fixed["batch_size"]
        if args and is_dataset(args[0]) and "batch_size" in kwargs:
            # Keras ignores `batch_size` with a dataset: cut its batches anew.
            args = (args[0].rebatch(kwargs.pop("batch_size")),) + tuple(args[1:])
            with warnings.catch_warnings():
                # The new batch count is unknown until an epoch ends, which
                # Keras reports, wrongly, as running out of data.
                warnings.filterwarnings("ignore", "Your input ran out of data")
                return model.fit(*args, **kwargs)
        return model.fit(*args, **kwargs)

    def get_config(self):
        return {
            "name": self.model_name,
            "input_shape": self.input_shape,
            "num_classes": self.num_classes,
            "task": self.task,
            "space": self.space,
            "fixed": dict(self.fixed),
            "defaults": self.defaults,
        }
