"""Learning-rate schedules Keras lacks, and ``get_schedule`` to build any.

Keras already has exponential, inverse-time, polynomial, piecewise-constant,
cosine (with linear warmup) and cosine-with-restarts decay in
``keras.optimizers.schedules``; ``get_schedule`` builds those by name and
this module adds only ``CyclicLR``, ``OneCycle``, ``LinearWarmup`` (warmup
before any schedule) and ``step_decay`` (a factory: Keras's
``ExponentialDecay(staircase=True)`` is step decay). All step arguments
count optimizer steps (batches): multiply epochs by ``steps_per_epoch``.
Every schedule here is registered serializable, so a model compiled with one
saves to ``.keras`` and loads back with ``safe_mode=True``.
"""

import inspect
import math

import keras
from keras import ops

from callbacks._init_config import init_config, keep_arguments
from zoo.core.checks import check_choice, check_number

_PACKAGE = "callbacks"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CyclicLR(keras.optimizers.schedules.LearningRateSchedule):
    """Cyclical learning rate (Smith, 2017): triangle waves between bounds.

    Rises linearly from ``base_learning_rate`` to ``max_learning_rate`` over
    ``step_size`` steps, falls back over the next ``step_size``, and repeats.
    ``mode="triangular2"`` halves the wave height every cycle;
    ``mode="exp_range"`` scales it by ``gamma ** step``.

    Args:
        base_learning_rate: Lower bound (>= 0).
        max_learning_rate: Upper bound (> base).
        step_size: Steps in half a cycle (Smith suggests 2-10 epochs' worth).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: Per-step decay in ``(0, 1]`` for ``"exp_range"``.
        name: Name scope of the computation.

    Example:

    >>> import keras, callbacks
    >>> lr = callbacks.schedules.CyclicLR(1e-4, 1e-2, step_size=200)
    >>> [round(float(lr(step)), 6) for step in (0, 100, 200, 400)]
    [0.0001, 0.00505, 0.01, 0.0001]
    >>> optimizer = keras.optimizers.SGD(lr)  # then model.compile(optimizer, ...)
    """

    def __init__(self, base_learning_rate, max_learning_rate, step_size,
                 mode="triangular", gamma=1.0, name="CyclicLR"):
        owner = type(self).__name__
        check_number("base_learning_rate", base_learning_rate, 0, owner=owner)
        check_number("max_learning_rate", max_learning_rate,
                     base_learning_rate, low_open=True, owner=owner)
        check_number("step_size", step_size, 0, low_open=True, integer=True,
                     owner=owner)
        check_choice("mode", mode, {"triangular", "triangular2", "exp_range"},
                     owner=owner, exact=True)
        check_number("gamma", gamma, 0, 1, low_open=True, owner=owner)
        keep_arguments(self, locals())

    def __call__(self, step):
        with keras.name_scope(self.name):
            step = ops.cast(step, "float32")
            half = float(self.step_size)
            cycle = ops.floor(1.0 + step / (2.0 * half))
            x = ops.abs(step / half - 2.0 * cycle + 1.0)
            wave = ops.maximum(0.0, 1.0 - x)
            if self.mode == "triangular2":
                wave = wave * ops.power(0.5, cycle - 1.0)
            elif self.mode == "exp_range":
                wave = wave * ops.power(float(self.gamma), step)
            span = float(self.max_learning_rate - self.base_learning_rate)
            return float(self.base_learning_rate) + span * wave

    def get_config(self):
        return init_config(self)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle policy (Smith & Topin, 2018), as PyTorch's ``OneCycleLR``.

    Cosine rise from ``max_learning_rate / div_factor`` to
    ``max_learning_rate`` over the first ``pct_start`` of ``total_steps``,
    then cosine fall to ``max_learning_rate / div_factor /
    final_div_factor`` at step ``total_steps - 1``, and flat after. Momentum
    is not cycled (a Keras schedule sets only the rate).

    Args:
        max_learning_rate: Peak rate (e.g. from ``find_learning_rate``).
        total_steps: Steps in the whole run (``epochs * steps_per_epoch``).
        pct_start: Fraction of the steps spent rising, in ``(0, 1)``.
        div_factor: ``initial = max_learning_rate / div_factor`` (>= 1).
        final_div_factor: ``final = initial / final_div_factor`` (>= 1).
        name: Name scope of the computation.

    Example:

    >>> import keras, callbacks
    >>> lr = callbacks.schedules.OneCycle(1e-2, total_steps=10 * 50)  # 10 epochs of 50 steps
    >>> [round(float(lr(step)), 6) for step in (0, 150, 499)]
    [0.0004, 0.01, 0.0]
    >>> optimizer = keras.optimizers.SGD(lr)
    """

    def __init__(self, max_learning_rate, total_steps, pct_start=0.3,
                 div_factor=25.0, final_div_factor=1e4, name="OneCycle"):
        owner = type(self).__name__
        check_number("max_learning_rate", max_learning_rate, 0, low_open=True,
                     owner=owner)
        check_number("total_steps", total_steps, 2, integer=True, owner=owner)
        check_number("pct_start", pct_start, 0, 1, low_open=True,
                     high_open=True, owner=owner)
        check_number("div_factor", div_factor, 1, owner=owner)
        check_number("final_div_factor", final_div_factor, 1, owner=owner)
        rise = pct_start * total_steps - 1
        if not 0 < rise < total_steps - 1:
            raise ValueError(
                f"{owner}: pct_start * total_steps - 1 must lie in (0, "
                f"total_steps - 1) so both phases have steps; got "
                f"pct_start={pct_start}, total_steps={total_steps}.")
        keep_arguments(self, locals())

    def __call__(self, step):
        with keras.name_scope(self.name):
            step = ops.cast(step, "float32")
            peak = float(self.max_learning_rate)
            start = peak / self.div_factor
            final = start / self.final_div_factor
            rise_end = float(self.pct_start * self.total_steps - 1)
            fall_end = float(self.total_steps - 1)
            up = ops.clip(step / rise_end, 0.0, 1.0)
            down = ops.clip((step - rise_end) / (fall_end - rise_end),
                            0.0, 1.0)
            return ops.where(step <= rise_end, _cosine(start, peak, up),
                             _cosine(peak, final, down))

    def get_config(self):
        return init_config(self)


def _cosine(start, end, fraction):
    """Cosine interpolation from ``start`` (fraction 0) to ``end`` (1)."""
    return end + (start - end) / 2.0 * (1.0 + ops.cos(math.pi * fraction))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to ``schedule(0)``, then ``schedule`` shifted by it.

    For step ``s < warmup_steps`` the rate goes linearly from
    ``initial_learning_rate`` towards ``schedule(0)``; from then on it is
    ``schedule(s - warmup_steps)``. ``keras.optimizers.schedules.CosineDecay``
    has warmup built in; this adds it to any other schedule (restarts,
    exponential, cyclic...).

    Args:
        schedule: A ``LearningRateSchedule`` or a float (constant after).
        warmup_steps: Steps of warmup (> 0).
        initial_learning_rate: Rate at step 0 (>= 0).
        name: Name scope of the computation.

    Example:

    >>> import keras, callbacks
    >>> after = keras.optimizers.schedules.CosineDecayRestarts(1e-2, 500)
    >>> lr = callbacks.schedules.LinearWarmup(after, warmup_steps=100)
    >>> [round(float(lr(step)), 6) for step in (0, 50, 100)]
    [0.0, 0.005, 0.01]
    """

    def __init__(self, schedule, warmup_steps, initial_learning_rate=0.0,
                 name="LinearWarmup"):
        owner = type(self).__name__
        if not isinstance(schedule, keras.optimizers.schedules.
                          LearningRateSchedule):
            check_number("schedule", schedule, 0, low_open=True, owner=owner)
        check_number("warmup_steps", warmup_steps, 0, low_open=True,
                     integer=True, owner=owner)
        check_number("initial_learning_rate", initial_learning_rate, 0,
                     owner=owner)
        keep_arguments(self, locals())

    def _after(self, step):
        if callable(self.schedule):
            return ops.cast(self.schedule(step), "float32")
        return ops.convert_to_tensor(float(self.schedule), "float32")

    def __call__(self, step):
        with keras.name_scope(self.name):
            step = ops.cast(step, "float32")
            warm = float(self.warmup_steps)
            start = float(self.initial_learning_rate)
            ramp = start + (self._after(0.0) - start) * step / warm
            after = self._after(ops.maximum(step - warm, 0.0))
            return ops.where(step < warm, ramp, after)

    def get_config(self):
        schedule = self.schedule
        if callable(schedule):
            schedule = keras.saving.serialize_keras_object(schedule)
        return {
            "schedule": schedule,
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config["schedule"], dict):
            config["schedule"] = keras.saving.deserialize_keras_object(
                config["schedule"])
        return cls(**config)


def step_decay(initial_learning_rate, decay_steps, decay_rate=0.5,
               name="StepDecay"):
    """Multiply the rate by ``decay_rate`` every ``decay_steps`` steps.

    Returns ``keras.optimizers.schedules.ExponentialDecay(...,
    staircase=True)``, which is exactly step decay, so it saves and loads as
    a Keras built-in.
    """
    owner = "step_decay"
    check_number("initial_learning_rate", initial_learning_rate, 0,
                 low_open=True, owner=owner)
    check_number("decay_steps", decay_steps, 0, low_open=True, integer=True,
                 owner=owner)
    check_number("decay_rate", decay_rate, 0, low_open=True, owner=owner)
    return keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps, decay_rate, staircase=True,
        name=name)


_keras = keras.optimizers.schedules
SCHEDULES = {
    "step": step_decay,
    "exponential": _keras.ExponentialDecay,
    "inverse_time": _keras.InverseTimeDecay,
    "polynomial": _keras.PolynomialDecay,
    "piecewise_constant": _keras.PiecewiseConstantDecay,
    "cosine": _keras.CosineDecay,
    "cosine_restarts": _keras.CosineDecayRestarts,
    "cyclic": CyclicLR,
    "one_cycle": OneCycle,
}


def get_schedule(name, warmup_steps=0, **kwargs):
    """Build a learning-rate schedule by name.

    Names: ``step``, ``exponential``, ``inverse_time``, ``polynomial``,
    ``piecewise_constant``, ``cosine``, ``cosine_restarts``, ``cyclic``,
    ``one_cycle`` (case and ``-``/``_`` do not matter); ``kwargs`` are the
    arguments of the class or function named in ``SCHEDULES``. A schedule
    instance is returned as is.

    ``warmup_steps`` > 0 adds a linear warmup from 0 (``LinearWarmup``); for
    ``"cosine"`` it is Keras's own argument instead, warming from
    ``initial_learning_rate`` to ``warmup_target``.

    Example:

    >>> import callbacks
    >>> lr = callbacks.schedules.get_schedule(
    ...     "cosine_restarts", initial_learning_rate=1e-2,
    ...     first_decay_steps=500, warmup_steps=100)
    >>> type(lr).__name__, round(float(lr(100)), 6)
    ('LinearWarmup', 0.01)
    """
    if isinstance(name, keras.optimizers.schedules.LearningRateSchedule):
        return name
    key = check_choice("name", name, SCHEDULES, owner="get_schedule")
    check_number("warmup_steps", warmup_steps, 0, integer=True,
                 owner="get_schedule")
    build = SCHEDULES[key]
    if key == "cosine":
        kwargs["warmup_steps"] = warmup_steps
    _check_kwargs(key, build, kwargs)
    schedule = build(**kwargs)
    if warmup_steps and key != "cosine":
        schedule = LinearWarmup(schedule, warmup_steps)
    return schedule


def _check_kwargs(key, build, kwargs):
    params = inspect.signature(build).parameters
    unknown = sorted(set(kwargs) - set(params))
    required = [p for p, v in params.items() if v.default is v.empty]
    missing = [p for p in required if p not in kwargs]
    if unknown or missing:
        accepted = ", ".join(dict.fromkeys([*params, "warmup_steps"]))
        problem = (f"unknown argument(s) {unknown}" if unknown
                   else f"missing argument(s) {missing}")
        raise TypeError(f"get_schedule({key!r}): {problem}; accepted: "
                        f"{accepted}.")
    for arg, value in kwargs.items():  # Keras checks none of these
        if arg in _RANGES and value is not None:
            low, high, low_open = _RANGES[arg]
            check_number(arg, value, low, high, low_open=low_open,
                         owner=f"get_schedule({key!r})")
        elif arg.endswith("learning_rate") and value is not None:
            check_number(arg, value, 0, owner=f"get_schedule({key!r})")
    for value in kwargs.get("values") or ():  # piecewise_constant's rates
        check_number("values", value, 0, owner=f"get_schedule({key!r})")


# Argument -> (low, high, low_open) for every keras schedule above: a
# negative decay_rate gives negative rates, a negative power infinite ones.
_RANGES = {
    "decay_steps": (0, None, True),
    "first_decay_steps": (0, None, True),
    "decay_rate": (0, None, True),
    "power": (0, None, False),
    "alpha": (0, 1, False),
    "t_mul": (0, None, True),
    "m_mul": (0, None, True),
    "warmup_target": (0, None, False),
}
