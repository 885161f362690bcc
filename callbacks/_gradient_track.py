"""One optimizer's gradient norms for `GradientNormMonitor`: reading the
rows its `GradientCapture` wrote, recording and checking them."""

import keras
import numpy as np

from callbacks import gradient_capture as gc
from callbacks._model_optimizers import model_optimizers
from callbacks._gradient_norm_charts import epoch_tags, step_tags
from callbacks.gradient_diagnosis import GradientDiagnosis
from callbacks.gradient_history import GradientHistory


class GradientTrack:
    """The rows of one `GradientCapture`, turned into history, TensorBoard
    points, epoch values and diagnoses.

    Args:
        capture: the `GradientCapture` of the optimizer.
        label: the optimizer's attribute on the model (``"optimizer"``...).
        history: a `GradientHistory` to continue, or ``None``.
        step: training steps recorded before (counted across fits).
    """

    def __init__(self, capture, label, history=None, step=0):
        self.capture = capture
        self.label = label
        self.suffix = None  # log-key suffix, set once the keys are known
        self.history = history
        self.step = step
        self.diagnosis = None
        self.start_epoch()

    def start_epoch(self):
        self.rows_read = 0
        self.alarms = 0.0
        # Sum, count and max of the epoch's finite global norms.
        self.epoch_norms = (0.0, 0, 0.0)

    def setup(self, monitor):
        """Once the capture knows its layers: history, tags and diagnosis."""
        names = self.capture.names
        if self.history is None or self.history.layer_names != names:
            # History and step count belong to one set of layers.
            self.history = GradientHistory(names, monitor.max_history)
            self.step = 0
        label = None if self.suffix is None else self.label
        self.step_tags = step_tags(names, label)
        self.epoch_tags = epoch_tags(label)
        monitor._writer.descriptions.update(self.step_tags)
        monitor._writer.descriptions.update(self.epoch_tags)
        self.diagnosis = GradientDiagnosis(
            names, monitor.vanishing_threshold, monitor.patience,
            monitor.exploding_threshold, self.capture.loss_scaled)

    def keys(self, keys):
        return [key + (self.suffix or "") for key in keys]

    def epoch_values(self):
        """Mean and max of the epoch's finite global norms (NaN if none)."""
        total, count, peak = self.epoch_norms
        if not count:
            return float("nan"), float("nan")
        return total / count, peak

    def read(self, monitor, values=None, check=True):
        """Records (and checks) the steps not read yet; returns the state and
        ``[(epoch batch, kind, layers, text, step, norm)]`` of problems."""
        state = self.capture.read(values)
        self.alarms = state[gc.ALARM]
        done = int(state[gc.STEPS])
        if done == self.rows_read:
            return state, []
        rows = self.capture.read_rows(self.rows_read, done, values)
        first = done - len(rows)  # the epoch's batch index of rows[0]
        # More unread steps than rows only if the buffer overflowed.
        self.step += first - self.rows_read
        steps = self.step + 1 + np.arange(len(rows))
        self.step += len(rows)
        self.rows_read = done
        self._record(monitor, steps, rows)
        if not check:
            return state, []
        return state, [
            (first + i, kind, layers, text, int(steps[i]), float(rows[i, 0]))
            for i, kind, layers, text in self.diagnosis.check(rows)
        ]

    def _record(self, monitor, steps, rows):
        layer_norms = rows[:, 1: len(self.step_tags)]
        for step, norm in zip(steps.tolist(), rows[:, 0].tolist()):
            self.history.add_global(step, norm)
        finite = rows[np.isfinite(rows[:, 0]), 0]
        if len(finite):
            total, count, peak = self.epoch_norms
            self.epoch_norms = (
                total + float(finite.sum(dtype=np.float64)),
                count + len(finite),
                max(peak, float(finite.max())),
            )
        # Multiples of the frequencies, counting across fits.
        at_layer = steps % monitor.layer_update_freq == 0
        for step, norms in zip(steps[at_layer].tolist(), layer_norms[at_layer]):
            self.history.add_layers(step, norms)
        writer = monitor._writer
        if not writer.enabled:
            return
        at_global = steps % monitor.update_freq == 0
        tags = list(self.step_tags)  # the global norm, then the layers
        if monitor.update_freq == monitor.layer_update_freq:
            writer.write(steps[at_global], tags, rows[at_global, : len(tags)])
        else:
            writer.write(steps[at_global], tags[:1], rows[at_global, :1])
            writer.write(steps[at_layer], tags[1:], layer_norms[at_layer])


def make_tracks(monitor, model, capacity):
    """A `GradientTrack` for each optimizer of ``model``, reusing the
    monitor's where they still fit; returns ``(tracks, skipped labels)``."""
    old = {id(t.capture.optimizer): t for t in monitor._tracks}
    tracks, skipped = [], []
    for label, optimizer in model_optimizers(model).items():
        if keras.backend.backend() == "jax" and not optimizer.built:
            # A jitted step cannot make the state variables.
            skipped.append(label)
            continue
        track = old.get(id(optimizer))
        if track is None or not track.capture.matches(optimizer) or (
            track.capture.capacity < capacity
        ):
            capture = gc.GradientCapture(
                optimizer, monitor.vanishing_threshold,
                monitor.exploding_threshold, patience=monitor.patience,
                capacity=capacity, skip_non_finite=monitor._acts_on_the_step,
                model_name=model.name,
                strategy=getattr(model, "distribute_strategy", None),
            )
            history = monitor._histories.get(label)
            same = track is not None and track.history is history
            track = GradientTrack(capture, label, history if same else None,
                                  track.step if same else 0)
        track.label = label
        tracks.append(track)
    return tracks, skipped


def jax_values(model, tracks):
    """``{id(track): values of its optimizer's variables}`` where they live
    outside the variables (JAX mid-epoch: Keras's trainer keeps them in
    ``model._jax_state`` until a sync), read without syncing every
    variable, as reading ``Callback.model`` would."""
    state = getattr(model, "_jax_state", None)
    if not state or getattr(model, "_jax_state_synced", True):
        return {}
    return {id(t): state["optimizer_variables"] for t in tracks
            if t.capture.optimizer is model.optimizer}


def read_unread(monitor):
    """Records the steps a fit that ended in an exception left unread."""
    if monitor._active is None and any(
            t.capture.resolved and t.capture.read()[gc.STEPS] for t in monitor._tracks):
        monitor._choose()
    for track in monitor._active or ():
        track.read(monitor, check=False)
