"""Keep the predictions that ``fit``'s own validation pass makes.

``fit(validation_data=...)`` runs the validation set through the model at
every epoch (Keras's compiled test step); a scorer that needs the
predictions (``callbacks.SklearnMetrics``) would otherwise predict the same
data again, and trace a predict function for it. ``PredictionSink`` adds to
the test step, for the duration of a ``fit``, one in-graph write of its
``y_pred`` into a buffer on the device (rows in the order of the data, as
Keras never shuffles validation data); after the pass the scorer reads the
buffer once.

When the scorer's data was read from a ``tf.data.Dataset`` (``source``),
fit's validation pass over that dataset is recognised by identity, and the
labels of the pass are written beside the predictions: the buffer is used
only if they equal the scorer's labels row for row (a dataset that
reshuffles at every pass gives other rows, and the scorer predicts itself).

What it relies on, checked where it can be: the TensorFlow backend, one
replica, one output tensor, and a test step that calls
``model.compute_metrics(x, y, y_pred, ...)`` (Keras's does; a custom one
that does not leaves the buffer empty). The scorer uses the buffer only if
exactly one row per sample of its own data was written, and only if fit's
validation data is that data; otherwise it predicts as before. The write
is traced into ``model.test_function``: a test function traced before
``attach`` is dropped (so traced again), and one traced with the write
stays after the fit (a later ``evaluate`` writes into the buffer, which
costs next to nothing and changes no result), so a second fit with the same
scorer traces nothing again.
"""

import keras
import numpy as np

_STEP, _METRICS = "test_step", "compute_metrics"


class PredictionSink:
    """A buffer for ``y_pred`` of one validation pass over ``(x, y)``, the
    scorer's validation data (read from the dataset ``source``, if any)."""

    def __init__(self, x, y, source=None):
        self.x, self.y, self.n, self.source = x, y, len(y), source
        self._buffer = self._count = self._function = self._model = None
        self._labels = None  # labels of the pass, when `source` is a dataset
        self._in_test = False
        self._same = None  # is fit's validation data (x, y)? Checked once a fit.

    def attach(self, model):
        """Wraps ``model``'s test step to write its predictions here;
        returns whether it could."""
        import tensorflow as tf

        self._same = None
        width = _width(model)
        if width is None or model.distribute_strategy.num_replicas_in_sync != 1:
            return False
        if self._buffer is None or self._buffer.shape[1] != width:
            # One spare row takes what falls past `n` (another evaluate).
            self._buffer = tf.Variable(tf.zeros((self.n + 1, width)), trainable=False)
            self._count = tf.Variable(0, trainable=False)
            self._function = None
        if self.source is not None and self._labels is None:
            self._labels = tf.Variable(tf.zeros((self.n + 1, _row_width(self.y))),
                                       trainable=False)
            self._function = None
        if model.test_function is not None and model.test_function is not self._function:
            model.test_function = None  # traced without the write
        step, metrics = getattr(model, _STEP), getattr(model, _METRICS)

        def test_step(data):
            self._in_test = True  # at trace time
            try:
                return step(data)
            finally:
                self._in_test = False

        def compute_metrics(*args, **kwargs):
            if self._in_test:
                y_pred = kwargs["y_pred"] if "y_pred" in kwargs else args[2]
                self._write(y_pred, kwargs.get("y", args[1] if len(args) > 1 else None))
            return metrics(*args, **kwargs)

        setattr(model, _STEP, test_step)
        setattr(model, _METRICS, compute_metrics)
        self._model = model
        return True

    def _write(self, y_pred, y):
        import tensorflow as tf

        rows = tf.reshape(tf.cast(y_pred, tf.float32), (-1, self._buffer.shape[1]))
        index = tf.minimum(self._count + tf.range(tf.shape(rows)[0]), self.n)
        self._buffer.scatter_nd_update(index[:, None], rows)
        if self._labels is not None:
            # Labels of another width than the scorer's cannot match: left zero.
            if tf.is_tensor(y) and _row_width(y) == self._labels.shape[1]:
                labels = tf.reshape(tf.cast(y, tf.float32), (-1, self._labels.shape[1]))
                self._labels.scatter_nd_update(index[:, None], labels)
        self._count.assign_add(tf.shape(rows)[0])

    def detach(self):
        """Undoes ``attach`` (the traced test function keeps the write)."""
        model, self._model = self._model, None
        if model is None:
            return
        self._function = model.test_function
        for name in (_STEP, _METRICS):
            model.__dict__.pop(name, None)

    def fresh(self):
        """A new, unattached sink over the same data (for a copied scorer)."""
        return PredictionSink(self.x, self.y, self.source)

    def start(self):
        """Call before a validation pass."""
        if self._model is not None:
            self._count.assign(0)

    def take(self, x, y):
        """The ``(n, width)`` predictions of the pass over fit's validation
        data ``(x, y)``, or ``None`` unless that is the scorer's data and
        exactly ``n`` rows were written."""
        if self._model is None:
            return None
        if self._same is None:
            self._same = x is self.source if self.source is not None else (
                same_data(x, self.x) and same_data(y, self.y))
        if not self._same or int(self._count.numpy()) != self.n:
            return None
        if self._labels is not None and not np.array_equal(
                self._labels.numpy()[: self.n],
                np.reshape(self.y, (self.n, -1)).astype(np.float32)):
            return None  # the dataset gave its rows in another order
        return self._buffer.numpy()[: self.n]


def _width(model):
    """Values per sample of the model's single output, or ``None``."""
    if keras.backend.backend() != "tensorflow":
        return None
    try:
        shape = model.output_shape
    except (AttributeError, ValueError, RuntimeError):
        return None  # e.g. a subclassed model never called symbolically
    if not isinstance(shape, tuple) or len(shape) < 2 or not all(
            isinstance(d, int) for d in shape[1:]):
        return None  # several outputs, or unknown sizes
    return int(np.prod(shape[1:]))


def _row_width(y):
    """Values per row of labels `y` (an array or a tensor), or None."""
    sizes = tuple(y.shape[1:])
    return int(np.prod(sizes)) if all(isinstance(d, int) for d in sizes) else None


def same_data(given, ours):
    """Whether fit's validation `x` (or `y`) holds the same arrays as the
    scorer's: the same objects, or equal ones (checked once a fit)."""
    if given is ours:
        return True
    try:
        pairs = zip(keras.tree.flatten(given), keras.tree.flatten(ours), strict=True)
        return all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in pairs)
    except (TypeError, ValueError):
        return False
