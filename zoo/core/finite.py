"""Refuse NaN/Inf input before it reaches a model, and NaN/Inf weights
before they reach a file.

A single NaN in the inputs turns every loss into NaN a few steps into
training, with no hint of where it came from. ``check_finite`` names the
offending rows up front instead. ``non_finite_weights`` names the weights of
a diverged model, so that a backup or a saved model is never replaced by
one.
"""

import numpy as np

_SHOWN_ROWS = 10


def bad_rows(a):
    """Indices of the rows of ``a`` (along axis 0) holding NaN or +/-Inf.

    Non-float arrays (ints, bools) cannot hold NaN and give an empty result.
    """
    a = np.asarray(a)
    if a.ndim == 0:
        raise ValueError("Expected an array with a row axis, got a scalar.")
    if not np.issubdtype(a.dtype, np.inexact):
        return np.zeros(0, dtype=np.int64)
    finite = np.isfinite(a.reshape(len(a), -1)).all(axis=1)
    return np.flatnonzero(~finite)


def describe_rows(name, rows, what="rows", problem="NaN or Inf"):
    """``'x has 3 rows with NaN or Inf (rows 4, 17, 90)'``, shortened after 10.

    ``rows`` may hold any labels, e.g. weight names with ``what="weights"``.
    """
    shown = ", ".join(str(r) for r in rows[:_SHOWN_ROWS])
    if len(rows) > _SHOWN_ROWS:
        shown += f", ... ({len(rows) - _SHOWN_ROWS} more)"
    plural = what if len(rows) != 1 else what.rstrip("s")
    return f"{name} has {len(rows)} {plural} with {problem} ({plural} {shown})"


def check_finite(x, y=None, name="x"):
    """Raise ``ValueError`` if ``x`` (or ``y``) holds NaN or Inf.

    Rows are counted along the first axis, so an image or a sequence with a
    single bad value counts as one bad row. Row numbers are 0-based indices.

    Args:
        x: array-like of numbers, samples along the first axis.
        y: optional targets, checked the same way (reported as ``"y"``).
        name: what to call ``x`` in the message.

    Raises:
        TypeError: ``x`` is not numeric (e.g. strings or objects).
        ValueError: some rows hold NaN or Inf, or ``x`` and ``y`` differ in
            length.

    Example:

    >>> import numpy as np
    >>> check_finite(np.ones((4, 2)))
    >>> check_finite(np.array([[1.0], [np.nan]]))
    Traceback (most recent call last):
    ...
    ValueError: x has 1 row with NaN or Inf (row 1); allowed: finite values only (drop or impute those rows).
    """
    arrays = [(name, x)] if y is None else [(name, x), ("y", y)]
    for label, a in arrays:
        a = np.asarray(a)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            if label == "y" and a.dtype.kind in "US":
                continue  # string class labels are fine and cannot be NaN
            raise TypeError(
                f"{label} must be numeric, got an array of dtype {a.dtype}."
            )
        rows = bad_rows(a)
        if len(rows):
            raise ValueError(f"{describe_rows(label, rows)}; allowed: finite values "
                             "only (drop or impute those rows).")
    if y is not None and len(np.asarray(x)) != len(np.asarray(y)):
        raise ValueError(
            f"{name} and y must have the same number of rows, got "
            f"{len(np.asarray(x))} and {len(np.asarray(y))}."
        )


def non_finite_weights(model):
    """Names (paths) of `model`'s weights that hold NaN or Inf, in model order.

    Over ``all(np.isfinite(w).all() for w in model.get_weights())`` this
    says which weights went bad, e.g. ``"net/hidden/kernel"``, which tells where
    training diverged. Every weight counts, trainable or not (e.g.
    BatchNormalization statistics).

    Args:
        model: a built `keras.Model` (or layer).

    Returns:
        A list of weight paths; empty when every weight is finite.

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="out")],
    ...                          name="net")
    >>> non_finite_weights(model)
    []
    >>> _ = model.layers[0].bias.assign([float("nan")])
    >>> non_finite_weights(model)
    ['net/out/bias']
    >>> describe_rows("the model", non_finite_weights(model), what="weights")
    'the model has 1 weight with NaN or Inf (weight net/out/bias)'
    """
    bad = []
    for variable in model.weights:
        value = np.asarray(variable.numpy())
        if np.issubdtype(value.dtype, np.inexact) and not np.isfinite(value).all():
            bad.append(getattr(variable, "path", None) or variable.name)
    return bad
