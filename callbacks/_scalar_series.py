"""Batched TensorBoard scalar writes for per-step series."""

import functools

import tensorflow as tf
from tensorboard.compat.proto import summary_pb2
from tensorboard.compat.proto import tensor_pb2
from tensorboard.compat.proto import tensor_shape_pb2
from tensorboard.compat.proto import types_pb2
from tensorboard.plugins.scalar import metadata as scalar_metadata

_METADATA = scalar_metadata.create_summary_metadata(None, None)
_SERIALIZED_METADATA = _METADATA.SerializeToString()
_SCALAR_SHAPE = tensor_shape_pb2.TensorShapeProto()


class ScalarSeriesWriter:
    """Buffers ``(step, tag, value)`` scalars and writes them in bulk.

    An eager ``tf.summary.scalar`` costs ~0.3 ms, more than a small model's
    training step when called per step and per layer. This buffers scalars
    in Python lists; `flush` writes them either eagerly, one prebuilt
    ``Summary`` proto per step (no tracing, ~0.1-0.5 ms a step), or with one
    call of a traced loop (~20 us a scalar, but ~50-300 ms to trace once per
    writer). Eager writes are used until they have cost about one trace
    (`eager_rows` steps), then the loop is traced: never much more than
    twice the cheaper choice, whether the run is short or long. Either way
    the records are those of ``tf.summary.scalar`` (scalars plugin).

    Args:
        eager_rows: steps written eagerly per writer before tracing the loop.
    """

    def __init__(self, eager_rows=512):
        self.eager_rows = eager_rows
        self.steps, self.tags, self.values = [], [], []
        # [tf summary writer, its traced loop or None, rows written eagerly]
        self._writer = None

    def add(self, step, tags, values):
        self.steps.extend([step] * len(tags))
        self.tags.extend(tags)
        self.values.extend(values)

    def flush(self, summary_writer):
        """Writes the buffer with a `callbacks._summary.SummaryWriter`."""
        steps, tags, values = self.steps, self.tags, self.values
        self.steps, self.tags, self.values = [], [], []
        if not steps or not summary_writer.enabled:
            return
        # Both paths need the tf.summary writer itself.
        tf_writer = summary_writer._get()
        if self._writer is None or self._writer[0] is not tf_writer:
            self._writer = [tf_writer, None, 0]
        state = self._writer
        rows = _group_by_step(steps, tags, values)
        if state[1] is None and state[2] + len(rows) <= self.eager_rows:
            state[2] += len(rows)
            with tf_writer.as_default():
                for step, summary in rows:
                    tf.summary.experimental.write_raw_pb(summary, step=step)
            return
        if state[1] is None:
            state[1] = _make_write_loop(tf_writer)
        state[1](
            tf.constant(steps, tf.int64),
            tf.constant(tags, tf.string),
            tf.constant(values, tf.float32),
        )

    def __deepcopy__(self, memo):
        return ScalarSeriesWriter(self.eager_rows)


def _group_by_step(steps, tags, values):
    """``[(step, serialized Summary of that step's scalars)]``."""
    rows, current, summary = [], None, None
    for step, tag, value in zip(steps, tags, values):
        if step != current:
            if summary is not None:
                rows.append((current, summary.SerializeToString()))
            current, summary = step, summary_pb2.Summary()
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT,
            tensor_shape=_SCALAR_SHAPE,
            float_val=[value],
        )
        summary.value.add(tag=tag, metadata=_METADATA, tensor=tensor)
    rows.append((current, summary.SerializeToString()))
    return rows


def _write_loop(tf_writer, steps, tags, values):
    def body(i):
        written = tf.summary.write(
            tags[i], values[i], step=steps[i], metadata=_SERIALIZED_METADATA
        )
        with tf.control_dependencies([written]):
            return i + 1

    with tf_writer.as_default():
        tf.while_loop(lambda i: i < tf.shape(steps)[0], body, [0])


def _make_write_loop(tf_writer):
    # No autograph and a bare while_loop keep tracing short. A partial,
    # unlike a closure, gives each writer's function its own retracing
    # statistics: one trace per writer is expected, not worth a warning.
    return tf.function(
        functools.partial(_write_loop, tf_writer),
        input_signature=[
            tf.TensorSpec([None], tf.int64),
            tf.TensorSpec([None], tf.string),
            tf.TensorSpec([None], tf.float32),
        ],
        autograph=False,
    )
