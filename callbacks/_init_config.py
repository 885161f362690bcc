"""A callback's config is its constructor's arguments: kept, read, rebuilt."""

import inspect

from callbacks._detached_copy import detached_copy

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD,
          inspect.Parameter.KEYWORD_ONLY)


def _argument_names(cls):
    parameters = inspect.signature(cls.__init__).parameters
    return [name for name, parameter in list(parameters.items())[1:]
            if parameter.kind in _NAMED]


def keep_arguments(obj, arguments):
    """Store each named argument of ``obj``'s ``__init__`` under its name.

    Call it from ``__init__`` with ``locals()``, after checking them; an
    attribute that keeps a converted value is set again after it. Together
    with ``init_config`` it keeps a class's config and its constructor in
    step: no argument is stored without being in the config, or the reverse.

    Example:

    >>> class Rate:
    ...     def __init__(self, value, name="rate"):
    ...         keep_arguments(self, locals())
    >>> Rate(0.1).value
    0.1
    """
    for name in _argument_names(type(obj)):
        setattr(obj, name, arguments[name])


def init_config(obj):
    """``{argument: value}`` for each named argument of ``obj``'s ``__init__``.

    Read as scikit-learn's ``get_params`` reads an estimator: every named
    argument is kept under its own name (``keep_arguments``), so the config
    is those attributes and ``type(obj)(**config)`` rebuilds the object
    (``*args``/``**kwargs`` are not part of it).

    Example:

    >>> class Rate:
    ...     def __init__(self, value, name="rate"):
    ...         keep_arguments(self, locals())
    >>> init_config(Rate(0.1))
    {'value': 0.1, 'name': 'rate'}
    """
    return {name: getattr(obj, name) for name in _argument_names(type(obj))}


class InitConfig:
    """Mixin: ``get_config``, ``from_config`` and a model-free deep copy.

    Keras's callbacks have no ``get_config``; this one is ``init_config``,
    and ``from_config`` calls the constructor with it. ``copy.deepcopy``
    (which keras-tuner runs on every callback for every trial) leaves the
    model out, and gives the attributes named in ``_fresh_on_copy`` the
    value there instead of a copy (per-fit state; see ``detached_copy``).

    Example:

    >>> import copy, keras
    >>> class Counter(InitConfig, keras.callbacks.Callback):
    ...     _fresh_on_copy = {"seen": 0}
    ...     def __init__(self, every=1):
    ...         super().__init__()
    ...         self.every, self.seen = every, 5
    >>> counter = Counter.from_config({"every": 2})
    >>> counter.get_config(), copy.deepcopy(counter).seen
    ({'every': 2}, 0)
    """

    _fresh_on_copy = {}

    def get_config(self):
        return init_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __deepcopy__(self, memo):
        return detached_copy(self, memo, **self._fresh_on_copy)
