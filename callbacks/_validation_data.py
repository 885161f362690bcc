"""``SklearnMetrics``' check of its ``validation_data`` argument.

What the labels mean for the model's head is decided in ``zoo.core.heads``;
this only checks, at construction, that ``(x_val, y_val)`` are arrays that
can be scored.
"""

import keras
import numpy as np


def check_validation_data(validation_data):
    """`(x_val, y_val)` as given, y_val as a NumPy array; raises on bad input."""
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
            "SklearnMetrics: `y_val` must be numeric (integer class ids, a "
            "one-hot or 0/1 matrix, or regression targets); got dtype "
            f"{y.dtype}. Encode text labels first, e.g. with "
            "sklearn.preprocessing.LabelEncoder."
        )
    if y.ndim == 0 or len(y) == 0:
        raise ValueError("SklearnMetrics: `y_val` must hold at least one sample.")
    if not np.all(np.isfinite(y)):
        raise ValueError("SklearnMetrics: `y_val` contains NaN or inf values.")
    leaves = keras.tree.flatten(x)
    if not leaves or any(not hasattr(leaf, "shape") for leaf in leaves):
        raise TypeError(
            "SklearnMetrics: `x_val` must be an array (or a list/dict of arrays "
            f"for a multi-input model); got {type(x).__name__}."
        )
    if any(len(leaf) != len(y) for leaf in leaves):
        raise ValueError(
            f"SklearnMetrics: `x_val` has {len(leaves[0])} samples but y_val has "
            f"{len(y)}; they must match."
        )
    return x, y
