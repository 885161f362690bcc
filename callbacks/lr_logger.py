"""``LearningRateLogger``: the learning rate in the logs and TensorBoard."""

import keras

from callbacks._chart_once import chart_once
from callbacks._init_config import InitConfig
from callbacks._summary import SummaryWriter


TAG_SUFFIX = "/epoch_start"
DESCRIPTION = (
    "Learning rate at the start of the epoch: the rate of its first training "
    "step, read just before that step (x: epoch, 0-based). Logs key "
    "`learning_rate` (History, CSVLogger). Keras's `epoch_learning_rate` (the "
    "rate after the epoch's last step, for a schedule this chart's next "
    "point) is not charted beside it."
)


def learning_rates(optimizer):
    """``{"learning_rate": value}`` now, or one key per inner optimizer.

    Keys follow Keras (``ReduceLROnPlateau``, ``LearningRateScheduler``):
    ``learning_rate_<name>`` for a multi-optimizer. For a schedule, Keras
    evaluates it at ``optimizer.iterations``: the rate of the next step.
    """
    if hasattr(optimizer, "optimizers"):
        return {f"learning_rate_{o.name}": _as_float(o.learning_rate)
                for o in optimizer.optimizers}
    return {"learning_rate": _as_float(optimizer.learning_rate)}


def _as_float(value):
    return float(keras.ops.convert_to_numpy(value))


class LearningRateLogger(InitConfig, keras.callbacks.Callback):
    """Record the learning rate of every epoch, whatever sets it.

    ``keras.callbacks.TensorBoard`` already charts the rate of any optimizer
    every epoch (``epoch_learning_rate``), but only in its event files, and
    Keras writes ``logs["learning_rate"]`` only from ``ReduceLROnPlateau``
    and ``LearningRateScheduler``. What this adds:

    - ``logs["learning_rate"]`` at each epoch end whatever sets the rate (a
      float, a ``LearningRateSchedule``, either callback), so ``History``,
      ``CSVLogger`` and other callbacks see it.
    - The value is the rate of the epoch's first training step, read just
      before that step: after every ``on_epoch_begin`` (where
      ``LearningRateScheduler`` sets it) and before any ``on_epoch_end``
      (where ``ReduceLROnPlateau`` lowers it), whatever the callback order.
      ``TensorBoard`` reads it at its own ``on_epoch_end``: for a schedule,
      the rate of the next step, and after a ``ReduceLROnPlateau`` listed
      before it, the lowered rate.
    - With ``log_dir``, that value as the one learning-rate chart,
      ``learning_rate/epoch_start`` in the ``train`` run (x: the 0-based
      epoch; ``learning_rate_<name>/epoch_start`` per inner optimizer), with
      a TensorBoard description saying so. A ``keras.callbacks.TensorBoard``
      on the same ``log_dir`` then leaves out its ``epoch_learning_rate``
      (the rate after the epoch's last step), so the two never disagree on
      one screen (`callbacks._chart_once`).

    Args:
        log_dir: TensorBoard root directory, or ``None`` for logs only.

    Example:

    >>> import keras, numpy as np, callbacks
    >>> x, y = np.random.rand(64, 4), np.random.rand(64, 1)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.01), "mse")
    >>> logger = callbacks.LearningRateLogger(log_dir="tb")
    >>> plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
    ...                                       min_delta=10.0)  # every epoch is a plateau
    >>> history = model.fit(x, y, epochs=3, callbacks=[plateau, logger], verbose=0)
    >>> [round(rate, 4) for rate in history.history["learning_rate"]]
    [0.01, 0.01, 0.005]
    """

    def __init__(self, log_dir=None):
        super().__init__()
        self.log_dir = log_dir
        self._writer = SummaryWriter(log_dir, "train")
        self._epoch_rates = None

    def on_train_begin(self, logs=None):
        # Keys known once the first epoch ends; the optimizer says which now.
        keys = set(learning_rates(self.model.optimizer))
        chart_once(self, self.log_dir, lambda: keys)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_rates = None

    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch_rates is None:
            self._epoch_rates = learning_rates(self.model.optimizer)

    def on_epoch_end(self, epoch, logs=None):
        rates = self._epoch_rates or learning_rates(self.model.optimizer)
        if logs is not None:
            logs.update(rates)
        self._writer.scalars({key + TAG_SUFFIX: rate for key, rate in rates.items()},
                             step=epoch, descriptions=DESCRIPTION)

    def on_train_end(self, logs=None):
        self._writer.close()
