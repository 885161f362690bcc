"""Offline data loaders: scikit-learn's bundled sets, MNIST-1D, CSV files.

Every loader returns raw arrays; splitting and train-only standardization
happen in ``zoo.splits`` (``zoo.data.load_dataset`` does both for you), so
no statistic of the test rows ever reaches the training inputs.
"""

import csv
import os
import random

import numpy as np
import sklearn.datasets

from zoo.finite import bad_rows, describe_rows

DIGITS_CLASSES = [str(i) for i in range(10)]
BREAST_CANCER_CLASSES = ["malignant", "benign"]  # target 0 and 1
MNIST1D_CLASSES = [str(i) for i in range(10)]

_MISSING = {"", "na", "nan", "null", "none"}
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
    ``zoo.splits.standardize``) so the scaler sees training rows only.

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


def _parse_target(values, lines, path, target):
    missing = [ln for v, ln in zip(values, lines) if v.strip().lower() in _MISSING]
    if missing:
        raise ValueError(
            describe_rows(f"target column {target!r} in {path}", missing, "lines",
                          problem="empty or NaN values")
        )
    try:
        numbers = np.array([float(v) for v in values])
    except ValueError:
        return np.array([v.strip() for v in values])  # string class labels
    if np.isfinite(numbers).all() and (numbers == np.round(numbers)).all():
        return numbers.astype(np.int64)
    return numbers.astype(np.float32)


def load_csv(path, target, features=None, delimiter=",", check=True):
    """Read a CSV file with a header row into ``(x, y)`` arrays.

    Empty cells and ``NA``/``NaN``/``null`` count as missing (NaN). The
    target may hold numbers (ints become int64 labels, others float32) or
    text class labels (returned as a string array; ``zoo.data.from_arrays``
    encodes them).

    Args:
        path: path to the CSV file.
        target: name of the target column.
        features: optional list of feature column names; default is every
            column except ``target``.
        delimiter: field separator.
        check: refuse rows with missing, NaN or Inf features, naming the
            file lines (``False`` keeps them as NaN).

    Returns:
        ``(x, y)``: float32 features ``(n, len(features))`` and targets.

    Raises:
        ValueError: a named column is missing (the message lists the
            columns), a feature column holds text, a row has the wrong
            number of fields, or (with ``check``) a row holds NaN/Inf.

    Example:

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = p.write_text("a,b,label\\n1,2,yes\\n3,4,no\\n")
    >>> x, y = load_csv(p, target="label")
    >>> x.shape, y.tolist()
    ((2, 2), ['yes', 'no'])
    """
    path = os.fspath(path)
    with open(path, newline="") as f:
        rows = [(i, r) for i, r in enumerate(csv.reader(f, delimiter=delimiter), 1)]
    rows = [(i, r) for i, r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ValueError(f"{path} is empty; expected a header row.")
    header = [name.strip() for name in rows[0][1]]
    data = rows[1:]
    if not data:
        raise ValueError(f"{path} has a header but no data rows.")
    features = [c for c in header if c != target] if features is None else list(features)
    for name in [target, *features]:
        if name not in header:
            raise ValueError(
                f"Column {name!r} not found in {path}; columns are: "
                f"{', '.join(header)}."
            )
    lines = [i for i, _ in data]
    for i, r in data:
        if len(r) != len(header):
            raise ValueError(
                f"{path} line {i} has {len(r)} fields; the header has {len(header)}."
            )
    x = np.empty((len(data), len(features)), dtype=np.float32)
    bad_columns = {}
    for j, name in enumerate(features):
        col = header.index(name)
        for k, (i, r) in enumerate(data):
            cell = r[col].strip()
            try:
                x[k, j] = np.nan if cell.lower() in _MISSING else float(cell)
            except ValueError:
                bad_columns.setdefault(name, (cell, i))
    if bad_columns:
        shown = "; ".join(f"{n!r} (e.g. {c!r} on line {i})" for n, (c, i) in bad_columns.items())
        raise ValueError(
            f"Feature columns must be numeric; non-numeric values in {shown}. "
            "Encode them, or leave them out with features=[...]."
        )
    target_col = header.index(target)
    y = _parse_target([r[target_col] for _, r in data], lines, path, target)
    if check:
        bad = np.union1d(bad_rows(x), bad_rows(y))  # bad_rows skips int/string y
        if len(bad):
            raise ValueError(
                describe_rows(path, np.array(lines)[bad], "lines")
                + " (empty cells count as NaN); fix them, or "
                "pass check=False and impute."
            )
    return x, y
