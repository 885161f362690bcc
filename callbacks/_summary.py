"""One TensorBoard writer for every callback in the package.

Callbacks take a ``log_dir`` (``None`` means "do not write to TensorBoard")
and write under ``log_dir/<run>`` with TensorFlow's summary writer, so their
scalars sit beside those of ``keras.callbacks.TensorBoard`` when both use
the same ``log_dir`` (``train`` and ``validation`` runs). Scalars and images
are the summaries ``tf.summary.scalar`` and ``tf.summary.image`` write
(TensorBoard's protos), built in Python and written in one op a call.
"""

import copy
import io
import os
import struct

import numpy as np
import tensorflow as tf
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.util import tensor_util

from zoo.core.checks import check_folder
from zoo.core.hardware import is_chief


# What `tf.summary.image` writes beside its [width, height, PNG] tensor.
_IMAGE_METADATA = image_metadata.create_summary_metadata(display_name=None, description=None)


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
        summary = summary_pb2.Summary()
        for tag, value in values.items():
            try:
                value = np.float32(float(value))  # as `tf.summary.scalar` casts
            except (TypeError, ValueError):
                continue
            summary.value.add(tag=tag, tensor=tensor_util.make_tensor_proto(value),
                              metadata=scalar_metadata.create_summary_metadata(
                                  display_name=None, description=descriptions.get(tag)))
        self._write(summary, step)

    def _write(self, summary, step):
        # One event with the values `tf.summary.scalar` / `.image` would
        # write, by one op: those take a few eager ops a value (~0.2 ms).
        if summary.value:
            with self._get().as_default(step=int(step)):
                tf.summary.experimental.write_raw_pb(summary.SerializeToString(),
                                                     step=int(step))

    def histograms(self, values, step):
        """Write ``{tag: array}`` as TensorBoard histograms at ``step``."""
        if not self.enabled or not values:
            return
        with self._get().as_default(step=int(step)):
            for tag, value in values.items():
                tf.summary.histogram(tag, value)

    def figure(self, tag, figure, step, dpi=80):
        """Write a ``matplotlib.figure.Figure`` (no pyplot state, nothing to
        close) as a PNG image summary, at ``dpi``.

        The event is the one ``tf.summary.image`` writes, but holds
        matplotlib's PNG as it is: ``tf.summary.image`` takes pixels and
        encodes them again, with a dozen eager TensorFlow ops (about 0.07 s
        the first time in a process).
        """
        if not self.enabled:
            return
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=dpi)
        png = buf.getvalue()
        width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR chunk
        summary = summary_pb2.Summary()
        summary.value.add(tag=tag, metadata=_IMAGE_METADATA, tensor=tensor_util.make_tensor_proto(
            [b"%d" % width, b"%d" % height, png]))
        self._write(summary, step)
