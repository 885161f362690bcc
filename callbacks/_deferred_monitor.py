"""``DeferredMonitor``: what our drop-ins of Keras's monitor callbacks add.

Keras's ``EarlyStopping`` and ``ReduceLROnPlateau`` share the base
``keras.callbacks.MonitorCallback`` (``monitor``, ``mode``, ``min_delta``,
the comparison); this mixin, listed before the Keras class, adds to both
the same things: argument checks that accept what Keras accepts and raise
on what it would fail on later, the decision run after every other
callback of the ``fit``, one warning per fit for a missing monitor key,
one-element array values (``F1Score()`` on one unit) read as numbers,
``get_config``/``from_config``/cheap ``copy.deepcopy`` and the
``get_state``/``set_state`` of ``callbacks.BackupAndRestore``.
"""

import warnings

import numpy as np

from callbacks._callback_order import run_after_others
from callbacks._fit_checks import check_monitor
from callbacks._fit_checks import missing_key_message
from callbacks._init_config import InitConfig
from zoo.core.checks import check_real, suggest


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
        """Check the shared arguments; returns the ``mode`` to give Keras.

        Accepts what Keras accepts (``verbose=True``, ``patience=5.0``,
        numpy scalars, a negative ``patience``, which acts as 0), refusing
        only what Keras would fail on later, and NaN. An unknown ``mode``
        warns and falls back to ``"auto"``, as in Keras, with a suggestion.
        """
        owner = type(self).__name__
        check_monitor(owner, monitor)
        check_real("min_delta", min_delta, owner=owner)
        check_real("patience", patience, owner=owner)
        check_real("verbose", verbose, owner=owner)
        modes = ("auto", "min", "max")
        if isinstance(mode, str) and mode in modes:
            return mode
        hint = suggest(mode, modes) if isinstance(mode, str) else ""
        warnings.warn(
            f"{owner}: `mode` must be one of {sorted(modes)}; got {mode!r}."
            f"{hint} Falling back to 'auto', as Keras does.", stacklevel=3)
        return "auto"

    def get_config(self):
        # Keras negates min_delta once it knows the mode is "min"; numpy
        # scalars become Python numbers so the config is JSON-able.
        config = {**super().get_config(), "min_delta": abs(self.min_delta)}
        return {key: value.item() if isinstance(value, np.generic) else value
                for key, value in config.items()}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._warned_missing = False
        self._deferred = run_after_others(self, {"on_epoch_end": self._decide})

    def on_epoch_end(self, epoch, logs=None):
        if not self._deferred:
            self._decide(epoch, logs)

    def _decide(self, epoch, logs):
        logs = {} if logs is None else logs
        current = self._monitored(logs)
        if current is not None:  # the Keras class's decision, on the float
            super().on_epoch_end(epoch, {**logs, self.monitor: current})

    def _monitored(self, logs):
        """The monitored value in ``logs`` as a float, or ``None`` (warned
        once a fit)."""
        value = logs.get(self.monitor)
        if value is None:
            if not self._warned_missing:
                self._warned_missing = True
                warnings.warn(missing_key_message(
                    type(self).__name__, self.monitor, logs), stacklevel=3)
            return None
        return monitored_float(type(self).__name__, self.monitor, value)

    def get_state(self):
        """JSON-able state, for ``callbacks.BackupAndRestore``."""
        return {"wait": int(self.wait),
                "best": None if self.best is None else float(self.best)}

    def set_state(self, state):
        self.wait = state["wait"]
        self.best = state["best"]


def monitored_float(owner, monitor, value):
    """A logs value as a float: a one-element array too (``F1Score()`` on
    one unit logs shape ``(1,)``; Keras compares it as is). A longer array
    has no single best, and Keras fails on it at the second epoch; here
    the first says why."""
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(
            f"{owner}: monitor={monitor!r} has shape {array.shape}, one value "
            "per class or unit; it needs a single number. Monitor an "
            "averaged metric (e.g. keras.metrics.F1Score(average='macro')) "
            "or a key a callback adds.")
    try:
        return float(array.reshape(()))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{owner}: monitor={monitor!r} is {value!r}, not a "
                        "number.") from error
