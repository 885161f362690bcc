"""Reading trials back from an oracle: status, curves, duration.

Everything here goes through the oracle's public calls (`get_trial`,
`get_best_trials`), which a distributed worker's `OracleClient` forwards to
the chief, so results and pruning work the same on one machine or many.

The tuner reports every epoch's logs to the oracle (`step` = epoch), plus
two bookkeeping metrics named below, so a trial's metrics hold its curves.
"""

import math

from keras_tuner.engine.trial import TrialStatus

# Seconds from the trial's start to the end of each epoch.
SECONDS_METRIC = "tuning/seconds"
# Reported once, at the epoch where the pruning rule stopped the trial.
PRUNED_METRIC = "tuning/pruned_epoch"
INTERNAL_PREFIX = "tuning/"

COMPLETED, PRUNED, FAILED, RUNNING = "COMPLETED", "PRUNED", "FAILED", "RUNNING"

# `get_best_trials(n)` returns every trial once n exceeds their number.
_ALL = 1_000_000


def all_trials(oracle):
    """Every trial the oracle knows, sorted by trial id."""
    trials = oracle.get_best_trials(_ALL)
    return sorted(trials, key=lambda t: t.trial_id)


def is_pruned(trial):
    return trial.metrics.exists(PRUNED_METRIC)


def trial_status(trial):
    """`COMPLETED`, `PRUNED`, `FAILED` or `RUNNING` (what the CSV shows)."""
    if trial.status == TrialStatus.COMPLETED:
        return PRUNED if is_pruned(trial) else COMPLETED
    if trial.status in (TrialStatus.FAILED, TrialStatus.INVALID):
        return FAILED
    return RUNNING


def curve(trial, name):
    """`{epoch: value}` of metric `name` in `trial` (empty if never logged)."""
    if not trial.metrics.exists(name):
        return {}
    return {int(obs.step): float(obs.mean()) for obs in trial.metrics.get_history(name)}


def last_value(trial, name):
    values = curve(trial, name)
    return values[max(values)] if values else None


def duration(trial):
    """Seconds from the start of `trial` to the end of its last epoch, or None."""
    return last_value(trial, SECONDS_METRIC)


def pruned_epoch(trial):
    value = last_value(trial, PRUNED_METRIC)
    return None if value is None else int(value)


def is_finite(value):
    return value is not None and math.isfinite(value)


def ranking_key(status, score, direction):
    """Sort key of a scored trial, best first: completed trials by score,
    then pruned ones. A pruned trial's score is the best of a partial curve,
    so it never ranks ahead of a trial that trained all its epochs."""
    return (status != COMPLETED, -score if direction == "max" else score)


def ranked(oracle):
    """The scored trials of `oracle`, best first (see `ranking_key`)."""
    direction = oracle.objective.direction
    scored = [(trial_status(t), t) for t in all_trials(oracle) if is_finite(t.score)]
    scored = [(s, t) for s, t in scored if s in (COMPLETED, PRUNED)]
    return [t for s, t in sorted(scored, key=lambda p: ranking_key(p[0], p[1].score, direction))]


def best_trial(oracle, ranking=None):
    """The best completed (unpruned) trial, or None; `ranking`: `ranked(oracle)` if at hand."""
    ranking = ranked(oracle) if ranking is None else ranking
    return ranking[0] if ranking and trial_status(ranking[0]) == COMPLETED else None


def metric_names(trial):
    """The training metrics of `trial` (bookkeeping metrics left out)."""
    return sorted(n for n in trial.metrics.metrics if not n.startswith(INTERNAL_PREFIX))
