"""A synthetic token task that only an order-aware model can solve."""

import numpy as np

from zoo.core.checks import check_int


def make_order_task(
    num_samples=2000, num_classes=4, vocab_size=20, min_len=8, max_len=24, seed=0
):
    """Token sequences labelled by which of ``num_classes`` markers comes first.

    Token ids: ``0`` is padding, ``1 .. num_classes`` are the markers and
    ``num_classes + 1 .. vocab_size - 1`` are filler words. Every sequence
    holds each marker exactly once, at random positions among random filler,
    and the label is ``marker_id - 1`` of the earliest marker. All sequences
    thus have the same marker counts and filler counts carry no signal, so a
    bag-of-words model is at chance (``1 / num_classes``), while reading the
    tokens in order solves the task exactly (see ``first_marker``).

    Lengths are uniform in ``[min_len, max_len]``; sequences are padded with
    ``0`` at the end to ``max_len`` (use ``mask_zero=True`` in ``Embedding``).

    Args:
        num_samples: number of sequences.
        num_classes: number of distinct markers (and classes), >= 2.
        vocab_size: number of token ids including padding, at least
            ``num_classes + 2`` so that there is one filler word.
        min_len: shortest sequence, at least ``num_classes``.
        max_len: longest sequence and padded length.
        seed: int seed; the same seed gives the same data.

    Returns:
        ``(x, y)``: int32 token ids of shape ``(num_samples, max_len)`` and
        int64 labels of shape ``(num_samples,)``.

    Example:

    >>> x, y = make_order_task(num_samples=8, seed=1)
    >>> bool((first_marker(x, num_classes=4) == y).all())
    True
    """
    n = check_int("num_samples", num_samples, 1)
    k = check_int("num_classes", num_classes, 2)
    vocab = check_int("vocab_size", vocab_size, k + 2)
    min_len = check_int("min_len", min_len, k)
    max_len = check_int("max_len", max_len, min_len)
    rng = np.random.default_rng(seed)

    lengths = rng.integers(min_len, max_len + 1, size=n)
    x = rng.integers(k + 1, vocab, size=(n, max_len))
    padding = np.arange(max_len)[None, :] >= lengths[:, None]
    # A random key per position, +inf on padding: the k smallest keys mark
    # k distinct, uniformly chosen positions inside each sequence.
    keys = np.where(padding, np.inf, rng.random((n, max_len)))
    positions = np.argsort(keys, axis=1)[:, :k]
    rows = np.arange(n)[:, None]
    x[rows, positions] = np.arange(1, k + 1)[None, :]
    x[padding] = 0
    y = positions.argmin(axis=1)
    return x.astype(np.int32), y.astype(np.int64)


def first_marker(x, num_classes=4):
    """The exact rule behind ``make_order_task``: the first marker in each row.

    Args:
        x: int token ids, shape ``(n, max_len)``.
        num_classes: number of markers used to make ``x``.

    Returns:
        int64 labels, shape ``(n,)``; ``-1`` for a row with no marker.
    """
    x = np.asarray(x)
    is_marker = (x >= 1) & (x <= num_classes)
    first = is_marker.argmax(axis=1)
    labels = x[np.arange(len(x)), first].astype(np.int64) - 1
    return np.where(is_marker.any(axis=1), labels, -1)
