"""`tf.data` pipelines where the package takes arrays: recognise, check, read.

Keras's `fit`, `evaluate` and `predict` take a batched `tf.data.Dataset`
of `(x, y)` or `(x, y, sample_weight)` as readily as NumPy arrays; the
package's own consumers (`zoo.evaluation.evaluate`, `callbacks.SklearnMetrics`,
`callbacks.find_learning_rate`, `zoo.tuning.run_search`) use these helpers to
take one too. What they add to Keras: an infinite (repeated) dataset, which
would make a pass over it never end, is refused with the argument's name,
and `predict_pairs` keeps each batch's labels with its predictions, so a
pipeline that reshuffles at every pass still scores right.

TensorFlow is never imported here: a dataset can only exist once it is.
"""

import sys

import numpy as np

from zoo.core.checks import owner_prefix


def is_dataset(value):
    """Whether `value` is a `tf.data.Dataset`.

    Example:

    >>> is_dataset(np.zeros(3))
    False
    """
    tf = sys.modules.get("tensorflow")
    data = getattr(tf, "data", None)
    return data is not None and isinstance(value, data.Dataset)


def check_dataset(dataset, argument, owner=None, *, y=None, y_name="y", finite=True,
                  labels=True, weights=True):
    """Refuse a dataset the consumer cannot use; return its element length.

    Args:
        dataset: a `tf.data.Dataset` of batches.
        argument: the argument's name, for messages.
        owner: the function or class named first.
        y, y_name: the labels argument given beside the dataset, which must
            be None (the batches hold the labels), and its name.
        finite: refuse an infinite dataset (`.repeat()` without a count).
        labels: require `(x, y)` elements (not `x` alone).
        weights: allow `(x, y, sample_weight)` elements.

    Returns:
        The number of parts of each element: 1 (`x`), 2 or 3.
    """
    import tensorflow as tf

    if y is not None:
        raise ValueError(
            f"{owner_prefix(owner)}`{argument}` is a tf.data.Dataset, whose batches hold the "
            f"labels; allowed: `{y_name}=None` with a dataset of (x, y) batches.")
    if finite and int(dataset.cardinality()) == tf.data.INFINITE_CARDINALITY:
        raise ValueError(
            f"{owner_prefix(owner)}`{argument}` is an infinite tf.data.Dataset (it repeats "
            "without end), so a pass over it would never finish; allowed: a finite "
            "dataset of batches: drop `.repeat()`, give it a count, or `.take(n)` batches.")
    spec = dataset.element_spec
    parts = len(spec) if isinstance(spec, tuple) else 1
    allowed = "(x, y) or (x, y, sample_weight)" if weights else "(x, y)"
    if (labels and parts == 1) or parts > (3 if weights else 2):
        raise ValueError(
            f"{owner_prefix(owner)}`{argument}` yields elements of {parts} part(s); allowed: "
            f"batches of {allowed}"
            + (" (sample weights are not used here: drop them with "
               "`.map(lambda x, y, w: (x, y))`)" if parts == 3 else "") + ".")
    return parts


def split_batch(batch):
    """`(x, y, sample_weight)` of one element, `None` for missing parts."""
    if not isinstance(batch, tuple):
        return batch, None, None
    return (tuple(batch) + (None, None))[:3]


def _numpy(value):
    import keras

    return keras.tree.map_structure(np.asarray, value)


def _concatenate(parts):
    import keras

    return keras.tree.map_structure(lambda *a: np.concatenate(a), *parts)


def read_arrays(dataset, argument, owner=None):
    """`(x, y)` NumPy arrays (or structures of them) from a finite dataset of
    `(x, y)` batches, read in one pass.

    Example:

    >>> import tensorflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices((np.zeros((5, 2)), np.arange(5))).batch(2)
    >>> x, y = read_arrays(ds, "validation_data")
    >>> x.shape, y.tolist()
    ((5, 2), [0, 1, 2, 3, 4])
    """
    check_dataset(dataset, argument, owner, weights=False)
    xs, ys = [], []
    for batch in dataset:
        x, y, _ = split_batch(batch)
        xs.append(_numpy(x))
        ys.append(np.asarray(y))
    if not ys:
        raise ValueError(f"{owner_prefix(owner)}`{argument}` is an empty dataset; allowed: "
                         "at least one batch.")
    return _concatenate(xs), np.concatenate(ys)


def predict_pairs(model, dataset, argument, owner=None):
    """`(y, predictions)` as NumPy arrays from one pass over a finite dataset
    of `(x, y)` batches: each batch's labels beside its predictions, so the
    pairs match even if the dataset reshuffles at every pass."""
    check_dataset(dataset, argument, owner, weights=False)
    ys, outputs = [], []
    for batch in dataset:
        x, y, _ = split_batch(batch)
        outputs.append(_numpy(model.predict_on_batch(x)))
        ys.append(np.asarray(y))
    if not ys:
        raise ValueError(f"{owner_prefix(owner)}`{argument}` is an empty dataset; allowed: "
                         "at least one batch.")
    return np.concatenate(ys), _concatenate(outputs)
