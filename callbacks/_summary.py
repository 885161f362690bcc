"""One TensorBoard writer for every callback in the package.

Callbacks take a ``log_dir`` (``None`` means "do not write to TensorBoard")
and write under ``log_dir/<run>`` with TensorBoard's own summary API, so
their scalars sit beside those of ``keras.callbacks.TensorBoard`` when both
use the same ``log_dir`` (``train`` and ``validation`` runs).
"""

import copy
import io
import os

import tensorflow as tf

from zoo.core.checks import check_folder
from zoo.core.hardware import is_chief


class LazyWriter:
    """A TensorBoard event file writer for ``log_dir/run``, opened on first
    write.

    Callbacks that hold one stay cheap to build and survive ``copy.deepcopy``
    (keras-tuner copies every callback for every trial): a copy gets its
    own, not yet opened, writer. Subclasses say how to open it (`_open`).

    Args:
        log_dir: root TensorBoard directory, or ``None`` to write nothing.
        run: sub-directory under ``log_dir`` (TensorBoard shows it as a run),
            e.g. ``"train"`` or ``"validation"``.
    """

    def __init__(self, log_dir, run="train"):
        self.log_dir = check_folder("log_dir", log_dir, allow_none=True)
        self.run = run
        self._writer = None

    @property
    def enabled(self):
        # Over several processes only process 0 writes (`zoo.core.hardware`).
        return self.log_dir is not None and is_chief()

    def _open(self, path):
        raise NotImplementedError

    def _get(self):
        if self._writer is None:
            self._writer = self._open(os.path.join(self.log_dir, self.run))
        return self._writer

    def flush(self):
        if self._writer is not None:
            self._writer.flush()

    def close(self):
        """Flushes and closes the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __deepcopy__(self, memo):
        new = copy.copy(self)
        new._writer = None
        return new

    def __getstate__(self):
        return {**self.__dict__, "_writer": None}


class SummaryWriter(LazyWriter):
    """Lazily opened ``tf.summary`` file writer (see `LazyWriter`)."""

    def _open(self, path):
        return tf.summary.create_file_writer(path)

    def scalars(self, values, step, descriptions=None):
        """Write ``{tag: number}`` at ``step``; non-numbers are skipped.

        ``descriptions``: TensorBoard's description of every tag (a string),
        or ``{tag: text}``.
        """
        if not self.enabled or not values:
            return
        if descriptions is None or isinstance(descriptions, str):
            descriptions = dict.fromkeys(values, descriptions)
        with self._get().as_default(step=int(step)):
            for tag, value in values.items():
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    continue
                tf.summary.scalar(tag, value, description=descriptions.get(tag))

    def histograms(self, values, step):
        """Write ``{tag: array}`` as TensorBoard histograms at ``step``."""
        if not self.enabled or not values:
            return
        with self._get().as_default(step=int(step)):
            for tag, value in values.items():
                tf.summary.histogram(tag, value)

    def figure(self, tag, figure, step):
        """Write a ``matplotlib.figure.Figure`` (no pyplot state, nothing to
        close) as a PNG image summary."""
        if not self.enabled:
            return
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=80)
        image = tf.image.decode_png(buf.getvalue(), channels=4)
        with self._get().as_default(step=int(step)):
            tf.summary.image(tag, image[tf.newaxis])
