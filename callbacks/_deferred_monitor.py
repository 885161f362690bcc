"""``DeferredMonitor``: what our drop-ins of Keras's monitor callbacks add.

Keras's ``EarlyStopping`` and ``ReduceLROnPlateau`` share the base
``keras.callbacks.MonitorCallback`` (``monitor``, ``mode``, ``min_delta``,
the comparison); this mixin, listed before the Keras class, adds to both
the same things: argument checks that raise, the decision run after every
other callback of the ``fit``, one warning per fit for a missing monitor
key, ``get_config``/``from_config``/cheap ``copy.deepcopy`` and the
``get_state``/``set_state`` of ``callbacks.BackupAndRestore``.
"""

import warnings

from callbacks._callback_order import run_after_others
from callbacks._fit_checks import check_monitor
from callbacks._fit_checks import missing_key_message
from callbacks._init_config import InitConfig
from zoo.core.checks import check_choice, check_number


class DeferredMonitor(InitConfig):
    """Mixin for subclasses of Keras's ``MonitorCallback`` callbacks.

    A subclass checks the shared arguments with ``_check_monitor_arguments``
    and puts its decision in ``_decide(epoch, logs)``, which by default runs
    the Keras class's own ``on_epoch_end`` once the monitored key is in the
    logs (``_monitored`` warns when it is not).

    Example:

    >>> import keras, numpy as np
    >>> class Plateau(DeferredMonitor, keras.callbacks.ReduceLROnPlateau):
    ...     pass
    >>> plateau = Plateau(monitor="val_custom", patience=1)
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=3, verbose=0,
    ...                   callbacks=[plateau])
    >>> len(caught), plateau.get_state()
    (1, {'wait': 0, 'best': None})
    """

    _deferred = False
    _warned_missing = False

    def _check_monitor_arguments(self, monitor, mode, min_delta, patience,
                                 verbose):
        owner = type(self).__name__
        check_monitor(owner, monitor)
        check_number("min_delta", min_delta, owner=owner)
        check_number("patience", patience, 0, integer=True, owner=owner)
        check_number("verbose", verbose, 0, integer=True, owner=owner)
        check_choice("mode", mode, {"auto", "min", "max"}, owner=owner,
                     exact=True)

    def get_config(self):
        # Keras negates min_delta once it knows the mode is "min".
        return {**super().get_config(), "min_delta": abs(self.min_delta)}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._warned_missing = False
        self._deferred = run_after_others(self, {"on_epoch_end": self._decide})

    def on_epoch_end(self, epoch, logs=None):
        if not self._deferred:
            self._decide(epoch, logs)

    def _decide(self, epoch, logs):
        logs = {} if logs is None else logs
        if self._monitored(logs) is not None:
            super().on_epoch_end(epoch, logs)  # the Keras class's decision

    def _monitored(self, logs):
        """The monitored value in ``logs``, or ``None`` (warned once a fit)."""
        value = logs.get(self.monitor)
        if value is None and not self._warned_missing:
            self._warned_missing = True
            warnings.warn(missing_key_message(
                type(self).__name__, self.monitor, logs), stacklevel=3)
        return value

    def get_state(self):
        """JSON-able state, for ``callbacks.BackupAndRestore``."""
        return {"wait": int(self.wait),
                "best": None if self.best is None else float(self.best)}

    def set_state(self, state):
        self.wait = state["wait"]
        self.best = state["best"]
