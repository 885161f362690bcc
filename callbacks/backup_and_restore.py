"""``BackupAndRestore`` that also resumes the state of the other callbacks.

The state protocol
------------------
A callback whose progress should survive an interrupted ``fit`` defines two
methods (no base class needed)::

    def get_state(self):        # -> dict
        return {"wait": self.wait, "best": self.best}

    def set_state(self, state):  # state: what get_state returned
        self.wait, self.best = state["wait"], state["best"]

Values must be JSON-able (numbers, strings, ``None``, lists, dicts), a
``numpy`` array, or a list of arrays (e.g. ``model.get_weights()``); arrays
go to an ``.npz`` beside the JSON. ``callbacks.BackupAndRestore`` calls
``get_state`` whenever it backs up (after every callback's ``on_epoch_end``)
and ``set_state`` when a ``fit`` resumes (after every callback's
``on_train_begin``, so a callback may reset itself there as usual). States
are matched by class name and order: the resumed ``fit`` must pass the same
kinds of callbacks in the same order, as fresh objects or the same ones.
"""

import contextlib
import json
import numbers
import os
import shutil
import warnings

import keras
import numpy as np

from callbacks._backup_files import (  # noqa: F401 (BackupDamagedError: public)
    _ARRAYS, _LEGACY, _STATES, _WEIGHTS, BackupDamagedError, WrittenFiles,
    check_backup, join_arrays, split_arrays)
from callbacks._callback_order import callbacks_of_this_fit, run_after_others
from callbacks._init_config import InitConfig
from callbacks._read_variable import read_variable
from zoo.core.files import atomic_path, remove_stale_temporaries, write_text
from zoo.core.hardware import is_chief
from zoo.core.finite import describe_rows, non_finite_weights


class BackupAndRestore(InitConfig, keras.callbacks.BackupAndRestore):
    """Back up training to resume after an interruption, callbacks included.

    ``keras.callbacks.BackupAndRestore`` with the same arguments; it restores
    weights, optimizer state (so schedules keyed on the step resume) and the
    epoch. What it adds: the state of every other callback of the same
    ``fit`` that implements ``get_state()``/``set_state()`` (see the module
    docstring), e.g. the patience counters of ``callbacks.EarlyStopping`` and
    ``callbacks.ReduceLROnPlateau``, which Keras would restart from zero. It
    backs up after every other callback's ``on_epoch_end`` whatever the list
    order, so the saved states are those of the finished epoch; with
    callbacks listed after it, it also backs up in its own place, as Keras's
    does, so an error in a later callback's ``on_epoch_end`` loses no epoch
    (a backup rewrites only the files whose contents changed: the second
    one of an epoch writes the callback states, not the weights again).
    Before resuming it checks every backup file: one missing, empty or cut
    short raises `BackupDamagedError` naming it (after trying the ``.bkp``
    copy, as Keras does), never a raw JSON or zip error nor a restart from
    random weights; a backup already at ``fit``'s ``epochs`` warns. Its
    ``history`` attribute holds the epoch logs of the whole run, epochs before
    the interruption included (Keras's ``History`` only has those after it).

    A drop-in replacement, so its arguments keep Keras's names
    (``backup_dir``, ``save_freq``) where the package's own functions say
    ``log_dir`` and its own callbacks ``update_freq``.

    The weights and optimizer variables are saved as arrays in model order
    (``latest.weights.npz``; `load_backup` reads them), not as Keras's
    ``.weights.h5``, whose writer walks every layer's state in Python: about
    30 ms a backup for a small CNN, a tenth of its epoch, against 2-3 ms.
    A ``.weights.h5`` backup (from Keras's class) is still resumed from.

    Args:
        backup_dir: Directory for the backup (local path), used by nothing
            else.
        save_freq: ``"epoch"``, a number of batches >= 1, or ``False``.
            Differs from Keras on purpose: Keras takes ``0`` or a negative
            number and then backs up after every batch; here they are
            refused before training, as the typo they almost always are.
        double_checkpoint: Keep the previous backup too, as in Keras.
        delete_checkpoint: Delete the backup when ``fit`` completes.

    Example:

    >>> import keras, numpy as np, callbacks
    >>> x, y = np.random.rand(32, 4), np.random.rand(32, 1)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> backup = callbacks.BackupAndRestore("backup")
    >>> plateau = callbacks.ReduceLROnPlateau(monitor="loss", patience=2)
    >>> _ = model.fit(x, y, epochs=3, callbacks=[backup, plateau], verbose=0)
    >>> len(backup.history["loss"])
    3

    Had ``fit`` been killed, the same call would resume from the last
    finished epoch, ``plateau``'s patience counter included.
    """

    # The callbacks of the fit it joined; what it wrote there.
    _fresh_on_copy = {"_peers": {}, "_written": WrittenFiles()}

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        if (isinstance(save_freq, numbers.Integral) and not isinstance(save_freq, bool)
                and save_freq < 1):
            # Keras takes these too, then backs up after every batch.
            raise ValueError(
                f"{type(self).__name__}: `save_freq` must be 'epoch', a number of "
                f"batches >= 1, or False; got {save_freq!r}.")
        super().__init__(backup_dir, save_freq=save_freq,
                         double_checkpoint=double_checkpoint,
                         delete_checkpoint=delete_checkpoint)
        self._weights_path = os.path.join(self.backup_dir, _WEIGHTS)
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._arrays_path = os.path.join(self.backup_dir, _ARRAYS)
        self._states_path = os.path.join(self.backup_dir, _STATES)
        self._written = WrittenFiles()  # what this process last wrote
        self._peers = {}
        self._deferred = False
        self._pending_restore = False
        self._followed = False
        self._restored_epoch = None
        self.history = {}

    def on_train_begin(self, logs=None):
        self._written.clear()  # the files may have changed since
        if is_chief() and os.path.isdir(self.backup_dir):
            remove_stale_temporaries(self.backup_dir)  # a kill mid-backup left them
        self.history = {}
        self._restored_epoch = None
        super().on_train_begin(logs)  # weights, optimizer, epoch
        others = callbacks_of_this_fit(self)
        if others is None and self.params:
            warnings.warn(
                f"{type(self).__name__}: could not find the other callbacks "
                "of this fit; only the weights, optimizer and epoch are "
                "backed up.", stacklevel=2)
        self._peers = _stateful(others or [], exclude=self)
        # Callbacks after this one may raise in `on_epoch_end`; Keras's class
        # has backed the epoch up by then, so this one does too (and again
        # after them, with their final states).
        self._followed = others is not None and any(
            not isinstance(c, (keras.callbacks.History, keras.callbacks.ProgbarLogger))
            for c in others[[id(c) for c in others].index(id(self)) + 1:])
        if (self._restored_epoch or 0) >= (self.params or {}).get("epochs", 0) > 0:
            warnings.warn(
                f"{type(self).__name__}: the backup in {self.backup_dir} is at "
                f"epoch {self._restored_epoch}, and this fit has "
                f"epochs={self.params['epochs']}: nothing is left to train. "
                "Give more epochs, or delete the backup to start over.",
                stacklevel=2)
        self._pending_restore = True
        self._deferred = run_after_others(
            self,
            {"on_train_begin": self._restore_states,
             "on_epoch_end": self._back_up},
            order=100,  # after the decisions other callbacks defer
        )

    def on_epoch_begin(self, epoch, logs=None):
        # Not restored after every `on_train_begin` (hooks called by hand, or
        # a History listed before this callback): every one has run by now.
        if self._pending_restore:
            self._restore_states()

    def on_epoch_end(self, epoch, logs=None):
        if not self._deferred or self._followed:
            self._back_up(epoch, logs)

    def _back_up(self, epoch, logs=None):
        # Every callback has written its keys by now (we run last).
        for key, value in (logs or {}).items():
            column = self.history.setdefault(key, [None] * epoch)
            del column[epoch:]  # this epoch may be backed up twice
            column.extend([None] * (epoch - len(column)) + [_plain_number(value)])
        super().on_epoch_end(epoch, logs)  # calls _save_model

    def on_train_end(self, logs=None):
        if is_chief():  # the others only read the backup (shared folder)
            super().on_train_end(logs)
        self._peers = {}

    def _save_model(self):
        # Replaces Keras's writer, which overwrites files in place: a kill
        # mid-write would corrupt the backup, and a NaN step would replace the
        # last good one. Here every file is swapped in whole, and non-finite
        # weights are never written. Over several processes, process 0 writes.
        if not is_chief():
            return
        values = [read_variable(v) for v in _variables(self.model)]
        if not all(np.isfinite(v).all() for v in values
                   if np.issubdtype(v.dtype, np.inexact)) and (
                bad := non_finite_weights(self.model)):
            which = describe_rows("the model", bad, "weights")
            warnings.warn(
                f"{type(self).__name__}: weights are not finite after epoch "
                f"{self._current_epoch} ({which}); the backup in "
                f"{self.backup_dir} keeps the last finite ones.", stacklevel=2)
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        metadata = json.dumps({"epoch": self._current_epoch,
                               "batch": self._last_batch_seen})
        written = self._written
        if self.double_checkpoint and not written.same(
                self._training_metadata_path, metadata):
            # A new backup point: the previous one becomes the `.bkp` copy
            # (not the first backup of this same epoch).
            for path in (self._weights_path, self._training_metadata_path):
                if os.path.exists(path):
                    with atomic_path(f"{path}.bkp") as tmp:
                        shutil.copyfile(path, tmp)
        states, arrays = {}, {}
        for key, peer in self._peers.items():
            states[key] = split_arrays(key, peer.get_state(), arrays)
        text = json.dumps({"epoch": self._current_epoch, "history": self.history,
                           "callbacks": states}, default=_plain)
        files = {self._weights_path: values, self._arrays_path: arrays,
                 self._states_path: text, self._training_metadata_path: metadata}
        # Only files whose contents change are written (`WrittenFiles`).
        changed = [path for path, content in files.items()
                   if not written.same(path, content)]
        try:
            # Weights are swapped in after the states they go with, and the
            # metadata Keras resumes from last: it commits the backup.
            with contextlib.ExitStack() as stack:
                if self._weights_path in changed:
                    np.savez(stack.enter_context(atomic_path(self._weights_path)),
                             *values)
                if self._arrays_path in changed:
                    with atomic_path(self._arrays_path) as tmp:
                        np.savez(tmp, **arrays)
                if self._states_path in changed:
                    write_text(self._states_path, text)
            if self._training_metadata_path in changed:
                write_text(self._training_metadata_path, metadata)
        except BaseException:
            written.clear()
            raise
        for path in changed:
            written.wrote(path, files[path])

    def _load_model(self):
        # Keras's, for the weights file written by `_save_model`.
        if not self.model.built:
            raise ValueError(f"{type(self).__name__}: build the model before "
                             "`fit()` (call it on a batch of data).")
        # Every file is checked first: a damaged backup raises (an `OSError`,
        # so Keras then tries the `.bkp` copy) rather than resuming from random
        # weights or stopping on a raw JSON or zip error.
        epoch = check_backup(self.backup_dir)
        if epoch is None:
            return
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        if os.path.exists(self._weights_path):
            load_backup(self.model, self._weights_path)
        else:  # a backup written by Keras's class, or before the arrays
            self.model.load_weights(os.path.join(self.backup_dir, _LEGACY))
        self.model._initial_epoch = self._restored_epoch = epoch

    def _restore_states(self, logs=None):
        self._pending_restore = False
        path = os.path.join(self.backup_dir, _STATES)
        # No metadata: the first backup was cut short, nothing to resume.
        if not (os.path.exists(path) and os.path.exists(self._training_metadata_path)):
            return
        with open(path) as f:
            saved = json.load(f)
        with open(self._training_metadata_path) as f:
            epoch = json.load(f)["epoch"]  # of the weights Keras restored
        if saved["epoch"] != epoch:
            warnings.warn(
                f"{type(self).__name__}: callback states in {path} are from "
                f"epoch {saved['epoch']} but the weights from epoch {epoch}; "
                "callback states not restored.", stacklevel=2)
            return
        self.history = saved.get("history", {})
        with np.load(os.path.join(self.backup_dir, _ARRAYS)) as npz:
            arrays = dict(npz)
        for key, peer in self._peers.items():
            if key in saved["callbacks"]:
                peer.set_state(join_arrays(saved["callbacks"][key], arrays))


def _variables(model):
    """The model's weights, then its optimizer's variables (Keras's order)."""
    optimizer = getattr(model, "optimizer", None)
    extra = list(optimizer.variables) if optimizer is not None and optimizer.built else []
    # Not the state GradientNormMonitor keeps in the optimizer during a fit
    # on JAX (left out of the optimizer's own saving too).
    extra = [v for v in extra if not getattr(v, "_fit_only", False)]
    return list(model.weights) + extra


def load_backup(model, path):
    """Put the weights (and optimizer variables, if built) that
    `BackupAndRestore` saved in ``path`` (``latest.weights.npz``) into
    ``model``, a model built like the one backed up.

    Example:

    >>> import keras, numpy as np, callbacks, os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> backup = callbacks.BackupAndRestore(folder, delete_checkpoint=False)
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), callbacks=[backup], verbose=0)
    >>> twin = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> load_backup(twin, os.path.join(folder, "latest.weights.npz"))
    >>> all(np.array_equal(a, b) for a, b in zip(twin.get_weights(), model.get_weights()))
    True
    """
    try:
        with np.load(path) as saved:
            values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if not values:
            raise ValueError("it holds no arrays")
    except Exception as error:  # Keras then tries the `.bkp` copy
        raise OSError(f"BackupAndRestore: cannot read {path}: {error}") from error
    variables = _variables(model)
    if len(variables) == len(model.weights) < len(values):
        values = values[:len(variables)]  # no optimizer built: weights only
    if len(values) != len(variables) or any(
            tuple(v.shape) != value.shape for v, value in zip(variables, values)):
        raise ValueError(
            f"BackupAndRestore: the backup {path} holds {len(values)} arrays "
            f"that do not match this model's {len(variables)} weights and "
            "optimizer variables: it was made for another model.")
    for variable, value in zip(variables, values):
        variable.assign(value)


def _stateful(callbacks, exclude):
    """``{"EarlyStopping": cb, "EarlyStopping_1": cb2, ...}`` in list order."""
    peers, seen = {}, {}
    for callback in callbacks:
        if callback is exclude or not (
                callable(getattr(callback, "get_state", None))
                and callable(getattr(callback, "set_state", None))):
            continue
        name = type(callback).__name__
        count = seen.get(name, 0)
        seen[name] = count + 1
        peers[name if count == 0 else f"{name}_{count}"] = callback
    return peers


def _plain_number(value):
    """A log value as a JSON number; NaN and inf become ``None``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _plain(value):
    """JSON fallback for numpy scalars and arrays nested in a state."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"BackupAndRestore: a callback state holds a "
                    f"{type(value).__name__}, which is not JSON-able; see "
                    "the state protocol in callbacks.backup_and_restore.")
