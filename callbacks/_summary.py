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


class SummaryWriter:
    """Lazily opened ``tf.summary`` file writer.

    The file is opened on first write, so callbacks that hold a writer stay
    cheap to build and survive ``copy.deepcopy`` (keras-tuner copies every
    callback for every trial): a copy gets its own, not yet opened, writer.

    Args:
        log_dir: root TensorBoard directory, or ``None`` to write nothing.
        run: sub-directory under ``log_dir`` (TensorBoard shows it as a run),
            e.g. ``"train"`` or ``"validation"``.
    """

    def __init__(self, log_dir, run="train"):
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.run = run
        self._writer = None

    @property
    def enabled(self):
        return self.log_dir is not None

    def _get(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(
                os.path.join(self.log_dir, self.run)
            )
        return self._writer

    def scalars(self, values, step):
        """Write ``{tag: number}`` at ``step``; non-numbers are skipped."""
        if not self.enabled or not values:
            return
        with self._get().as_default(step=int(step)):
            for tag, value in values.items():
                try:
                    tf.summary.scalar(tag, float(value))
                except (TypeError, ValueError):
                    continue

    def figure(self, tag, figure, step):
        """Write a matplotlib ``figure`` as a PNG image summary, then close it."""
        import matplotlib.pyplot as plt

        if not self.enabled:
            plt.close(figure)
            return
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=80)
        plt.close(figure)
        image = tf.image.decode_png(buf.getvalue(), channels=4)
        with self._get().as_default(step=int(step)):
            tf.summary.image(tag, image[tf.newaxis])

    def flush(self):
        if self._writer is not None:
            self._writer.flush()

    def close(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __deepcopy__(self, memo):
        return SummaryWriter(copy.deepcopy(self.log_dir, memo), self.run)

    def __getstate__(self):
        return {"log_dir": self.log_dir, "run": self.run, "_writer": None}
