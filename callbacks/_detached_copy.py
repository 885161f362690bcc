"""``detached_copy``: deep copy of a callback without its model."""

import copy


def detached_copy(callback, memo, **reset):
    """Deep copy of ``callback`` without its model, for ``__deepcopy__``.

    keras-tuner deep-copies the callbacks for every trial; copying the bound
    model (and its weights) would be slow and pointless. Attributes named in
    ``reset`` take the given value instead of a copy (per-fit state).

    Example:

    >>> import keras
    >>> class Counter(keras.callbacks.Callback):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.seen, self._cache = [1, 2], object()
    ...     def __deepcopy__(self, memo):
    ...         return detached_copy(self, memo, _cache=None)
    >>> counter = Counter()
    >>> counter.set_model(keras.Sequential([keras.Input((1,))]))
    >>> clone = copy.deepcopy(counter)
    >>> clone.seen, clone._cache, clone._model
    ([1, 2], None, None)
    """
    cls = callback.__class__
    clone = cls.__new__(cls)
    memo[id(callback)] = clone
    for key, value in callback.__dict__.items():
        if key == "_model":
            value = None
        elif key in reset:
            value = reset[key]
        clone.__dict__[key] = copy.deepcopy(value, memo)
    return clone
