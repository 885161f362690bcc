"""Capture gradient norms inside a model's own training step, on any backend.

`GradientCapture` wraps one optimizer instance for the duration of a fit.
Every Keras train step hands that optimizer the gradients that update the
weights: TensorFlow (and a custom ``train_step`` calling
``optimizer.apply_gradients``/``apply``) through ``apply``, which the capture
wraps; JAX through ``stateless_apply``, which it wraps instead. So the
capture sees exactly the gradients of the step: no extra forward or backward
pass. At trace time the wrapper adds a few dozen ops (``keras.ops``, the same
on every backend) that reduce the gradients to norms, update one small state
vector and write one row of a ring buffer; the traced (optionally
XLA-compiled) step function then does that work on every step with no Python
in the loop. Python reads the buffer in bulk, every few hundred steps.

The state lives in two variables. TensorFlow updates them in place. On JAX
they are added to the optimizer (``add_variable``) while the capture is
attached, because Keras's JAX trainer carries every variable of
``optimizer.variables`` out of the jitted step (``stateless_apply`` returns
their new values); they are hidden from the optimizer's saved state
(``save_own_variables``), so a model or backup saved during a monitored fit
loads into a plain optimizer and back.

State vector (float32): ``[steps, alarm_steps, <consecutive steps below the
vanishing threshold, per layer>]``; the two counters are per epoch, alarm
steps are those where a check fired (see `GradientCapture`). Row ``i %
capacity`` of the ring buffer holds the epoch's step ``i``: ``[global_norm,
<layer norms>, <streaks after the step>]``.

Under ``tf.distribute`` with several replicas the norms are those of the
all-reduced (summed) gradient, the one the optimizer applies: the wrapper
all-reduces a copy of the gradients for them (one more all-reduce a step).
Under JAX's ``keras.distribution`` the gradients are already global arrays.
"""

import keras
import numpy as np
from keras import ops

from callbacks._gradient_step import (
    apply_if,
    loss_scale,
    square_sums,
    strategy_scope,
    write_row,
)
from callbacks._read_variable import read_variable

STEPS, ALARM = range(2)
COUNTERS = 2  # the streaks start here


def layer_groups(variables, model_name=None):
    """Groups ``variables`` by the layer that owns them.

    Returns ``(names, index)``: group names in the order of ``variables``
    (Keras lists a model's variables input side first) and ``{id(variable):
    group}``. ``"model/dense_1/kernel"`` belongs to ``"dense_1"`` (the
    ``model_name/`` prefix is dropped); a nested layer keeps its parent,
    e.g. ``"block/dense"``.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="out")])
    >>> layer_groups(model.trainable_variables, model.name)[0]
    ['out']
    """
    names, positions, index = [], {}, {}
    prefix = f"{model_name}/" if model_name else None
    for variable in variables:
        path = getattr(variable, "path", None) or variable.name
        if prefix and path.startswith(prefix):
            path = path[len(prefix):]
        group = path.rpartition("/")[0] or model_name or path
        if group not in positions:
            positions[group] = len(names)
            names.append(group)
        index[id(variable)] = positions[group]
    return names, index


class GradientCapture:
    """In-graph gradient norms and health counters for one optimizer.

    Args:
        optimizer: the optimizer instance a train step applies gradients with.
        vanishing_threshold: per-layer norm below which a step counts toward
            that layer's "low" streak, or ``None`` to skip the streaks.
        exploding_threshold: global norm above which a step counts as
            exploding, or ``None``.
        patience: a layer's streak reaching this many steps is an alarm.
        capacity: rows of the ring buffer (steps Python may leave unread).
        skip_non_finite: leave the weights and optimizer untouched on a
            step whose gradients are not finite (as ``LossScaleOptimizer``
            does), so training that stops there keeps the last finite weights.
        model_name: prefix dropped from the layer group names.
        strategy: the model's ``tf.distribute`` strategy (TensorFlow), under
            whose scope the state variables are made.

    The layer groups (``names``) and the state are made when the optimizer
    knows its variables: at `wrap` if it is built, else at its first apply
    (the first trace of the step function, for a model built by ``fit``).

    A step is counted in ``state[ALARM]`` when its gradients are not finite
    (unless the optimizer is a ``LossScaleOptimizer``, which skips those by
    design), its global norm exceeds ``exploding_threshold``, or a layer's
    streak reaches ``patience``: one small read a step tells Python whether
    the rows need reading now.
    """

    def __init__(self, optimizer, vanishing_threshold, exploding_threshold,
                 patience=1, capacity=256, skip_non_finite=False,
                 model_name=None, strategy=None):
        self.optimizer = optimizer
        self.vanishing_threshold = vanishing_threshold
        self.exploding_threshold = exploding_threshold
        self.patience = patience
        self.capacity = capacity
        self.skip_non_finite = skip_non_finite
        self.model_name = model_name
        self.strategy = strategy
        self.names = None
        self.state = self.rows = None
        self._variables = None  # keeps the ids in `_index` valid
        self._wrapped = {}

    @property
    def loss_scaled(self):
        """A ``LossScaleOptimizer`` skips non-finite steps by design."""
        return isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)

    @property
    def resolved(self):
        """Whether the layer groups and state exist yet."""
        return self.state is not None

    def matches(self, optimizer):
        """Whether this capture still fits ``optimizer``'s variables."""
        if optimizer is not self.optimizer or not self.resolved:
            return optimizer is self.optimizer
        return [id(v) for v in self._variables] == [
            id(v) for v in optimizer._trainable_variables
        ]

    def _resolve(self, variables):
        self._variables = list(variables)
        self.names, self._index = layer_groups(self._variables, self.model_name)
        width = len(self.names)
        self.state = self._variable((COUNTERS + width,), "gradient_norm_state")
        self.rows = self._variable((self.capacity, 1 + 2 * width), "gradient_norm_rows")

    def _variable(self, shape, name):
        if keras.backend.backend() == "jax":
            # An optimizer variable: the trainer carries it out of the step.
            variable = self.optimizer.add_variable(
                shape, "zeros", "float32", aggregation="only_first_replica", name=name)
            variable._fit_only = True  # not saved (`BackupAndRestore`)
            return variable
        with strategy_scope(self.strategy):
            return keras.Variable(np.zeros(shape, np.float32), trainable=False,
                                  aggregation="only_first_replica", name=name)

    def _ours(self, variable):
        return variable is self.state or variable is self.rows

    # -- reading (Python side) -------------------------------------------

    def read(self, values=None):
        """The state vector as numpy (one small device-to-host copy).
        ``values``: the current values of ``optimizer.variables`` if they
        live outside the variables (JAX, mid-epoch)."""
        return self._value(self.state, values)

    def read_rows(self, start, stop, values=None):
        """Rows of the epoch's steps ``start`` to ``stop - 1`` (0-based), at
        most the last ``capacity`` of them, as a numpy array."""
        start = max(start, stop - self.capacity)
        rows = self._value(self.rows, values)
        return rows[np.arange(start, stop) % self.capacity]

    def _value(self, variable, values):
        if values is not None:
            for ref, value in zip(self.optimizer.variables, values):
                if ref is variable:
                    return np.asarray(value)
        return read_variable(variable)

    def reset(self):
        if self.resolved:
            self.state.assign(np.zeros(self.state.shape, np.float32))

    def reset_epoch(self, state):
        state = np.array(state, copy=True)
        state[:COUNTERS] = 0.0
        self.state.assign(state)

    # -- installing into the optimizer ------------------------------------

    def wrap(self):
        """Wraps the optimizer's apply (or ``stateless_apply`` on JAX) and
        its ``save_own_variables``/``load_own_variables``."""
        optimizer = self.optimizer
        for name in ("apply", "stateless_apply"):
            stale = optimizer.__dict__.get(name)
            if getattr(stale, "_gradient_capture", None) is not None:
                # Left behind by a fit that ended in an exception.
                stale._gradient_capture.unwrap()
        jax = keras.backend.backend() == "jax"
        if not self.resolved and optimizer.built:
            self._resolve(optimizer._trainable_variables)
        elif jax and self.resolved and all(not self._ours(v) for v in optimizer._variables):
            optimizer._variables.extend([self.state, self.rows])
        methods = {"apply": self._apply_wrapper}
        if jax:
            # `stateless_apply` calls `apply`: one wrapper only.
            methods = {"stateless_apply": self._stateless_apply_wrapper,
                       "save_own_variables": self._hiding,
                       "load_own_variables": self._hiding}
        for name, make in methods.items():
            self._wrapped[name] = optimizer.__dict__.get(name)
            wrapper = make(getattr(optimizer, name))
            wrapper._gradient_capture = self
            setattr(optimizer, name, wrapper)

    def unwrap(self):
        """Undoes `wrap`: the optimizer's own methods and variables."""
        optimizer = self.optimizer
        for name, previous in self._wrapped.items():
            if getattr(optimizer.__dict__.get(name), "_gradient_capture", None) is self:
                if previous is not None:
                    setattr(optimizer, name, previous)
                else:
                    delattr(optimizer, name)
        self._wrapped = {}
        if any(self._ours(v) for v in optimizer._variables):
            optimizer._variables[:] = [v for v in optimizer._variables if not self._ours(v)]

    def _hiding(self, method):
        """``method`` run with the state variables out of the optimizer's."""
        optimizer = self.optimizer

        def call(*args, **kwargs):
            kept = list(optimizer._variables)
            optimizer._variables[:] = [v for v in kept if not self._ours(v)]
            try:
                return method(*args, **kwargs)
            finally:
                optimizer._variables[:] = kept

        return call

    def _apply_wrapper(self, original):
        optimizer = self.optimizer

        def apply(grads, trainable_variables=None):
            grads = list(grads)
            if trainable_variables is not None:
                trainable_variables = list(trainable_variables)
            variables = trainable_variables or optimizer._trainable_variables
            if not self.resolved:
                if not optimizer.built:
                    with keras.name_scope(optimizer.name, caller=optimizer):
                        optimizer.build(variables)
                    optimizer.built = True
                self._resolve(optimizer._trainable_variables)
            finite = self._record(grads, variables)
            if not self.skip_non_finite or finite is None:
                return original(grads, trainable_variables)
            return apply_if(finite, original, grads, trainable_variables)

        return apply

    def _stateless_apply_wrapper(self, original):
        optimizer = self.optimizer

        def stateless_apply(optimizer_variables, grads, trainable_variables):
            optimizer_variables = list(optimizer_variables)
            references = optimizer.variables
            mapping = list(zip(references, optimizer_variables))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                finite = self._record(list(grads), optimizer._trainable_variables)
                ours = {id(v): scope.get_current_value(v) for v in (self.state, self.rows)}
            if not self.skip_non_finite or finite is None:
                new = original(optimizer_variables, grads, trainable_variables)
            else:
                new = ops.cond(
                    finite,
                    lambda: original(optimizer_variables, grads, trainable_variables),
                    lambda: (list(trainable_variables), optimizer_variables))
            trainable, values = new
            values = [ours.get(id(ref), value) for ref, value in zip(references, values)]
            return list(trainable), values

        return stateless_apply

    # -- the traced ops ------------------------------------------------------

    def _record(self, grads, variables):
        """Adds the norm ops; returns whether the step's norm is finite."""
        num_layers = len(self.names)
        present = [(g, self._index.get(id(v))) for g, v in zip(grads, variables)
                   if g is not None]
        if not present:
            return None
        columns = [column for _, column in present]
        # Row 0 sums every gradient, row 1 + i those of layer i: one matvec
        # instead of per-layer sums.
        sums, weight = square_sums([g for g, _ in present])
        mixing = np.zeros((1 + num_layers, len(present)), np.float32)
        mixing[0] = weight
        for j, column in enumerate(columns):
            if column is not None:
                mixing[1 + column, j] = weight
        squares = ops.tensordot(mixing, sums, 1)
        scale = loss_scale(self.optimizer)
        if scale is not None:
            squares = squares / ops.square(scale)
        return self._update_state(ops.sqrt(squares), columns)

    def _update_state(self, norms, columns):
        """Updates state and buffer; returns whether the norm is finite."""
        num_layers = len(self.names)
        # Split (not slices) keeps the op count, hence the tracing time, low.
        steps, alarms, streak = ops.split(ops.convert_to_tensor(self.state), [1, COUNTERS])
        norm, layer_norms = ops.split(norms, [1])
        finite = ops.isfinite(norm)
        alarm = ops.zeros([1], "bool")
        if not self.loss_scaled:
            alarm = ops.logical_not(finite)
        if self.exploding_threshold is not None:
            exploding = ops.logical_and(finite, norm > self.exploding_threshold)
            alarm = ops.logical_or(alarm, exploding)
        if self.vanishing_threshold is not None and num_layers:
            # Layers without a gradient this step never count as vanishing.
            thresholds = np.full(num_layers, -1.0, np.float32)
            thresholds[[c for c in set(columns) if c is not None]] = (
                self.vanishing_threshold
            )
            streak = ops.where(layer_norms < thresholds, streak + 1.0, 0.0)
            reached = ops.any(ops.equal(streak, float(self.patience)))
            alarm = ops.logical_or(alarm, reached)
        # The epoch's step count before this step picks the buffer row.
        slot = ops.mod(ops.cast(steps[0], "int32"), self.capacity)
        row = ops.concatenate([norms, streak], axis=0)[None]
        write_row(self.rows, slot, row)
        self.state.assign(ops.concatenate(
            [steps + 1.0, alarms + ops.cast(alarm, "float32"), streak], axis=0))
        return finite[0]
