"""``ReduceLROnPlateau``: Keras's, order-independent and resumable."""

import warnings

import keras
import numpy as np

from callbacks._deferred_monitor import DeferredMonitor
from callbacks._fit_checks import uses_schedule
from callbacks.lr_logger import learning_rates
from zoo.core.checks import check_real


class ReduceLROnPlateau(DeferredMonitor, keras.callbacks.ReduceLROnPlateau):
    """Multiply the learning rate by ``factor`` when a metric stops improving.

    ``keras.callbacks.ReduceLROnPlateau`` with the same arguments and
    defaults. What it adds:

    - Its decision runs after every other callback of the ``fit``, so it can
      monitor keys that later callbacks add to the logs; it still writes the
      epoch's ``logs["learning_rate"]`` in place, as Keras does.
    - ``get_state()``/``set_state()`` (wait, cooldown counter, best) so
      ``callbacks.BackupAndRestore`` resumes it mid-patience; the rate itself
      is an optimizer variable and is restored with the weights.
    - Arguments are taken as Keras takes them (``verbose=True``,
      ``cooldown=1.0``, numpy scalars; an unknown ``mode`` warns and falls
      back to ``"auto"``); what Keras would fail on later (``patience="5"``)
      raises ``TypeError`` at once, a ``factor >= 1`` ``ValueError``.
    - A missing monitor key warns once per fit, listing the keys available;
      a one-element array (``keras.metrics.F1Score()`` on one unit) is
      monitored as its number.
    - With a learning-rate schedule it warns at the start of training; as in
      Keras, it raises ``TypeError`` only if it comes to reduce the rate.
    - ``get_config()`` and cheap ``copy.deepcopy``.

    Differences from Keras: a NaN number argument is refused; a monitored
    array of more than one value raises at the first epoch (Keras: the
    second).

    Args:
        monitor: Logs key to watch. Defaults to ``"val_loss"``.
        factor: Multiplier below 1: ``new_lr = max(lr * factor, min_lr)``.
        patience: Epochs without improvement before reducing.
        verbose: 0 silent, 1 prints each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: Minimum change that counts as an improvement.
        cooldown: Epochs to wait after a reduction before counting again.
        min_lr: Lower bound on the learning rate.

    Example:

    >>> import keras, numpy as np, callbacks
    >>> x, y = np.random.rand(64, 4), np.random.rand(64, 1)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.01), "mse")
    >>> plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
    ...                                       min_delta=10.0)  # every epoch is a plateau
    >>> _ = model.fit(x, y, epochs=3, callbacks=[plateau], verbose=0)
    >>> round(float(model.optimizer.learning_rate), 4)
    0.0025
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        name = type(self).__name__
        mode = self._check_monitor_arguments(monitor, mode, min_delta,
                                             patience, verbose)
        if check_real("factor", factor, owner=name) >= 1:  # Keras refuses too
            raise ValueError(f"{name}: `factor` must be a number < 1 (the new "
                             f"rate is the old one times it); got {factor!r}.")
        check_real("cooldown", cooldown, owner=name)
        check_real("min_lr", min_lr, owner=name)
        super().__init__(monitor=monitor, factor=factor, patience=patience,
                         verbose=verbose, mode=mode, min_delta=min_delta,
                         cooldown=cooldown, min_lr=min_lr, **kwargs)

    def on_train_begin(self, logs=None):
        if uses_schedule(self.model.optimizer):
            warnings.warn(
                f"{type(self).__name__}: the optimizer's learning rate is a "
                "schedule, which cannot be set: training stops with a "
                "TypeError if a plateau calls for a reduction.", stacklevel=2)
        super().on_train_begin(logs)

    def _reduce_optimizer_lr(self, optimizer, epoch, name=""):
        # Keras's, which fails on a schedule only when it tries to set it.
        try:
            return super()._reduce_optimizer_lr(optimizer, epoch, name)
        except TypeError as error:
            if not uses_schedule(optimizer):
                raise
            raise TypeError(
                f"{type(self).__name__}: epoch {epoch + 1} calls for a "
                "learning rate reduction, but the optimizer's rate is a "
                "schedule, which cannot be set. Use a float learning_rate "
                f"with {type(self).__name__}, or the schedule alone.") from error

    def on_epoch_end(self, epoch, logs=None):
        # The rate used this epoch, in place so History and later callbacks
        # see it even though the decision below may be deferred.
        if logs is not None:
            logs.update(learning_rates(self.model.optimizer))
        super().on_epoch_end(epoch, logs)  # the decision, maybe deferred

    def get_state(self):
        """JSON-able state, for ``callbacks.BackupAndRestore``."""
        # A Python number, for `cooldown` given as 1.0 or np.int64(2) too.
        return {**super().get_state(),
                "cooldown_counter": np.asarray(self.cooldown_counter).item()}

    def set_state(self, state):
        super().set_state(state)
        self.cooldown_counter = state["cooldown_counter"]

