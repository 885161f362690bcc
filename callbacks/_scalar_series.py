"""Bulk TensorBoard scalar writes for per-step series."""

import time

from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from callbacks._summary import LazyWriter


class ScalarSeriesWriter(LazyWriter):
    """Writes rows of scalars, one TensorBoard event per step, in bulk.

    A ``tf.summary.scalar`` call costs an eager op (~0.2 ms with its
    ``Summary``), more than a small model's training step once a step has
    several tags; a traced loop of ``tf.summary.write`` costs ~20 us a
    scalar plus a trace per writer. This uses TensorBoard's own event file
    writer instead (``tensorboard.summary.writer``, pure Python, the one
    PyTorch's ``SummaryWriter`` uses): one ``Event`` per step holding that
    step's scalars, serialized and written by the writer's thread, ~10 us a
    scalar. The file is opened on the first write, in ``log_dir/run`` beside
    the ``tf.summary`` files of the same run, and TensorBoard reads both.

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
        return EventFileWriter(path, filename_suffix=self.suffix)

    def write(self, steps, tags, table):
        """Writes ``table[i][j]`` (a 2-D array) as scalar ``tags[j]`` at step
        ``steps[i]``."""
        if not self.enabled or not len(steps):
            return
        writer = self._get()
        wall_time = time.time()
        value, summary, event = (
            summary_pb2.Summary.Value, summary_pb2.Summary, event_pb2.Event
        )
        for step, row in zip(steps, table.tolist()):
            values = [value(tag=t, simple_value=v) for t, v in zip(tags, row)]
            for v in values:
                if v.tag not in self._described:
                    self._described.add(v.tag)
                    v.metadata.CopyFrom(_metadata(self.descriptions.get(v.tag)))
            writer.add_event(
                event(
                    wall_time=wall_time, step=int(step), summary=summary(value=values)
                )
            )

    def write_summary(self, summary, step=0):
        """Writes a ``Summary`` proto (TensorFlow's or TensorBoard's), e.g.
        a custom-scalars layout."""
        if not self.enabled:
            return
        summary = summary_pb2.Summary.FromString(summary.SerializeToString())
        self._get().add_event(
            event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        )


def _metadata(description):
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
        summary_description=description or "",
    )
