"""Gradient norm monitor: logs, diagnoses and plots the training gradients."""

import copy
import os
import warnings

import keras
import numpy as np

from callbacks import gradient_capture as gc
from callbacks._chart_once import chart_once
from callbacks._gradient_norm_charts import epoch_tags, layout_summary, step_tags
from callbacks._init_config import InitConfig, keep_arguments
from callbacks._scalar_series import ScalarSeriesWriter
from callbacks.gradient_diagnosis import (  # noqa: F401 (re-exported)
    ExplodingGradientError,
    GradientNormError,
    GradientNormWarning,
    VanishingGradientError,
)
from callbacks.gradient_diagnosis import GradientDiagnosis, report
from callbacks.gradient_history import GradientHistory, check_plot_path
from zoo.core.checks import check_choice, check_number

ACTIONS = ("warn", "stop", "raise")
_EPOCH_KEYS = ("grad_norm", "grad_norm_max")
# Steps the device-side buffer holds between reads.
_CAPACITY = 256


class GradientNormMonitor(InitConfig, keras.callbacks.Callback):
    """Logs the L2 norm of the training gradients and flags unhealthy ones.

    Keras logs losses, metrics and (``keras.callbacks.TensorBoard``) weight
    histograms, but no gradients. This callback records, for the gradients
    of every training step itself (no extra forward or backward pass, no
    special ``Model`` class), the global L2 norm and one norm per layer
    (variables grouped by the layer that owns them), and:

    - adds ``grad_norm`` (mean over the epoch's steps with finite gradients)
      and ``grad_norm_max`` to the epoch ``logs``, so ``History``,
      ``CSVLogger``, ``EarlyStopping`` and keras-tuner see them (list the
      monitor before those callbacks);
    - writes, under ``log_dir/train`` (in an event file of its own, flushed
      at each epoch end), ``gradient_norm_step/00_global`` and one
      ``gradient_norm_step/<NN>_<layer>`` per layer (``NN`` its depth, 01 =
      input side) at every training step (1-based), the epoch values
      ``gradient_norm_epoch/global_mean`` and ``global_max`` at the epoch
      (0-based, as Keras's ``epoch_*``), each with a TensorBoard description,
      and a custom-scalars layout overlaying the layers on one chart
      (`callbacks._gradient_norm_charts`); a ``keras.callbacks.TensorBoard``
      on the same ``log_dir`` does not chart ``grad_norm`` again
      (`callbacks._chart_once`);
    - checks every step for exploding gradients (a non-finite gradient, or
      a global norm above ``exploding_threshold``) and vanishing gradients
      (a layer's norm below ``vanishing_threshold`` for ``patience``
      consecutive steps; layers are reported deepest, i.e. nearest the
      output, first), and warns, stops training or raises; a report is made
      when a problem starts (or a new layer starts vanishing), not at every
      step it lasts, names its epoch, batch and step, and is appended to
      ``events``;
    - keeps a bounded ``history`` and gives ``summary()`` (per-layer min,
      median, max) and ``plot(path)`` after training.

    The norms are computed inside the traced train step by wrapping the
    optimizer instance's ``apply`` for the duration of ``fit`` (undone at the
    end), in float32: a squared norm past ~3e38 reads as non-finite. They
    are taken before clipping and are unscaled for loss-scale optimizers,
    whose expected non-finite steps are skipped, not reported.
    The step function writes each step's norms to a ring buffer on the
    device, which Python reads in bulk (every few hundred steps and at each
    epoch end): that keeps the cost a few percent even for a model whose
    steps take milliseconds (`bench/gradient_norm_overhead.py`). A
    ``"warn"`` report therefore comes when the buffer is read, naming the
    step it happened on; with ``"stop"`` or ``"raise"`` one small read a
    step catches the problem on the very step. Every step is recorded, also
    with ``steps_per_execution > 1``. Gradients of variables not in
    ``model.trainable_variables`` count in the global norm only.
    TensorFlow backend only.

    Args:
        log_dir: TensorBoard directory, or ``None`` for no TensorBoard.
        update_freq: write the global norm to TensorBoard every this many
            steps (the checks and ``history`` still see every step).
        layer_update_freq: record per-layer norms (``history``, TensorBoard)
            every this many steps.
        vanishing_threshold: per-layer norm counted as vanishing, or
            ``None`` to disable the vanishing check.
        patience: consecutive steps below ``vanishing_threshold`` before a
            layer is reported.
        exploding_threshold: global norm counted as exploding, or ``None``
            to report only non-finite gradients.
        on_vanishing: ``"warn"``, ``"stop"`` (ends ``fit`` after the step)
            or ``"raise"`` (`VanishingGradientError`).
        on_exploding: ``"warn"``, ``"stop"`` or ``"raise"``
            (`ExplodingGradientError`), checked on the very step it happens.
            With ``"stop"`` or ``"raise"`` a step whose gradients are not
            finite is not applied, so the weights stay the last finite ones.
        plot_path: if set, `plot` saves here at the end of training.
        max_history: points kept per ``history`` series (thinned beyond).
        verbose: 1 prints `summary` at the end of training.

    Example:

    >>> monitor = GradientNormMonitor(log_dir=None, exploding_threshold=1e3)
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(1, name="out")]
    ... )
    >>> model.compile("sgd", "mse")
    >>> history = model.fit(np.ones((8, 4)), np.ones((8, 1)), verbose=0,
    ...                     callbacks=[monitor])
    >>> len(history.history["grad_norm"]), list(monitor.summary()["layers"])
    (1, ['out'])
    """

    def __init__(
        self,
        log_dir=None,
        update_freq=1,
        layer_update_freq=1,
        vanishing_threshold=1e-6,
        patience=10,
        exploding_threshold=None,
        on_vanishing="warn",
        on_exploding="warn",
        plot_path=None,
        max_history=10_000,
        verbose=0,
    ):
        super().__init__()
        owner = type(self).__name__
        _check_path(owner, "log_dir", log_dir)
        for name, value, low in (
            ("update_freq", update_freq, 1),
            ("layer_update_freq", layer_update_freq, 1),
            ("patience", patience, 1),
            ("max_history", max_history, 2),
        ):
            check_number(name, value, low=low, integer=True, owner=owner)
        for name, value in (
            ("vanishing_threshold", vanishing_threshold),
            ("exploding_threshold", exploding_threshold),
        ):
            check_number(name, value, low=0, low_open=True, allow_none=True,
                         owner=owner)
        check_choice("on_vanishing", on_vanishing, ACTIONS, owner=owner,
                     exact=True)
        check_choice("on_exploding", on_exploding, ACTIONS, owner=owner,
                     exact=True)
        check_choice("verbose", verbose, (0, 1), owner=owner, exact=True)
        _check_path(owner, "plot_path", plot_path)
        if plot_path is not None:
            check_plot_path(owner, plot_path)
        keep_arguments(self, locals())
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.plot_path = None if plot_path is None else os.fspath(plot_path)
        # "stop" and "raise" act on the step itself: the graph skips a
        # non-finite update and Python reads the alarm counter every step.
        # "warn" can wait for the next bulk read.
        self._acts_on_the_step = on_exploding != "warn"
        self._polls = self._acts_on_the_step or (
            on_vanishing != "warn" and vanishing_threshold is not None
        )
        self.events = []
        self._writer = ScalarSeriesWriter(
            self.log_dir, "train", suffix=".gradient_norm",
            descriptions=epoch_tags(),
        )
        self._capture = None
        self._history = None
        self._step = 0
        self._epoch = 0
        self._in_fit = False

    def __deepcopy__(self, memo):
        # A copy is a fresh, unattached monitor (keras-tuner copies callbacks
        # per trial) holding copies of what was recorded so far.
        new = type(self).from_config(copy.deepcopy(self.get_config(), memo))
        new.events = copy.deepcopy(self.events, memo)
        new._history = copy.deepcopy(self._history, memo)
        return new

    # -- results ----------------------------------------------------------

    @property
    def history(self):
        """Recorded norms as numpy arrays: ``step`` and ``global_norm`` (every
        step), ``layer_step`` and ``layer_norm`` (``{layer: norms}``, every
        ``layer_update_freq`` steps). At most ``max_history`` points each."""
        return {} if self._history is None else self._history.as_dict()

    def summary(self):
        """``{"global": stats, "layers": {layer: stats}}``, stats being
        ``{"min", "median", "max"}``; layers input side first."""
        return self._recorded().summary()

    def print_summary(self, print_fn=print):
        print_fn(self._recorded().format_summary())

    def plot(self, path):
        """Saves the per-layer gradient-norm plot (format from the suffix)."""
        return self._recorded().plot(os.fspath(path))

    def _recorded(self):
        if self._history is None or self._history.num_steps == 0:
            raise RuntimeError(
                "GradientNormMonitor has recorded nothing yet: pass it to "
                "`model.fit(callbacks=[...])` first."
            )
        return self._history

    # -- training hooks ---------------------------------------------------

    def on_train_begin(self, logs=None):
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "GradientNormMonitor needs the TensorFlow backend; running "
                f"on {keras.backend.backend()!r}."
            )
        # Room for two executions' steps between reads of the buffer.
        self._per_call = max(1, int(getattr(self.model, "steps_per_execution", 1)))
        capacity = max(_CAPACITY, 2 * self._per_call)
        capture = self._capture
        if self._in_fit and capture.matches(self.model):
            # A fit that ended in an exception left steps unread.
            self._read_rows(check=False)
        self._in_fit = True
        if (
            capture is None
            or not capture.matches(self.model)
            or capture.capacity < capacity
        ):
            self._capture = gc.GradientCapture(
                self.model, self.vanishing_threshold, self.exploding_threshold,
                patience=self.patience, capacity=capacity,
                skip_non_finite=self._acts_on_the_step,
            )
            names = self._capture.names
            if capture is None or capture.model is not self.model or (
                self._history.layer_names != names
            ):
                # History and step count belong to one model.
                self._history = GradientHistory(names, self.max_history)
                self._step = 0
            self._step_tags = step_tags(names)
            self._writer.descriptions.update(self._step_tags)
        if self._writer.enabled:
            chart_once(self, self.log_dir, lambda: set(_EPOCH_KEYS))
            self._writer.write_summary(layout_summary())
        self._capture.attach()
        self._capture.reset()
        self._start_epoch()
        self._diagnosis = GradientDiagnosis(
            self._capture.names,
            self.vanishing_threshold,
            self.patience,
            self.exploding_threshold,
            isinstance(
                self.model.optimizer, keras.optimizers.LossScaleOptimizer
            ),
        )

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # The hot path: usually nothing, at most one small read.
        if self._polls and self._capture.read()[gc.ALARM] != self._alarms:
            self._read_rows()
        elif batch + 1 + self._per_call - self._rows_read > self._capture.capacity:
            # The next execution could overwrite rows not read yet.
            self._read_rows()

    def on_epoch_end(self, epoch, logs=None):
        state = self._read_rows()
        total, count, peak = self._epoch_norms
        mean = total / count if count else float("nan")
        peak = peak if count else float("nan")
        if logs is not None:
            logs.update(zip(_EPOCH_KEYS, (mean, peak)))
        self._capture.reset_epoch(state)
        self._start_epoch()
        self._writer.write([epoch], list(epoch_tags()), np.array([[mean, peak]]))
        self._writer.flush()

    def on_train_end(self, logs=None):
        self._finish()
        if self.plot_path is not None and self._history.num_steps:
            self.plot(self.plot_path)
        if self.verbose and self._history.num_steps:
            self.print_summary()

    def _start_epoch(self):
        self._rows_read = 0
        self._alarms = 0.0
        # Sum, count and max of the epoch's finite global norms.
        self._epoch_norms = (0.0, 0, 0.0)

    def _finish(self):
        self._in_fit = False
        self._capture.detach()
        self._writer.close()

    def _read_rows(self, check=True):
        """Records (and checks) the steps not read yet; returns the state."""
        state = self._capture.read()
        self._alarms = state[gc.ALARM]
        done = int(state[gc.STEPS])
        if done == self._rows_read:
            return state
        rows = self._capture.read_rows(self._rows_read, done)
        first = done - len(rows)  # the epoch's batch index of rows[0]
        # More unread steps than rows only if the buffer overflowed.
        self._step += first - self._rows_read
        steps = self._step + 1 + np.arange(len(rows))
        self._step += len(rows)
        self._rows_read = done
        self._record(steps, rows)
        if not check:
            return state
        for i, kind, layers, text in self._diagnosis.check(rows):
            self._act(kind, layers, text, first + i, int(steps[i]), float(rows[i, 0]))
        return state

    def _record(self, steps, rows):
        layer_norms = rows[:, 1 : len(self._step_tags)]
        for step, norm in zip(steps.tolist(), rows[:, 0].tolist()):
            self._history.add_global(step, norm)
        finite = rows[np.isfinite(rows[:, 0]), 0]
        if len(finite):
            total, count, peak = self._epoch_norms
            self._epoch_norms = (
                total + float(finite.sum(dtype=np.float64)),
                count + len(finite),
                max(peak, float(finite.max())),
            )
        # Multiples of the frequencies, counting across fits.
        at_layer = steps % self.layer_update_freq == 0
        for step, norms in zip(steps[at_layer].tolist(), layer_norms[at_layer]):
            self._history.add_layers(step, norms)
        if not self._writer.enabled:
            return
        at_global = steps % self.update_freq == 0
        tags = list(self._step_tags)  # the global norm, then the layers
        if self.update_freq == self.layer_update_freq:
            self._writer.write(steps[at_global], tags,
                               rows[at_global, : len(tags)])
        else:
            self._writer.write(steps[at_global], tags[:1], rows[at_global, :1])
            self._writer.write(steps[at_layer], tags[1:], layer_norms[at_layer])

    # -- reports ----------------------------------------------------------

    def _act(self, kind, layers, text, batch, step, norm):
        action = self.on_vanishing if kind == "vanishing" else self.on_exploding
        event, error = report(kind, layers, text, action, self._epoch, batch,
                              step, norm)
        self.events.append(event)
        message = event["message"]
        if action == "raise":
            self._finish()
            raise error
        if action == "stop":
            self.model.stop_training = True
            message += " Stopping training."
        warnings.warn(message, GradientNormWarning, stacklevel=2)


def _check_path(owner, name, value):
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"{owner}: `{name}` must be None or a path; got {value!r} "
            f"of type {type(value).__name__}."
        )
