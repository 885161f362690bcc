"""Capture gradient norms inside a model's own training step.

`GradientCapture` wraps the ``apply`` method of the model's optimizer
instance. Every Keras train step (built-in or a custom ``train_step`` that
calls ``optimizer.apply_gradients``/``optimizer.apply``) hands its gradients
to that method, so the wrapper sees exactly the gradients that update the
weights: no extra forward or backward pass. At trace time the wrapper adds a
few dozen graph ops (kept few: each one costs tracing time) that reduce the
gradients to norms, update one small state vector and write one row of a
ring buffer; the traced (optionally XLA-compiled) step function then does
that work on every step with no Python in the loop. Python reads the
buffer in bulk, every few hundred steps, not once a step.

State vector (float32): ``[steps, alarm_steps, <consecutive steps below
the vanishing threshold, per layer>]``; the two counters are per epoch,
alarm steps are those where a check fired (see `GradientCapture`). Row
``i % capacity`` of the ring buffer holds the epoch's step ``i``:
``[global_norm, <layer norms>, <streaks after the step>]``. Everything else
(epoch mean and max, history, diagnosis) Python derives from the rows.
"""

import keras
import numpy as np
import tensorflow as tf

from callbacks._init_config import keep_arguments

STEPS, ALARM = range(2)
COUNTERS = 2  # the streaks start here


def layer_groups(model):
    """Groups ``model.trainable_variables`` by the layer that owns them.

    Returns ``(names, index)``: group names in depth order (input side first,
    the order Keras lists the variables in) and ``{id(variable): group}``.
    ``"model/dense_1/kernel"`` belongs to ``"dense_1"``; a nested layer keeps
    its parent, e.g. ``"block/dense"``.
    """
    names, positions, index = [], {}, {}
    prefix = model.name + "/"
    for variable in model.trainable_variables:
        path = variable.path
        if path.startswith(prefix):
            path = path[len(prefix) :]
        group = path.rpartition("/")[0] or model.name
        if group not in positions:
            positions[group] = len(names)
            names.append(group)
        index[id(variable)] = positions[group]
    return names, index


def _loss_scale(optimizer):
    """The factor the train step multiplied the loss (so the gradients) by."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # As in its `scale_loss`, which ran earlier in this same step.
        if not optimizer.built:
            return tf.constant(float(optimizer.initial_scale), tf.float32)
        return tf.cast(optimizer.dynamic_scale.value, tf.float32)
    if optimizer.loss_scale_factor is not None:
        return tf.constant(float(optimizer.loss_scale_factor), tf.float32)
    return None


class GradientCapture:
    """In-graph gradient norms and health counters for one model.

    Args:
        model: a compiled Keras model (TensorFlow backend).
        vanishing_threshold: per-layer norm below which a step counts toward
            that layer's "low" streak, or ``None`` to skip the streaks.
        exploding_threshold: global norm above which a step counts as
            exploding, or ``None``.
        patience: a layer's streak reaching this many steps is an alarm.
        capacity: rows of the ring buffer (steps Python may leave unread).
        skip_non_finite: leave the weights and optimizer untouched on a
            step whose gradients are not finite (as ``LossScaleOptimizer``
            does), so training that stops there keeps the last finite weights.

    A step is counted in ``state[ALARM]`` when its gradients are not finite
    (unless the optimizer is a ``LossScaleOptimizer``, which skips those by
    design), its global norm exceeds ``exploding_threshold``, or a layer's
    streak reaches ``patience``: one small read a step tells Python whether
    the rows need reading now.
    """

    def __init__(self, model, vanishing_threshold, exploding_threshold,
                 patience=1, capacity=256, skip_non_finite=False):
        keep_arguments(self, locals())
        self.names, self._index = layer_groups(model)
        # Keeps the ids in `_index` valid.
        self._variables = list(model.trainable_variables)
        num_layers = len(self.names)
        with model.distribute_strategy.scope():
            self.state = tf.Variable(
                np.zeros(COUNTERS + num_layers, np.float32),
                trainable=False,
                name="gradient_norm_state",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
            self.rows = tf.Variable(
                np.zeros((capacity, 1 + 2 * num_layers), np.float32),
                trainable=False,
                name="gradient_norm_rows",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        self._optimizer = None
        self._original_function = None
        # (train function before ours, our traced train function)
        self._cached = None

    def matches(self, model):
        """Whether this capture still fits ``model``'s trainable variables."""
        return model is self.model and [id(v) for v in self._variables] == [
            id(v) for v in model.trainable_variables
        ]

    def read(self):
        """The state vector as numpy (one small device-to-host copy)."""
        return self.state.value().numpy()

    def read_rows(self, start, stop):
        """Rows of the epoch's steps ``start`` to ``stop - 1`` (0-based), at
        most the last ``capacity`` of them, as a numpy array."""
        start = max(start, stop - self.capacity)
        rows = self.rows.value().numpy()
        return rows[np.arange(start, stop) % self.capacity]

    def reset(self):
        self.state.assign(np.zeros(self.state.shape, np.float32))

    def reset_epoch(self, state):
        state = np.array(state, copy=True)
        state[:COUNTERS] = 0.0
        self.state.assign(state)

    # -- installing into the training step --------------------------------

    def attach(self):
        """Wraps the optimizer and points ``model.train_function`` at a step
        function traced with the wrapper (reused across fits when possible).
        """
        model = self.model
        optimizer = model.optimizer
        before = model.train_function
        if self._cached is not None and before is self._cached[1]:
            # A fit that ended in an exception never detached.
            before = self._cached[0]
        self._wrap(optimizer)
        self._original_function = before
        if (
            self._cached is not None
            and self._cached[0] is before
            and before is not None
        ):
            model.train_function = self._cached[1]
        else:
            # `fit` built its step function before `on_train_begin`, and a
            # cached one may already be traced without the wrapper.
            model.make_train_function(force=True)
            self._cached = (before, model.train_function)

    def detach(self):
        """Undoes `attach`: a later fit without the monitor runs Keras's own
        step function (already traced if it was before)."""
        self._unwrap()
        if self._original_function is not None:
            self.model.train_function = self._original_function
            self._original_function = None

    def _wrap(self, optimizer):
        stale = optimizer.__dict__.get("apply")
        if getattr(stale, "_gradient_capture", None) is not None:
            # Left behind by a fit that ended in an exception.
            stale._gradient_capture._unwrap()
        previous = optimizer.__dict__.get("apply")
        original = optimizer.apply

        def apply(grads, trainable_variables=None):
            grads = list(grads)
            if trainable_variables is not None:
                trainable_variables = list(trainable_variables)
                variables = trainable_variables
            else:
                variables = optimizer._trainable_variables
            finite = self._record(grads, variables, optimizer)
            if not self.skip_non_finite or finite is None:
                return original(grads, trainable_variables)
            return tf.cond(finite, lambda: original(grads, trainable_variables),
                           lambda: None)

        apply._gradient_capture = self
        apply._previous = previous
        optimizer.apply = apply
        self._optimizer = optimizer

    def _unwrap(self):
        optimizer, self._optimizer = self._optimizer, None
        if optimizer is None:
            return
        wrapper = optimizer.__dict__.get("apply")
        if getattr(wrapper, "_gradient_capture", None) is not self:
            return
        if wrapper._previous is not None:
            optimizer.apply = wrapper._previous
        else:
            del optimizer.apply

    # -- the graph ops ------------------------------------------------------

    def _record(self, grads, variables, optimizer):
        num_layers = len(self.names)
        halves, columns = [], []
        for grad, variable in zip(grads, variables):
            if grad is None:
                continue
            if isinstance(grad, tf.IndexedSlices):
                # Densify so repeated indices are summed as in the update.
                grad = tf.convert_to_tensor(grad)
            if grad.dtype != tf.float32:
                grad = tf.cast(grad, tf.float32)
            halves.append(tf.nn.l2_loss(grad))  # sum(grad ** 2) / 2
            columns.append(self._index.get(id(variable)))
        if not halves:
            return None
        # Row 0 sums every gradient, row 1 + i those of layer i; the 2 undoes
        # l2_loss's halving. One matvec replaces per-layer add_n ops.
        mixing = np.zeros((1 + num_layers, len(halves)), np.float32)
        mixing[0] = 2.0
        for j, column in enumerate(columns):
            if column is not None:
                mixing[1 + column, j] = 2.0
        squares = tf.linalg.matvec(mixing, tf.stack(halves))
        scale = _loss_scale(optimizer)
        if scale is not None:
            squares = squares / tf.square(scale)
        norms = tf.sqrt(squares)
        return self._update_state(norms, columns, optimizer)

    def _update_state(self, norms, columns, optimizer):
        """Updates state and buffer; returns whether the norm is finite."""
        num_layers = len(self.names)
        # Split (not slices) and [1]-vectors keep the op count, hence the
        # tracing time, low.
        steps, alarms, streak = tf.split(
            self.state.read_value(), [1, 1, num_layers]
        )
        norm, layer_norms = tf.split(norms, [1, num_layers])
        finite = tf.math.is_finite(norm)
        alarm = tf.zeros([1], tf.bool)
        if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            alarm = tf.logical_not(finite)
        if self.exploding_threshold is not None:
            exploding = tf.logical_and(finite, norm > self.exploding_threshold)
            alarm = tf.logical_or(alarm, exploding)
        if self.vanishing_threshold is not None and num_layers:
            # Layers without a gradient this step never count as vanishing.
            thresholds = np.full(num_layers, -1.0, np.float32)
            thresholds[[c for c in set(columns) if c is not None]] = (
                self.vanishing_threshold
            )
            streak = tf.where(layer_norms < thresholds, streak + 1.0, 0.0)
            reached = tf.reduce_any(tf.equal(streak, float(self.patience)))
            alarm = tf.logical_or(alarm, reached)
        # The epoch's step count before this step picks the buffer row.
        slot = tf.math.floormod(tf.cast(steps, tf.int32), self.capacity)
        row = tf.concat([norms, streak], axis=0)
        self.rows.scatter_update(tf.IndexedSlices(row[None], slot))
        self.state.assign(
            tf.concat([steps + 1.0, alarms + tf.cast(alarm, tf.float32), streak], 0)
        )
        return finite[0]
