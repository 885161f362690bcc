"""keras-tuner's four tuners, with per-epoch curves, pruning, results and resume.

`GridSearch`, `RandomSearch`, `BayesianOptimization` and `Hyperband` are
the keras-tuner classes of the same names plus what `_ZooTuner` adds:

- every epoch's logs go to the oracle (`step` = epoch), so each trial
  keeps its whole curve (keras-tuner keeps only the best epoch);
- an optional pruning rule (`zoo.tuning.pruning`) stops bad trials;
- after every trial the results files are rewritten
  (`zoo.tuning.results`) and a progress line is printed;
- on reload the oracle is reconciled with the trial files
  (`zoo.tuning.resume`) and the state is saved before the first trial, so
  a job killed at any point resumes.
"""

import time

import keras_tuner as kt
from keras_tuner import errors

from zoo.tuning import resume
from zoo.tuning import trials as trials_lib


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
        **kwargs: the keras-tuner tuner's own arguments.
    """

    def __init__(self, *args, pruning=None, results=None, progress=True, **kwargs):
        # Set before keras-tuner's __init__, which may call `reload`.
        self.pruning = pruning
        self.results = results
        self.progress = progress
        self.reconciled = None
        self._trial_start = {}
        self._trained = None  # (trial_id, model) of the trial running here
        self._epochs = None  # epochs of the trial running here
        super().__init__(*args, **kwargs)

    def reload(self):
        super().reload()
        if not self._is_worker():
            self.reconciled = resume.reconcile(self.oracle)

    def on_search_begin(self):
        super().on_search_begin()
        self.save()  # from now on a killed job reloads instead of starting over
        if self.results is not None:
            self.results.on_search_begin(self)

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        self._trial_start[trial.trial_id] = time.monotonic()

    def run_trial(self, trial, *args, **kwargs):
        # Hyperband sets each trial's epochs itself, from these values.
        self._epochs = trial.hyperparameters.values.get("tuner/epochs", kwargs.get("epochs"))
        return super().run_trial(trial, *args, **kwargs)

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
        # The last epoch is never pruned: there is nothing left to save.
        if self.pruning is not None and epoch + 1 != self._epochs and self.pruning.check(
            self.oracle, trial.trial_id, epoch, metrics[name]
        ):
            model.stop_training = True
            metrics[trials_lib.PRUNED_METRIC] = float(epoch)
        self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
        self._trained = (trial.trial_id, model)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)  # the oracle ends the trial and is saved
        self._trial_start.pop(trial.trial_id, None)
        ended = self.oracle.get_trial(trial.trial_id)
        trained, self._trained = self._trained, None
        rows = None
        if self.results is not None:
            model = trained[1] if trained and trained[0] == trial.trial_id else None
            rows = self.results.on_trial_end(self, ended, model)
        if self.progress:
            print(self._progress_line(ended, rows), flush=True)
        # keras-tuner clears the Keras session before it builds each model.

    def best_model_from(self, trial, model=None):
        """`trial`'s model with the weights of its best epoch.

        `model` (the model this process just trained for `trial`) saves a
        rebuild; without it the model is rebuilt (`load_model`).
        """
        if model is None:
            return self.load_model(trial)
        model.load_weights(self._get_checkpoint_fname(trial.trial_id))
        return model

    def _progress_line(self, trial, rows):
        objective = self.oracle.objective
        status = trials_lib.trial_status(trial)
        done = "?" if rows is None else sum(r["status"] != trials_lib.RUNNING for r in rows)
        budget = self.oracle.max_trials or "?"
        score = "-" if trial.score is None else f"{trial.score:.4f}"
        best = self.oracle.get_best_trials(1)
        best = f"{best[0].score:.4f}" if best and best[0].score is not None else "-"
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
    """`keras_tuner.BayesianOptimization` with the additions of `zoo.tuning.tuners`."""


class Hyperband(_ZooTuner, kt.Hyperband):
    """`keras_tuner.Hyperband` with the additions of `zoo.tuning.tuners`."""


TUNERS = {
    "grid": GridSearch,
    "random": RandomSearch,
    "bayesian": BayesianOptimization,
    "hyperband": Hyperband,
}
