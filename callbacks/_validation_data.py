"""``SklearnMetrics``' check of its ``validation_data`` argument.

What the labels mean for the model's head is decided in ``zoo.core.heads``;
this only checks, at construction, that ``(x_val, y_val)`` are arrays that
can be scored. A finite ``tf.data.Dataset`` of ``(x, y)`` batches is read
into such arrays once, there (the scores need every prediction at once).
"""

import keras
import numpy as np

from zoo.core.data_checks import check_finite_rows, check_fit_data
from zoo.core.pipelines import is_dataset, read_arrays


def check_validation_data(validation_data):
    """`(x_val, y_val)` as given, y_val as a NumPy array; raises on bad input.

    A dataset is read into arrays (sample weights refused, as for arrays).
    """
    if is_dataset(validation_data):
        validation_data = read_arrays(validation_data, "validation_data",
                                      owner="SklearnMetrics")
    if not isinstance(validation_data, (tuple, list)):
        raise TypeError(
            "SklearnMetrics: `validation_data` must be a tuple (x_val, y_val) "
            "of arrays or a finite tf.data.Dataset of (x, y) batches; got "
            f"{type(validation_data).__name__}."
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
    check_finite_rows(y, "y_val", owner="SklearnMetrics")
    leaves = keras.tree.flatten(x)
    if not leaves or any(not hasattr(leaf, "shape") for leaf in leaves):
        raise TypeError(
            "SklearnMetrics: `x_val` must be an array (or a list/dict of arrays "
            f"for a multi-input model); got {type(x).__name__}."
        )
    if any(len(leaf) != len(y) for leaf in leaves):
        raise ValueError(
            f"SklearnMetrics: `x_val` has {len(leaves[0])} samples but y_val has "
            f"{len(y)}; allowed: one label per row of `x_val`."
        )
    for leaf in leaves:
        check_finite_rows(leaf, "x_val", owner="SklearnMetrics")
    return x, y


def probe_outputs(scorer):
    """The model's outputs on the first validation batch, once `x_val` and
    `y_val` are checked against the model (`zoo.core.data_checks`)."""
    check_fit_data(scorer.model, scorer._x, scorer._y, x_name="x_val", y_name="y_val",
                   owner="SklearnMetrics", by_loss=False)
    batch = scorer._batches.batches[0]
    # convert_to_numpy: a torch tensor that requires grad refuses np.asarray.
    return keras.ops.convert_to_numpy(scorer.model(batch, training=False))[:len(scorer._y)]
