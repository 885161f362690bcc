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

import numpy as np


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


def owner_prefix(owner):
    """``"owner: "`` to start a message with who refuses, or ``""``."""
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
            f"{owner_prefix(owner)}`{argument}` must be a string, one of {names}; "
            f"got {value!r} of type {type(value).__name__}."
        )
    else:
        key = value.strip().lower().replace("-", "_")
        key = aliases.get(key, key)
        known = key in allowed
    if not known:
        hint = suggest(key, names) if all(isinstance(n, str) for n in names) else ""
        raise ValueError(
            f"{owner_prefix(owner)}`{argument}` must be one of {names}; got {value!r}.{hint}"
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
    what = f"{owner_prefix(owner)}`{argument}` must be {kind}{_range(low, high, low_open, high_open)}"
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
        raise TypeError(f"{owner_prefix(owner)}`{argument}` must be True or False; got {value!r}.")
    return value


def check_real(argument, value, *, allow_none=False, owner=None):
    """A number as Keras's callbacks take one, returned unchanged.

    For drop-ins of Keras classes, which must accept what Keras accepts: any
    real number, bools (`verbose=True`), numpy scalars and infinities
    (`patience=math.inf`: never) included. Refused: what Keras would fail on
    later (a string, `None` unless `allow_none`) and NaN, with which no
    comparison holds, so Keras would silently never act.

    Example:

    >>> check_real("patience", 5.0)
    5.0
    >>> check_real("patience", "5", owner="EarlyStopping")
    Traceback (most recent call last):
    ...
    TypeError: EarlyStopping: `patience` must be a number; got '5' of type str.
    """
    if value is None and allow_none:
        return None
    what = f"{owner_prefix(owner)}`{argument}` must be a number"
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{what}; got {value!r} of type {type(value).__name__}.")
    if value != value:  # NaN
        raise ValueError(f"{what}, not NaN (no comparison with NaN holds); got {value!r}.")
    return value


def check_flag(argument, value, *, owner=None):
    """A switch as Keras reads one, by its truth value; returned unchanged.

    `check_bool` for drop-ins of Keras classes: a bool, a numpy bool, a
    number (`1`) or `None` (false). A string is refused: `"False"` is true.

    Example:

    >>> check_flag("restore_best_weights", 1)
    1
    >>> check_flag("restore_best_weights", "False")
    Traceback (most recent call last):
    ...
    TypeError: `restore_best_weights` must be True or False; got 'False' of type str.
    """
    if value is None or isinstance(value, (bool, np.bool_, numbers.Real)):
        return value
    raise TypeError(f"{owner_prefix(owner)}`{argument}` must be True or False; "
                    f"got {value!r} of type {type(value).__name__}.")


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
        raise TypeError(f"{owner_prefix(owner)}`{argument}` must be {kind}{hint}; got {value!r}.")
    return value


_VIRTUAL_ROOTS = ("/proc", "/sys", "/dev")


def check_folder(argument, value, *, owner=None, allow_none=False):
    """A folder path that can be created and written into, as a `str`.

    Refuses, before anything is written: a non-path, an empty path (it
    would write into the current folder), a path that is a file or lies
    under one, under `/proc`, `/sys` or `/dev`, or under a folder this
    process cannot write. Creates nothing.

    Example:

    >>> check_folder("log_dir", "runs/demo")
    'runs/demo'
    >>> check_folder("log_dir", "", owner="evaluate")
    Traceback (most recent call last):
    ...
    ValueError: evaluate: `log_dir` must be a folder path such as 'runs/demo'; got '' (an empty path would write into the current folder).
    """
    import os

    if value is None and allow_none:
        return None
    what = f"{owner_prefix(owner)}`{argument}` must be a folder path such as 'runs/demo'"
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what}; got {value!r} of type {type(value).__name__}.")
    path = os.fspath(value)
    if not path.strip():
        raise ValueError(f"{what}; got {path!r} (an empty path would write into the "
                         "current folder).")
    full = os.path.realpath(os.path.abspath(path))
    for root in _VIRTUAL_ROOTS:
        if full == root or full.startswith(root + os.sep):
            raise ValueError(f"{what}; got {path!r}, under {root}, a system folder "
                             "nothing can be saved in.")
    if os.path.exists(full) and not os.path.isdir(full):
        raise ValueError(f"{what}; got {path!r}, which is a file. Pick another folder "
                         "or move the file.")
    parent = full
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"{what}; got {path!r}, which lies under the file {parent!r}.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what}; got {path!r}, but {parent!r} is not writable by "
                         "this process.")
    return path
