"""Predict arrays in batches of one shape, so the predict function is
traced once.

``model.predict`` rebuilds a ``tf.data`` pipeline from the arrays at every
call, which costs more than the prediction itself on small models, and
``model.predict_on_batch`` traces its function again for each new batch
shape: the short last batch would cost a second trace. Here the last batch
is padded (with copies of the first rows) to the full size and the padding
rows are dropped from the output.
"""

import keras
import numpy as np


class FixedBatches:
    """``x`` (an array, or a list/dict of arrays) cut into batches of
    ``size`` rows, the last one padded; slices of ``x``, not copies, but
    for the last batch.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> batches = FixedBatches(np.ones((5, 2)), size=2)
    >>> [keras.tree.flatten(b)[0].shape[0] for b in batches.batches]
    [2, 2, 2]
    >>> batches.predict(model).shape
    (5, 1)
    """

    def __init__(self, x, size):
        leaves = keras.tree.flatten(x)
        self.n = len(leaves[0])
        self.size = int(size)
        self.batches = []
        for start in range(0, self.n, self.size):
            batch = keras.tree.map_structure(
                lambda a: a[start:start + self.size], x)
            self.batches.append(batch)
        short = self.n % self.size
        if short:
            self.batches[-1] = keras.tree.map_structure(
                lambda a: _pad(np.asarray(a), self.size), self.batches[-1])

    def predict(self, model):
        """``model``'s predictions for the ``n`` rows, as one NumPy array."""
        strategy = getattr(model, "distribute_strategy", None)  # TensorFlow's
        if strategy is not None and strategy.num_replicas_in_sync > 1:
            # Keras's `predict_on_batch` runs the whole batch on every
            # replica and stacks the copies, and a replica reads its own
            # batch-norm statistics: called outside the replicas, the model
            # reads them averaged, as `get_weights()` does.
            if getattr(self, "_call", (None,))[0] is not model:
                import tensorflow as tf

                self._call = (model, tf.function(lambda b: model(b, training=False)))
            raw = np.concatenate([np.asarray(self._call[1](b)) for b in self.batches])
            return raw[:self.n]
        raw = np.concatenate([np.asarray(model.predict_on_batch(b))
                              for b in self.batches])
        return raw[:self.n]


def _pad(a, size):
    reps = -(-size // len(a))  # a may be shorter than half a batch
    return np.concatenate([a] * reps)[:size]
