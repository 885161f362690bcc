"""``SklearnMetrics``' record of scored epochs, and its resumable state.

The history is a dict of lists: ``"epoch"`` (0-based indices of scored
epochs) and one list per log key, ``None`` where a key was not scored; its
state (for ``callbacks.BackupAndRestore``) is JSON-able, with non-finite
scores stored as ``None``, beside the last confusion matrix.
"""

import math

import numpy as np


def record(history, epoch, named):
    """Appends ``{key: value}`` of one scored epoch to ``history``.

    Example:

    >>> history = {}
    >>> record(history, 0, {"val_f1": 0.5})
    >>> record(history, 1, {"val_f1": 0.7, "val_r2": 0.1})
    >>> history
    {'epoch': [0, 1], 'val_f1': [0.5, 0.7], 'val_r2': [None, 0.1]}
    """
    done = len(history.setdefault("epoch", []))
    for key in named:
        history.setdefault(key, [None] * done)
    for key, column in history.items():
        column.append(int(epoch) if key == "epoch" else named.get(key))


def get_state(history, matrix):
    """JSON-able ``{"history", "confusion_matrix"}``; NaN and inf as None.

    Example:

    >>> get_state({"epoch": [0], "val_f1": [float("nan")]}, np.eye(2, dtype=int))
    {'history': {'epoch': [0], 'val_f1': [None]}, 'confusion_matrix': [[1, 0], [0, 1]]}
    """
    return {
        "history": {
            key: [v if v is None or key == "epoch" or math.isfinite(v) else None
                  for v in column]
            for key, column in history.items()
        },
        "confusion_matrix": None if matrix is None else matrix.tolist(),
    }


def set_state(state, owner):
    """``(history, confusion matrix)`` from what `get_state` returned."""
    if not isinstance(state, dict) or not isinstance(state.get("history", {}), dict):
        raise TypeError(f"{owner}.set_state expects the dict returned by "
                        f"get_state(); got {type(state).__name__}.")
    matrix = state.get("confusion_matrix")
    return ({k: list(v) for k, v in state["history"].items()},
            None if matrix is None else np.asarray(matrix))
