"""`Dataset`, `load_dataset(name)` and `from_arrays(x, y)`: see `zoo.data`."""

import dataclasses
import inspect

import numpy as np

from zoo.core.checks import check_bool, check_choice, check_number
from zoo.core.data_checks import check_label_rank, check_rows
from zoo.core.finite import check_finite
from zoo.models.inputs import check_input_kind
from zoo.data.bundled import (
    BREAST_CANCER_CLASSES,
    DIGITS_CLASSES,
    MNIST1D_CLASSES,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_mnist1d,
)
from zoo.data import splits as _splits
from zoo.data.splits import Splits, class_labels, train_val_test_split
from zoo.data.streams import SplitAccess
from zoo.core.tasks import TASKS, count_classes, infer_task, is_01
from zoo.data.synthetic import make_memory_task, make_order_task



@dataclasses.dataclass(eq=False, repr=False)
class Dataset(SplitAccess, Splits):
    """``Splits`` plus what a model needs to know about the data.

    Attributes (besides the six arrays of ``Splits``):
        name: data set name.
        task: ``"binary"``, ``"multiclass"``, ``"multilabel"`` or
            ``"regression"``.
        num_classes: number of classes (labels for multilabel), or None.
        input_shape: shape of one sample, e.g. ``(8, 8, 1)``.
        input_kind: ``"image"``, ``"sequence"``, ``"tokens"`` or ``"features"``.
        class_names: list of class names, or None for regression.
        vocab_size: number of token ids incl. padding 0 (tokens only).
        max_len: padded sequence length (tokens only).
        scaler: the ``StandardScaler`` fitted on ``x_train``, if any.
        encoder: a Keras model from raw inputs (pixels, strings, CSV
            columns) to the model's inputs, or None; see ``end_to_end``.
        streams: for data streamed from files (``x_*`` then hold the file
            paths), what builds their ``tf.data`` pipelines; else None.
        seed: the split and shuffling seed.

    ``data.train``, ``data.val`` and ``data.test`` are ``(x, y)`` array
    pairs, or batched ``tf.data`` pipelines of ``(x, y)`` when the data
    stream (``data.streamed``); ``model.fit(**data.fit_args(batch_size))``
    trains on either (``zoo.data.streams.SplitAccess``).
    """

    name: str = "arrays"
    task: str = "regression"
    num_classes: int = None
    input_shape: tuple = ()
    input_kind: str = "features"
    class_names: list = None
    vocab_size: int = None
    max_len: int = None
    scaler: object = None
    encoder: object = None
    streams: object = None
    seed: int = 0

    def info(self):
        """Metadata and split sizes as a plain, JSON-ready dict."""
        keys = ("name", "task", "num_classes", "input_kind", "class_names",
                "vocab_size", "max_len")
        out = {k: getattr(self, k) for k in keys}
        out["input_shape"] = list(self.input_shape)
        out["sizes"] = self.sizes()
        out["standardized"] = self.scaler is not None
        out["streamed"] = self.streamed
        return out

    def __repr__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes().items())
        return (f"Dataset({self.name!r}, task={self.task!r}, "
                f"input_shape={self.input_shape}, {sizes})")


def encode_targets(y, task, class_names):
    """Validate/infer the task and turn y into model-ready targets."""
    task = check_choice("task", task, ("auto", *TASKS))
    y = check_label_rank(y)
    if task == "auto":
        task = infer_task(y)
    labels = class_labels(y)
    multi_hot = y.ndim == 2 and y.shape[1] > 1 and is_01(y)
    if task == "regression":
        if y.dtype.kind in "US":
            raise ValueError("task='regression' needs numeric targets, got strings.")
        return y.astype(np.float32), task, None, None
    if task == "multilabel":
        if not multi_hot:
            raise ValueError(
                "task='multilabel' needs y as 0/1 rows of shape (n, num_labels); "
                f"got dtype {y.dtype} and shape {y.shape}."
            )
        y, k = y.astype(np.int64), y.shape[1]
    elif labels is None:
        raise ValueError(
            f"task={task!r} needs class labels (ints 0..k-1, strings or one-hot "
            f"rows); got y of dtype {y.dtype} and shape {y.shape}."
        )
    elif y.ndim == 2:
        y, k = y.astype(np.int64), y.shape[1]  # one-hot stays one-hot
    elif y.dtype.kind in "US" or y.min() < 0:
        names, y = np.unique(labels, return_inverse=True)
        k = len(names)
        class_names = [str(n) for n in names] if class_names is None else class_names
    else:
        y, k = y.astype(np.int64), count_classes(y)
        if y.min() > 0:
            raise ValueError(
                f"`y`: integer class ids must be 0 ... k-1; got ids {y.min()} ... {y.max()} "
                f"(no sample of class 0, so {k} classes). Allowed: ids from 0 (pass y - "
                f"{y.min()}), or text labels, which are encoded in sorted order.")
    distinct = len(np.unique(y, axis=0)) if y.ndim == 2 else len(np.unique(y))
    if distinct < 2:
        raise ValueError(
            f"`y` holds a single class in all {len(y)} rows; allowed: at least 2 classes "
            f"for task={task!r} (task='regression' for numeric targets).")
    if task == "binary" and k > 2:
        raise ValueError(f"task='binary' needs 2 classes, y has {k}.")
    if task == "binary" and y.ndim == 2:
        y = y.argmax(axis=1)  # one sigmoid unit wants 0/1 labels, not one-hot rows
    k = max(k, 2)
    class_names = [str(n) for n in (range(k) if class_names is None else class_names)]
    if len(class_names) != k:
        raise ValueError(f"class_names has {len(class_names)} names for {k} classes.")
    return y.astype(np.int64), task, k, class_names


def _input_kind(x):
    if x.ndim == 2:
        return "tokens" if x.dtype.kind in "iu" else "features"
    return {3: "sequence", 4: "image"}.get(x.ndim, "features")


def from_arrays(
    x, y, task="auto", seed=0, val_size=0.15, test_size=None, stratify="auto",
    standardize=False, class_names=None, test_data=None,
    input_kind=None, name="arrays",
):
    """Turn your own NumPy arrays into a split, checked ``Dataset``.

    Refuses NaN/Inf rows, infers the task from ``y`` (ints or strings:
    binary/multiclass; one-hot rows: multiclass; other 0/1 rows: multilabel;
    floats: regression), encodes string labels in sorted order, splits with
    ``train_val_test_split`` and optionally standardizes on train only.

    Args:
        x: inputs, samples along the first axis.
        y: targets.
        task: ``"auto"`` or one of ``TASKS``.
        seed, val_size, test_size, stratify, test_data: as in
            ``train_val_test_split``.
        standardize: fit a ``StandardScaler`` on ``x_train`` and apply
            it to every split.
        class_names: names for classes ``0..k-1``.
        input_kind: one of ``zoo.models.inputs.INPUT_KINDS``; inferred from ``x`` if None.
        name: data set name kept in the metadata.

    Example:

    >>> import numpy as np
    >>> data = from_arrays(np.random.rand(40, 3), np.array(["a", "b"] * 20))
    >>> data.task, data.class_names, data.sizes()
    ('binary', ['a', 'b'], {'train': 28, 'val': 6, 'test': 6})
    """
    x = check_rows(x, "x", owner="from_arrays")
    check_rows(y, "y", owner="from_arrays")
    check_number("seed", seed, 0, integer=True, owner="from_arrays")
    check_bool("standardize", standardize, owner="from_arrays")
    check_finite(x, y)
    n_train = len(x)
    if test_data is not None:
        check_finite(*test_data, name="x_test")
        y = np.concatenate([np.asarray(y), np.asarray(test_data[1])])
    y, task, k, class_names = encode_targets(y, task, class_names)
    if test_data is not None:
        y, test_data = y[:n_train], (np.asarray(test_data[0]), y[n_train:])
    if x.dtype.kind == "f" and x.dtype != np.float32:
        x = x.astype(np.float32)
    if input_kind is not None:
        input_kind = check_input_kind(input_kind)
    splits = train_val_test_split(
        x, y, val_size=val_size, test_size=test_size, seed=seed,
        stratify=stratify if task != "regression" else False, test_data=test_data,
    )
    scaler = None
    if standardize:
        splits, scaler = _splits.standardize(splits)
    return Dataset(
        *splits, name=name, task=task, num_classes=k, input_shape=x.shape[1:],
        input_kind=input_kind or _input_kind(x), class_names=class_names, scaler=scaler,
        seed=seed,
    )


def _digits(seed, val_size, test_size):
    x, y = load_digits()
    return from_arrays(x, y, seed=seed, val_size=val_size, test_size=test_size,
                       class_names=DIGITS_CLASSES, name="digits")


def _breast_cancer(seed, val_size, test_size, standardize=True):
    x, y = load_breast_cancer()
    return from_arrays(x, y, seed=seed, val_size=val_size, test_size=test_size,
                       standardize=standardize,
                       class_names=BREAST_CANCER_CLASSES, name="breast_cancer")


def _diabetes(seed, val_size, test_size, standardize=True):
    x, y = load_diabetes()
    return from_arrays(x, y, task="regression", seed=seed, val_size=val_size,
                       test_size=test_size, standardize=standardize,
                       name="diabetes")


def _mnist1d(seed, val_size, test_size, channel_axis=True, mnist1d_args=None):
    if test_size is not None:
        raise ValueError("mnist1d comes with a fixed test split; leave test_size=None.")
    train, test = load_mnist1d(channel_axis=channel_axis, mnist1d_args=mnist1d_args)
    return from_arrays(*train, seed=seed, val_size=val_size, test_data=test,
                       class_names=MNIST1D_CLASSES, input_kind="sequence", name="mnist1d")


def _token_task(make, name, class_name):
    """The builder of a token data set made by ``make`` (``make_order_task``...).

    Its options are ``make``'s arguments but ``seed``, with ``make``'s
    defaults (its signature says so, for ``load_dataset``'s check); classes
    are named ``class_name.format(marker)``.
    """
    task_signature = inspect.signature(make)

    def build(seed, val_size, test_size, **options):
        task = task_signature.bind(**options, seed=seed)
        task.apply_defaults()
        x, y = make(**task.arguments)
        num_classes = task.arguments["num_classes"]
        data = from_arrays(
            x, y, seed=seed, val_size=val_size, test_size=test_size,
            class_names=[class_name.format(i) for i in range(1, num_classes + 1)],
            input_kind="tokens", name=name,
        )
        return dataclasses.replace(data, vocab_size=task.arguments["vocab_size"],
                                   max_len=task.arguments["max_len"])

    split = [inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD)
             for arg in ("seed", "val_size", "test_size")]
    build.__signature__ = inspect.Signature(
        split + [p for p in task_signature.parameters.values() if p.name != "seed"])
    return build


_DATASETS = {
    "digits": _digits,
    "breast_cancer": _breast_cancer,
    "diabetes": _diabetes,
    "mnist1d": _mnist1d,
    "tokens": _token_task(make_order_task, "tokens", "token {} first"),
    "memory": _token_task(make_memory_task, "memory", "starts with {}"),
}


def list_datasets():
    """Names accepted by ``load_dataset``."""
    return sorted(_DATASETS)


def load_dataset(name, seed=0, val_size=0.15, test_size=None, **options):
    """Load a built-in data set, split and ready to train on (no downloads).

    =============== ========== ============== ===================================
    name            task       input_shape    source
    =============== ========== ============== ===================================
    digits          multiclass (8, 8, 1)      scikit-learn digits, 1797 images
    breast_cancer   binary     (30,)          scikit-learn, 569 rows, scaled
    diabetes        regression (10,)          scikit-learn, 442 rows, scaled
    mnist1d         multiclass (40, 1)        mnist1d generator, fixed test split
    tokens          multiclass (24,)          ``make_order_task`` token ids
    memory          multiclass (200,)         ``make_memory_task`` token ids
    =============== ========== ============== ===================================

    Args:
        name: one of ``list_datasets()``.
        seed: split seed (and data seed for ``tokens`` and ``memory``).
        val_size: validation fraction of all rows (of train rows for mnist1d).
        test_size: test fraction; None means 0.15 (mnist1d: its own test set).
        **options: per data set: ``standardize`` (breast_cancer, diabetes;
            default True), ``channel_axis`` and ``mnist1d_args`` (mnist1d),
            ``num_samples``, ``num_classes``, ``vocab_size``, ``min_len``,
            ``max_len`` (tokens, memory).

    Returns:
        A ``Dataset``.

    Example:

    >>> data = load_dataset("digits", seed=0)
    >>> data.task, data.num_classes, data.x_train.shape
    ('multiclass', 10, (1257, 8, 8, 1))
    """
    key = check_choice("name", name, _DATASETS)
    check_number("seed", seed, 0, integer=True, owner="load_dataset")
    builder = _DATASETS[key]
    allowed = list(inspect.signature(builder).parameters)[3:]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"load_dataset({key!r}) got unknown options {unknown}; "
            f"allowed: {allowed or 'none'}."
        )
    return builder(seed, val_size, test_size, **options)
