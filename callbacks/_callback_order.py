"""Run part of a callback after every other callback of the same ``fit``.

Keras calls callbacks in list order and passes them one shared ``logs`` dict,
so a callback placed first cannot see keys that later ones add in the same
hook (``val_f1`` from a metrics callback, say), and a callback that saves the
state of others sees them one epoch late. Keras gives callbacks no handle on
the ``keras.callbacks.CallbackList`` that dispatches to them, so
``run_last`` finds it on the call stack (it is the caller of the running
hook) and appends one ``_RunLast`` callback to it. Callbacks appended while
the list is being walked are still reached in that walk, so hooks registered
from ``on_train_begin`` run at the end of that same ``on_train_begin`` and
then at the end of every later hook. Outside a ``CallbackList`` (a custom
loop calling hooks by hand) ``run_last`` returns ``None`` and the caller
runs its logic in place.
"""

import copy
import sys

import keras

_MAX_FRAMES = 8  # hooks overridden by subclasses add a frame or two


def find_callback_list(callback):
    """The ``CallbackList`` whose hook is running ``callback``, or ``None``."""
    frame = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, keras.callbacks.CallbackList) and any(
            c is callback for c in owner.callbacks
        ):
            return owner
        frame = frame.f_back
    return None


class _RunLast(keras.callbacks.Callback):
    """Last callback of a ``CallbackList``: runs the hooks given to it."""

    def __init__(self):
        super().__init__()
        self.hooks = {}  # (id(owner), hook name) -> (order, fn)

    def _run(self, hook, *args):
        entries = [v for (_, name), v in self.hooks.items() if name == hook]
        for _, fn in sorted(entries, key=lambda e: e[0]):
            fn(*args)

    def on_train_begin(self, logs=None):
        self._run("on_train_begin", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._run("on_epoch_end", epoch, logs)

    def on_train_end(self, logs=None):
        self._run("on_train_end", logs)


def run_last(callback, hooks, order=0):
    """Make ``hooks`` (``{"on_epoch_end": fn, ...}``) run after all callbacks.

    Call it from ``callback.on_train_begin`` (directly, not from a helper
    thread). Supported hooks:
    ``on_train_begin``, ``on_epoch_end`` and ``on_train_end``; each ``fn``
    takes that hook's arguments. Among deferred hooks, lower ``order`` runs
    first (savers use a high order so they see final decisions). Returns
    the ``CallbackList``, or ``None`` if none dispatches to ``callback``
    (then the caller must run its logic in place).
    """
    callback_list = find_callback_list(callback)
    if callback_list is None:
        return None
    last = next(
        (c for c in callback_list.callbacks if isinstance(c, _RunLast)), None
    )
    if last is None:
        last = _RunLast()
        last.set_model(callback_list.model)
        callback_list.callbacks.append(last)
    for name, fn in hooks.items():
        last.hooks[(id(callback), name)] = (order, fn)
    return callback_list


def detached_copy(callback, memo, **reset):
    """Deep copy of ``callback`` without its model.

    keras-tuner deep-copies callbacks for every trial; copying the bound
    model (and its weights) would be slow and pointless. Attributes named in
    ``reset`` take the given value instead of a copy.
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
