"""The task list, task inference from labels, and what a task decides:
output units, loss, metrics, compilation.

| task         | head                    | `num_classes`          | loss                 |
|--------------|-------------------------|------------------------|----------------------|
| `binary`     | 1 sigmoid unit          | 2 (default) or 1       | binary x-entropy     |
| `multiclass` | `num_classes` softmax   | required, >= 2         | (sparse) categorical |
| `multilabel` | `num_classes` sigmoid   | required, >= 1         | binary x-entropy     |
| `regression` | `num_classes` linear    | targets (default 1)    | mean squared error   |
"""

import numpy as np

from zoo.core.checks import check_choice, check_int

TASKS = ("binary", "multiclass", "multilabel", "regression")
OUTPUT_ACTIVATIONS = {
    "binary": "sigmoid",
    "multiclass": "softmax",
    "multilabel": "sigmoid",
    "regression": "linear",
}
# What a head's loss or activation says -> task, given the output width.
_FAMILY_TASKS = {
    "sigmoid": lambda units: "binary" if units == 1 else "multilabel",
    "softmax": lambda units: "binary" if units == 2 else "multiclass",
    "regression": lambda units: "regression",
}
FAMILIES = tuple(_FAMILY_TASKS)


def check_task(task):
    return check_choice("task", task, TASKS)


def is_01(y):
    """Whether `y` is non-empty and holds only 0 and 1."""
    return np.size(y) > 0 and bool(np.isin(y, (0, 1)).all())


def is_integral(y):
    """Whether every value of the numeric array `y` is a whole number."""
    y = np.asarray(y)
    return y.dtype.kind in "biu" or bool(np.all(np.mod(y, 1) == 0))


def is_one_hot(y):
    """Whether `y` is 0/1 rows `(n, k)`, `k > 1`, with exactly one 1 each."""
    y = np.asarray(y)
    return y.ndim == 2 and y.shape[1] > 1 and is_01(y) and bool((y.sum(axis=1) == 1).all())


def count_classes(y):
    """Classes of 1-D labels: `max + 1` for ids `0..k-1`, else distinct values.

    >>> count_classes(np.array([0, 2, 2])), count_classes(np.array(["a", "b"]))
    (3, 2)
    """
    y = np.asarray(y)
    if y.dtype.kind in "biu" and y.size and y.min() >= 0:
        return int(y.max()) + 1
    return len(np.unique(y))


def _independent_probabilities(outputs):
    """Outputs in [0, 1] whose rows do not sum to 1: independent sigmoids."""
    s = np.asarray(outputs, dtype=np.float64)
    s = s.reshape(len(s), -1)
    return bool(((s >= 0) & (s <= 1)).all()) and not np.allclose(s.sum(axis=1), 1, atol=1e-3)


def infer_task(y, units=None, family=None, outputs=None):
    """The task that labels `y` call for, given what is known of the model.

    The one task inference of the package: `zoo.data.from_arrays` calls it
    with the labels alone, `zoo.evaluation.evaluate` and
    `callbacks.SklearnMetrics` (through `zoo.core.heads.resolve_head`) with
    the model's output width and clues. Clues, strongest first:

    1. `family`, what the model's loss or output activation says (one of
       `FAMILIES`): sigmoid is binary for 1 unit, else multilabel; softmax
       is binary for 2 units, else multiclass; regression is regression.
    2. The labels. 0/1 rows `(n, k)`: multilabel, unless they are one-hot,
       which is multiclass (binary for a 2-unit head) unless `outputs`
       look like independent sigmoids (in [0, 1], rows not summing to 1).
       1-D labels (or an `(n, 1)` column, with a model): text and whole
       numbers are class ids, binary for two classes (0/1 on a 1-unit
       head, any labels on a 2-unit head), else multiclass; fractional
       values, and whole numbers other than 0/1 on a 1-unit head, are
       regression targets.
    3. Without a model (`units=None`), float labels are regression targets
       even when whole (use ints for class ids), and an `(n, 1)` column is
       one regression target.

    Args:
        y: labels, as a NumPy array or array-like.
        units: the model's output width, or `None` without a model.
        family: `"sigmoid"`, `"softmax"`, `"regression"` or `None`.
        outputs: the model's outputs for `y` (or its first rows), or `None`.

    Returns:
        One of `TASKS`. Whether `y` really fits that task is checked by
        the caller (see `zoo.core.heads.resolve_head`).

    Example:

    >>> infer_task(np.array([0, 1, 1])), infer_task(np.array([0.5, 1.5]))
    ('binary', 'regression')
    >>> infer_task(np.eye(3)[[0, 2, 1]]), infer_task(np.array([[1, 1], [0, 1]]))
    ('multiclass', 'multilabel')
    >>> infer_task(np.array([0, 1, 2]), units=3, family="sigmoid")
    'multilabel'
    """
    y = np.asarray(y)
    if family is not None:
        return _FAMILY_TASKS[check_choice("family", family, FAMILIES)](units)
    if units is not None and y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and y.shape[1] > 1 and is_01(y):
        if not is_one_hot(y) or (outputs is not None and _independent_probabilities(outputs)):
            return "multilabel"
        return "binary" if units == 2 else "multiclass"
    if y.ndim != 1:
        return "regression"
    if y.dtype.kind in "US":
        return "binary" if count_classes(y) <= 2 else "multiclass"
    if units is None:
        if y.dtype.kind not in "biu":
            return "regression"
        return "binary" if count_classes(y) <= 2 else "multiclass"
    if not is_integral(y) or (units == 1 and not is_01(y)):
        return "regression"
    return "binary" if units <= 2 else "multiclass"


def output_units(task, num_classes):
    """Number of output units for `task` given the user's `num_classes`."""
    task = check_task(task)
    if task == "binary":
        if num_classes is None:
            return 1
        if isinstance(num_classes, bool) or num_classes not in (1, 2):
            raise ValueError(
                f"`num_classes` must be 2 or 1 for task='binary' (one sigmoid unit); "
                f"got {num_classes!r}. For more classes use task='multiclass' or "
                "task='multilabel'."
            )
        return 1
    if num_classes is None:
        if task == "regression":
            return 1
        raise ValueError(
            f"`num_classes` is required for task={task!r}: an integer >= "
            f"{2 if task == 'multiclass' else 1}."
        )
    return check_int("num_classes", num_classes, minimum=2 if task == "multiclass" else 1)


def loss_for_task(task, one_hot=False):
    """The Keras loss for `task`.

    Args:
        task: one of `"binary"`, `"multiclass"`, `"multilabel"`, `"regression"`.
        one_hot: multiclass only: labels are one-hot rows instead of integers.
    """
    import keras

    task = check_task(task)
    if task in ("binary", "multilabel"):
        return keras.losses.BinaryCrossentropy()
    if task == "multiclass":
        if one_hot:
            return keras.losses.CategoricalCrossentropy()
        return keras.losses.SparseCategoricalCrossentropy()
    return keras.losses.MeanSquaredError()


_LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                 "mape": "mean_absolute_percentage_error",
                 "msle": "mean_squared_logarithmic_error", "kld": "kl_divergence",
                 "bce": "binary_crossentropy"}


def check_loss(loss, task, one_hot=False):
    """The loss `compile_model` gives Keras: `loss_for_task` for `None`, else
    `loss` checked.

    A name must be one of Keras's loss functions (`keras.losses.<name>`) or
    an abbreviation (`"mse"`, `"mae"`, ...); a `keras.losses.Loss` or any
    callable `loss(y_true, y_pred)` is passed on. For `task="multiclass"` a
    name must also fit the labels: integer labels need
    `"sparse_categorical_crossentropy"`, one-hot labels (`one_hot=True`)
    any other loss. (Keras would broadcast `(n,)` labels against `(n, k)`
    outputs and train on a meaningless loss without a word.)

    Example:

    >>> check_loss("MSE", "multiclass", one_hot=True)
    'mean_squared_error'
    """
    import keras

    if loss is None:
        return loss_for_task(task, one_hot=one_hot)
    if isinstance(loss, keras.losses.Loss) or (callable(loss) and not isinstance(loss, str)):
        return loss
    names = [n for n in dir(keras.losses) if n.islower() and not n.startswith("_")
             and n not in ("get", "serialize", "deserialize")]
    if not isinstance(loss, str):
        raise TypeError(f"`loss` must be a loss name, a keras.losses.Loss or a callable "
                        f"loss(y_true, y_pred); got {loss!r} of type {type(loss).__name__}.")
    name = check_choice("loss", loss, names, _LOSS_ALIASES)
    if check_task(task) == "multiclass" and one_hot == name.startswith("sparse_"):
        raise ValueError(
            f"`loss`={loss!r} does not fit {'one-hot' if one_hot else 'integer'} labels "
            "for task='multiclass': integer labels need 'sparse_categorical_crossentropy'; "
            "other losses compare the outputs with one-hot rows, so pass one_hot=True and "
            "one-hot labels (keras.utils.to_categorical)."
        )
    return name


def metrics_for_task(task, one_hot=False):
    """Fresh Keras metrics for `task`, named `accuracy`/`auc` or `mae`/`rmse`."""
    import keras

    task = check_task(task)
    m = keras.metrics
    if task == "binary":
        return [m.BinaryAccuracy(name="accuracy"), m.AUC(name="auc")]
    if task == "multilabel":
        return [m.BinaryAccuracy(name="accuracy"), m.AUC(name="auc", multi_label=True)]
    if task == "multiclass":
        accuracy = m.CategoricalAccuracy if one_hot else m.SparseCategoricalAccuracy
        return [accuracy(name="accuracy")]
    return [m.MeanAbsoluteError(name="mae"), m.RootMeanSquaredError(name="rmse")]


def _check_head_task(model, task):
    """A `task` given to `compile_model` must be the one `zoo.build` made the head for."""
    from zoo.core.heads import zoo_task

    head = zoo_task(model)
    units = model.output_shape[-1] if head else None
    if head is None or head == task or ({head, task} == {"binary", "multilabel"}
                                        and units == 1):
        return
    raise ValueError(
        f"compile_model: `task`={task!r} does not match the model's head, built by "
        f"zoo.build for task={head!r} ({units} {OUTPUT_ACTIVATIONS[head]} unit(s)); "
        f"allowed: task={head!r} or 'auto', or build the model with task={task!r}.")


def compile_model(
    model,
    task="auto",
    optimizer="adam",
    learning_rate=None,
    *,
    one_hot=False,
    metrics=None,
    loss=None,
    **optimizer_kwargs,
):
    """Compile `model` with the loss and metrics its task calls for.

    Args:
        model: a `keras.Model`.
        task: `"auto"` (default) reads it from the head of a model built
            by `zoo.build`; otherwise one of `TASKS`. `None` means `"auto"`.
        optimizer: an optimizer name (see `zoo.list_optimizers()`) or a
            `keras.optimizers.Optimizer` instance.
        learning_rate: float or schedule; `None` keeps the optimizer's default.
        one_hot: multiclass only: labels are one-hot rows, not integers.
        metrics: metrics to use instead of `metrics_for_task(task)`.
        loss: a loss to use instead of `loss_for_task(task)`: a Keras loss
            name (`"mse"`, `"categorical_crossentropy"`, ...), a
            `keras.losses.Loss` or a callable; checked by `check_loss`.
        **optimizer_kwargs: passed to `zoo.get_optimizer` (`momentum`,
            `weight_decay`, `clipnorm`, ...).

    Returns:
        The same model, compiled.

    Example:

    >>> import zoo
    >>> model = zoo.build("mlp.baseline", input_shape=(4,), num_classes=3)
    >>> model = zoo.compile_model(model, optimizer="nag", learning_rate=0.05)
    >>> model.loss.name, type(model.optimizer).__name__, model.optimizer.nesterov
    ('sparse_categorical_crossentropy', 'SGD', True)
    """
    import keras

    from zoo.core.heads import task_of
    from zoo.models.optimizers import get_optimizer

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; got {type(model).__name__}.")
    task = "auto" if task is None else check_choice("task", task, ("auto", *TASKS))
    if task == "auto":
        task = task_of(model)
    _check_head_task(model, task)
    loss = check_loss(loss, task, one_hot=one_hot)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if learning_rate is not None or optimizer_kwargs:
            raise ValueError(
                "`learning_rate` and optimizer options only apply when `optimizer` "
                "is a name; configure the Optimizer instance instead."
            )
    else:
        optimizer = get_optimizer(optimizer, learning_rate=learning_rate, **optimizer_kwargs)
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=metrics_for_task(task, one_hot=one_hot) if metrics is None else metrics,
    )
    return model
