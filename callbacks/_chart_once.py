"""Each quantity charted once in TensorBoard, with or without Keras's callback.

``keras.callbacks.TensorBoard`` charts every key of the epoch logs as
``epoch_<key>`` (``val_`` keys in the ``validation`` run), and the rate of
the optimizer as ``epoch_learning_rate``. The package's callbacks put their
keys in the logs too (``History``, ``CSVLogger``, ``EarlyStopping`` and
keras-tuner read them there) and chart them themselves, under tags that say
what they are (``gradient_norm_epoch/global_mean``, ``sklearn/f1_macro``,
``learning_rate/epoch_start``) with a TensorBoard description, whether or
not the user adds Keras's callback. So that no quantity is charted twice,
`chart_once` keeps a ``keras.callbacks.TensorBoard`` of the same ``fit``
writing to the same ``log_dir`` from charting the keys a callback claims:
for the duration of the fit, that instance's ``on_epoch_end`` gets the logs
without them (the logs themselves are untouched: every other callback sees
every key), and its learning-rate read (Keras's ``_collect_learning_rate``)
drops a claimed ``learning_rate`` key. Keras's own keys (``loss``, compiled
metrics) stay Keras's to chart.
"""

import os

import keras

from callbacks._callback_order import callbacks_of_this_fit

_ATTRIBUTE = "_chart_once"


def _same_dir(a, b):
    return os.path.abspath(os.fspath(a)) == os.path.abspath(os.fspath(b))


class _Claims:
    """The keys claimed on one ``keras.callbacks.TensorBoard``, for one fit."""

    def __init__(self, tensorboard, params):
        self.tensorboard = tensorboard
        self.params = params
        self.claims = {}  # id(callback) -> callable returning its keys
        own = {name: getattr(tensorboard, name)
               for name in ("on_epoch_end", "on_train_end")}
        collect = getattr(tensorboard, "_collect_learning_rate", None)

        def on_epoch_end(epoch, logs=None):
            if logs:
                claimed = self.keys()
                logs = {k: v for k, v in logs.items() if k not in claimed}
            own["on_epoch_end"](epoch, logs)

        def on_train_end(logs=None):
            try:
                own["on_train_end"](logs)
            finally:
                self.remove()

        tensorboard.on_epoch_end = on_epoch_end
        tensorboard.on_train_end = on_train_end
        if collect is not None:
            def collect_learning_rate(logs):
                logs = collect(logs)
                for key in self.keys():
                    logs.pop(key, None)
                return logs

            tensorboard._collect_learning_rate = collect_learning_rate
        setattr(tensorboard, _ATTRIBUTE, self)

    def keys(self):
        return set().union(*(claim() for claim in self.claims.values()))

    def remove(self):
        for name in ("on_epoch_end", "on_train_end", "_collect_learning_rate",
                     _ATTRIBUTE):
            self.tensorboard.__dict__.pop(name, None)


def chart_once(callback, log_dir, keys):
    """Keep Keras's ``TensorBoard`` from charting what ``callback`` charts.

    Call it from ``callback.on_train_begin``. ``keys()`` returns the log
    keys ``callback`` charts itself under ``log_dir`` (read at every epoch
    end, so it may change). A ``keras.callbacks.TensorBoard`` of the same
    fit with another ``log_dir`` (or none in the fit) is left alone.
    Returns the number of Keras ``TensorBoard`` callbacks affected.

    Example:

    >>> import numpy as np
    >>> class Charted(keras.callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         chart_once(self, "tb", lambda: {"mine"})
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         logs["mine"] = 1.0  # charted by this callback, not by Keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> history = model.fit(np.ones((4, 2)), np.ones(4), verbose=0, callbacks=[
    ...     Charted(), keras.callbacks.TensorBoard("tb", write_graph=False)])
    >>> history.history["mine"]
    [1.0]
    """
    if log_dir is None:
        return 0
    found = 0
    for other in callbacks_of_this_fit(callback) or ():
        if not (isinstance(other, keras.callbacks.TensorBoard)
                and _same_dir(other.log_dir, log_dir)):
            continue
        claims = other.__dict__.get(_ATTRIBUTE)
        if claims is None or claims.params is not callback.params:
            if claims is not None:  # left by a fit that raised
                claims.remove()
            claims = _Claims(other, callback.params)
        claims.claims[id(callback)] = keys
        found += 1
    return found
