"""What `GradientCapture` puts into the train step where the backends differ,
and the swap of ``model.train_function`` for one traced with it.

The norms and counters are ``keras.ops`` on every backend. What differs:
TensorFlow densifies ``IndexedSlices`` gradients, sums the gradients across
``tf.distribute`` replicas (the optimizer applies that sum), updates the
buffer in place and, with several replicas, takes the cond that skips a
non-finite update in the cross-replica context, as ``LossScaleOptimizer``
does.
"""

import contextlib

import keras
from keras import ops


def loss_scale(optimizer):
    """The factor the train step multiplied the loss (so the gradients) by."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # As in its `scale_loss`, which ran earlier in this same step.
        if not optimizer.built:
            return float(optimizer.initial_scale)
        return ops.cast(optimizer.dynamic_scale.value, "float32")
    if optimizer.loss_scale_factor is not None:
        return float(optimizer.loss_scale_factor)
    return None


def on_tensorflow():
    return keras.backend.backend() == "tensorflow"


def square_sums(grads):
    """``(vector, weight)``: per gradient, ``weight`` times the sum of its
    squared entries is the sum (float32), taken after the cross-replica sum a
    ``tf.distribute`` optimizer applies."""
    if not on_tensorflow():
        return ops.stack([ops.sum(ops.square(ops.cast(g, "float32"))) for g in grads]), 1.0
    import tensorflow as tf

    # Densify IndexedSlices so repeated indices are summed as in the update.
    grads = [tf.cast(tf.convert_to_tensor(g), tf.float32) for g in grads]
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        grads = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
    # l2_loss is one op a gradient (tracing time) and halves the sum.
    return tf.stack([tf.nn.l2_loss(g) for g in grads]), 2.0


def apply_if(finite, apply, grads, trainable_variables):
    """``apply(grads, trainable_variables)`` if ``finite``, else nothing."""
    if on_tensorflow():
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if tf.distribute.has_strategy() and context is not None and not (
            tf.__internal__.distribute.strategy_supports_no_merge_call()
        ):
            # As LossScaleOptimizer does: a cond whose branch all-reduces
            # must be taken in the cross-replica context. `finite` is the
            # same on every replica (it comes from the summed gradients).
            def cross_replica(distribution, finite, grads, variables):
                finite = distribution.experimental_local_results(finite)[0]

                def run():
                    distribution.extended.call_for_each_replica(
                        apply, args=(grads, variables))

                ops.cond(finite, run, lambda: None)

            return context.merge_call(
                cross_replica, args=(finite, grads, trainable_variables))
    return ops.cond(finite, lambda: apply(grads, trainable_variables), lambda: None)


def strategy_scope(strategy):
    """``strategy.scope()``, or no scope for ``None``."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def write_row(rows, slot, row):
    """Writes ``row`` (shape ``[1, width]``) into row ``slot`` of ``rows``."""
    if on_tensorflow():
        import tensorflow as tf

        # In place: no copy of the buffer a step.
        rows.value.scatter_update(tf.IndexedSlices(row, slot[None]))
    else:
        rows.assign(ops.slice_update(rows.value, [slot, 0], row))


class StepFunctionSwap:
    """Points ``model.train_function`` at one traced with the wrappers of
    `GradientCapture` (reused across fits while the captures are the same),
    and back to the one before."""

    def __init__(self, model):
        self.model = model
        self._original = None
        self._cached = None  # (captures key, function before, ours)

    def install(self, captures):
        model = self.model
        key = tuple(id(c) for c in captures)
        before = model.train_function
        if self._cached is not None and before is self._cached[2]:
            # A fit that ended in an exception never restored it.
            before = self._cached[1]
        self._original = before
        if self._cached is not None and self._cached[:2] == (key, before) and before:
            model.train_function = self._cached[2]
        else:
            # `fit` built its step function before `on_train_begin`, and a
            # cached one may already be traced without the wrappers.
            model.make_train_function(force=True)
            self._cached = (key, before, model.train_function)

    def restore(self):
        if self._original is not None:
            self.model.train_function = self._original
            self._original = None
