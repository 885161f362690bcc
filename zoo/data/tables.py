"""Tables from the user's own files: ``load_csv(path, target)``.

Like the bundled loaders it returns raw arrays; ``zoo.data.from_arrays``
splits them and standardizes on the training rows.
"""

import csv
import os

import numpy as np

from zoo.core.finite import bad_rows, describe_rows

_MISSING = {"", "na", "nan", "null", "none"}


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
