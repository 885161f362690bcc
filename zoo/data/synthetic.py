"""Synthetic token tasks: one that only an order-aware model can solve
(``make_order_task``) and one that only a model with a long memory can solve
(``make_memory_task``)."""

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
    n, k, vocab, min_len, max_len = _checked(
        num_samples, num_classes, vocab_size, min_len, max_len, every_marker=True)
    rng = np.random.default_rng(seed)

    x, padding = _filler(rng, n, k, vocab, min_len, max_len)
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


def make_memory_task(
    num_samples=2000, num_classes=4, vocab_size=10, min_len=50, max_len=200, seed=0
):
    """Long token sequences labelled by their first token: a test of memory.

    The first token of every sequence is one of ``num_classes`` markers (ids
    ``1 .. num_classes``) and the label is ``marker_id - 1``; every later
    token is random filler (ids ``num_classes + 1 .. vocab_size - 1``). A
    model reading left to right must carry the first token through the whole
    sequence to the end, where it answers: the gradient that teaches it to
    do so flows back through every step, the textbook setting of the
    vanishing gradient through time (Bengio et al., 1994; Hochreiter and
    Schmidhuber, 1997). ``first_marker`` is the exact rule.

    Lengths are uniform in ``[min_len, max_len]``; sequences are padded with
    ``0`` at the end to ``max_len`` (use ``mask_zero=True`` in ``Embedding``,
    or ``mask_value=0`` on one-hot steps without the padding id).

    Args:
        min_len: shortest sequence, >= 1.
        num_samples, num_classes, vocab_size, max_len, seed: as in
            ``make_order_task``.

    Returns:
        ``(x, y)``, as ``make_order_task`` does.

    Example:

    >>> x, y = make_memory_task(num_samples=8, min_len=50, max_len=60, seed=1)
    >>> x.shape, bool((first_marker(x, num_classes=4) == y).all())
    ((8, 60), True)
    >>> bool((x[:, 1:] > 4).sum(axis=1).min() >= 49)  # filler after the marker
    True
    """
    n, k, vocab, min_len, max_len = _checked(
        num_samples, num_classes, vocab_size, min_len, max_len, every_marker=False)
    rng = np.random.default_rng(seed)

    y = rng.integers(0, k, size=n)
    x, padding = _filler(rng, n, k, vocab, min_len, max_len)
    x[:, 0] = y + 1
    x[padding] = 0
    return x.astype(np.int32), y.astype(np.int64)


def _checked(num_samples, num_classes, vocab_size, min_len, max_len, every_marker):
    """The shared arguments, checked; with ``every_marker`` (each sequence
    holds every marker) ``min_len`` must reach ``num_classes``, else 1."""
    n = check_int("num_samples", num_samples, 1)
    k = check_int("num_classes", num_classes, 2)
    vocab = check_int("vocab_size", vocab_size, k + 2)
    min_len = check_int("min_len", min_len, k if every_marker else 1)
    return n, k, vocab, min_len, check_int("max_len", max_len, min_len)


def _filler(rng, n, k, vocab, min_len, max_len):
    """``(x, padding)``: ``n`` rows of random filler ids (``k + 1 ..
    vocab - 1``) of uniform lengths in ``[min_len, max_len]``, and the
    padding positions past each row's length (not zeroed yet)."""
    lengths = rng.integers(min_len, max_len + 1, size=n)
    x = rng.integers(k + 1, vocab, size=(n, max_len))
    return x, np.arange(max_len)[None, :] >= lengths[:, None]
