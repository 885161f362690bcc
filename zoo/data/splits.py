"""Seeded train/validation/test splits and train-only standardization."""

import dataclasses
import math
import numbers

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from zoo.core.tasks import infer_task

_STRATIFY = (True, False, "auto")


@dataclasses.dataclass(eq=False)
class Splits:
    """Train, validation and test arrays.

    Unpacks as ``x_train, y_train, x_val, y_val, x_test, y_test = splits``;
    ``splits.train``, ``splits.val`` and ``splits.test`` are ``(x, y)``
    pairs, so ``model.fit(*splits.train, validation_data=splits.val)`` works.
    An empty split (size 0) has zero rows and the right trailing shape.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def train(self):
        return self.x_train, self.y_train

    @property
    def val(self):
        return self.x_val, self.y_val

    @property
    def test(self):
        return self.x_test, self.y_test

    def sizes(self):
        """``{"train": n, "val": n, "test": n}``."""
        return {k: len(getattr(self, f"x_{k}")) for k in ("train", "val", "test")}

    def __repr__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes().items())
        return f"{type(self).__name__}({sizes}, x shape {self.x_train.shape[1:]})"

    def __iter__(self):
        return iter(
            (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test)
        )


def class_labels(y):
    """The class label per row if ``y`` looks like classification, else None.

    Integer, bool and string 1-D labels count, and so do one-hot rows.
    Float targets count as regression (use ints for class labels).
    """
    y = np.asarray(y)
    if infer_task(y) not in ("binary", "multiclass"):
        return None
    return y.argmax(axis=1) if y.ndim == 2 else y


def _count(name, size, n):
    """Turn a float fraction or an int count into a number of rows."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(
            f"{name} must be a float in [0, 1) or an int count, got {size!r}."
        )
    if isinstance(size, numbers.Integral):
        if not 0 <= size < n:
            raise ValueError(f"{name} must be an int in [0, {n}), got {size}.")
        return int(size)
    if not 0.0 <= size < 1.0:
        raise ValueError(f"{name} must be a float in [0, 1), got {size}.")
    return int(math.ceil(size * n))


def _take(x, y, count, rng, strata, stratify):
    """Split ``count`` rows off ``(x, y)``: returns (x_rest, y_rest, x_out, y_out)."""
    if count == 0:
        return x, y, x[:0], y[:0]
    use = strata if stratify is not False else None
    try:
        parts = train_test_split(x, y, test_size=count, random_state=rng, stratify=use)
    except ValueError as e:
        if stratify is True:
            raise ValueError(
                f"Cannot stratify this split ({e}). Pass stratify=False, "
                "or use larger split sizes."
            ) from None
        parts = train_test_split(x, y, test_size=count, random_state=rng)
    x_rest, x_out, y_rest, y_out = parts
    return x_rest, y_rest, x_out, y_out


def train_val_test_split(
    x, y, val_size=0.15, test_size=None, seed=0, stratify="auto", test_data=None
):
    """Split arrays into seeded train/validation/test sets.

    Wraps ``sklearn.model_selection.train_test_split`` (called twice, test
    first) and adds: exact sizes given as fractions of the whole data, an
    ``"auto"`` stratification that falls back to a plain split when a class
    is too small, and carving validation from a fixed test split.

    Args:
        x: inputs, samples along the first axis.
        y: targets (class labels, one-hot rows, or regression values).
        val_size: float fraction of all samples (of the train samples when
            ``test_data`` is given), or an int count. ``0`` gives an empty
            validation split.
        test_size: float fraction or int count; ``None`` means ``0.15``.
            Must stay ``None`` when ``test_data`` is given.
        seed: int seed; the same seed gives the same split.
        stratify: ``True`` keeps class proportions in every split (error if
            impossible), ``False`` does not, ``"auto"`` stratifies when ``y``
            holds class labels and falls back to a plain split if a class is
            too small to stratify.
        test_data: optional ``(x_test, y_test)`` that comes with the data set
            (e.g. MNIST-1D); then ``(x, y)`` is the train set and validation
            is carved from it alone.

    Returns:
        A ``Splits``.

    Example:

    >>> import numpy as np
    >>> s = train_val_test_split(np.zeros((100, 3)), np.arange(100) % 2)
    >>> s.sizes()
    {'train': 70, 'val': 15, 'test': 15}
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(
            f"x and y must have the same number of rows, got {len(x)} and {len(y)}."
        )
    if not (stratify is True or stratify is False or stratify == "auto"):
        raise ValueError(f"`stratify` must be one of {list(_STRATIFY)}; got {stratify!r}.")
    strata = class_labels(y)
    if stratify is True and strata is None:
        raise ValueError(
            "stratify=True needs class labels in y (ints, strings or one-hot "
            f"rows); got y of dtype {y.dtype} and shape {y.shape}."
        )
    rng = np.random.RandomState(seed)
    n = len(x)
    if test_data is not None:
        if test_size is not None:
            raise ValueError(
                "Pass either test_size or test_data, not both: test_data is "
                "already the test split."
            )
        x_test, y_test = (np.asarray(a) for a in test_data)
        n_val = _count("val_size", val_size, n)
        if n_val >= n:
            raise ValueError(f"val_size={val_size} leaves no training samples.")
        x_train, y_train, x_val, y_val = _take(x, y, n_val, rng, strata, stratify)
        return Splits(x_train, y_train, x_val, y_val, x_test, y_test)

    test_size = 0.15 if test_size is None else test_size
    n_test = _count("test_size", test_size, n)
    n_val = _count("val_size", val_size, n)
    if n_test + n_val >= n:
        raise ValueError(
            f"val_size={val_size} and test_size={test_size} leave no training "
            f"samples out of {n}; they must add up to less than all of them."
        )
    x_rest, y_rest, x_test, y_test = _take(x, y, n_test, rng, strata, stratify)
    rest_strata = class_labels(y_rest) if strata is not None else None
    x_train, y_train, x_val, y_val = _take(
        x_rest, y_rest, n_val, rng, rest_strata, stratify
    )
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test)


def standardize(splits):
    """Scale every split with a ``StandardScaler`` fitted on ``x_train`` only.

    Fitting on the training rows alone keeps test statistics out of
    training, so the scaled test set has a mean near, not exactly, zero.
    Inputs of any rank are scaled per feature (all axes after the first).

    Args:
        splits: a ``Splits`` (or ``Dataset``) with float inputs.

    Returns:
        ``(scaled_splits, scaler)``: a copy of the same type with float32
        inputs, and the fitted ``sklearn.preprocessing.StandardScaler`` to
        apply to new data.
    """
    scaler = StandardScaler().fit(splits.x_train.reshape(len(splits.x_train), -1))

    def scale(a):
        if len(a) == 0:
            return a.astype(np.float32)
        flat = scaler.transform(a.reshape(len(a), -1))
        return flat.reshape(a.shape).astype(np.float32)

    scaled = dataclasses.replace(
        splits,
        x_train=scale(splits.x_train),
        x_val=scale(splits.x_val),
        x_test=scale(splits.x_test),
    )
    return scaled, scaler
