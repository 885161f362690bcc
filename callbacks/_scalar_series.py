"""Bulk TensorBoard scalar writes for per-step series."""

import itertools
import os
import socket
import time

import tensorflow as tf
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import summary_pb2

from callbacks._summary import LazyWriter

_FILES = itertools.count()  # tells apart files opened in the same second


class ScalarSeriesWriter(LazyWriter):
    """Writes rows of scalars, one TensorBoard event per step, in bulk.

    A ``tf.summary.scalar`` call costs an eager op (~0.2 ms with its
    ``Summary``), more than a small model's training step once a step has
    several tags; a traced loop of ``tf.summary.write`` costs ~20 us a
    scalar plus a trace per writer. This builds one ``Event`` per step
    holding that step's scalars (TensorBoard's protos) and appends it to
    an event file with TensorFlow's record writer (``tf.io.TFRecordWriter``:
    an event file is a TFRecord file of ``Event`` records), a few us an
    event. TensorBoard's pure-Python ``EventFileWriter`` checksums every
    record in Python (~50 us) on a thread of its own, about 2 ms an epoch
    for a digits CNN's steps. The file is opened on the first write, in
    ``log_dir/run`` beside the ``tf.summary`` files of the same run, and
    TensorBoard reads both; it is flushed by `flush` (at each epoch end)
    and `close`.

    Args:
        log_dir: root TensorBoard directory, or ``None`` to write nothing.
        run: sub-directory under ``log_dir`` (a TensorBoard run).
        suffix: end of the event file's name, to tell the files apart.
    """

    def __init__(self, log_dir, run="train", suffix="", descriptions=None):
        super().__init__(log_dir, run)
        self.suffix = suffix
        # {tag: text}: TensorBoard's description of a tag, written with its
        # first value in each file.
        self.descriptions = dict(descriptions or {})
        self._described = set()

    def _open(self, path):
        self._described = set()
        tf.io.gfile.makedirs(path)
        # TensorBoard's own file name (`EventFileWriter`), and first record.
        name = (f"events.out.tfevents.{time.time():010.0f}.{socket.gethostname()}"
                f".{os.getpid()}.{next(_FILES)}{self.suffix}")
        writer = tf.io.TFRecordWriter(os.path.join(path, name))
        writer.write(event_pb2.Event(wall_time=time.time(),
                                     file_version="brain.Event:2").SerializeToString())
        return writer

    def write(self, steps, tags, table):
        """Writes ``table[i][j]`` (a 2-D array) as scalar ``tags[j]`` at step
        ``steps[i]``."""
        if not self.enabled or not len(steps):
            return
        writer = self._get()
        wall_time = time.time()
        new = [t for t in tags if t not in self._described]
        for step, row in zip(steps, table.tolist()):
            event = event_pb2.Event(wall_time=wall_time, step=int(step))
            values = event.summary.value
            for tag, number in zip(tags, row):
                values.add(tag=tag, simple_value=number)
            if new:  # a tag's description goes with its first value
                for value in values:
                    if value.tag in new:
                        value.metadata.CopyFrom(_metadata(self.descriptions.get(value.tag)))
                self._described.update(new)
                new = []
            writer.write(event.SerializeToString())

    def write_summary(self, summary, step=0):
        """Writes a ``Summary`` proto (TensorFlow's or TensorBoard's), e.g.
        a custom-scalars layout."""
        if not self.enabled:
            return
        event = event_pb2.Event(wall_time=time.time(), step=int(step))
        event.summary.ParseFromString(summary.SerializeToString())
        self._get().write(event.SerializeToString())


def _metadata(description):
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        summary_description=description or "",
    )
