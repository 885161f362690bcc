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


def read_rows(path, target, features=None, delimiter=","):
    """``(header, [(line, cells), ...], features)`` of a CSV file, refused
    when empty, when a named column is missing (listing the columns) or
    when a row's field count differs from the header's."""
    path = os.fspath(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        try:
            rows = [(i, r) for i, r in enumerate(csv.reader(f, delimiter=delimiter), 1)]
        except UnicodeDecodeError as error:
            raise ValueError(f"{path} is not UTF-8 text ({error.reason} at byte "
                             f"{error.start}); save it as UTF-8 CSV.") from None
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
    for i, r in data:
        if len(r) != len(header):
            raise ValueError(
                f"{path} line {i} has {len(r)} fields; the header has {len(header)}."
            )
    return header, data, features


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
    header, data, features = read_rows(path, target, features, delimiter)
    lines = [i for i, _ in data]
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


def _columns(path, data, header, features, categorical, max_categories):
    """``({numeric name: float column}, {text name: str column})``, refusing
    columns mixing numbers and text, empty/NaN/Inf cells and text columns
    with too many distinct values to one-hot."""
    numeric, text, mixed, missing = {}, {}, [], {}
    for name in features:
        col = header.index(name)
        cells = [r[col].strip() for _, r in data]
        lines = [i for i, _ in data]
        values = np.full(len(cells), np.nan, dtype=np.float64)
        words = []
        for k, cell in enumerate(cells):
            if cell.lower() in _MISSING:
                missing.setdefault(lines[k], []).append(name)
                continue
            try:
                values[k] = float(cell)
            except ValueError:
                words.append((cell, lines[k]))
        if name in categorical or (words and np.isnan(values).all()):  # text
            text[name] = np.array(cells, dtype=object)
        elif words:
            mixed.append(f"{name!r} ({len(words)} of {len(cells)} cells are not numbers, "
                         f"e.g. {words[0][0]!r} on line {words[0][1]})")
        else:
            numeric[name] = values
            for k in np.flatnonzero(np.isinf(values)):
                missing.setdefault(lines[k], []).append(name)
    if mixed:
        raise ValueError(
            f"load_table: cannot parse columns of {path}: {'; '.join(mixed)}. A column "
            "must hold numbers or text: fix those cells, name the column in "
            "categorical=[...] to read all its cells as categories, or leave it out "
            "with features=[...].")
    if missing:
        columns = sorted({c for names in missing.values() for c in names})
        raise ValueError(
            describe_rows(path, sorted(missing), "lines", problem="empty, NaN or Inf cells")
            + f" in columns {columns}; fill them in, or leave those rows or columns out "
            "(features=[...]).")
    for name, cells in text.items():
        if len(set(cells)) > max_categories:
            raise ValueError(
                f"load_table: text column {name!r} of {path} has {len(set(cells))} distinct "
                f"values, more than max_categories={max_categories} can one-hot; it looks "
                "like an identifier or free text: leave it out with features=[...].")
    return numeric, text


def _layer_name(column):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in column) or "column"


def column_encoder(numeric, text):
    """A Keras model from a dict of raw columns to one float32 row per
    sample: numeric columns standardized with the given columns' mean and
    variance, text columns one-hot over their values ([UNK] for new ones)."""
    import keras

    inputs, parts = {}, []
    if numeric:
        for name in numeric:
            inputs[name] = keras.Input((1,), name=_layer_name(name))
        stacked = np.stack(list(numeric.values()), axis=1)
        joined = (keras.layers.Concatenate(name="numeric_columns")(list(inputs.values()))
                  if len(numeric) > 1 else inputs[next(iter(numeric))])
        parts.append(keras.layers.Normalization(
            mean=stacked.mean(axis=0), variance=stacked.var(axis=0), name="standardize")(joined))
    for name, cells in text.items():
        inputs[name] = keras.Input((1,), dtype="string", name=_layer_name(name))
        lookup = keras.layers.StringLookup(vocabulary=sorted(set(cells)), output_mode="one_hot",
                                           name=f"one_hot_{_layer_name(name)}")
        parts.append(lookup(inputs[name]))
    out = keras.layers.Concatenate(name="features")(parts) if len(parts) > 1 else parts[0]
    return keras.Model(inputs, out, name="column_encoder")


def _check_backend(path, text):
    import keras

    backend = keras.backend.backend()
    if text and backend != "tensorflow":
        raise ValueError(
            f"load_table: the text or categorical column(s) {sorted(text)} of {path} need "
            f"the TensorFlow backend (KERAS_BACKEND=tensorflow); on {backend!r} a model "
            "cannot take strings. Leave them out with `features=[...]` (numeric columns "
            "load on every backend), or run on TensorFlow.")


def encode_columns(encoder, columns, rows):
    """Rows ``rows`` of the raw ``columns`` dict through ``encoder``, as NumPy."""
    import tensorflow as tf

    feed = {name: tf.constant(np.asarray(col[rows]).reshape(-1, 1).astype(
        str if col.dtype == object else np.float32)) for name, col in columns.items()}
    return np.asarray(encoder(feed), dtype=np.float32).reshape(len(rows), -1)


def load_table(path, target, task="auto", features=None, categorical=(), seed=0,
               val_size=0.15, test_size=None, delimiter=",", max_categories=100, name=None):
    """Load a CSV file into a split ``Dataset`` with numeric and text columns.

    Numeric columns are standardized and text columns one-hot encoded, both
    from the training rows only, by Keras layers (``Normalization``,
    ``StringLookup``) that form ``data.encoder``: ``data.end_to_end(model)``
    then takes a dict of raw columns, e.g. ``{"age": [[41.0]], "city":
    [["Paris"]]}``. Adds over ``load_csv``: text feature columns, the split
    (seeded; stratified for classes) and the encoder.

    Args:
        path: the CSV file, with a header row.
        target: the column to predict: numbers (ints are classes unless
            ``task="regression"``) or text class labels.
        task: ``"auto"`` or one of ``TASKS``.
        features: feature columns; default every column but ``target``.
        categorical: columns to read as categories even if they hold
            numbers (e.g. codes); columns of text are categorical anyway.
        seed, val_size, test_size: as in ``train_val_test_split``.
        delimiter: field separator.
        max_categories: refuse a text column with more distinct values.
        name: data set name; default the file's name.

    Backends: text columns (and ``categorical`` ones) need TensorFlow: the
    encoder, and the model ``data.end_to_end`` makes, take strings, which
    JAX arrays cannot hold. On another backend such a table is refused
    before anything is read into the split, naming the columns; numeric
    tables load on every backend.

    Example:

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "homes.csv"
    >>> rows = [f"{50 + i},{'AB'[i % 2]},{100 + 3 * i}" for i in range(30)]
    >>> _ = p.write_text("area,town,price\\n" + "\\n".join(rows))
    >>> data = load_table(p, target="price", task="regression")
    >>> data.task, data.input_shape, data.sizes()
    ('regression', (4,), {'train': 20, 'val': 5, 'test': 5})
    """
    from zoo.data.loading import Dataset, encode_targets
    from zoo.data.splits import train_val_test_split

    path = os.fspath(path)
    header, data, features = read_rows(path, target, features, delimiter)
    unknown = sorted(set(categorical) - set(features))
    if unknown:
        raise ValueError(f"load_table: `categorical` names {unknown}, which are not feature "
                         f"columns of {path}; they are: {', '.join(features)}.")
    lines = [i for i, _ in data]
    y = _parse_target([r[header.index(target)] for _, r in data], lines, path, target)
    y, task, k, class_names = encode_targets(y, task, None)
    numeric, text = _columns(path, data, header, features, set(categorical), max_categories)
    _check_backend(path, text)
    rows = train_val_test_split(np.arange(len(data)), y, val_size=val_size,
                                test_size=test_size, seed=seed,
                                stratify="auto" if task != "regression" else False)
    train = rows.x_train
    encoder = column_encoder({n: c[train] for n, c in numeric.items()},
                             {n: c[train] for n, c in text.items()})
    columns = {n: (numeric[n] if n in numeric else text[n]) for n in features}
    x = [encode_columns(encoder, columns, r) for r in (rows.x_train, rows.x_val, rows.x_test)]
    return Dataset(
        x[0], rows.y_train, x[1], rows.y_val, x[2], rows.y_test,
        name=name or os.path.splitext(os.path.basename(path))[0], task=task, num_classes=k,
        input_shape=x[0].shape[1:], input_kind="features", class_names=class_names,
        encoder=encoder, seed=seed)
