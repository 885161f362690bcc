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
    `y_val` are checked against the model (`zoo.core.data_checks`), for
    `zoo.core.heads.resolve_head`.

    The first eager call of a model costs about 0.06 s on a small CPU, and
    the head's clues (its name, loss, activation) mostly decide without the
    values: when the batch fits the model's symbolic inputs, the outputs
    come as a `LazyOutputs` of the symbolic output's shape, called only if
    read. Otherwise (a subclassed model, several outputs, inputs that may
    not fit) the model is called here, before training, as Keras would.
    """
    check_fit_data(scorer.model, scorer._x, scorer._y, x_name="x_val", y_name="y_val",
                   owner="SklearnMetrics", by_loss=False)
    lazy = LazyOutputs(scorer.model, scorer._batches.batches[0], len(scorer._y))
    return lazy if lazy.shape is not None else lazy.values()


class LazyOutputs:
    """`model(batch)`'s first `n` rows, computed when `np.asarray` asks;
    `shape` is the symbolic output's (`None` when the batch may not fit
    the model's inputs, or it has several outputs).

    Example:

    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> lazy = LazyOutputs(model, np.zeros((4, 3)), n=2)
    >>> lazy.shape, lazy._values is None, np.asarray(lazy).shape
    ((None, 2), True, (2, 2))
    """

    def __init__(self, model, batch, n):
        self.model, self.batch, self.n = model, batch, n
        self._values = None
        self.shape = _symbolic_output_shape(model, batch)

    def values(self):
        """The outputs (a list, tuple or dict for several), computed once."""
        if self._values is None:
            out = self.model(self.batch, training=False)
            # convert_to_numpy: a torch tensor that requires grad refuses np.asarray.
            self._values = out if isinstance(out, (list, tuple, dict)) else (
                keras.ops.convert_to_numpy(out)[:self.n])
        return self._values

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values(), dtype=dtype)

    def __len__(self):
        return len(self.values())


def _symbolic_output_shape(model, batch):
    """The shape of a functional model's one output, if every array of
    `batch` has the rank and sizes of the matching symbolic input and the
    output's sizes past the batch are fixed."""
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        return None  # e.g. a subclassed model
    leaves = keras.tree.flatten(batch)
    if not inputs or not outputs or len(outputs) != 1 or len(leaves) != len(inputs):
        return None
    for leaf, tensor in zip(leaves, inputs):
        wanted = tuple(tensor.shape)
        if len(leaf.shape) != len(wanted) or any(
                size is not None and size != got
                for size, got in zip(wanted[1:], leaf.shape[1:])):
            return None
    shape = tuple(outputs[0].shape)
    # A size left open (a sequence of any length) is known from the values only.
    return shape if None not in shape[1:] else None
