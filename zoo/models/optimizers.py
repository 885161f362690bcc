"""Optimizers by name, mapped onto Keras's own optimizer classes.

| name                              | Keras optimizer                              |
|-----------------------------------|----------------------------------------------|
| `sgd`                             | `SGD` (momentum 0 unless given)              |
| `gd`, `batch_gd`, `full_batch_gd` | `SGD`, plain; see "Full-batch descent" below |
| `momentum`                        | `SGD(momentum=0.9)`                          |
| `nag`, `nesterov`                 | `SGD(momentum=0.9, nesterov=True)`           |
| `adagrad`, `adadelta`, `rmsprop`  | `Adagrad`, `Adadelta`, `RMSprop`             |
| `adam`, `adamw`                   | `Adam`, `AdamW`                              |

Full-batch descent: gradient descent differs from SGD only in how many
samples make one step, which is `fit`'s business, not the optimizer's: pass
`batch_size=zoo.full_batch_size(x)` (every sample in one batch, one step per
epoch) to `model.fit`.
"""

import inspect

from zoo.core.checks import check_bool, check_choice, check_float, check_number

# name -> (Keras class name, defaults added over Keras's own)
_OPTIMIZERS = {
    "sgd": ("SGD", {}),
    "gd": ("SGD", {}),
    "batch_gd": ("SGD", {}),
    "full_batch_gd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nag": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "adadelta": ("Adadelta", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
}
_CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")
# Keras checks none of these: beta_1=1.5 or epsilon=-1 trains to NaN or
# diverges without a word. (low, high, low_open, high_open, integer)
_KNOB_RANGES = {
    "beta_1": (0, 1, False, True, False),
    "beta_2": (0, 1, False, True, False),
    "rho": (0, 1, False, True, False),
    "epsilon": (0, None, True, False, False),
    "initial_accumulator_value": (0, None, False, False, False),
    "ema_momentum": (0, 1, False, False, False),
    "ema_overwrite_frequency": (1, None, False, False, True),
    "loss_scale_factor": (0, None, True, False, False),
    "gradient_accumulation_steps": (1, None, False, False, True),
}
_FLAGS = ("nesterov", "amsgrad", "centered", "use_ema")


def list_optimizers():
    """Sorted names accepted by `get_optimizer`."""
    return sorted(_OPTIMIZERS)


def get_optimizer(
    name,
    learning_rate=None,
    momentum=None,
    weight_decay=None,
    clipnorm=None,
    clipvalue=None,
    global_clipnorm=None,
    **kwargs,
):
    """A Keras optimizer from a name, with its hyperparameters checked.

    Adds over `keras.optimizers.get`: the classic-textbook names (`gd`,
    `momentum`, `nag`), momentum defaults for them, and clear errors for
    bad values before any variable is created.

    Args:
        name: one of `list_optimizers()` (case-insensitive).
        learning_rate: float > 0 or a `keras.optimizers.schedules`
            schedule; `None` keeps Keras's default for the class.
        momentum: in [0, 1); only for the SGD family and `rmsprop`.
        weight_decay: decoupled weight decay, >= 0.
        clipnorm, clipvalue, global_clipnorm: gradient clipping, > 0; at
            most one of them.
        **kwargs: other arguments of the Keras class (`beta_1`, `rho`,
            `epsilon`, `amsgrad`, ...).

    Example:

    >>> opt = get_optimizer("nag", learning_rate=0.05)
    >>> type(opt).__name__, opt.momentum, opt.nesterov
    ('SGD', 0.9, True)
    """
    import keras

    name = check_choice("optimizer", name, _OPTIMIZERS)
    class_name, defaults = _OPTIMIZERS[name]
    cls = getattr(keras.optimizers, class_name)
    config = dict(defaults)
    if learning_rate is not None:
        if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            learning_rate = check_number("learning_rate", learning_rate, 0, low_open=True)
        config["learning_rate"] = learning_rate
    if momentum is not None:
        if "momentum" not in inspect.signature(cls).parameters:
            users = sorted(n for n in _OPTIMIZERS if optimizer_takes(n, "momentum"))
            raise ValueError(
                f"`momentum` is not used by optimizer {name!r}; it applies to {users}."
            )
        config["momentum"] = check_float("momentum", momentum, 0.0, 1.0)
    if weight_decay is not None:
        config["weight_decay"] = check_number("weight_decay", weight_decay, 0)
    clips = {k: v for k, v in zip(_CLIPS, (clipnorm, clipvalue, global_clipnorm)) if v is not None}
    if len(clips) > 1:
        raise ValueError(f"Give at most one of {list(_CLIPS)}; got {sorted(clips)}.")
    for key, value in clips.items():
        config[key] = check_number(key, value, 0, low_open=True)
    allowed = set(inspect.signature(cls).parameters) - {"self", "kwargs"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(
            f"Unknown argument(s) {unknown} for optimizer {name!r} "
            f"(keras.optimizers.{class_name}). Allowed: {sorted(allowed)}."
        )
    for key, value in kwargs.items():
        if key in _FLAGS:
            check_bool(key, value, owner=f"get_optimizer({name!r})")
        elif key in _KNOB_RANGES and value is not None:
            low, high, low_open, high_open, integer = _KNOB_RANGES[key]
            check_number(key, value, low, high, low_open=low_open, high_open=high_open,
                         integer=integer, owner=f"get_optimizer({name!r})")
    config.update(kwargs)
    return cls(**config)


def optimizer_takes(name, argument):
    """Whether optimizer `name` accepts `argument` (e.g. `"momentum"`).

    Example:

    >>> optimizer_takes("rmsprop", "momentum"), optimizer_takes("adam", "momentum")
    (True, False)
    """
    import keras

    name = check_choice("optimizer", name, _OPTIMIZERS)
    cls = getattr(keras.optimizers, _OPTIMIZERS[name][0])
    return argument in inspect.signature(cls).parameters


def full_batch_size(x):
    """The batch size that makes `fit` do full-batch gradient descent on `x`.

    Args:
        x: an array, or a list/tuple/dict of arrays with one sample axis.

    Example:

    >>> import numpy as np, zoo
    >>> x, y = np.random.rand(50, 4), np.random.rand(50)
    >>> zoo.full_batch_size(x)
    50
    >>> model = zoo.build("mlp.baseline", input_shape=(4,), task="regression")
    >>> model = zoo.compile_model(model, optimizer="sgd", learning_rate=0.1)
    >>> history = model.fit(x, y, batch_size=zoo.full_batch_size(x), epochs=3, verbose=0)
    >>> len(history.history["loss"])
    3
    """
    first = next(iter(x.values())) if isinstance(x, dict) else x
    if isinstance(first, (list, tuple)) and first and hasattr(first[0], "shape"):
        first = first[0]
    try:
        size = len(first)
    except TypeError:
        raise TypeError(
            f"`x` must be an array or a list/tuple/dict of arrays; got {type(x).__name__}."
        ) from None
    if size < 1:
        raise ValueError("`x` holds no samples.")
    return size
