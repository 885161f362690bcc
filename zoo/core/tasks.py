"""What the learning task decides: output units, loss, metrics, compilation.

| task         | head                    | `num_classes`          | loss                 |
|--------------|-------------------------|------------------------|----------------------|
| `binary`     | 1 sigmoid unit          | 2 (default) or 1       | binary x-entropy     |
| `multiclass` | `num_classes` softmax   | required, >= 2         | (sparse) categorical |
| `multilabel` | `num_classes` sigmoid   | required, >= 1         | binary x-entropy     |
| `regression` | `num_classes` linear    | targets (default 1)    | mean squared error   |
"""

from zoo.core.checks import check_choice, check_int

TASKS = ("binary", "multiclass", "multilabel", "regression")
OUTPUT_ACTIVATIONS = {
    "binary": "sigmoid",
    "multiclass": "softmax",
    "multilabel": "sigmoid",
    "regression": "linear",
}


def check_task(task):
    return check_choice("task", task, TASKS)


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


def compile_model(
    model,
    task=None,
    optimizer="adam",
    learning_rate=None,
    *,
    one_hot=False,
    metrics=None,
    **optimizer_kwargs,
):
    """Compile `model` with the loss and metrics its task calls for.

    Args:
        model: a `keras.Model`.
        task: the model's task; `None` reads it from the head of a model
            built by `zoo.build`.
        optimizer: an optimizer name (see `zoo.list_optimizers()`) or a
            `keras.optimizers.Optimizer` instance.
        learning_rate: float or schedule; `None` keeps the optimizer's default.
        one_hot: multiclass only: labels are one-hot rows, not integers.
        metrics: metrics to use instead of `metrics_for_task(task)`.
        **optimizer_kwargs: passed to `zoo.get_optimizer` (`momentum`,
            `weight_decay`, `clipnorm`, ...).

    Returns:
        The same model, compiled.

    Example:

    >>> model = zoo.build("mlp.baseline", input_shape=(4,), num_classes=3)
    >>> model = zoo.compile_model(model, optimizer="nag", learning_rate=0.05)
    """
    import keras

    from zoo.models.heads import task_of
    from zoo.models.optimizers import get_optimizer

    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; got {type(model).__name__}.")
    task = task_of(model) if task is None else check_task(task)
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
        loss=loss_for_task(task, one_hot=one_hot),
        metrics=metrics_for_task(task, one_hot=one_hot) if metrics is None else metrics,
    )
    return model
