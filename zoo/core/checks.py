"""Argument checks shared by the registry, the builders, the heads and the
optimizers, so that every bad input reads the same way: the argument's name,
the value given and what is allowed.

They run on plain Python values, before any Keras layer or TensorFlow op is
created.
"""

import difflib
import numbers


def suggest(value, allowed, n=3):
    """`" Did you mean ...?"` for the closest names in `allowed`, or `""`."""
    close = difflib.get_close_matches(str(value), sorted(allowed), n=n, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def check_choice(argument, value, allowed, aliases=None):
    """Return the canonical name of `value`, one of `allowed` (or an alias).

    Matching ignores case and treats `-` like `_`.
    """
    aliases = aliases or {}
    if not isinstance(value, str):
        raise TypeError(
            f"`{argument}` must be a string, one of {sorted(allowed)}; "
            f"got {value!r} of type {type(value).__name__}."
        )
    key = value.strip().lower().replace("-", "_")
    key = aliases.get(key, key)
    if key not in allowed:
        names = sorted(set(allowed) | set(aliases))
        raise ValueError(
            f"Unknown `{argument}`={value!r}.{suggest(key, names)} "
            f"Allowed values: {names}."
        )
    return key


def check_int(argument, value, minimum=1):
    """An `int` (not a bool) that is at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{argument}` must be an integer >= {minimum}; got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"`{argument}` must be an integer >= {minimum}; got {value}.")
    return int(value)


def check_float(argument, value, low=0.0, high=None, include_low=True, include_high=False):
    """A real number in the interval given by `low`, `high` and the flags."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{argument}` must be a number; got {value!r} of type {type(value).__name__}."
        )
    value = float(value)
    left = "[" if include_low else "("
    right = "]" if include_high else ")"
    interval = f"{left}{low}, {'inf' if high is None else high}{right}"
    too_low = value < low if include_low else value <= low
    too_high = high is not None and (value > high if include_high else value >= high)
    if too_low or too_high or value != value:  # value != value: NaN
        raise ValueError(f"`{argument}` must be in {interval}; got {value}.")
    return value


def check_bool(argument, value):
    """A real `bool` (so that `dropout=0.5` passed as `batch_norm` is caught)."""
    if not isinstance(value, bool):
        raise TypeError(f"`{argument}` must be True or False; got {value!r}.")
    return value
