"""``LearningRateLogger``: the learning rate in the logs and TensorBoard."""

import keras

from callbacks._callback_order import detached_copy
from callbacks._summary import SummaryWriter


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


class LearningRateLogger(keras.callbacks.Callback):
    """Record the learning rate of every epoch, whatever sets it.

    Writes ``logs["learning_rate"]`` at each epoch end (so ``History``,
    ``CSVLogger`` and other callbacks see it) and, with ``log_dir``, a
    TensorBoard scalar ``learning_rate`` in the ``train`` run, beside the
    scalars of ``keras.callbacks.TensorBoard(log_dir)``. Works with a float
    rate, a ``LearningRateSchedule``, ``ReduceLROnPlateau`` and
    ``LearningRateScheduler``.

    The value is the rate of the epoch's first training step, read just
    before that step: after every ``on_epoch_begin`` (where
    ``LearningRateScheduler`` sets it) and before any ``on_epoch_end`` (where
    ``ReduceLROnPlateau`` lowers it), so the callback order does not matter
    and the value matches the ``learning_rate`` Keras's plateau callback
    logs. Keras's ``TensorBoard`` callback logs only schedules, as
    ``epoch_learning_rate``, and at the epoch's end (the next epoch's rate).

    Args:
        log_dir: TensorBoard root directory, or ``None`` for logs only.

    Example:

    ```python
    logger = callbacks.LearningRateLogger(log_dir="tb")
    model.fit(x, y, epochs=3, callbacks=[logger], verbose=0)
    print(model.history.history["learning_rate"])
    ```
    """

    def __init__(self, log_dir=None):
        super().__init__()
        self.log_dir = log_dir
        self._writer = SummaryWriter(log_dir, "train")
        self._epoch_rates = None

    def get_config(self):
        return {"log_dir": self.log_dir}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __deepcopy__(self, memo):
        return detached_copy(self, memo)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_rates = None

    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch_rates is None:
            self._epoch_rates = learning_rates(self.model.optimizer)

    def on_epoch_end(self, epoch, logs=None):
        rates = self._epoch_rates or learning_rates(self.model.optimizer)
        if logs is not None:
            logs.update(rates)
        self._writer.scalars(rates, step=epoch)

    def on_train_end(self, logs=None):
        self._writer.close()
