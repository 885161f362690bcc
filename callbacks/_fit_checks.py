"""What a callback checks about the `fit` it joins, beyond its arguments.

Argument checks live in `zoo.core.checks`; these two concern the training
itself: the logs key a callback monitors, and whether the compiled
optimizer's learning rate can be set.
"""

import keras

from zoo.core.checks import check_str


def check_monitor(owner, monitor):
    """`monitor` names a logs key: a non-empty string."""
    return check_str("monitor", monitor, owner=owner, allow_empty=False,
                     hint="naming a logs key (e.g. 'val_loss')")


def missing_key_message(owner, monitor, logs):
    """Error/warning text for a monitored key absent from ``logs``."""
    available = ", ".join(sorted(logs)) if logs else "(none)"
    return (
        f"{owner}: monitor={monitor!r} not found in logs; available: "
        f"{available}. Check the metric name (validation metrics start with "
        "'val_') or that the callback adding it runs in the same fit."
    )


def uses_schedule(optimizer):
    """Whether ``optimizer`` (or one inside it) has a schedule as its rate."""
    return any(not isinstance(inner.learning_rate, keras.Variable)
               for inner in getattr(optimizer, "optimizers", [optimizer]))


def check_float_learning_rate(optimizer, owner):
    """Callbacks that set the rate need a float one, not a schedule."""
    if optimizer is None:
        raise ValueError(f"{owner}: compile the model first.")
    if uses_schedule(optimizer):
        raise ValueError(
            f"{owner} sets the learning rate, so it needs an optimizer "
            "built with a float learning_rate; this one uses a schedule, "
            "which sets the rate at every step. Use a float rate with "
            f"{owner}, or the schedule alone.")
