"""keras-tuner's four tuners, LIPO and TPE, with per-epoch curves, pruning, results and resume.

`GridSearch`, `RandomSearch`, `BayesianOptimization` and `Hyperband` are
the keras-tuner classes of the same names, `LipoSearch` the LIPO tuner of
`zoo.tuning.lipo` and `TpeSearch` Optuna's TPE (`zoo.tuning.tpe`), plus
what `_ZooTuner` adds:

- every epoch's logs go to the oracle (`step` = epoch), so each trial
  keeps its whole curve (keras-tuner keeps only the best epoch);
- an optional pruning rule (`zoo.tuning.pruning`) stops bad trials;
- after every trial the results files are rewritten
  (`zoo.tuning.results`) and a progress line is printed; each trial's
  TensorBoard curves are written every epoch (`zoo.tuning.hparams`);
- on reload the oracle is reconciled with the trial files
  (`zoo.tuning.resume`) and the state is saved before the first trial, so
  a job killed at any point resumes;
- the best epoch's weights are kept in memory (`zoo.tuning.best_epoch`)
  instead of keras-tuner's checkpoint write at every improving epoch, and
  written once at the trial's end, if it is the best completed trial so
  far (`checkpoints="best"`) or for every trial (`checkpoints="all"`,
  Hyperband's, which continues trials from their checkpoints);
- `get_best_models` and `get_best_hyperparameters` rank completed trials
  before pruned ones (`zoo.tuning.trials.ranked`);
- the objects alive when the search starts are frozen out of garbage
  collection (`gc.freeze`) until it ends, so keras-tuner's collections
  before each trial scan only that trial's objects.

`BayesianOptimization` also sizes its random warm-up to the budget
(`zoo.tuning.warmup`) unless `num_initial_points` is given.
"""

import gc
import time

import keras_tuner as kt
from keras_tuner import errors
from keras_tuner.src import backend as kt_backend
from keras_tuner.src.engine import tuner_utils

from zoo.core.checks import check_choice
from zoo.core.files import atomic_path
from zoo.tuning import lipo, resume, tpe
from zoo.tuning import trials as trials_lib
from zoo.tuning.best_epoch import BestEpoch
from zoo.tuning.warmup import initial_trials, tuned_hyperparameters

CHECKPOINTS = ("best", "all")


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _ZooTuner:
    """Mixin over a `keras_tuner.Tuner` class (see the module doc).

    Args:
        pruning: `None` or a rule with `check(oracle, trial_id, epoch, value)`.
        results: `None` or a `zoo.tuning.results.SearchResults`.
        progress: print one line per finished trial.
        checkpoints: whose best-epoch weights are written to the trial's
            checkpoint (what `load_model` and `get_best_models` read):
            `"best"` (the trials that were the best completed trial when
            they ended) or `"all"`; `None`: the tuner's default.
        **kwargs: the keras-tuner tuner's own arguments.
    """

    checkpoints = "best"

    def __init__(self, *args, pruning=None, results=None, progress=True, checkpoints=None,
                 **kwargs):
        if checkpoints is not None:
            self.checkpoints = check_choice("checkpoints", checkpoints, CHECKPOINTS)
        # Set before keras-tuner's __init__, which may call `reload`.
        self.pruning = pruning
        self.results = results
        self.progress = progress
        self.reconciled = None
        self._trial_start = {}
        self._trained = None  # (trial_id, model) of the trial running here
        self._best_epoch = None  # BestEpoch of the trial running here
        super().__init__(*args, **kwargs)

    def reload(self):
        super().reload()
        if not self._is_worker():
            self.reconciled = resume.reconcile(self.oracle)

    def search(self, *args, **kwargs):
        # keras-tuner runs two full garbage collections before each build
        # (`clear_session`'s and its own), each rescanning the ~400,000
        # long-lived objects of TensorFlow and Keras: about 0.3 s a trial.
        # Frozen (`gc.freeze`), they are left out; reference counting still
        # frees everything, and each trial's cycles are still collected.
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.collect()
            gc.freeze()
        try:
            return super().search(*args, **kwargs)
        finally:
            if freeze:
                gc.unfreeze()

    def on_search_begin(self):
        super().on_search_begin()
        self.save()  # from now on a killed job reloads instead of starting over
        if self.results is not None:
            self.results.on_search_begin(self)

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        self._trial_start[trial.trial_id] = time.monotonic()
        if self.results is not None:
            self.results.on_trial_begin(self, trial)

    def run_trial(self, trial, *args, **kwargs):
        self._best_epoch = BestEpoch(self.oracle.objective)
        return super().run_trial(trial, *args, **kwargs)

    def _build_and_fit_model(self, trial, *args, **kwargs):
        # keras-tuner's run_trial adds a SaveBestEpoch, which writes a
        # checkpoint at every improving epoch: keep that epoch in memory.
        kwargs["callbacks"] = [
            self._best_epoch if isinstance(cb, tuner_utils.SaveBestEpoch) else cb
            for cb in kwargs.get("callbacks", [])]
        return super()._build_and_fit_model(trial, *args, **kwargs)

    def on_epoch_end(self, trial, model, epoch, logs=None):
        logs = logs or {}
        name = self.oracle.objective.name
        if name not in logs:
            raise errors.FatalValueError(
                f"The objective {name!r} is not in the epoch logs; logged: {sorted(logs)}. "
                "Use one of these names, or add the callback that logs it (e.g. "
                "callbacks.SklearnMetrics for val_f1)."
            )
        metrics = {k: v for k, v in ((k, _number(v)) for k, v in logs.items()) if v is not None}
        start = self._trial_start.get(trial.trial_id, time.monotonic())
        metrics[trials_lib.SECONDS_METRIC] = time.monotonic() - start
        # The last epoch too, as Optuna's loop: a trial that ends worse than
        # the median is marked pruned (it cannot be the best).
        if self.pruning is not None and self.pruning.check(
            self.oracle, trial.trial_id, epoch, metrics[name]
        ):
            model.stop_training = True
            metrics[trials_lib.PRUNED_METRIC] = float(epoch)
        self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
        self._trained = (trial.trial_id, model)
        if self.results is not None:  # live TensorBoard curves
            self.results.on_epoch_end(self, trial, epoch, metrics)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)  # the oracle ends the trial and is saved
        self._trial_start.pop(trial.trial_id, None)
        ended = self.oracle.get_trial(trial.trial_id)
        trained, self._trained = self._trained, None
        best_epoch, self._best_epoch = self._best_epoch, None
        model = trained[1] if trained and trained[0] == trial.trial_id else None
        if model is not None and not (best_epoch and best_epoch.restore(model)):
            model = None
        ranking = trials_lib.ranked(self.oracle)
        if model is not None and self._keeps_checkpoint(ended, ranking):
            with atomic_path(self._get_checkpoint_fname(trial.trial_id)) as tmp:
                model.save_weights(tmp)  # a full disk leaves the old file whole
        rows = None
        if self.results is not None:
            rows = self.results.on_trial_end(self, ended, model)
        if self.progress:
            print(self._progress_line(ended, rows, ranking), flush=True)
        # keras-tuner clears the Keras session before it builds each model.

    def _keeps_checkpoint(self, trial, ranking):
        if trials_lib.trial_status(trial) not in (trials_lib.COMPLETED, trials_lib.PRUNED):
            return False
        best = trials_lib.best_trial(self.oracle, ranking)
        return self.checkpoints == "all" or (best is not None and best.trial_id == trial.trial_id)

    def best_model_from(self, trial, model=None):
        """`trial`'s model with the weights of its best epoch.

        `model`: the model this process just trained for `trial`, already
        at its best epoch (no rebuild); without it the model is rebuilt
        from the trial's checkpoint (`load_model`).
        """
        return self.load_model(trial) if model is None else model

    def load_model(self, trial):
        if not kt_backend.io.exists(self._get_checkpoint_fname(trial.trial_id)):
            raise FileNotFoundError(
                f"Trial {trial.trial_id} has no checkpoint: with checkpoints='best' only "
                "the trials that were the best completed trial when they ended keep their "
                "weights. Pass checkpoints='all' to keep every trial's."
            )
        return super().load_model(trial)

    def get_best_hyperparameters(self, num_trials=1):
        """keras-tuner's, with completed trials ranked before pruned ones."""
        return [t.hyperparameters for t in trials_lib.ranked(self.oracle)[:num_trials]]

    def get_best_models(self, num_models=1):
        """keras-tuner's, with completed trials ranked before pruned ones."""
        return [self.load_model(t) for t in trials_lib.ranked(self.oracle)[:num_models]]

    def warmup_note(self):
        """A line saying how many random trials come first, or None."""
        return None

    def _progress_line(self, trial, rows, ranking):
        objective = self.oracle.objective
        status = trials_lib.trial_status(trial)
        done = "?" if rows is None else sum(r["status"] != trials_lib.RUNNING for r in rows)
        budget = self.oracle.max_trials or "?"
        score = "-" if trial.score is None else f"{trial.score:.4f}"
        best = trials_lib.best_trial(self.oracle, ranking)
        best = "-" if best is None else f"{best.score:.4f}"
        seconds = trials_lib.duration(trial)
        hps = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in trial.hyperparameters.values.items()
                        if not k.startswith("tuner/"))
        return (f"[trial {done}/{budget}] {trial.trial_id} {status:<9} "
                f"{objective.name}={score} best={best} "
                f"{'' if seconds is None else f'{seconds:.1f}s '}| {hps}")


class GridSearch(_ZooTuner, kt.GridSearch):
    """`keras_tuner.GridSearch` with the additions of `zoo.tuning.tuners`."""


class RandomSearch(_ZooTuner, kt.RandomSearch):
    """`keras_tuner.RandomSearch` with the additions of `zoo.tuning.tuners`."""


class BayesianOptimization(_ZooTuner, kt.BayesianOptimization):
    """`keras_tuner.BayesianOptimization` with the additions of `zoo.tuning.tuners`.

    Unless `num_initial_points` is given, the Gaussian process is fitted
    after `zoo.tuning.warmup.initial_trials(max_trials, dimensions)` random
    trials (keras-tuner: 3 x dimensions, whatever the budget).
    """

    def _populate_initial_space(self):
        super()._populate_initial_space()
        oracle = self.oracle
        dimensions = len(tuned_hyperparameters(oracle.hyperparameters))
        if oracle.num_initial_points is None and dimensions:
            oracle.num_initial_points = initial_trials(oracle.max_trials, dimensions)

    def warmup_note(self):
        n = getattr(self.oracle, "num_initial_points", None)  # None on a worker
        return n and (f"Bayesian optimization: {n} random trial(s), then the Gaussian "
                      "process proposes the rest.")


class Hyperband(_ZooTuner, kt.Hyperband):
    """`keras_tuner.Hyperband` with the additions of `zoo.tuning.tuners`.

    Every trial keeps its checkpoint: Hyperband continues trials from them.
    """

    checkpoints = "all"

    def __init__(self, *args, checkpoints=None, **kwargs):
        if checkpoints not in (None, "all"):
            raise ValueError("`checkpoints` must be 'all' for Hyperband, which continues "
                             f"trials from their checkpoints; got {checkpoints!r}.")
        super().__init__(*args, **kwargs)


class LipoSearch(_ZooTuner, lipo.LipoSearch):
    """`zoo.tuning.lipo.LipoSearch` with the additions of `zoo.tuning.tuners`."""


class TpeSearch(_ZooTuner, tpe.TpeSearch):
    """`zoo.tuning.tpe.TpeSearch` with the additions of `zoo.tuning.tuners`."""

    def warmup_note(self):
        oracle = self.oracle
        if not isinstance(oracle, tpe.TpeOracle):  # a worker's client
            return None
        return (f"TPE: {oracle.warmup_trials()} random trial(s), then Optuna's TPE sampler "
                "proposes the rest.")


TUNERS = {
    "grid": GridSearch,
    "random": RandomSearch,
    "bayesian": BayesianOptimization,
    "hyperband": Hyperband,
    "lipo": LipoSearch,
    "tpe": TpeSearch,
}
