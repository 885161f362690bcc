"""What a model's head predicts, and what its validation labels mean.

``SklearnMetrics`` needs to know, before the first training step, whether a
model is a binary, multiclass, multilabel or regression model, whether its
outputs are probabilities or logits, and whether the validation labels fit
that head. This module answers from three clues, strongest first: the
compiled loss, the activation of the output layer, and the labels
themselves; it raises a ``ValueError`` naming what was found and what was
expected when the labels and the head disagree.
"""

import dataclasses

import keras
import numpy as np
from scipy import special

TASKS = ("binary", "multiclass", "multilabel", "regression")

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


@dataclasses.dataclass
class Head:
    """A resolved model head and its validation labels.

    ``labels`` is normalised for scikit-learn: integer classes of shape
    ``(n,)`` for binary and multiclass, a 0/1 matrix ``(n, k)`` for
    multilabel, floats shaped like the model output for regression.
    """

    task: str
    units: int
    from_logits: bool
    labels: np.ndarray

    @property
    def n_classes(self):
        return 2 if self.task == "binary" else self.units


def check_validation_data(validation_data):
    if not isinstance(validation_data, (tuple, list)):
        raise TypeError(
            "SklearnMetrics: `validation_data` must be a tuple (x_val, y_val) "
            f"of arrays; got {type(validation_data).__name__}."
        )
    if len(validation_data) != 2:
        raise ValueError(
            "SklearnMetrics: `validation_data` must be (x_val, y_val) "
            f"(sample weights are not supported); got {len(validation_data)} "
            "elements."
        )
    x, y = validation_data
    y = np.asarray(y)
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(
            "SklearnMetrics: y_val must be numeric (integer class ids, a "
            "one-hot or 0/1 matrix, or regression targets); got dtype "
            f"{y.dtype}. Encode text labels first, e.g. with "
            "sklearn.preprocessing.LabelEncoder."
        )
    if y.ndim == 0 or len(y) == 0:
        raise ValueError("SklearnMetrics: y_val must hold at least one sample.")
    if not np.all(np.isfinite(y)):
        raise ValueError("SklearnMetrics: y_val contains NaN or inf values.")
    leaves = keras.tree.flatten(x)
    if not leaves or any(not hasattr(leaf, "shape") for leaf in leaves):
        raise TypeError(
            "SklearnMetrics: x_val must be an array (or a list/dict of arrays "
            f"for a multi-input model); got {type(x).__name__}."
        )
    if any(len(leaf) != len(y) for leaf in leaves):
        raise ValueError(
            f"SklearnMetrics: x_val has {len(leaves[0])} samples but y_val has "
            f"{len(y)}; they must match."
        )
    return x, y


def _loss_clue(model):
    """``(family, from_logits)`` from the compiled loss, or ``(None, None)``."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, dict):
        loss = list(loss.values())
    if isinstance(loss, (list, tuple)):
        loss = loss[0] if len(loss) == 1 else None
    if loss is None:
        return None, None
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError:
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

    Only functional and Sequential models expose their output layer;
    subclassed models return ``None``.
    """
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


def _is_integral(y):
    return y.dtype == bool or np.all(np.mod(y, 1) == 0)


def _values(y):
    """Short description of the distinct values in ``y`` for messages."""
    values = np.unique(np.asarray(y, dtype=np.float64))
    if len(values) <= 6:
        shown = ", ".join(f"{v:g}" for v in values)
    else:
        shown = f"{values.min():g} ... {values.max():g}"
    return f"{len(values)} distinct values ({shown})"


def _guess_task(family, units, y):
    if family == "regression":
        return "regression"
    if family == "softmax":
        return "binary" if units == 2 else "multiclass"
    if family == "sigmoid":
        return "binary" if units == 1 else "multilabel"
    # No clue from the model: let the labels speak.
    if not _is_integral(y):
        return "regression"
    binary_values = np.isin(y, (0, 1)).all()
    if units == 1:
        return "binary" if binary_values else "regression"
    if y.ndim == 1 or y.shape[1:] == (1,):
        return "binary" if units == 2 else "multiclass"
    if y.shape[1:] == (units,) and binary_values:
        one_hot = np.all(y.sum(axis=1) == 1)
        if one_hot:
            return "binary" if units == 2 else "multiclass"
        return "multilabel"
    return "regression"


def _mismatch(task, head, found, expected):
    return ValueError(
        f"SklearnMetrics: validation labels y_val do not fit the model "
        f"(task={task!r}, model head: {head}). Found {found}; expected "
        f"{expected}. Fix y_val or the model's last layer, or pass `task` "
        f"explicitly (one of {TASKS})."
    )


def _class_labels(task, units, y, head):
    """Integer class labels ``(n,)`` from integer or one-hot ``y``."""
    n_classes = 2 if task == "binary" else units
    if y.ndim == 2 and y.shape[1] > 1:
        if y.shape[1] != units or (task == "binary" and units != 2):
            expected = (
                "labels in {0, 1} of shape (n,) or (n, 1) for a 1-unit head"
                if units == 1
                else f"integer labels or one-hot labels of width {units}"
            )
            raise _mismatch(
                task, head, f"one-hot labels of width {y.shape[1]}", expected
            )
        if np.any(y < 0) or not np.allclose(y.sum(axis=1), 1.0):
            raise _mismatch(
                task, head, "2-D labels whose rows are not one-hot",
                "one-hot (or probability) rows that sum to 1",
            )
        return np.argmax(y, axis=1)
    y = y.reshape(len(y))
    if not _is_integral(y) or y.min() < 0 or y.max() >= n_classes:
        expected = (
            "labels in {0, 1}" if task == "binary"
            else f"integer labels in 0 ... {n_classes - 1} "
            f"(one class per output unit)"
        )
        raise _mismatch(task, head, f"labels with {_values(y)}", expected)
    return y.astype(np.int64)


def resolve_head(model, y, prediction, task="auto", from_logits=None):
    """Resolve the task and normalise ``y`` against one ``prediction`` batch.

    Args:
        model: the compiled model being trained.
        y: all validation labels, as a NumPy array.
        prediction: the model's output for the first validation samples.
        task: ``"auto"`` or one of ``TASKS``.
        from_logits: ``None`` to infer, else whether outputs are logits.

    Returns:
        A ``Head``.

    Raises:
        ValueError: when the model has several outputs or ``y`` does not
            fit the head.
    """
    if isinstance(prediction, (list, tuple, dict)):
        raise ValueError(
            "SklearnMetrics supports models with one output; this model has "
            f"{len(prediction)} outputs."
        )
    prediction = np.asarray(prediction)
    units = int(np.prod(prediction.shape[1:], dtype=np.int64))
    family, loss_logits = _loss_clue(model)
    activation = _activation_clue(model)
    if family is None and activation in ("sigmoid", "softmax"):
        family = activation
    if task == "auto":
        task = _guess_task(family, units, y)
    head = f"{units} unit{'s' if units != 1 else ''}"
    if activation:
        head += f", {activation} activation"

    if task == "binary" and units not in (1, 2):
        raise _mismatch(
            task, head, f"an output of {units} units",
            "1 unit (sigmoid) or 2 units (softmax) for binary labels",
        )
    if task == "multiclass" and units < 2:
        raise _mismatch(
            task, head, f"labels with {_values(y)} and a 1-unit output",
            "one output unit per class (e.g. Dense(n_classes, "
            "activation='softmax'))",
        )
    if task in ("binary", "multiclass"):
        labels = _class_labels(task, units, y, head)
    elif task == "multilabel":
        if y.ndim != 2 or y.shape[1] != units or not np.isin(y, (0, 1)).all():
            raise _mismatch(
                task, head, f"labels of shape {y.shape} with {_values(y)}",
                f"a 0/1 matrix of shape (n, {units})",
            )
        labels = y.astype(np.int64)
    else:
        if y.reshape(len(y), -1).shape[1] != units:
            raise _mismatch(
                task, head, f"regression targets of shape {y.shape}",
                f"{units} target value(s) per sample",
            )
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
            from_logits = bool(np.any((prediction < 0) | (prediction > 1)))
    return Head(task, units, bool(from_logits), labels)


def scores(prediction, head, threshold=0.5):
    """``(scores, predicted labels)`` from raw model outputs.

    ``scores`` are positive-class probabilities ``(n,)`` for binary, class
    probabilities ``(n, k)`` for multiclass and multilabel, and the values
    themselves, shaped like the labels, for regression.
    """
    out = np.asarray(prediction, dtype=np.float64).reshape(len(prediction), -1)
    if head.task == "regression":
        out = out.reshape(head.labels.shape)
        return out, out
    if head.task == "multilabel":
        prob = special.expit(out) if head.from_logits else out
        return prob, (prob >= threshold).astype(np.int64)
    if head.units == 1:
        prob = special.expit(out) if head.from_logits else out
    else:
        prob = special.softmax(out, axis=1) if head.from_logits else out
        # float32 softmax rows can miss 1 by more than sklearn tolerates.
        prob = prob / prob.sum(axis=1, keepdims=True)
    if head.task == "binary":
        prob = prob[:, -1]
        return prob, (prob >= threshold).astype(np.int64)
    return prob, np.argmax(prob, axis=1)
