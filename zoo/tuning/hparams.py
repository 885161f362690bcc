"""The TensorBoard HParams dashboard of a search, written live.

Layout under `log_dir`: one run folder `trial_<id>` per trial, holding

- the experiment (every hyperparameter with its domain, and the metrics),
  the same in every trial (TensorBoard reads it from any run), so there
  is no experiment-only run (`.`);
- its per-epoch curves, one scalar tag per logged metric (the objective
  included), flushed after every epoch, so a search is watched live in
  the Scalars dashboard;
- at its end, the HParams session: the hyperparameter values and `status`
  (`COMPLETED`, `PRUNED` or `FAILED`, a hyperparameter-like column the
  dashboard filters on), then `score` (the trial's best objective, the
  search's ranking value), `epochs` (epochs trained) and TensorBoard's
  session status: `STATUS_SUCCESS` (completed or pruned) or
  `STATUS_FAILURE`. TensorBoard has no "aborted" status, and keeps the
  first session record of a run, so the session is written once, when
  the status is known: a trial joins the HParams table when it ends.

What this adds over keras-tuner's `convert_hyperparams_to_hparams` and
TensorBoard's `hparams` API:

- searched hyperparameters (those the space varies) are marked `differs`,
  which TensorBoard lists first (then by name) and ticks, the first five,
  by default; fixed ones (single-value choices, `Fixed`, the `fixed`
  values of the job) follow;
- the objective's best value is the first metric (what "colour by" and
  sorting start from);
- integer ranges of up to `MAX_LISTED` values are listed (depth 1, 2, 3),
  wider ones and float ranges are intervals; as the dashboard prints every
  number with five digits and shows an interval's filter as -infinity to
  +infinity, display names say it: `depth (int)`,
  `learning_rate (1e-05 to 0.1, log)`; each hyperparameter also has a
  one-line description (searched or fixed, scale, step);
- conditional hyperparameters inactive when declared are declared too;
- the events are written by TensorBoard's own event writer (no TensorFlow
  graph or session involved) and flushed per epoch.
"""

import glob
import math
import os
import time

import numpy as np
from keras_tuner.engine import hyperparameters as hp_types
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import summary as hp_summary
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

from zoo.tuning import trials as trials_lib

SCORE_TAG = "score"
EPOCHS_TAG = "epochs"
# TensorBoard shows a filter checkbox per value below 10 values.
MAX_LISTED = 9
_EVENTS = "events.out.tfevents.*"
STATUS_HPARAM = "status"
_STATUS = {
    trials_lib.COMPLETED: api_pb2.STATUS_SUCCESS,
    trials_lib.PRUNED: api_pb2.STATUS_SUCCESS,
    trials_lib.FAILED: api_pb2.STATUS_FAILURE,
}


def _values_type(values):
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return api_pb2.DATA_TYPE_BOOL
    if all(isinstance(v, (int, float, np.number)) for v in values):
        return api_pb2.DATA_TYPE_FLOAT64
    return api_pb2.DATA_TYPE_STRING


def _discrete(info, values):
    info.type = _values_type(values)
    for v in values:
        if info.type == api_pb2.DATA_TYPE_BOOL:
            info.domain_discrete.values.add(bool_value=bool(v))
        elif info.type == api_pb2.DATA_TYPE_FLOAT64:
            info.domain_discrete.values.add(number_value=float(v))
        else:
            info.domain_discrete.values.add(string_value=str(v))


def _range(info, hp, integer):
    """An Int or Float range: listed values if few, else an interval."""
    step = hp.step if hp.step is not None else (1 if integer else None)
    scale = "log scale" if hp.sampling == "log" else "linear"
    kind = "integer" if integer else "float"
    info.description = f"{kind} from {hp.min_value:g} to {hp.max_value:g}, {scale}" + (
        f", step {step:g}" if step is not None and not (integer and step == 1) else "")
    if step is not None and hp.sampling != "log":
        count = math.floor((hp.max_value - hp.min_value) / step + 1e-9) + 1
        if count <= MAX_LISTED:
            values = [hp.min_value + i * step for i in range(count)]
            _discrete(info, [int(v) for v in values] if integer else
                      [round(v, 12) for v in values])
            if integer:  # TensorBoard prints every number as 1.0000
                info.display_name = f"{hp.name} (int)"
            return
    # The dashboard's range filter reads -infinity..+infinity: name the range.
    info.display_name = (f"{hp.name} ({'int ' if integer else ''}{hp.min_value:g} to "
                         f"{hp.max_value:g}{', log' if hp.sampling == 'log' else ''})")
    info.type = api_pb2.DATA_TYPE_FLOAT64
    info.domain_interval.min_value = float(hp.min_value)
    info.domain_interval.max_value = float(hp.max_value)


def hparam_info(hp):
    """The `api_pb2.HParamInfo` of a keras-tuner hyperparameter, and whether
    the space varies it (`differs`)."""
    info = api_pb2.HParamInfo(name=hp.name, display_name=hp.name)
    if isinstance(hp, hp_types.Fixed):
        _discrete(info, [hp.value])
        info.description = "fixed"
    elif isinstance(hp, hp_types.Boolean):
        _discrete(info, [False, True])
        info.description = "searched: true or false"
    elif isinstance(hp, hp_types.Choice):
        _discrete(info, list(hp.values))
        info.description = "searched: one of the listed values" if len(hp.values) > 1 \
            else "fixed (a one-value choice)"
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in hp.values):
            info.display_name = f"{hp.name} (int)"
    elif isinstance(hp, hp_types.Int):
        _range(info, hp, integer=True)
    elif isinstance(hp, hp_types.Float):
        _range(info, hp, integer=False)
    else:
        raise TypeError(f"Unknown keras-tuner hyperparameter type: {hp!r}")
    info.differs = not info.description.startswith("fixed")
    if info.differs and not info.description.startswith("searched"):
        info.description = "searched: " + info.description
    return info


def hparam_infos(space, fixed=None):
    """Every hyperparameter of `space` (a list of keras-tuner hyperparameters,
    conditional ones included), then the `fixed` values of the job: the
    searched ones first, each group by name (TensorBoard's own order)."""
    infos = {hp.name: hparam_info(hp) for hp in space if not hp.name.startswith("tuner/")}
    for name, value in (fixed or {}).items():
        if name not in infos and value is not None:
            info = api_pb2.HParamInfo(name=name, display_name=name, description="fixed")
            _discrete(info, [value])
            infos[name] = info
    status = api_pb2.HParamInfo(
        name=STATUS_HPARAM, display_name=STATUS_HPARAM,
        description="The trial's end: COMPLETED, PRUNED (stopped early by the pruning "
                    "rule; its metrics are from its last epoch) or FAILED.")
    _discrete(status, [trials_lib.COMPLETED, trials_lib.PRUNED, trials_lib.FAILED])
    infos.setdefault(STATUS_HPARAM, status)
    return sorted(infos.values(), key=lambda i: (not i.differs, i.name))


def metric_infos(objective):
    """The objective's best value first, its last-epoch value, epochs trained."""
    name, direction = objective.name, objective.direction
    return [
        api_pb2.MetricInfo(
            name=api_pb2.MetricName(tag=SCORE_TAG),
            display_name=f"{name} best ({direction}): objective",
            description=f"The search objective: the trial's best {name} over its epochs."),
        api_pb2.MetricInfo(
            name=api_pb2.MetricName(tag=name), display_name=f"{name} (last epoch)",
            description=f"{name} at the trial's last epoch (a pruned trial's is early)."),
        api_pb2.MetricInfo(
            name=api_pb2.MetricName(tag=EPOCHS_TAG), display_name="epochs trained",
            description="Epochs the trial trained (fewer if it was pruned)."),
    ]


def _scalar(tag, value):
    return summary_pb2.Summary.Value(
        tag=tag, metadata=scalar_metadata.create_summary_metadata(display_name=tag,
                                                                    description=""),
        tensor=tensor_util.make_tensor_proto(np.float32(value)))


def _event(step, summary):
    # TensorBoard's summary helpers return TensorFlow's proto class when
    # TensorFlow is installed; the event writer takes TensorBoard's.
    if not isinstance(summary, summary_pb2.Summary):
        summary = summary_pb2.Summary.FromString(summary.SerializeToString())
    return event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)


def _session_values(trial, names, fixed):
    values = dict(trial.hyperparameters.values, **(fixed or {}))
    values = {k: v for k, v in values.items() if k in names and v is not None}
    return {k: (bool(v) if isinstance(v, np.bool_) else
                v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}


class TrialRuns:
    """Writes each trial's run folder as the trial runs (see the module doc).

    Args:
        log_dir: the search's TensorBoard directory.
        objective: the `keras_tuner.Objective`.
        fixed: `{name: value}` pinned for every trial, shown after the
            searched hyperparameters.

    Example:

    >>> import tempfile, keras_tuner as kt
    >>> hp = kt.HyperParameters()
    >>> _ = hp.Int("depth", 1, 3), hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    >>> [i.name for i in hparam_infos(hp.space, fixed={"activation": "relu"})]
    ['depth', 'learning_rate', 'activation', 'status']
    >>> runs = TrialRuns(tempfile.mkdtemp(), kt.Objective("val_loss", "min"))
    """

    def __init__(self, log_dir, objective, fixed=None):
        self.log_dir = os.fspath(log_dir)
        self.objective = objective
        self.fixed = dict(fixed or {})
        self._writers = {}  # trial_id -> EventFileWriter of a running trial

    def run_dir(self, trial_id):
        return os.path.join(self.log_dir, f"trial_{trial_id}")

    def clear_legacy(self):
        """Remove an experiment written in `log_dir` itself by older versions
        (TensorBoard listed it as an empty run `.`)."""
        for old in glob.glob(os.path.join(self.log_dir, _EVENTS)):
            os.remove(old)

    def begin(self, trial):
        """Start `trial`'s run with the experiment (a re-run trial starts
        afresh)."""
        self.close(trial.trial_id)
        run_dir = self.run_dir(trial.trial_id)
        os.makedirs(run_dir, exist_ok=True)
        for old in glob.glob(os.path.join(run_dir, _EVENTS)):
            os.remove(old)
        writer = EventFileWriter(run_dir)
        infos = hparam_infos(trial.hyperparameters.space, self.fixed)
        experiment = hp_summary.experiment_pb(infos, metric_infos(self.objective))
        writer.add_event(_event(0, experiment))
        writer.flush()
        self._writers[trial.trial_id] = writer
        return writer

    def epoch(self, trial, epoch, logs):
        """Write one epoch's metrics (`{name: number}`) and flush them."""
        writer = self._writers.get(trial.trial_id) or self.begin(trial)
        values = [_scalar(k, v) for k, v in sorted(logs.items())
                  if not k.startswith(trials_lib.INTERNAL_PREFIX) and v is not None
                  and np.isscalar(v)]
        writer.add_event(_event(epoch, summary_pb2.Summary(value=values)))
        writer.flush()

    def end(self, trial):
        """Write the session of an ended `trial` (values, status, score,
        epochs), and close its run. A trial not begun by this object is
        written whole from the oracle's curves."""
        writer = self._writers.pop(trial.trial_id, None)
        if writer is None:
            writer = self.begin(trial)
            self._writers.pop(trial.trial_id)
            for epoch, logs in _epochs(trial).items():
                writer.add_event(_event(epoch, summary_pb2.Summary(
                    value=[_scalar(k, v) for k, v in logs.items()])))
        status = trials_lib.trial_status(trial)
        names = {i.name for i in hparam_infos(trial.hyperparameters.space, self.fixed)}
        values = dict(_session_values(trial, names, self.fixed), **{STATUS_HPARAM: status})
        start = hp_summary.session_start_pb(values, group_name=str(trial.trial_id))
        writer.add_event(_event(0, start))
        epochs = len(trials_lib.curve(trial, self.objective.name))
        values = [_scalar(EPOCHS_TAG, epochs)]
        if trial.score is not None:
            values.append(_scalar(SCORE_TAG, float(trial.score)))
        step = (trial.best_step or 0) if trial.score is not None else 0
        writer.add_event(_event(step, summary_pb2.Summary(value=values)))
        writer.add_event(_event(step, hp_summary.session_end_pb(
            _STATUS.get(status, api_pb2.STATUS_UNKNOWN))))
        writer.close()
        return self.run_dir(trial.trial_id)

    def close(self, trial_id=None):
        """Close the writer of `trial_id` (every writer if None)."""
        ids = list(self._writers) if trial_id is None else [trial_id]
        for i in ids:
            writer = self._writers.pop(i, None)
            if writer is not None:
                writer.close()


def _epochs(trial):
    """`{epoch: {metric: value}}` of every training metric of `trial`."""
    out = {}
    for name in trials_lib.metric_names(trial):
        for epoch, value in trials_lib.curve(trial, name).items():
            out.setdefault(epoch, {})[name] = value
    return out
