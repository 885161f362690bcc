"""``EarlyStopping``: Keras's, plus safety stops, a target, resumable state."""

import math
import warnings

import keras

from callbacks._deferred_monitor import DeferredMonitor
from callbacks._fit_checks import missing_key_message
from zoo.core.checks import check_flag, check_number, check_real, suggest


class EarlyStopping(DeferredMonitor, keras.callbacks.EarlyStopping):
    """Stop training when a monitored quantity stops improving, or goes bad.

    A drop-in superset of ``keras.callbacks.EarlyStopping``: the same
    arguments with the same meaning and defaults, so switching is a change of
    import. What it adds:

    - Stops at once when the monitored value is NaN or infinite
      (``check_finite``), worse than ``divergence_threshold``, or has reached
      ``stopping_threshold`` (good enough); names follow PyTorch Lightning.
      These stops apply from the first epoch, ignoring ``start_from_epoch``.
    - ``restore_best_weights=True`` restores the best epoch's weights at the
      end of training, as Keras's does whatever ends it (the stops above
      included), and warns when it stopped before any usable value, leaving
      nothing to restore (Keras restores nothing, silently).
    - Its decision runs after every other callback of the ``fit``, whatever
      their order, so it can monitor keys that callbacks listed after it add
      to the logs in their ``on_epoch_end``.
    - A missing monitor key warns once per fit, listing the keys available.
    - Records ``stop_reason`` (``"patience"``, ``"non_finite"``,
      ``"divergence"``, ``"threshold"`` or ``None``), ``stopped_epoch`` and
      ``best_epoch`` (0-based; ``None`` until a value is seen).
    - Monitors a one-element array (``keras.metrics.F1Score()`` on one unit
      logs shape ``(1,)``) as its number, and says at the first epoch why a
      longer one cannot be monitored (Keras fails at the second).
    - Arguments are taken as Keras takes them (``verbose=True``,
      ``patience=5.0``, ``restore_best_weights=1``, numpy scalars; an
      unknown ``mode`` warns and falls back to ``"auto"``); what Keras would
      fail on later (``patience="5"``) raises ``TypeError`` at once.
    - ``get_config()``, cheap ``copy.deepcopy`` (the model is not copied) and
      ``get_state()``/``set_state()`` so ``callbacks.BackupAndRestore``
      resumes it mid-patience.

    Differences from Keras: the stops above end training where Keras's
    would go on (a loss that overflows to ``inf`` stops at once: pass
    ``check_finite=False`` to wait out ``patience`` as Keras does);
    ``best_epoch`` is ``None`` until a value is seen (Keras: 0); ``best`` is
    a float where Keras keeps the logged array; a NaN number argument and a
    string ``restore_best_weights`` (``"False"`` is true) are refused.

    Args:
        monitor: Logs key to watch. Defaults to ``"val_loss"``.
        min_delta: Minimum change that counts as an improvement.
        patience: Epochs without improvement before stopping.
        verbose: 0 silent, 1 prints when it stops or restores.
        mode: ``"auto"``, ``"min"`` or ``"max"``; ``"auto"`` infers it from
            the metric, so pass ``"min"``/``"max"`` for keys added by
            callbacks (``val_f1``).
        baseline: Value the model must beat, or ``None``.
        restore_best_weights: Restore the weights of the best epoch at the
            end of training.
        start_from_epoch: Epochs to wait before counting patience.
        stopping_threshold: Stop once the value is at least this good
            (``<=`` in min mode, ``>=`` in max mode), or ``None``.
        divergence_threshold: Stop once the value is worse than this
            (``>`` in min mode, ``<`` in max mode), or ``None``.
        check_finite: Stop when the value is NaN or infinite.

    Example:

    >>> import keras, numpy as np, callbacks
    >>> x, y = np.random.rand(64, 4), np.random.rand(64, 1)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.01), "mse")
    >>> stop = callbacks.EarlyStopping(monitor="loss", patience=2,
    ...                                min_delta=10.0,  # no epoch improves this much
    ...                                divergence_threshold=1e3,
    ...                                restore_best_weights=True)
    >>> history = model.fit(x, y, epochs=50, callbacks=[stop], verbose=0)
    >>> stop.stop_reason, stop.best_epoch, len(history.history["loss"])
    ('patience', 0, 3)
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
        *,
        stopping_threshold=None,
        divergence_threshold=None,
        check_finite=True,
    ):
        mode = self._check_monitor_arguments(monitor, mode, min_delta,
                                             patience, verbose)
        name = type(self).__name__
        check_real("baseline", baseline, allow_none=True, owner=name)
        check_real("start_from_epoch", start_from_epoch, owner=name)
        check_number("stopping_threshold", stopping_threshold,
                     allow_none=True, owner=name)
        check_number("divergence_threshold", divergence_threshold,
                     allow_none=True, owner=name)
        check_flag("restore_best_weights", restore_best_weights, owner=name)
        check_flag("check_finite", check_finite, owner=name)
        super().__init__(monitor=monitor, min_delta=min_delta,
                         patience=patience, verbose=verbose, mode=mode,
                         baseline=baseline,
                         restore_best_weights=restore_best_weights,
                         start_from_epoch=start_from_epoch)
        self.stopping_threshold = stopping_threshold
        self.divergence_threshold = divergence_threshold
        self.check_finite = check_finite
        self.best_epoch = None
        self.stop_reason = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best_epoch = None
        self.stop_reason = None
        if self.monitor_op is None:
            try:  # resolve "auto" now when the compiled metrics allow it
                self._set_monitor_op()
            except ValueError:
                pass  # retried at epoch end, as in Keras

    def _decide(self, epoch, logs):
        logs = {} if logs is None else logs
        if self.monitor_op is None:
            try:
                self._set_monitor_op()
            except ValueError:  # Keras's says "cannot tell min or max" for a typo
                if self.monitor in logs:
                    raise
                raise ValueError(missing_key_message(type(self).__name__, self.monitor, logs)
                                 + suggest(self.monitor, logs)) from None
        current = self._monitored(logs)  # a float
        if current is None:
            return
        minimize = self.monitor_op == keras.ops.less
        if self.check_finite and not math.isfinite(current):
            return self._stop(epoch, "non_finite")
        limit = self.divergence_threshold
        if limit is not None and (current > limit if minimize
                                  else current < limit):
            return self._stop(epoch, "divergence")
        super()._decide(epoch, logs)  # Keras's patience logic
        if self.stopped_epoch == epoch and epoch > 0:
            self.stop_reason = "patience"
        target = self.stopping_threshold
        if target is not None and (current <= target if minimize
                                   else current >= target):
            self._stop(epoch, "threshold")

    def _stop(self, epoch, reason):
        self.stopped_epoch = epoch
        self.stop_reason = reason
        self.model.stop_training = True

    def on_train_end(self, logs=None):
        # Restores on every ending, whatever the Keras version does.
        if self.verbose > 0 and self.stop_reason is not None:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping "
                  f"({self.stop_reason}).")
        if not self.restore_best_weights:
            return
        if self.best_weights is None:
            if self.stop_reason is not None:
                warnings.warn(
                    f"{type(self).__name__}: stopped ({self.stop_reason}) "
                    f"before any usable {self.monitor!r} value; no weights "
                    "to restore.", stacklevel=2)
            return
        if self.verbose > 0:
            print("Restoring model weights from the end of the best epoch: "
                  f"{self.best_epoch + 1}.")
        self.model.set_weights(self.best_weights)

    def get_state(self):
        """JSON-able state (plus best weights as arrays) for resuming."""
        return {**super().get_state(), "best_epoch": self.best_epoch,
                "best_weights": self.best_weights}

    def set_state(self, state):
        super().set_state(state)
        self.best_epoch = state["best_epoch"]
        self.best_weights = state["best_weights"]
