"""The files of a ``callbacks.BackupAndRestore`` backup: names, the split of
callback states into JSON and arrays, what was last written, the check."""

import json
import os
import warnings

import numpy as np

_STATES = "callback_states.json"
_ARRAYS = "callback_states.npz"
_WEIGHTS = "latest.weights.npz"
_LEGACY = "latest.weights.h5"  # Keras's
_METADATA = "training_metadata.json"  # Keras's


class BackupDamagedError(OSError):
    """A backup file is missing, empty or cut short: it cannot be resumed."""


class WrittenFiles:
    """What a backup last wrote to each of its files, in this process.

    A backup rewrites only the files whose contents change: the weights once
    an epoch although ``BackupAndRestore`` backs an epoch up twice when
    callbacks follow it, the arrays of callback states (``EarlyStopping``'s
    best weights) only when they change. A file is compared by its contents
    (a text, or arrays by dtype, shape and values), never by its date, and
    one that is no longer there counts as changed. The comparison keeps a
    copy of what was written: a file of arrays over ``limit`` bytes is not
    kept, and so written every time (a copy costs memory; a checksum of
    the arrays would cost more time than it saves).

    Example:

    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
    >>> written = WrittenFiles()
    >>> written.same(path, [np.zeros(2)])
    False
    >>> np.savez(path, np.zeros(2)); written.wrote(path, [np.zeros(2)])
    >>> written.same(path, [np.zeros(2)]), written.same(path, [np.ones(2)])
    (True, False)
    >>> written.limit = 8; written.wrote(path, [np.zeros(2)])  # 16 bytes
    >>> written.same(path, [np.zeros(2)])
    False
    """

    def __init__(self, limit=64 * 2**20):
        self.limit = limit
        self._last = {}

    def clear(self):
        self._last = {}

    def same(self, path, content):
        last = self._last.get(path)
        return last is not None and _equal(last, content) and os.path.exists(path)

    def wrote(self, path, content):
        if isinstance(content, str):
            self._last[path] = content
            return
        arrays = content.values() if isinstance(content, dict) else content
        if sum(np.asarray(v).nbytes for v in arrays) > self.limit:
            self._last.pop(path, None)
        elif isinstance(content, dict):
            self._last[path] = {k: np.array(v, copy=True) for k, v in content.items()}
        else:
            self._last[path] = [np.array(v, copy=True) for v in content]


def _equal(last, content):
    if isinstance(last, str) or isinstance(content, str):
        return last == content
    if isinstance(last, dict) != isinstance(content, dict):
        return False
    if isinstance(last, dict):
        if list(last) != list(content):
            return False
        last, content = list(last.values()), list(content.values())
    return len(last) == len(content) and all(
        a.dtype == np.asarray(b).dtype and a.shape == np.shape(b)
        and np.array_equal(a, b) for a, b in zip(last, content))


def check_backup(backup_dir):
    """The epoch a backup in ``backup_dir`` resumes from, after checking it.

    ``None`` when there is nothing to resume: no backup, or a first backup
    cut short before its metadata (a warning says so). What Keras lacks: every
    file is checked before any is used, so a damaged backup never becomes a
    raw ``JSONDecodeError``, ``EOFError`` or h5py error, nor a silent restart
    from random weights.

    Raises:
        BackupDamagedError: naming the file that is missing, empty or cut
            short, and the way out.

    Example:

    >>> import tempfile
    >>> check_backup(tempfile.mkdtemp()) is None
    True
    """
    join = lambda name: os.path.join(backup_dir, name)  # noqa: E731
    weights = [p for p in (join(_WEIGHTS), join(_LEGACY)) if os.path.exists(p)]
    if not os.path.exists(join(_METADATA)):
        if weights:
            warnings.warn(
                f"BackupAndRestore: {weights[0]} has no {_METADATA} beside it "
                "(the first backup was cut short): starting from epoch 0.",
                stacklevel=3)
        return None
    metadata = _read_json(join(_METADATA), backup_dir)
    epoch = metadata.get("epoch") if isinstance(metadata, dict) else None
    if not isinstance(epoch, int) or epoch < 0:
        raise _damaged(join(_METADATA), backup_dir,
                       f"holds no epoch number ({str(metadata)[:80]})")
    if not weights:
        raise _damaged(join(_WEIGHTS), backup_dir,
                       f"is missing while {_METADATA} says epoch {epoch} "
                       "(resuming would start from random weights)")
    if weights[0] == join(_LEGACY):
        import h5py

        try:
            h5py.File(weights[0], "r").close()
        except Exception as error:
            raise _damaged(weights[0], backup_dir, f"cannot be read: {error}") from None
        return epoch
    for path in (join(_WEIGHTS), join(_ARRAYS)):
        try:
            with np.load(path) as npz:
                npz.files  # noqa: B018 (reads the zip directory)
        except FileNotFoundError:
            raise _damaged(path, backup_dir, "is missing") from None
        except Exception as error:
            raise _damaged(path, backup_dir, f"cannot be read: {error}") from None
    _read_json(join(_STATES), backup_dir)
    return epoch


def split_arrays(key, state, arrays):
    """JSON-able copy of ``state``; arrays move to ``arrays`` by name."""
    out = {}
    for field, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[f"{key}.{field}"] = value
            value = {"__array__": f"{key}.{field}"}
        elif isinstance(value, (list, tuple)) and value and all(
                isinstance(v, np.ndarray) for v in value):
            names = [f"{key}.{field}.{i}" for i in range(len(value))]
            arrays.update(zip(names, value))
            value = {"__arrays__": names}
        out[field] = value
    return out


def join_arrays(state, arrays):
    """``state`` as `split_arrays` took it, its arrays back from ``arrays``."""
    out = {}
    for field, value in state.items():
        if isinstance(value, dict) and "__array__" in value:
            value = arrays[value["__array__"]]
        elif isinstance(value, dict) and "__arrays__" in value:
            value = [arrays[name] for name in value["__arrays__"]]
        out[field] = value
    return out


def _read_json(path, backup_dir):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise _damaged(path, backup_dir, "is missing") from None
    except ValueError as error:
        what = "is empty" if os.path.getsize(path) == 0 else f"is cut short or garbled ({error})"
        raise _damaged(path, backup_dir, what) from None


def _damaged(path, backup_dir, problem):
    return BackupDamagedError(
        f"BackupAndRestore: the backup file {path} {problem}, so training "
        f"cannot resume from {backup_dir}. To start over from epoch 0, move "
        f"or delete {backup_dir}; to resume, put back an intact copy of the "
        "file.")
