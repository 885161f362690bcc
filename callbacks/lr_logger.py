"""``LearningRateLogger``: the learning rate in the logs and TensorBoard."""

import keras

from callbacks._chart_once import chart_once
from callbacks._init_config import InitConfig
from callbacks._model_optimizers import keyed, model_optimizers
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


def _iterations(optimizer):
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


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

    - Every optimizer the model trains with: a custom ``train_step`` that
      updates the weights with optimizers of its own, kept as attributes of
      the model (a GAN's ``self.d_optimizer`` and ``self.g_optimizer``),
      gets one key per optimizer that applied gradients in the epoch,
      ``learning_rate/<attribute>`` (the unused default ``model.optimizer``
      of such a model is left out). A model trained by ``model.optimizer``
      alone keeps the keys above.

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
        self._keys = {"learning_rate"}

    def on_train_begin(self, logs=None):
        self._optimizers = model_optimizers(self.model)
        self._start = {label: _iterations(optimizer)
                       for label, optimizer in self._optimizers.items()}
        if list(self._optimizers) == ["optimizer"]:
            self._keys = set(learning_rates(self.model.optimizer))
        # Keys known once the first epoch ends; the optimizers say which now.
        chart_once(self, self.log_dir, lambda: self._keys)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_rates = None

    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch_rates is None:
            self._epoch_rates = self._rates()

    def on_epoch_end(self, epoch, logs=None):
        rates = self._select(self._epoch_rates or self._rates())
        self._keys.update(rates)
        if logs is not None:
            logs.update(rates)
        self._writer.scalars({key + TAG_SUFFIX: rate for key, rate in rates.items()},
                             step=epoch, descriptions=DESCRIPTION)

    def _rates(self):
        return {label: learning_rates(optimizer)
                for label, optimizer in self._optimizers.items()}

    def _select(self, rates):
        """The rates of the optimizers that applied gradients so far."""
        used = [label for label, optimizer in self._optimizers.items()
                if _iterations(optimizer) > self._start[label]]
        chosen = {}
        for suffix, label in keyed(list(rates), used or list(rates)).items():
            chosen.update({key + (suffix or ""): rate
                           for key, rate in rates[label].items()})
        return chosen

    def on_train_end(self, logs=None):
        self._writer.close()
