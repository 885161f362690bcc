"""How many random trials a model-based search runs before its model.

keras-tuner's Bayesian optimization starts with 3 x (number of
hyperparameters) random trials and Optuna's TPE with 10, whatever the
budget: with 5 hyperparameters and 15 trials, keras-tuner's never fits its
Gaussian process, and the search is a random search under another name.
`initial_trials` scales the warm-up with the budget instead, so that at
least two thirds of a small budget go to model-guided trials, and a large
budget gets keras-tuner's usual 3 x dimensions. `tpe_initial_trials` keeps
Optuna's 10 (what Optuna's own loop does), capped at two thirds of a small
budget.
"""

from keras_tuner.engine import hyperparameters as hp_types


def tuned_hyperparameters(hyperparameters):
    """The hyperparameters of a `keras_tuner.HyperParameters` that are searched
    (every one but `Fixed`)."""
    return [hp for hp in hyperparameters.space if not isinstance(hp, hp_types.Fixed)]


def initial_trials(max_trials, dimensions):
    """Random trials before the model: `max(2, min(3 * dimensions, max_trials // 3))`.

    Args:
        max_trials: the trial budget (`None`: unlimited, keras-tuner's
            3 x dimensions).
        dimensions: the number of tuned hyperparameters.

    Example:

    >>> initial_trials(15, 5)  # 5 random trials, then 10 from the model
    5
    >>> initial_trials(100, 5)  # keras-tuner's 3 x dimensions
    15
    >>> initial_trials(4, 5)  # a model needs two points to compare
    2
    """
    cap = 3 * max(int(dimensions), 1)
    if max_trials:
        cap = min(cap, int(max_trials) // 3)
    return max(2, cap)


# Optuna's `TPESampler(n_startup_trials=...)` default.
OPTUNA_STARTUP_TRIALS = 10


def tpe_initial_trials(max_trials):
    """Random trials before TPE: `max(2, min(10, 2 * max_trials // 3))`.

    Optuna's default of 10, so that a `tpe` search of 15 trials or more
    draws what Optuna's `TPESampler` draws with the same seed, but at most
    two thirds of a smaller budget, so that some trials are modeled.

    Example:

    >>> tpe_initial_trials(15), tpe_initial_trials(100), tpe_initial_trials(6)
    (10, 10, 4)
    """
    if not max_trials:
        return OPTUNA_STARTUP_TRIALS
    return max(2, min(OPTUNA_STARTUP_TRIALS, 2 * int(max_trials) // 3))
