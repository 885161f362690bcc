"""``load_text_folder(path)``: a folder of ``.txt`` files, one subfolder per
class, as token ids for the zoo's token models.

Stands on Keras: the layout of ``text_dataset_from_directory`` (see
``zoo.data.folders``) and a ``keras.layers.TextVectorization`` vocabulary
adapted on the training split only. What this adds: three seeded, stratified
splits (or the folder's own), every file checked to be UTF-8 before training
(a bad one is named, and skipped with a count only when asked), a padded
length chosen from the training texts, and the vectorizer as the data set's
``encoder``, so that the saved end-to-end model takes strings and carries
its vocabulary.
"""

import os
import warnings

import keras
import numpy as np

from zoo.core.checks import check_int
from zoo.data.folders import TEXT_FORMATS, index_folder, split_index
from zoo.data.loading import Dataset, encode_targets

_OWNER = "load_text_folder"
_SHOWN = 5


def read_texts(files, encoding="utf-8", skip_bad_files=False, where="the folder"):
    """``(texts, ok_mask)``; a file that does not decode is named in a
    ``ValueError``, or left out with a warning when ``skip_bad_files``."""
    texts, bad = [], []
    for path in files:
        with open(path, "rb") as f:
            raw = f.read()
        try:
            texts.append(raw.decode(encoding))
        except UnicodeDecodeError as error:
            bad.append(f"{path} (byte {raw[error.start]:#04x} at offset {error.start})")
            texts.append(None)
    if bad:
        shown = "; ".join(bad[:_SHOWN]) + (f"; ... ({len(bad) - _SHOWN} more)"
                                           if len(bad) > _SHOWN else "")
        if not skip_bad_files:
            raise ValueError(
                f"{_OWNER}: {len(bad)} of {len(files)} files in {where} are not {encoding} "
                f"text: {shown}. Convert them (e.g. `iconv -f latin1 -t utf-8`), pass "
                "encoding='latin-1' if they all share it, or skip_bad_files=True.")
        warnings.warn(f"{_OWNER}: skipped {len(bad)} of {len(files)} files in {where} that "
                      f"are not {encoding} text: {shown}.", stacklevel=3)
    ok = np.array([t is not None for t in texts], dtype=bool)
    return np.array([t for t in texts if t is not None], dtype=object), ok


def load_text_folder(path, max_tokens=20000, max_len=None, seed=0, val_size=0.15,
                     test_size=None, encoding="utf-8", skip_bad_files=False, name=None):
    """Load a folder of text files with one subfolder per class into a ``Dataset``.

    ``data.x_*`` hold int64 token ids ``(n, max_len)``, padded with 0 at
    the end (1 is ``[UNK]``, an out-of-vocabulary word); ``data.encoder`` is
    the ``TextVectorization`` (lower case, punctuation stripped, split on
    whitespace), so ``data.end_to_end(model)`` takes strings.

    Args:
        path: the folder (see ``zoo.data.folders`` for the layout).
        max_tokens: vocabulary size at most, padding and ``[UNK]`` included.
        max_len: padded length in tokens; None takes the 95th percentile of
            the training texts' word counts (at least 4, at most 512).
        seed, val_size, test_size: as in ``train_val_test_split``.
        encoding: the files' text encoding.
        skip_bad_files: leave out files that do not decode, with a warning
            that counts them, instead of refusing the folder.
        name: data set name; default the folder's name.

    Example:

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for c, word in (("pos", "good"), ("neg", "bad")):
    ...     os.makedirs(os.path.join(root, c))
    ...     for i in range(10):
    ...         with open(os.path.join(root, c, f"{i}.txt"), "w") as f:
    ...             _ = f.write(f"a {word} film, number {i}")
    >>> data = load_text_folder(root)
    >>> data.class_names, data.input_kind, data.x_train.shape
    (['neg', 'pos'], 'tokens', (14, 5))
    >>> import tensorflow as tf
    >>> ids = data.encoder(tf.constant(["A good film!", "a GOOD film"])).numpy()
    >>> (ids[0] == ids[1]).all(), ids.shape
    (np.True_, (2, 5))
    """
    check_int("max_tokens", max_tokens, 3, owner=_OWNER)
    if max_len is not None:
        check_int("max_len", max_len, 1, owner=_OWNER)
    parts, class_names = index_folder(path, TEXT_FORMATS, _OWNER)
    for split, (files, labels) in parts.items():
        texts, ok = read_texts(files, encoding, skip_bad_files, where=str(path))
        parts[split] = (texts, labels[ok])
    splits = split_index(parts, seed=seed, val_size=val_size, test_size=test_size)
    if max_len is None:
        words = [len(t.split()) for t in splits.x_train]
        max_len = int(np.clip(np.ceil(np.percentile(words, 95)), 4, 512))
    vectorize = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=max_len, name="text_to_token_ids")
    vectorize.adapt(np.asarray(splits.x_train, dtype=str))  # the training split only
    texts = keras.Input(shape=(), dtype="string", name="text")
    encoder = keras.Model(texts, vectorize(texts), name="text_encoder")

    def ids(x):
        if len(x) == 0:
            return np.zeros((0, max_len), dtype=np.int64)
        return np.asarray(vectorize(np.asarray(x, dtype=str))).astype(np.int64)

    y, task, k, class_names = encode_targets(
        np.concatenate([splits.y_train, splits.y_val, splits.y_test]), "auto", class_names)
    return Dataset(
        ids(splits.x_train), splits.y_train, ids(splits.x_val), splits.y_val,
        ids(splits.x_test), splits.y_test,
        name=name or os.path.basename(os.fspath(path).rstrip("/\\")), task=task,
        num_classes=k, input_shape=(max_len,), input_kind="tokens", class_names=class_names,
        vocab_size=vectorize.vocabulary_size(), max_len=max_len, encoder=encoder, seed=seed)
