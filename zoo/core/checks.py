"""Argument checks shared by the whole package, callbacks included, so that
every bad input reads the same way:

    EarlyStopping: `patience` must be an integer >= 0; got -1.

the owner (class or function) when there is one, the argument in
backticks, what is allowed, and what was received.

They run on plain Python values, before any Keras layer or TensorFlow op is
created.
"""

import difflib
import functools
import math
import numbers
import warnings


def suggest(value, allowed, n=3):
    """`" Did you mean ...?"` for the closest names in `allowed`, or `""`."""
    close = difflib.get_close_matches(str(value), sorted(allowed), n=n, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def renamed_arguments(**renames):
    """Decorator keeping the old keyword names of renamed arguments working.

    `@renamed_arguments(out_dir="log_dir")` lets a caller still write
    `f(out_dir=...)`: the value reaches `f` as `log_dir`, with a
    `DeprecationWarning` naming the new name. Giving both names is a
    `TypeError`.

    Example:

    >>> import warnings
    >>> @renamed_arguments(out_dir="log_dir")
    ... def save(log_dir=None):
    ...     return log_dir
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     save(out_dir="runs")
    'runs'
    >>> print(caught[0].message)
    save(out_dir=...) is deprecated; use `log_dir` instead.
    """

    def decorator(func):
        owner = func.__qualname__.replace(".__init__", "")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(
                        f"{owner}: `{old}` is the old name of `{new}`; pass only `{new}`."
                    )
                warnings.warn(
                    f"{owner}({old}=...) is deprecated; use `{new}` instead.",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorator


def _prefix(owner):
    return f"{owner}: " if owner else ""


def _listed(allowed):
    try:
        return sorted(allowed)
    except TypeError:  # mixed types, e.g. (None, "auto")
        return list(allowed)


def check_choice(argument, value, allowed, aliases=None, *, owner=None, exact=False):
    """Return `value` checked to be one of `allowed`.

    By default `value` must be a string; matching ignores case and treats
    `-` like `_`, `aliases` maps other spellings to allowed names, and the
    canonical name is returned. With `exact=True` the value is compared as
    given (any type, e.g. `verbose` in `(0, 1)`) and returned unchanged.

    Args:
        argument: the argument's name, shown in backticks.
        value: what the caller passed.
        allowed: the allowed values.
        aliases: `{other spelling: allowed name}`.
        owner: the class or function taking the argument, named first.
        exact: compare values as given instead of as names.

    Example:

    >>> check_choice("mode", "MIN", ("min", "max"))
    'min'
    >>> check_choice("mode", "mni", ("min", "max"), owner="EarlyStopping")
    Traceback (most recent call last):
    ...
    ValueError: EarlyStopping: `mode` must be one of ['max', 'min']; got 'mni'. Did you mean 'min'?
    """
    aliases = aliases or {}
    names = _listed(set(allowed) | set(aliases))
    if exact:
        try:
            known = value in allowed
        except TypeError:  # unhashable value, set of choices
            known = False
        key = value
    elif not isinstance(value, str):
        raise TypeError(
            f"{_prefix(owner)}`{argument}` must be a string, one of {names}; "
            f"got {value!r} of type {type(value).__name__}."
        )
    else:
        key = value.strip().lower().replace("-", "_")
        key = aliases.get(key, key)
        known = key in allowed
    if not known:
        hint = suggest(key, names) if all(isinstance(n, str) for n in names) else ""
        raise ValueError(
            f"{_prefix(owner)}`{argument}` must be one of {names}; got {value!r}.{hint}"
        )
    return key


def _range(low, high, low_open, high_open):
    """`" >= 0"`, `" > 0 and < 1"`, or `""` without bounds."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    return (" " + " and ".join(parts)) if parts else ""


def check_number(argument, value, low=None, high=None, *, low_open=False, high_open=False,
                 integer=False, finite=True, allow_none=False, owner=None):
    """Return `value`, a real number (not a bool) within the given bounds.

    Args:
        argument: the argument's name, shown in backticks.
        value: what the caller passed.
        low, high: bounds, `None` for none.
        low_open, high_open: exclude the bound itself.
        integer: require an integer (`2.0` is refused too).
        finite: refuse `inf` and `-inf` (NaN is always refused).
        allow_none: accept `None` (returned as is).
        owner: the class or function taking the argument, named first.

    Returns:
        `int(value)` for `integer=True`, else `float(value)`.

    Example:

    >>> check_number("patience", 3, 0, integer=True)
    3
    >>> check_number("patience", -1, 0, integer=True, owner="EarlyStopping")
    Traceback (most recent call last):
    ...
    ValueError: EarlyStopping: `patience` must be an integer >= 0; got -1.
    """
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else ("a finite number" if finite else "a number")
    what = f"{_prefix(owner)}`{argument}` must be {kind}{_range(low, high, low_open, high_open)}"
    number = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, number):
        raise TypeError(f"{what}; got {value!r} of type {type(value).__name__}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    infinite = finite and value in (math.inf, -math.inf)
    if too_low or too_high or infinite or value != value:  # value != value: NaN
        raise ValueError(f"{what}; got {value!r}.")
    return int(value) if integer else float(value)


def check_int(argument, value, minimum=1, *, owner=None):
    """`check_number` for an integer that is at least `minimum`.

    Example:

    >>> check_int("depth", 2)
    2
    """
    return check_number(argument, value, minimum, integer=True, owner=owner)


def check_float(argument, value, low=0.0, high=None, include_low=True, include_high=False,
                *, owner=None):
    """`check_number` for a number from `low` (included) up to `high` (excluded).

    Unlike `check_number`'s default, `inf` passes when `high` is `None`.

    Example:

    >>> check_float("dropout", 0.5, 0.0, 1.0)
    0.5
    """
    return check_number(argument, value, low, high, low_open=not include_low,
                        high_open=not include_high, finite=False, owner=owner)


def check_bool(argument, value, *, owner=None):
    """A real `bool` (so that `dropout=0.5` passed as `batch_norm` is caught).

    Example:

    >>> check_bool("batch_norm", "yes")
    Traceback (most recent call last):
    ...
    TypeError: `batch_norm` must be True or False; got 'yes'.
    """
    if not isinstance(value, bool):
        raise TypeError(f"{_prefix(owner)}`{argument}` must be True or False; got {value!r}.")
    return value


def check_str(argument, value, *, owner=None, allow_empty=True, hint=""):
    """A `str`, non-empty unless `allow_empty`; `hint` says what it names.

    Example:

    >>> check_str("monitor", "", allow_empty=False, hint="naming a logs key")
    Traceback (most recent call last):
    ...
    TypeError: `monitor` must be a non-empty string naming a logs key; got ''.
    """
    if not isinstance(value, str) or not (value or allow_empty):
        kind = "a string" if allow_empty else "a non-empty string"
        hint = f" {hint}" if hint else ""
        raise TypeError(f"{_prefix(owner)}`{argument}` must be {kind}{hint}; got {value!r}.")
    return value
