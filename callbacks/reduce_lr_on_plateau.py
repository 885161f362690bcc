"""``ReduceLROnPlateau``: Keras's, order-independent and resumable."""

import warnings

import keras

from callbacks._callback_order import detached_copy
from callbacks._callback_order import run_last
from callbacks._checks import check_choice
from callbacks._checks import check_float_learning_rate
from callbacks._checks import check_monitor
from callbacks._checks import check_number
from callbacks._checks import missing_key_message
from callbacks.lr_logger import learning_rates


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
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

    ```python
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5,
                                          patience=2)
    model.fit(x, y, epochs=20, callbacks=[plateau], verbose=0)
    ```
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
        check_monitor(name, monitor)
        check_number(name, "factor", factor, 0, 1, low_open=True,
                     high_open=True)
        check_number(name, "patience", patience, 0, integer=True)
        check_number(name, "verbose", verbose, 0, integer=True)
        check_choice(name, "mode", mode, {"auto", "min", "max"})
        check_number(name, "min_delta", min_delta)
        check_number(name, "cooldown", cooldown, 0, integer=True)
        check_number(name, "min_lr", min_lr, 0)
        super().__init__(monitor=monitor, factor=factor, patience=patience,
                         verbose=verbose, mode=mode, min_delta=min_delta,
                         cooldown=cooldown, min_lr=min_lr, **kwargs)
        self._deferred = False
        self._warned_missing = False

    def get_config(self):
        return {
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "verbose": self.verbose,
            "mode": self.mode,
            "min_delta": abs(self.min_delta),
            "cooldown": self.cooldown,
            "min_lr": self.min_lr,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __deepcopy__(self, memo):
        return detached_copy(self, memo)

    def on_train_begin(self, logs=None):
        check_float_learning_rate(self.model.optimizer, type(self).__name__)
        super().on_train_begin(logs)
        self._warned_missing = False
        self._deferred = run_last(
            self, {"on_epoch_end": self._decide}) is not None

    def on_epoch_end(self, epoch, logs=None):
        # The rate used this epoch, in place so History and later callbacks
        # see it even though the decision below may be deferred.
        if logs is not None:
            logs.update(learning_rates(self.model.optimizer))
        if not self._deferred:
            self._decide(epoch, logs)

    def _decide(self, epoch, logs):
        logs = {} if logs is None else logs
        if self.monitor in logs:
            super().on_epoch_end(epoch, logs)
        elif not self._warned_missing:
            self._warned_missing = True
            warnings.warn(missing_key_message(
                type(self).__name__, self.monitor, logs), stacklevel=2)

    def get_state(self):
        """JSON-able state, for ``callbacks.BackupAndRestore``."""
        return {
            "wait": int(self.wait),
            "cooldown_counter": int(self.cooldown_counter),
            "best": None if self.best is None else float(self.best),
        }

    def set_state(self, state):
        self.wait = state["wait"]
        self.cooldown_counter = state["cooldown_counter"]
        self.best = state["best"]

