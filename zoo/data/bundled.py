"""Offline data sets: scikit-learn's bundled sets and MNIST-1D.

Every loader returns raw arrays; splitting and train-only standardization
happen in ``zoo.data.splits`` (``zoo.data.load_dataset`` does both for you), so
no statistic of the test rows ever reaches the training inputs.
"""

import random

import numpy as np
import sklearn.datasets

DIGITS_CLASSES = [str(i) for i in range(10)]
BREAST_CANCER_CLASSES = ["malignant", "benign"]  # target 0 and 1
MNIST1D_CLASSES = [str(i) for i in range(10)]

_mnist1d_cache = {}


def load_digits():
    """scikit-learn's 8x8 handwritten digits (1797 images, 10 classes).

    Returns:
        ``(x, y)``: float32 images in ``[0, 1]`` of shape ``(1797, 8, 8, 1)``
        and int64 labels ``0..9``.
    """
    x, y = sklearn.datasets.load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8, 1).astype(np.float32)
    return x, y.astype(np.int64)


def load_breast_cancer():
    """scikit-learn's Wisconsin breast cancer set (569 rows, 30 features).

    Features are returned unscaled: standardize after splitting (see
    ``zoo.data.splits.standardize``) so the scaler sees training rows only.

    Returns:
        ``(x, y)``: float32 features ``(569, 30)`` and int64 labels,
        ``0 = malignant``, ``1 = benign``.
    """
    x, y = sklearn.datasets.load_breast_cancer(return_X_y=True)
    return x.astype(np.float32), y.astype(np.int64)


def load_diabetes():
    """scikit-learn's diabetes regression set (442 rows, 10 features).

    Loaded with ``scaled=False``: scikit-learn's own scaling uses every row,
    test rows included; standardize after splitting instead.

    Returns:
        ``(x, y)``: float32 features ``(442, 10)`` and float32 targets
        (disease progression after one year, about 25 to 346).
    """
    x, y = sklearn.datasets.load_diabetes(return_X_y=True, scaled=False)
    return x.astype(np.float32), y.astype(np.float32)


def _make_mnist1d(overrides):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    allowed = sorted(k for k in vars(args) if k != "url")
    for key, value in overrides.items():
        if key not in allowed:
            raise ValueError(
                f"Unknown MNIST-1D argument {key!r}; allowed: {', '.join(allowed)}."
            )
        setattr(args, key, value)
    # make_dataset reseeds the global `random` and NumPy generators; put
    # them back so loading data does not change the caller's randomness.
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return tuple(
        a.astype(dtype)
        for a, dtype in (
            (data["x"], np.float32),
            (data["y"], np.int64),
            (data["x_test"], np.float32),
            (data["y_test"], np.int64),
        )
    )


def load_mnist1d(channel_axis=True, mnist1d_args=None):
    """MNIST-1D generated locally (never downloaded): 10 classes, length 40.

    Uses ``mnist1d.data.make_dataset`` with the package's default arguments
    (the canonical data set: 4000 train and 1000 test sequences, data seed
    42). The generator already centres and scales the signals. Results are
    cached per argument set, and the global ``random``/NumPy RNG states are
    restored after generation.

    Args:
        channel_axis: ``True`` gives ``(n, 40, 1)`` for Conv1D/RNN layers,
            ``False`` gives ``(n, 40)``.
        mnist1d_args: optional dict overriding ``get_dataset_args()``
            entries, e.g. ``{"num_samples": 1000, "seed": 1}``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` with float32 inputs and
        int64 labels.
    """
    overrides = dict(mnist1d_args or {})
    key = repr(sorted(overrides.items()))
    if key not in _mnist1d_cache:
        _mnist1d_cache[key] = _make_mnist1d(overrides)
    x_train, y_train, x_test, y_test = (a.copy() for a in _mnist1d_cache[key])
    if channel_axis:
        x_train, x_test = x_train[..., None], x_test[..., None]
    return (x_train, y_train), (x_test, y_test)
