"""``ReduceLROnPlateau``: Keras's, order-independent and resumable."""

import keras

from callbacks._deferred_monitor import DeferredMonitor
from callbacks._fit_checks import check_float_learning_rate
from callbacks.lr_logger import learning_rates
from zoo.core.checks import check_number


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
    - Bad arguments raise ``ValueError``/``TypeError`` before training; a
      missing monitor key warns once per fit, listing the keys available.
    - ``get_config()`` and cheap ``copy.deepcopy``.

    Args:
        monitor: Logs key to watch. Defaults to ``"val_loss"``.
        factor: Multiplier in ``(0, 1)``: ``new_lr = lr * factor``.
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
        self._check_monitor_arguments(monitor, mode, min_delta, patience,
                                      verbose)
        check_number("factor", factor, 0, 1, low_open=True, high_open=True,
                     owner=name)
        check_number("cooldown", cooldown, 0, integer=True, owner=name)
        check_number("min_lr", min_lr, 0, owner=name)
        super().__init__(monitor=monitor, factor=factor, patience=patience,
                         verbose=verbose, mode=mode, min_delta=min_delta,
                         cooldown=cooldown, min_lr=min_lr, **kwargs)

    def on_train_begin(self, logs=None):
        check_float_learning_rate(self.model.optimizer, type(self).__name__)
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        # The rate used this epoch, in place so History and later callbacks
        # see it even though the decision below may be deferred.
        if logs is not None:
            logs.update(learning_rates(self.model.optimizer))
        super().on_epoch_end(epoch, logs)  # the decision, maybe deferred

    def get_state(self):
        """JSON-able state, for ``callbacks.BackupAndRestore``."""
        return {**super().get_state(),
                "cooldown_counter": int(self.cooldown_counter)}

    def set_state(self, state):
        super().set_state(state)
        self.cooldown_counter = state["cooldown_counter"]

