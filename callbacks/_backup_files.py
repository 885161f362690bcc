"""The files of a ``callbacks.BackupAndRestore`` backup, and their check."""

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
