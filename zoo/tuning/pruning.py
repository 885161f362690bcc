"""Pruning for keras-tuner searches: the median stopping rule."""

import statistics

from zoo.core.checks import check_int
from zoo.tuning import trials as trials_lib


class MedianStopping:
    """Stop a trial whose objective is worse than the median of the others.

    At the end of epoch `e` (0-based) of a trial, after `warmup_epochs`
    epochs, the rule takes the objective at epoch `e` of every completed,
    unpruned trial that reached epoch `e`; with at least `min_trials` of
    them, it stops the trial if the best value it reached so far is worse
    than their median (a NaN or infinite value at `e` is always worse).
    This is the median stopping rule of Google Vizier (Golovin et al.,
    2017), as Optuna's `MedianPruner` applies it: the trial's best value
    so far, and at every epoch, the last one included (a trial that ends
    worse than the median is marked pruned at its last epoch, as in
    Optuna's loop; it could not have been the best).

    keras-tuner has no pruning: its tuners train every trial for all its
    epochs. The rule is applied by the tuners of `zoo.tuning` at each
    epoch end, after the user's callbacks (so `val_f1` from
    `SklearnMetrics` can be the objective). The curves of the completed
    trials come from the oracle (the tuner reports every epoch to it), so
    it works for distributed workers too. A pruned trial keeps the best
    score it reached; the trial list shows it as `PRUNED`, ranked after
    the completed trials: it is never reported as the best.

    Args:
        warmup_epochs: epochs every trial trains before it can be pruned
            (0: from its first epoch on).
        min_trials: completed trials needed at an epoch before anything
            is pruned there (with fewer than 5, the median is noisy and
            most trials get pruned).

    The defaults are those of Optuna's `MedianPruner` (`n_warmup_steps=0`,
    `n_startup_trials=5`).

    Example:

    >>> rule = MedianStopping(warmup_epochs=1, min_trials=2)
    >>> rule.should_stop(0.5, epoch=1, references=[0.9, 0.8, 0.85], direction="max")
    True
    """

    def __init__(self, warmup_epochs=0, min_trials=5):
        self.warmup_epochs = check_int("warmup_epochs", warmup_epochs, minimum=0)
        self.min_trials = check_int("min_trials", min_trials, minimum=1)

    def get_config(self):
        return {"warmup_epochs": self.warmup_epochs, "min_trials": self.min_trials}

    def should_stop(self, value, epoch, references, direction):
        """Whether `value` at `epoch` is worse than the median of `references`."""
        if epoch < self.warmup_epochs:
            return False
        references = [r for r in references if trials_lib.is_finite(r)]
        if len(references) < self.min_trials:
            return False
        if not trials_lib.is_finite(value):
            return True
        median = statistics.median(references)
        return value < median if direction == "max" else value > median

    def check(self, oracle, trial_id, epoch, value):
        """`should_stop` for `trial_id`'s best value so far (`value` at
        `epoch`, not reported yet) against the completed trials the oracle
        holds."""
        if epoch < self.warmup_epochs:
            return False  # no need to ask the oracle
        objective = oracle.objective
        references, best = [], value
        for trial in trials_lib.all_trials(oracle):
            values = trials_lib.curve(trial, objective.name)
            if trial.trial_id == trial_id:
                earlier = [v for e, v in values.items() if e < epoch and trials_lib.is_finite(v)]
                if trials_lib.is_finite(value) and earlier:
                    pick = max if objective.direction == "max" else min
                    best = pick(earlier + [value])
            elif trials_lib.trial_status(trial) == trials_lib.COMPLETED and epoch in values:
                references.append(values[epoch])
        return self.should_stop(best, epoch, references, objective.direction)

    def __repr__(self):
        return f"MedianStopping(warmup_epochs={self.warmup_epochs}, min_trials={self.min_trials})"


def get_pruning(prune):
    """`None`/`False` (no pruning), `True` (default rule) or a rule object."""
    if prune is None or prune is False:
        return None
    if prune is True:
        return MedianStopping()
    if callable(getattr(prune, "check", None)):
        return prune
    raise TypeError(
        f"`prune` must be None, True or a MedianStopping; got {prune!r} "
        f"of type {type(prune).__name__}."
    )
