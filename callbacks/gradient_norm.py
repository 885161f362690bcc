"""Gradient norm monitor: logs, diagnoses and plots the training gradients."""

import copy
import os
import warnings

import keras
import numpy as np

from callbacks import _gradient_track as gc_track
from callbacks import gradient_capture as gc
from callbacks._gradient_step import StepFunctionSwap
from callbacks._chart_once import chart_once
from callbacks._gradient_norm_charts import epoch_tags, layout_summary
from callbacks._model_optimizers import keyed
from callbacks._init_config import InitConfig, keep_arguments
from callbacks._scalar_series import ScalarSeriesWriter
from callbacks.gradient_diagnosis import (  # noqa: F401 (re-exported)
    ExplodingGradientError,
    GradientNormError,
    GradientNormWarning,
    VanishingGradientError,
)
from callbacks.gradient_diagnosis import report
from callbacks.gradient_history import check_plot_path
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
    optimizer instance's ``apply`` (``stateless_apply`` on JAX) for the
    duration of ``fit`` (undone at the end), in float32: a squared norm past
    ~3e38 reads as non-finite (`callbacks.gradient_capture`). They are taken
    before clipping, after the cross-replica sum under ``tf.distribute``,
    and are unscaled for loss-scale optimizers, whose expected non-finite
    steps are skipped, not reported. Layers are grouped when the optimizer
    knows its variables: at the first step for a model ``fit`` builds
    (``Sequential`` without ``Input``, subclassed models).
    Every optimizer the model holds is watched (``model.optimizer`` and any
    attribute of the model that is an optimizer, as in a GAN's custom
    ``train_step``); those that applied the first step's gradients are
    monitored. One that is ``model.optimizer`` keeps the keys above; with
    several, each has its own keys and tags: ``grad_norm/<attribute>``,
    ``grad_norm_max/<attribute>``, ``gradient_norm_step/<attribute>/...``
    (`histories` and the ``optimizer`` argument of `summary` and `plot`).
    If none did, a warning says so and no key is logged.
    The step function writes each step's norms to a ring buffer on the
    device, which Python reads in bulk (every few hundred steps and at each
    epoch end): that keeps the cost a few percent even for a model whose
    steps take milliseconds (`bench/gradient_norm_overhead.py`). A
    ``"warn"`` report therefore comes when the buffer is read, naming the
    step it happened on; with ``"stop"`` or ``"raise"`` one small read a
    step catches the problem on the very step. Every step is recorded, also
    with ``steps_per_execution > 1``. Gradients of variables not in
    the optimizer's variables count in the global norm only. TensorFlow and JAX
    backends (on JAX, optimizers must be built before ``fit``, as ``fit``
    does for ``model.optimizer``).

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
        if None not in (vanishing_threshold, exploding_threshold) and \
                exploding_threshold <= vanishing_threshold:
            raise ValueError(
                f"{owner}: `exploding_threshold` must be > `vanishing_threshold` "
                f"({vanishing_threshold!r}), or None; got {exploding_threshold!r}: "
                "every step would count as both vanishing and exploding.")
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
        if not self._polls:
            # Keras waits for every step for a callback with a batch-end hook
            # (JAX and TensorFlow dispatch ahead otherwise): without one, the
            # buffer is checked at batch begin, in Python only.
            self.on_train_batch_end = keras.callbacks.Callback.on_train_batch_end.__get__(self)
        self.events = []
        self._writer = ScalarSeriesWriter(
            self.log_dir, "train", suffix=".gradient_norm",
            descriptions=epoch_tags(),
        )
        self._tracks = []  # one `GradientTrack` per optimizer of the model
        self._active = []  # those that apply gradients
        self._histories = {}  # optimizer attribute -> `GradientHistory`
        self._swap = StepFunctionSwap(None)
        self._epoch = 0
        self._in_fit = False

    def __deepcopy__(self, memo):
        # A copy is a fresh, unattached monitor (keras-tuner copies callbacks
        # per trial) holding copies of what was recorded so far.
        new = type(self).from_config(copy.deepcopy(self.get_config(), memo))
        new.events = copy.deepcopy(self.events, memo)
        new._histories = copy.deepcopy(self._histories, memo)
        return new

    # -- results ----------------------------------------------------------

    @property
    def history(self):
        """Recorded norms as numpy arrays: ``step`` and ``global_norm`` (every
        step), ``layer_step`` and ``layer_norm`` (``{layer: norms}``, every
        ``layer_update_freq`` steps). At most ``max_history`` points each.
        With several optimizers, those of the first; see `histories`."""
        histories = self.histories
        return next(iter(histories.values())) if histories else {}

    @property
    def histories(self):
        """``{optimizer attribute: history}`` (``"optimizer"`` for
        ``model.optimizer``) of each optimizer that applied gradients."""
        return {k: h.as_dict() for k, h in self._histories.items() if h.num_steps}

    def summary(self, optimizer=None):
        """``{"global": stats, "layers": {layer: stats}}``, stats being
        ``{"min", "median", "max"}``; layers input side first. ``optimizer``:
        the attribute of the optimizer (default: the first)."""
        return self._recorded(optimizer).summary()

    def print_summary(self, print_fn=print):
        for label, history in self._histories.items():
            if history.num_steps:
                several = len(self._histories) > 1
                print_fn((f"Optimizer `{label}`:\n" if several else "")
                         + history.format_summary())

    def plot(self, path, optimizer=None):
        """Saves the per-layer gradient-norm plot (format from the suffix)."""
        return self._recorded(optimizer).plot(os.fspath(path))

    def _recorded(self, optimizer=None):
        recorded = {k: h for k, h in self._histories.items() if h.num_steps}
        if not recorded:
            raise RuntimeError("GradientNormMonitor has recorded nothing yet: pass "
                               "it to `model.fit(callbacks=[...])` first.")
        if optimizer is None:
            return next(iter(recorded.values()))
        if optimizer not in recorded:
            raise ValueError(f"GradientNormMonitor: `optimizer` must be one of "
                             f"{sorted(recorded)}; got {optimizer!r}.")
        return recorded[optimizer]

    # -- training hooks ---------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self._model
        # Room for two executions' steps between reads of the buffer.
        self._per_call = max(1, int(getattr(model, "steps_per_execution", 1)))
        capacity = max(_CAPACITY, 2 * self._per_call)
        if self._in_fit:
            gc_track.read_unread(self)  # a fit ended by an exception
        self._in_fit = True
        self._tracks, skipped = gc_track.make_tracks(self, model, capacity)
        if skipped or not self._tracks:
            why = "the model has no optimizer" if not (skipped or self._tracks) else (
                f"optimizer(s) {', '.join(skipped)} not built before `fit`: on "
                "JAX a jitted step cannot monitor them (build them with "
                "`optimizer.build(variables)`)")
            nothing = "records nothing" if not self._tracks else "skips"
            warnings.warn(f"GradientNormMonitor {nothing}: {why}.",
                          GradientNormWarning, stacklevel=2)
        for track in self._tracks:
            track.capture.wrap()
            track.capture.reset()
            track.start_epoch()
        self._swap.model = model
        self._swap.install([t.capture for t in self._tracks])
        # Which optimizers apply gradients is known after the first step.
        self._active = None
        if self._writer.enabled:
            chart_once(self, self.log_dir, self._claimed_keys)
            self._writer.write_summary(layout_summary())

    def _claimed_keys(self):
        return {key for track in self._active or () for key in track.keys(_EPOCH_KEYS)}

    def _choose(self):
        """After the first step: monitor the optimizers that applied it."""
        values = gc_track.jax_values(self._model, self._tracks)
        used = [t for t in self._tracks if t.capture.resolved
                and t.capture.read(values.get(id(t)))[gc.STEPS] > 0]
        suffixes = keyed([t.label for t in self._tracks], [t.label for t in used])
        self._active = used
        for suffix, label in suffixes.items():
            track = next(t for t in used if t.label == label)
            track.suffix = suffix
            track.setup(self)
            self._histories[label] = track.history
        if self._tracks and not used:
            warnings.warn(
                "GradientNormMonitor records nothing: no optimizer of the model "
                f"({', '.join(t.label for t in self._tracks) or 'none'}) applied "
                "gradients in the first training step. A train step that updates "
                "the weights without `optimizer.apply`/`apply_gradients` (or, "
                "on JAX, `stateless_apply`) cannot be monitored.",
                GradientNormWarning, stacklevel=3)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if batch and not self._polls:
            self._check(batch)

    def on_train_batch_end(self, batch, logs=None):
        self._check(batch + 1)

    def _check(self, done):
        """The hot path (``done``: the epoch's steps so far): usually
        nothing, at most one small read a track."""
        if self._active is None:
            self._choose()
        values = gc_track.jax_values(self._model, self._tracks)
        for track in self._active:
            mine = values.get(id(track))
            if self._polls and track.capture.read(mine)[gc.ALARM] != track.alarms:
                self._read(track, mine)
            elif done + self._per_call - track.rows_read > track.capture.capacity:
                # The next execution could overwrite rows not read yet.
                self._read(track, mine)

    def on_epoch_end(self, epoch, logs=None):
        if self._active is None:
            self._choose()
        for track in self._active:
            state = self._read(track)
            mean, peak = track.epoch_values()
            if logs is not None:
                logs.update(zip(track.keys(_EPOCH_KEYS), (mean, peak)))
            track.capture.reset_epoch(state)
            track.start_epoch()
            self._writer.write([epoch], list(track.epoch_tags), np.array([[mean, peak]]))
        self._writer.flush()

    def on_train_end(self, logs=None):
        self._finish()
        if not any(h.num_steps for h in self._histories.values()):
            return
        if self.plot_path is not None:
            self.plot(self.plot_path)
        if self.verbose:
            self.print_summary()

    def _finish(self):
        self._in_fit = False
        for track in self._tracks:
            track.capture.unwrap()
        self._swap.restore()
        self._writer.close()

    def _read(self, track, values=None):
        """Reads, records and checks ``track``'s new rows; returns its state."""
        state, problems = track.read(self, values)
        for batch, kind, layers, text, step, norm in problems:
            self._act(kind, layers, text, batch, step, norm, track)
        return state

    # -- reports ----------------------------------------------------------

    def _act(self, kind, layers, text, batch, step, norm, track):
        action = self.on_vanishing if kind == "vanishing" else self.on_exploding
        if track.suffix is not None:
            text = f"optimizer `{track.label}`: {text}"
        event, error = report(kind, layers, text, action, self._epoch, batch,
                              step, norm)
        event["optimizer"] = track.label
        self.events.append(event)
        message = event["message"]
        if action == "raise":
            self._finish()
            raise error
        if action == "stop":
            self._model.stop_training = True
            message += " Stopping training."
        warnings.warn(message, GradientNormWarning, stacklevel=2)


def _check_path(owner, name, value):
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"{owner}: `{name}` must be None or a path; got {value!r} "
            f"of type {type(value).__name__}."
        )
