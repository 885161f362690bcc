"""TPE search: Optuna's Tree-structured Parzen Estimator as a keras-tuner oracle.

TPE (Bergstra et al., 2011) models the density of the good trials and of
the others, and proposes where their ratio is highest; Optuna's sampler
finds better configurations than keras-tuner's Bayesian oracle on small
budgets of mixed spaces (see `bench/search_quality.py`). keras-tuner has
no TPE.

`TpeOracle` is a plain `keras_tuner.Oracle` that asks an in-memory Optuna
study for values (`study.ask`, then the trial's `suggest_*` calls, one per
active hyperparameter) and tells it the results (`Trial.report` at every
epoch the tuner reports, `study.tell` when a trial ends: its score, or
`PRUNED` for a trial that the tuner's pruning rule stopped). So everything
built on oracles keeps working: distributed search (the chief runs the
study), resume (the study is rebuilt from the finished trials on reload),
pruning, the results files, the HParams dashboard, and
`zoo.tuning.run_search(..., strategy="tpe")` /
`python -m recipes tune NAME --strategy tpe`.

The space, as Optuna distributions:

- `Choice` and `Boolean`: categorical.
- `Int` and `Float`, linear: the same range (and `step`); log sampling:
  log-scale ranges; log sampling with a (multiplicative) `step`: its grid
  of values, as a categorical; `reverse_log`: keras-tuner's own mapping to
  [0, 1) (`value_to_prob`), searched uniformly there.
- `Fixed`, and hyperparameters inactive in a trial: not asked.

The sampler is used as Optuna's own loop (`study.optimize`) uses it: one
`TPESampler(seed=seed)` for the whole search, with Optuna's default
settings (multivariate for one objective, a constant liar that counts
trials still running as bad, which only matters with several workers) and
`n_startup_trials` random trials first: Optuna's 10, but never more than
two thirds of `max_trials`, so a small budget still gets modeled trials.
So, with the same seed and the same space (asked in the same order),
`TpeOracle` proposes the trials `study.optimize` would, as long as it is
told the same results. The sampler's random state is saved with the
oracle (`oracle.json`), so a resumed search goes on as the first would
have. A draw that repeats a tried configuration is discarded (told as
failed, which TPE ignores) and asked again, as keras-tuner's oracles
avoid repeats.

Optuna is imported when the first oracle is built, not with `zoo.tuning`.
"""

import contextlib
import math

import keras_tuner as kt
import numpy as np
from keras_tuner.engine import hyperparameters as hp_types
from keras_tuner.engine.trial import TrialStatus

from zoo.core.checks import check_bool, check_int
from zoo.tuning import trials as trials_lib
from zoo.tuning.warmup import tpe_initial_trials, tuned_hyperparameters


def _optuna():
    import optuna

    return optuna


def _uses_probability(hp):
    # No Optuna distribution for keras-tuner's reverse-log scale.
    return getattr(hp, "sampling", None) == "reverse_log"


def distribution(hp):
    """The Optuna distribution searched for keras-tuner hyperparameter `hp`."""
    dist = _optuna().distributions
    if isinstance(hp, hp_types.Boolean):
        return dist.CategoricalDistribution([False, True])
    if isinstance(hp, hp_types.Choice):
        return dist.CategoricalDistribution(list(hp.values))
    if _uses_probability(hp):
        return dist.FloatDistribution(0.0, 1.0)
    integer = isinstance(hp, hp_types.Int)
    if hp.sampling == "log":
        if hp.step is None or (integer and hp.step == 1):
            kind = dist.IntDistribution if integer else dist.FloatDistribution
            return kind(hp.min_value, hp.max_value, log=True)
        return dist.CategoricalDistribution(list(hp.values))  # a multiplicative grid
    step = hp.step
    high = hp.max_value
    if step is not None:  # Optuna needs the top of the range on the grid
        high = hp.min_value + step * math.floor((hp.max_value - hp.min_value) / step + 1e-9)
    if integer:
        return dist.IntDistribution(hp.min_value, int(high), step=step or 1)
    return dist.FloatDistribution(hp.min_value, high, step=step)


def to_param(hp, value):
    """`hp`'s value as the Optuna parameter (see `distribution`)."""
    return float(hp.value_to_prob(value)) if _uses_probability(hp) else value


def from_param(hp, param):
    """The keras-tuner value of Optuna parameter `param` of `hp`."""
    if _uses_probability(hp):
        param = hp.prob_to_value(param)
    if isinstance(hp, hp_types.Int):
        return int(param)
    if isinstance(hp, hp_types.Float):
        return float(param)
    return param


def _suggest(trial, name, dist):
    optuna = _optuna()
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist, optuna.distributions.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


def _random_states(sampler):
    """The numpy `RandomState`s a `TPESampler` draws from (its own and its
    startup random sampler's); none if Optuna's internals have changed."""
    states = []
    for owner in (sampler, getattr(sampler, "_random_sampler", None)):
        rng = getattr(getattr(owner, "_rng", None), "rng", None)
        if not isinstance(rng, np.random.RandomState):
            return []
        states.append(rng)
    return states


@contextlib.contextmanager
def _quiet():
    """Optuna without its per-trial INFO lines (the tuner prints its own)."""
    logging = _optuna().logging
    level = logging.get_verbosity()
    logging.set_verbosity(max(level, logging.WARNING))
    try:
        yield
    finally:
        logging.set_verbosity(level)


class TpeOracle(kt.Oracle):
    """Optuna's TPE sampler behind keras-tuner's `Oracle` (see the module doc).

    Args:
        objective, max_trials, seed, hyperparameters, allow_new_entries,
            tune_new_entries, max_retries_per_trial,
            max_consecutive_failed_trials: as for every `keras_tuner.Oracle`.
        num_initial_points: random trials before TPE models the results
            (Optuna's `n_startup_trials`); `None`:
            `zoo.tuning.warmup.tpe_initial_trials(max_trials)` (Optuna's
            10, at most two thirds of the budget).
        multivariate: model the hyperparameters jointly (`True`) or one by
            one (`False`); `None`: Optuna's default (jointly, for one
            objective).

    Example:

    >>> import keras_tuner as kt
    >>> hp = kt.HyperParameters()
    >>> _ = hp.Float("x", -1.0, 1.0)
    >>> oracle = TpeOracle(kt.Objective("score", "min"), max_trials=6,
    ...                    hyperparameters=hp, seed=1)
    >>> oracle.warmup_trials()
    4
    >>> -1.0 <= oracle.populate_space("0")["values"]["x"] <= 1.0
    True
    """

    def __init__(self, objective=None, max_trials=10, seed=None, hyperparameters=None,
                 allow_new_entries=True, tune_new_entries=True, max_retries_per_trial=0,
                 max_consecutive_failed_trials=3, num_initial_points=None,
                 multivariate=None):
        super().__init__(
            objective=objective, max_trials=max_trials, hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries, tune_new_entries=tune_new_entries,
            seed=seed, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        if getattr(self.objective, "objectives", None):  # a keras-tuner MultiObjective
            raise ValueError(
                "`objective`: the TPE strategy optimizes one objective; got "
                f"{[o.name for o in self.objective.objectives]}."
            )
        if num_initial_points is not None:
            num_initial_points = check_int("num_initial_points", num_initial_points, minimum=1)
        self.num_initial_points = num_initial_points
        self.multivariate = None if multivariate is None else check_bool(
            "multivariate", multivariate)
        self._study = None  # built on first use, from the finished trials
        self._saved_rng = None  # the sampler's random states, from a saved state
        # trial_id -> (Optuna trial asked here and not told yet, steps reported)
        self._asked = {}

    def warmup_trials(self):
        """How many random trials come before TPE's proposals."""
        if self.num_initial_points is not None:
            return self.num_initial_points
        return tpe_initial_trials(self.max_trials)

    @property
    def study(self):
        """The Optuna study (in memory), rebuilt from the finished trials if needed."""
        if self._study is None:
            optuna = _optuna()
            direction = "maximize" if self.objective.direction == "max" else "minimize"
            with _quiet():
                self._study = optuna.create_study(
                    direction=direction, sampler=self._sampler(len(self.end_order)))
                for trial_id in self.end_order:
                    self._add_finished(self.trials[trial_id])
        return self._study

    def _sampler(self, finished):
        # One sampler for the search, as in `study.optimize`, seeded with the
        # oracle's seed. Rebuilt after `finished` trials (a resume), it gets
        # back the random states saved with the oracle, so it goes on as the
        # running one would have; without them, a seed drawn from both.
        seed = self.seed
        if finished and not self._saved_rng:
            seed = int(np.random.SeedSequence([self.seed, finished]).generate_state(1)[0])
        sampler = _optuna().samplers.TPESampler(
            seed=seed, n_startup_trials=self.warmup_trials(), multivariate=self.multivariate)
        if self._saved_rng:
            for rng, saved in zip(_random_states(sampler), self._saved_rng):
                rng.set_state((saved[0], np.asarray(saved[1], dtype=np.uint32), *saved[2:]))
        self._saved_rng = None
        return sampler

    def populate_space(self, trial_id):
        if not tuned_hyperparameters(self.hyperparameters):
            values = self._random_values()  # nothing to model: Fixed values only
        else:
            study = self.study
            for _ in range(self._max_collisions):
                asked = study.ask()
                values = self._suggest(asked)
                if not self._duplicate(values):
                    self._asked[trial_id] = (asked, set())
                    return {"status": TrialStatus.RUNNING, "values": values}
                with _quiet():
                    study.tell(asked, state=_optuna().trial.TrialState.FAIL)
            values = self._random_values()  # told to the study when it ends
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}

    def _suggest(self, asked):
        """Active values only, as keras-tuner records them."""
        hps = kt.HyperParameters()
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if not hps.is_active(hp):
                continue
            if isinstance(hp, hp_types.Fixed):
                hps.values[hp.name] = hp.value
            else:
                hps.values[hp.name] = from_param(hp, _suggest(asked, hp.name, distribution(hp)))
        return hps.values

    @kt.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        trial = super().update_trial(trial_id, metrics, step=step)
        asked, steps = self._asked.get(trial_id, (None, None))
        value = metrics.get(self.objective.name)
        # Optuna takes one value per step (the first execution's, if several).
        if asked is not None and trials_lib.is_finite(value) and int(step) not in steps:
            asked.report(float(value), int(step))
            steps.add(int(step))
        return trial

    @kt.synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        if self._study is None:
            return  # built later from the finished trials, this one included
        ended = self.trials[trial.trial_id]
        asked, _ = self._asked.pop(trial.trial_id, (None, None))
        if asked is None:  # a retry, a reloaded trial or a fallback draw
            if ended.status == TrialStatus.COMPLETED:
                with _quiet():
                    self._add_finished(ended)
            return
        state = _optuna().trial.TrialState
        with _quiet():
            if ended.status != TrialStatus.COMPLETED or not trials_lib.is_finite(ended.score):
                self._study.tell(asked, state=state.FAIL)
            elif trials_lib.is_pruned(ended):
                self._study.tell(asked, state=state.PRUNED)
            else:
                self._study.tell(asked, float(ended.score))

    def _add_finished(self, trial):
        """Replay a finished keras-tuner trial into the study."""
        optuna = _optuna()
        if trial.status != TrialStatus.COMPLETED or not trials_lib.is_finite(trial.score):
            return
        params, dists = {}, {}
        for hp in tuned_hyperparameters(self.hyperparameters):
            if hp.name in trial.hyperparameters.values and trial.hyperparameters.is_active(hp):
                params[hp.name] = to_param(hp, trial.hyperparameters.values[hp.name])
                dists[hp.name] = distribution(hp)
        curve = {step: value for step, value
                 in trials_lib.curve(trial, self.objective.name).items()
                 if trials_lib.is_finite(value)}
        pruned = trials_lib.is_pruned(trial)
        state = optuna.trial.TrialState
        try:
            frozen = optuna.trial.create_trial(
                state=state.PRUNED if pruned else state.COMPLETE,
                value=None if pruned else float(trial.score), params=params,
                distributions=dists, intermediate_values=curve)
        except ValueError:
            return  # its values lie outside today's space: nothing to learn from
        self._study.add_trial(frozen)

    def get_state(self):
        state = super().get_state()
        state["tpe"] = {"num_initial_points": self.num_initial_points,
                        "multivariate": self.multivariate}
        if self._study is not None:
            state["tpe"]["random_states"] = [
                [name, keys.tolist(), *(x.item() if hasattr(x, "item") else x for x in rest)]
                for name, keys, *rest in (r.get_state() for r in
                                          _random_states(self._study.sampler))]
        elif self._saved_rng:
            state["tpe"]["random_states"] = self._saved_rng
        return state

    def set_state(self, state):
        super().set_state(state)
        tpe = state.get("tpe", {})
        self.num_initial_points = tpe.get("num_initial_points", self.num_initial_points)
        self.multivariate = tpe.get("multivariate", self.multivariate)
        # The study is rebuilt from the reloaded trials at its next use.
        self._study, self._asked = None, {}
        self._saved_rng = tpe.get("random_states")


class TpeSearch(kt.Tuner):
    """A keras-tuner tuner running `TpeOracle` (like `keras_tuner.RandomSearch`).

    Args:
        hypermodel: a `keras_tuner.HyperModel` or a `build(hp)` function.
        objective, max_trials, seed, hyperparameters, tune_new_entries,
            allow_new_entries, max_retries_per_trial,
            max_consecutive_failed_trials, num_initial_points,
            multivariate: see `TpeOracle`.
        **kwargs: the arguments of every `keras_tuner.Tuner` (`directory`,
            `project_name`, `overwrite`...).
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None,
                 hyperparameters=None, tune_new_entries=True, allow_new_entries=True,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3,
                 num_initial_points=None, multivariate=None, **kwargs):
        self.seed = seed
        oracle = TpeOracle(
            objective=objective, max_trials=max_trials, seed=seed,
            hyperparameters=hyperparameters, tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries, max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            num_initial_points=num_initial_points, multivariate=multivariate,
        )
        super().__init__(oracle, hypermodel, **kwargs)
