"""Refuse training data that does not fit the model, before the first step.

Keras finds most of these only inside the first training step, as a raw
TensorFlow error (labels >= the number of classes, one-hot labels against
a sparse loss, 3-D labels, token ids >= the vocabulary), or never: negative
token ids and negative class ids of some losses train silently, float
token ids are truncated and NaN inputs give a NaN loss. `check_fit_data`
reads what the model expects from the model itself (its head, its compiled
loss, its `Embedding`) and names the argument, the number of offending rows,
the first of them, and what is allowed:

    find_learning_rate: `y` has 2 rows with class ids >= 3 (rows 4, 9);
    allowed: integer labels in 0 ... 2 (class ids), one per unit of the
    model's 3-unit head.

It is the one data check of the package: `zoo.data`, `evaluate`,
`run_search`, `find_learning_rate` and `SklearnMetrics` call it.
"""

import numpy as np

from zoo.core.checks import owner_prefix
from zoo.core.finite import describe_rows

_SPARSE = ("sparse_categorical_crossentropy",)
_CATEGORICAL = ("categorical_crossentropy", "categorical_focal_crossentropy",
                "categorical_hinge", "kl_divergence")


def _refuse(owner, name, rows, problem, allowed):
    text = describe_rows(f"`{name}`", rows, problem=problem)
    return ValueError(f"{owner_prefix(owner)}{text}; allowed: {allowed}.")


def as_array(value):
    """`value` as a NumPy array when it is array data (not a dataset), else None."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy") and hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.asarray(value)  # an eager tensor
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, float, np.number, list, tuple)) for v in value):
        try:
            return np.asarray(value)
        except ValueError:  # ragged lists
            return None
    return None


def check_rows(x, name="x", owner=None):
    """`x` is numeric and holds at least one sample (a row axis)."""
    if x is None:
        raise TypeError(f"{owner_prefix(owner)}`{name}` is required: an array with one "
                        "sample per row; got None.")
    a = np.asarray(x)
    if a.ndim == 0:
        raise ValueError(f"{owner_prefix(owner)}`{name}` must be an array with one sample "
                         f"per row; got a scalar {x!r}.")
    if len(a) == 0:
        raise ValueError(f"{owner_prefix(owner)}`{name}` holds no samples (shape "
                         f"{a.shape}); allowed: at least one row.")
    return a


def check_label_rank(y, name="y", owner=None):
    """Labels are 1-D (ids, targets) or 2-D (one-hot, multi-hot, several targets)."""
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(
            f"{owner_prefix(owner)}`{name}` has shape {y.shape}; allowed: 1-D labels "
            "(n,) (class ids or targets) or 2-D labels (n, k) (one-hot or 0/1 rows, "
            "or k regression targets). Reshape it, e.g. y.reshape(len(y), -1).")
    return y


def check_class_ids(y, num_classes, name="y", owner=None, head=""):
    """Integer class ids `0 ... num_classes - 1`, one per row of `y`.

    Args:
        y: `(n,)` or `(n, 1)` labels.
        num_classes: how many classes the model has.
        name: the argument, shown in backticks.
        owner: the function or class named first.
        head: what decides `num_classes`, e.g. "the model's 3-unit softmax head".

    Example:

    >>> check_class_ids(np.array([0, 2, 1]), 3)
    >>> check_class_ids(np.array([0, 3, -1, 3]), 3, owner="fit")
    Traceback (most recent call last):
    ...
    ValueError: fit: `y` has 1 row with negative class ids (row 2); allowed: integer labels in 0 ... 2 (class ids).
    """
    y = np.asarray(y).reshape(len(y), -1)[:, 0] if np.ndim(y) == 2 else np.asarray(y)
    allowed = f"integer labels in 0 ... {num_classes - 1} (class ids)" + (
        f", {head}" if head else "")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{owner_prefix(owner)}`{name}` must hold numbers; got dtype {y.dtype}; "
                        f"allowed: {allowed} (encode text labels first).")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (np.mod(np.nan_to_num(y), 1) != 0))
        if len(bad):
            raise _refuse(owner, name, bad, "non-integer class ids", allowed)
    for mask, problem in ((y < 0, "negative class ids"),
                          (y >= num_classes, f"class ids >= {num_classes}")):
        bad = np.flatnonzero(mask)
        if len(bad):
            raise _refuse(owner, name, bad, problem, allowed)


def check_token_ids(x, vocab_size, name="x", owner=None):
    """Whole-number token ids in `0 ... vocab_size - 1` (padding 0 included).

    Example:

    >>> check_token_ids(np.array([[1, 2], [3, 0]]), 4)
    >>> check_token_ids(np.array([[1, 2], [4, 0]]), 4)
    Traceback (most recent call last):
    ...
    ValueError: `x` has 1 row with token ids >= vocab_size=4 (row 1); allowed: whole-number token ids 0 ... 3 (the model's Embedding has input_dim=4).
    """
    x = np.asarray(x)
    allowed = (f"whole-number token ids 0 ... {vocab_size - 1} (the model's Embedding "
               f"has input_dim={vocab_size})")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{owner_prefix(owner)}`{name}` must hold token ids; got dtype "
                        f"{x.dtype}; allowed: {allowed}.")
    flat = x.reshape(len(x), -1)
    checks = [(flat < 0, "negative token ids"),
              (flat >= vocab_size, f"token ids >= vocab_size={vocab_size}")]
    if x.dtype.kind == "f":
        checks.insert(0, (~np.isfinite(flat) | (np.mod(np.nan_to_num(flat), 1) != 0),
                          "non-integer (float) token ids"))
    for mask, problem in checks:
        bad = np.flatnonzero(mask.any(axis=1))
        if len(bad):
            raise _refuse(owner, name, bad, problem, allowed)


def check_finite_rows(x, name="x", owner=None):
    """No NaN or Inf in float array `x`; the message counts and names the rows."""
    x = np.asarray(x)
    if x.dtype.kind not in "fc" or len(x) == 0:
        return
    bad = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
    if len(bad):
        raise _refuse(owner, name, bad, "NaN or Inf", "finite numbers only (drop or "
                      "impute those rows)")


def vocab_size_of(model):
    """`input_dim` of the model's first `keras.layers.Embedding`, or None."""
    import keras

    for layer in getattr(model, "layers", None) or []:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    return None


def _loss_name(model):
    from zoo.core.heads import compiled_loss

    loss = compiled_loss(model)
    return getattr(loss, "name", None) or getattr(loss, "__name__", None)


def head_of(model):
    """`(kind, units, loss name)` of a single-output model, or None.

    `kind` is `"classes"` (softmax or sparse/categorical loss: class ids or
    one-hot rows), `"binary"` (one sigmoid unit), `"multilabel"` (several
    sigmoid units) or `"regression"`; units is the output width.
    """
    from zoo.core.heads import _activation_clue, zoo_task

    try:
        shape = model.output_shape
    except (AttributeError, ValueError):
        return None
    if not isinstance(shape, tuple) or len(shape) != 2 or shape[-1] is None:
        return None
    units, loss = int(shape[-1]), _loss_name(model)
    task = zoo_task(model)
    activation = _activation_clue(model)
    if loss in _SPARSE or loss in _CATEGORICAL or activation == "softmax" \
            or task == "multiclass":
        kind = "classes" if units > 1 else None
    elif task in ("binary", "multilabel", "regression"):
        kind = task
    elif activation == "sigmoid" or loss in ("binary_crossentropy",
                                             "binary_focal_crossentropy"):
        kind = "binary" if units == 1 else "multilabel"
    else:
        kind = "regression" if loss is not None or activation == "linear" else None
    return (kind, units, loss) if kind else None


def _check_labels(model, y, name, owner, by_loss):
    y = check_label_rank(y, name, owner)
    head = head_of(model)
    if head is None or y.dtype.kind not in "biuf":
        return
    kind, units, loss = head
    check_finite_rows(y, name, owner)
    wide = y.ndim == 2 and y.shape[1] > 1
    if kind == "classes":
        what = f"one per unit of the model's {units}-unit head"
        if wide and by_loss and loss in _SPARSE:
            raise ValueError(
                f"{owner_prefix(owner)}`{name}` holds one-hot rows (shape {y.shape}) but the "
                f"model's loss is {loss!r}, which takes integer class ids; allowed: "
                f"class ids 0 ... {units - 1} of shape (n,): pass {name}.argmax(axis=1), "
                "or compile with 'categorical_crossentropy' (zoo.compile_model(..., "
                "one_hot=True)).")
        if wide and y.shape[1] != units:
            raise ValueError(
                f"{owner_prefix(owner)}`{name}` has one-hot labels of width {y.shape[1]}; "
                f"allowed: width {units}, {what}, or class ids 0 ... {units - 1}.")
        if not wide and by_loss and loss in _CATEGORICAL:
            raise ValueError(
                f"{owner_prefix(owner)}`{name}` holds class ids (shape {y.shape}) but the "
                f"model's loss is {loss!r}, which takes one-hot rows; allowed: one-hot "
                f"rows of width {units} (keras.utils.to_categorical({name}, {units})), "
                "or compile with 'sparse_categorical_crossentropy'.")
        if not wide:
            check_class_ids(y, units, name, owner, what)
    elif kind in ("binary", "multilabel"):
        width = y.shape[1] if y.ndim == 2 else 1
        if width != units:
            raise ValueError(
                f"{owner_prefix(owner)}`{name}` has shape {y.shape}: {width} label(s) per row; "
                f"allowed: shape (n, {units}), one label per unit of the model's "
                f"{units}-unit sigmoid head.")
        bad = np.flatnonzero(((y < 0) | (y > 1)).reshape(len(y), -1).any(axis=1))
        if len(bad):
            more = "" if kind == "multilabel" else (
                f"; `{name}` has {len(np.unique(y))} distinct values: for that many "
                "classes, give the model one output unit per class (e.g. "
                "Dense(n_classes, activation='softmax'))")
            raise _refuse(owner, name, bad, "labels outside [0, 1]",
                          "labels in {0, 1} (or probabilities in [0, 1]) for a sigmoid "
                          "head" + more)


def check_fit_data(model, x, y=None, *, x_name="x", y_name="y", owner=None, by_loss=True):
    """Refuse `x`/`y` that `model` cannot train or be scored on.

    Checks array data (datasets and generators pass unchecked): NaN/Inf in
    `x`, token ids against the model's `Embedding`, the labels' rank, and
    labels against the head and compiled loss (class ids `0 ... k - 1` for
    a softmax head, one-hot rows only for a categorical loss and never for
    a sparse one, 0/1 labels of the right width for a sigmoid head).

    Args:
        model: a built `keras.Model` (compiled or not).
        x, y: the inputs and labels (`y=None` checks `x` only).
        x_name, y_name: the arguments, as named in messages.
        owner: the function or class named first.
        by_loss: also check the labels' form against the compiled loss (for
            training; scoring takes class ids and one-hot rows alike).

    Raises:
        ValueError, TypeError: naming the argument, the count and first
            offending rows, and what is allowed.

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    >>> check_fit_data(model, np.zeros((3, 2)), np.array([0, 1, 3]), owner="fit")
    Traceback (most recent call last):
    ...
    ValueError: fit: `y` has 1 row with class ids >= 3 (row 2); allowed: integer labels in 0 ... 2 (class ids), one per unit of the model's 3-unit head.
    """
    xa = as_array(x)
    if xa is not None and xa.ndim > 0:
        vocab = vocab_size_of(model)
        if vocab is not None and len(getattr(model, "inputs", None) or []) == 1:
            check_token_ids(xa, vocab, x_name, owner)
        elif xa.dtype.kind in "fc":
            check_finite_rows(xa, x_name, owner)
    ya = as_array(y)
    if ya is None or ya.ndim == 0:
        return
    if xa is not None and xa.ndim > 0 and len(xa) != len(ya):
        raise ValueError(f"{owner_prefix(owner)}`{x_name}` has {len(xa)} rows but `{y_name}` "
                         f"has {len(ya)}; allowed: one label per row of `{x_name}`.")
    _check_labels(model, ya, y_name, owner, by_loss)
