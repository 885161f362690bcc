"""What a model's output means: its task, and whether it gives logits.

`zoo.evaluation.evaluate` and `callbacks.SklearnMetrics` both need to know,
from a model and its labels, whether the model is binary, multiclass,
multilabel or regression, whether its outputs are probabilities or logits,
and whether the labels fit its head. `resolve_head` answers for both, from
these clues, strongest first: the head layer of a model built by
`zoo.build` (named `head_<task>`), the compiled loss, the output layer's
activation, then the labels and the output values (`zoo.core.tasks.
infer_task`). Labels that do not fit get a `ValueError` naming what was
found and what the head expects.
"""

import dataclasses

import numpy as np

from zoo.core.checks import owner_prefix
from zoo.core.tasks import TASKS, infer_task, is_01, is_integral

HEAD_PREFIX = "head_"

# Compiled loss name -> what the head must be.
_LOSS_FAMILIES = {
    "binary_crossentropy": "sigmoid",
    "binary_focal_crossentropy": "sigmoid",
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
    "categorical_focal_crossentropy": "softmax",
    "mean_squared_error": "regression",
    "mean_absolute_error": "regression",
    "mean_absolute_percentage_error": "regression",
    "mean_squared_logarithmic_error": "regression",
    "huber": "regression",
    "huber_loss": "regression",
    "log_cosh": "regression",
}


def zoo_task(model):
    """The task named by the head of a model built by `zoo.build`, or None."""
    layers = getattr(model, "layers", None) or []
    name = layers[-1].name if layers else ""
    task = name[len(HEAD_PREFIX):] if name.startswith(HEAD_PREFIX) else None
    return task if task in TASKS else None


def task_of(model):
    """The task of a model built by `zoo.build`, read from its head's name.

    Raises:
        ValueError: the model was not built by `zoo.build`.
    """
    task = zoo_task(model)
    if task is None:
        raise ValueError(
            f"Cannot tell the task of model {getattr(model, 'name', model)!r} (it was "
            f"not built by zoo.build); pass `task`, one of {list(TASKS)}."
        )
    return task


def compiled_loss(model):
    """The single loss `model` was compiled with (a loss object or function,
    names resolved by `keras.losses.get`), or None (no loss, several, or an
    unknown name)."""
    import keras

    loss = getattr(model, "loss", None)
    if isinstance(loss, dict):
        loss = list(loss.values())
    if isinstance(loss, (list, tuple)):
        loss = loss[0] if len(loss) == 1 else None
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError:
            return None
    return loss


def _loss_clue(model):
    """``(family, from_logits)`` from the compiled loss, or ``(None, None)``."""
    loss = compiled_loss(model)
    if loss is None:
        return None, None
    name = getattr(loss, "name", None) or getattr(loss, "__name__", "")
    from_logits = None
    if hasattr(loss, "get_config"):
        try:
            from_logits = loss.get_config().get("from_logits")
        except NotImplementedError:
            pass
    elif callable(loss) and name in _LOSS_FAMILIES:
        from_logits = False  # a loss *function* uses its default
    return _LOSS_FAMILIES.get(name), from_logits


def _activation_clue(model):
    """Name of the output layer's activation (``"sigmoid"``...), or ``None``.

    Only functional and Sequential Keras models expose their output layer;
    subclassed models, and objects that merely have `predict`, give None.
    """
    import keras

    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs or len(outputs) != 1:
        return None
    layer = outputs[0]._keras_history.operation
    if isinstance(layer, keras.Model):
        return _activation_clue(layer)
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None)


@dataclasses.dataclass
class Head:
    """A resolved model head and its labels.

    ``labels`` is normalised for scikit-learn: integer classes of shape
    ``(n,)`` for binary and multiclass, a 0/1 matrix ``(n, k)`` for
    multilabel, floats shaped like the given labels for regression.
    """

    task: str
    units: int
    from_logits: bool
    labels: np.ndarray

    @property
    def n_classes(self):
        return 2 if self.task == "binary" else self.units


def _values(y):
    """Short description of the distinct values in ``y`` for messages."""
    values = np.unique(np.asarray(y, dtype=np.float64))
    if len(values) <= 6:
        shown = ", ".join(f"{v:g}" for v in values)
    else:
        shown = f"{values.min():g} ... {values.max():g}"
    return f"{len(values)} distinct values ({shown})"


class _Fit:
    """Builds the error for labels that do not fit the head."""

    def __init__(self, task, units, activation, name, owner):
        self.task, self.name = task, name
        self.head = f"{units} unit{'s' if units != 1 else ''}"
        if activation:
            self.head += f", {activation} activation"
        self.start = f"{owner}: labels" if owner else "Labels"

    def error(self, found, expected):
        return ValueError(
            f"{self.start} `{self.name}` do not fit the model (task={self.task!r}, "
            f"model head: {self.head}). Found {found}; expected {expected}. Fix "
            f"`{self.name}` or the model's last layer, or pass `task` explicitly "
            f"(one of {list(TASKS)})."
        )


def _class_labels(task, units, y, fit):
    """Integer class labels ``(n,)`` from integer or one-hot ``y``."""
    n_classes = 2 if task == "binary" else units
    if y.ndim == 2 and y.shape[1] > 1:
        if y.shape[1] != units or (task == "binary" and units != 2):
            expected = (
                "labels in {0, 1} of shape (n,) or (n, 1) for a 1-unit head"
                if units == 1
                else f"integer labels or one-hot labels of width {units}"
            )
            raise fit.error(f"one-hot labels of width {y.shape[1]}", expected)
        if np.any(y < 0) or not np.allclose(y.sum(axis=1), 1.0):
            raise fit.error("2-D labels whose rows are not one-hot",
                            "one-hot (or probability) rows that sum to 1")
        return np.argmax(y, axis=1)
    y = y.reshape(len(y))
    if not is_integral(y) or y.min() < 0 or y.max() >= n_classes:
        expected = (
            "labels in {0, 1}" if task == "binary"
            else f"integer labels in 0 ... {n_classes - 1} (one class per output unit)"
        )
        raise fit.error(f"labels with {_values(y)}", expected)
    return y.astype(np.int64)


def resolve_head(y, outputs, task="auto", from_logits=None, model=None, *,
                 labels_name="y", owner=None):
    """Resolve the task, check and normalise the labels, tell logits apart.

    Args:
        y: all the labels, numeric, as a NumPy array.
        outputs: the model's outputs, for all of `y` or its first rows; or
            an object with their `shape` that gives the values through
            `np.asarray` when asked, read only when the clues above leave
            the task or logits open (a lazy probe: `callbacks.SklearnMetrics`).
        task: `"auto"` or one of `TASKS`.
        from_logits: `None` to infer, else whether `outputs` are logits.
        model: the model, for its clues (head name, loss, activation);
            `None` when only its outputs are known.
        labels_name: what to call `y` in errors (`"y_val"`, `"y_test"`).
        owner: the class or function to name first in errors.

    Returns:
        A `Head`.

    Raises:
        ValueError: `y` does not fit the head, or `outputs` are several
            (a list, tuple or dict: a multi-output model).

    Example:

    >>> head = resolve_head(np.array([0, 2, 1]), np.full((3, 3), 1 / 3))
    >>> head.task, head.n_classes, head.from_logits
    ('multiclass', 3, False)
    """
    if isinstance(outputs, (list, tuple, dict)):
        raise ValueError(f"{owner_prefix(owner)}the model has {len(outputs)} "
                         "outputs; only single-output models are supported.")
    units = int(np.prod(np.shape(outputs)[1:], dtype=np.int64))  # values not read
    family, loss_logits = _loss_clue(model) if model is not None else (None, None)
    activation = _activation_clue(model) if model is not None else None
    if activation == "softmax" or (family is None and activation == "sigmoid"):
        family = activation  # a quadratic cost on a softmax is still a classifier
    elif family == "regression" and activation == "sigmoid":
        family = None  # a quadratic cost on a sigmoid: the labels decide
    if task == "auto":
        task = zoo_task(model) if model is not None else None
        task = task or infer_task(y, units, family, outputs)
    fit = _Fit(task, units, activation, labels_name, owner)

    if task == "binary" and units not in (1, 2):
        raise fit.error(f"an output of {units} units",
                        "1 unit (sigmoid) or 2 units (softmax) for binary labels")
    if task == "multiclass" and units < 2:
        raise fit.error(f"labels with {_values(y)} and a 1-unit output",
                        "one output unit per class (e.g. Dense(n_classes, "
                        "activation='softmax'))")
    if task in ("binary", "multiclass"):
        labels = _class_labels(task, units, y, fit)
    elif task == "multilabel":
        if y.ndim != 2 or y.shape[1] != units or not is_01(y):
            raise fit.error(f"labels of shape {y.shape} with {_values(y)}",
                            f"a 0/1 matrix of shape (n, {units})")
        labels = y.astype(np.int64)
    else:
        if y.reshape(len(y), -1).shape[1] != units:
            raise fit.error(f"regression targets of shape {y.shape}",
                            f"{units} target value(s) per sample")
        labels = y.astype(np.float64)

    if task == "regression":
        from_logits = False
    elif from_logits is None:
        if activation in ("sigmoid", "softmax"):
            from_logits = False
        elif activation is not None:
            from_logits = True  # e.g. a linear head trained on logits
        elif loss_logits is not None:
            from_logits = bool(loss_logits)
        else:
            outputs = np.asarray(outputs)
            from_logits = bool(np.any((outputs < 0) | (outputs > 1)))
    return Head(task, units, bool(from_logits), labels)
