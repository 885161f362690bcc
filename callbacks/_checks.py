"""Argument checks shared by the callbacks: clear errors before training."""

import math
import numbers

import keras


def check_choice(owner, name, value, choices):
    if value not in choices:
        raise ValueError(
            f"{owner}: {name} must be one of {sorted(choices)}; "
            f"received {name}={value!r}."
        )


def check_number(owner, name, value, low=None, high=None, *,
                 low_open=False, high_open=False, integer=False,
                 allow_none=False):
    """``value`` is a finite real (or int) within the given bounds."""
    if value is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(
            f"{owner}: {name} must be {'an int' if integer else 'a number'}; "
            f"received {name}={value!r} ({type(value).__name__})."
        )
    if not math.isfinite(value):
        raise ValueError(
            f"{owner}: {name} must be finite; received {value!r}.")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(
            f"{owner}: {name} must be {'>' if low_open else '>='} {low}; "
            f"received {name}={value!r}."
        )
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(
            f"{owner}: {name} must be {'<' if high_open else '<='} {high}; "
            f"received {name}={value!r}."
        )


def check_monitor(owner, monitor):
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(
            f"{owner}: monitor must be a non-empty str naming a logs key "
            f"(e.g. 'val_loss'); received monitor={monitor!r}."
        )


def missing_key_message(owner, monitor, logs):
    """Error/warning text for a monitored key absent from ``logs``."""
    available = ", ".join(sorted(logs)) if logs else "(none)"
    return (
        f"{owner}: monitor={monitor!r} not found in logs; available: "
        f"{available}. Check the metric name (validation metrics start with "
        "'val_') or that the callback adding it runs in the same fit."
    )


def check_bool(owner, name, value):
    if not isinstance(value, bool):
        raise TypeError(
            f"{owner}: {name} must be True or False; "
            f"received {name}={value!r}."
        )


def check_float_learning_rate(optimizer, owner):
    """Callbacks that set the rate need a float one, not a schedule."""
    if optimizer is None:
        raise ValueError(f"{owner}: compile the model first.")
    for inner in getattr(optimizer, "optimizers", [optimizer]):
        if not isinstance(inner.learning_rate, keras.Variable):
            raise ValueError(
                f"{owner} sets the learning rate, so it needs an optimizer "
                "built with a float learning_rate; this one uses a schedule, "
                "which sets the rate at every step. Use a float rate with "
                f"{owner}, or the schedule alone.")
