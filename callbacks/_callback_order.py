"""Run part of a callback after every other callback of the same ``fit``.

Keras calls callbacks in list order and passes them one shared ``logs``
dict, so a callback placed first cannot see keys that later ones add in the
same hook (``val_custom`` written by a metrics callback in its
``on_epoch_end``, say), and a callback that saves the state of others sees
them one epoch late. Keras gives a callback no handle on the others, but
``fit`` appends its own ``keras.callbacks.History`` after the callbacks it
was given, and makes it ``model.history`` before any hook runs.
``run_after_others`` wraps the hooks of that ``History`` instance so that
the given functions run just before its own: after every callback passed to
``fit``, in the same hook (``keras.callbacks.ProgbarLogger``, appended after
``History``, comes later still and prints the final logs).

The ``History`` is recognised as the running fit's by its ``params``: the
one dict that ``fit``'s ``CallbackList`` handed to every callback it holds.
Anything else (hooks called by hand, a ``History`` from an earlier fit)
makes ``run_after_others`` return ``False``: the caller then runs its logic
in place. A ``History`` passed in the callbacks list stays where the user
put it, and the functions run at its place. The wrappers are removed in
``on_train_end``; one left by a fit that raised sits on that fit's own
``History``, which no later fit calls.
"""

import sys

import keras

_HOOKS = ("on_train_begin", "on_epoch_end", "on_train_end")
_ATTRIBUTE = "_after_others"
_MAX_FRAMES = 8  # hooks overridden by subclasses add a frame or two


class _AfterOthers:
    """The functions registered on one ``History``, run before its hooks."""

    def __init__(self, history):
        self.history = history
        self.params = history.params
        self.hooks = {}  # (id(owner), hook name) -> (order, fn)
        for hook in _HOOKS:
            setattr(history, hook, self._dispatcher(hook, getattr(history, hook)))
        setattr(history, _ATTRIBUTE, self)

    def _dispatcher(self, hook, own):
        def run(*args, **kwargs):
            entries = [v for (_, name), v in self.hooks.items() if name == hook]
            for _, fn in sorted(entries, key=lambda entry: entry[0]):
                fn(*args, **kwargs)
            own(*args, **kwargs)
            if hook == "on_train_end":
                self.remove()

        return run

    def remove(self):
        for name in (*_HOOKS, _ATTRIBUTE):
            self.history.__dict__.pop(name, None)


def run_after_others(callback, hooks, order=0):
    """Make ``hooks`` (``{"on_epoch_end": fn, ...}``) run after all callbacks.

    Call it from ``callback.on_train_begin``. Supported hooks:
    ``on_train_begin``, ``on_epoch_end`` and ``on_train_end``; each ``fn``
    takes that hook's arguments. Among deferred functions, lower ``order``
    runs first (savers use a high order so they see final decisions), then
    list order. Returns whether they will run; ``False`` outside a ``fit``
    (the caller then runs its logic in place).

    Example:

    >>> import numpy as np
    >>> class Reader(keras.callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         run_after_others(self, {"on_epoch_end": self.read})
    ...     def read(self, epoch, logs):
    ...         self.seen = logs["val_custom"]
    >>> class Writer(keras.callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         logs["val_custom"] = 0.5
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> reader = Reader()
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), verbose=0,
    ...               callbacks=[reader, Writer()])
    >>> reader.seen
    0.5
    """
    model = callback.model
    history = getattr(model, "history", None) if model is not None else None
    params = callback.params
    if not (isinstance(history, keras.callbacks.History) and params
            and history.params is params):
        return False
    after = history.__dict__.get(_ATTRIBUTE)
    if after is None or after.params is not params:
        if after is not None:  # a user's History reused after a fit raised
            after.remove()
        after = _AfterOthers(history)
    for name, fn in hooks.items():
        if name not in _HOOKS:
            raise ValueError(f"run_after_others: unsupported hook {name!r}; "
                             f"supported: {', '.join(_HOOKS)}.")
        after.hooks[(id(callback), name)] = (order, fn)
    return True


def callbacks_of_this_fit(callback):
    """The callbacks of the ``fit`` whose ``on_train_begin`` is running.

    The one use of the call stack in this package, and why: callbacks need
    their peers (``BackupAndRestore`` saves the state of any callback that
    has one, with no base class or registration; the TensorBoard writers
    find a ``keras.callbacks.TensorBoard`` to keep from charting a key
    twice), and Keras gives a callback no handle on the other callbacks of
    its ``fit``; only the ``keras.callbacks.CallbackList`` dispatching the
    hook holds them, as its public ``callbacks``. That list is the caller of this hook,
    so it is looked up a few frames up, once per fit, and only read (the
    order of hooks uses ``run_after_others``, not the list). ``None`` when
    there is none (hooks called by hand, or a Keras that dispatches hooks
    differently).
    """
    frame = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, keras.callbacks.CallbackList) and any(
                c is callback for c in owner.callbacks):
            return list(owner.callbacks)
        frame = frame.f_back
    return None
