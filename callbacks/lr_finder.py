"""Learning-rate range test: ``LRFinder`` and ``find_learning_rate``."""

import math

import keras
import numpy as np

from callbacks._fit_checks import check_float_learning_rate
from callbacks._init_config import init_config, keep_arguments
from zoo.core.checks import check_number
from zoo.core.data_checks import check_fit_data
from zoo.core.files import atomic_path
from zoo.core.pipelines import check_dataset, is_dataset, split_batch


class LRFinder(keras.callbacks.Callback):
    """Sweep the learning rate exponentially, one batch per rate.

    The range test of Smith (2017) as popularised by fastai: step ``i`` of
    ``num_steps`` trains one batch at ``min_lr * (max_lr / min_lr) **
    (i / (num_steps - 1))`` and records that batch's loss. It stops the
    ``fit`` after ``num_steps`` batches, at a NaN/inf loss, or once a running
    average of the loss (an EMA, as fastai) exceeds ``diverge_factor``
    times its best.

    The suggested rate (``suggestion``) is where ``smoothed_losses`` fall
    fastest against ``log(lr)``, searched before their minimum;
    ``suggestion_method`` says ``"steepest"``, or ``"min/10"`` (a tenth of
    the rate at the minimum) when too few points precede the minimum.
    ``smoothed_losses`` is a centred moving average over a tenth of the
    sweep: unlike the EMA it does not lag, which would shift the curve (and
    the suggestion) to higher rates.

    Usually you want ``find_learning_rate``, which runs this callback and
    then puts the weights and optimizer state back. Used directly, it
    trains the model (and needs an optimizer built with a float rate).

    Args:
        min_lr: First rate (> 0).
        max_lr: Last rate (> ``min_lr``).
        num_steps: Batches in the sweep (>= 10).
        smoothing: EMA factor of the running loss, in ``[0, 1)``.
        diverge_factor: Stop when the running loss exceeds this many times
            its best (> 1).

    Example:

    >>> import keras, numpy as np, callbacks
    >>> x, y = np.random.rand(64, 4), np.random.rand(64, 1)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.01), "mse")
    >>> finder = callbacks.LRFinder(1e-4, 1.0, num_steps=20)
    >>> _ = model.fit(x, y, epochs=20, batch_size=16, callbacks=[finder], verbose=0)
    >>> len(finder.learning_rates) <= 20 and 1e-4 <= finder.suggestion <= 1.0
    True
    """

    def __init__(self, min_lr=1e-7, max_lr=10.0, num_steps=200,
                 smoothing=0.9, diverge_factor=4.0):
        super().__init__()
        owner = type(self).__name__
        check_number("min_lr", min_lr, 0, low_open=True, owner=owner)
        check_number("max_lr", max_lr, min_lr, low_open=True, owner=owner)
        check_number("num_steps", num_steps, 10, integer=True, owner=owner)
        check_number("smoothing", smoothing, 0, 1, high_open=True, owner=owner)
        check_number("diverge_factor", diverge_factor, 1, low_open=True,
                     owner=owner)
        keep_arguments(self, locals())
        self._reset()

    def get_config(self):
        return init_config(self)

    def _reset(self):
        self.learning_rates, self.losses = [], []
        self.stop_reason = None
        self._average, self._best = 0.0, math.inf

    def on_train_begin(self, logs=None):
        check_float_learning_rate(self.model.optimizer, type(self).__name__)
        self._reset()

    def on_train_batch_begin(self, batch, logs=None):
        step = len(self.learning_rates)
        rate = self.min_lr * (self.max_lr / self.min_lr) ** (
            step / (self.num_steps - 1))
        self.model.optimizer.learning_rate = rate
        self._rate = rate
        # Keras logs the epoch's running mean; reset so logs hold this batch.
        self.model.reset_metrics()

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", math.nan))
        if not math.isfinite(loss):
            return self._stop("non_finite")
        self.learning_rates.append(self._rate)
        self.losses.append(loss)
        step = len(self.losses)
        self._average = (self.smoothing * self._average
                         + (1 - self.smoothing) * loss)
        running = self._average / (1 - self.smoothing ** step)
        self._best = min(self._best, running)
        if running > self.diverge_factor * self._best:
            self._stop("diverged")
        elif step >= self.num_steps:
            self._stop("completed")

    def _stop(self, reason):
        self.stop_reason = reason
        self.model.stop_training = True

    @property
    def smoothed_losses(self):
        """``losses`` under a centred moving average (no lag)."""
        losses = np.asarray(self.losses, dtype="float64")
        half = _half_window(len(losses))
        padded = np.pad(losses, half, mode="edge")
        window = np.ones(2 * half + 1) / (2 * half + 1)
        return np.convolve(padded, window, mode="valid").tolist()

    @property
    def suggestion(self):
        return self._suggest()[0]

    @property
    def suggestion_method(self):
        return self._suggest()[1]

    def _suggest(self):
        if len(self.losses) < 2:
            raise ValueError(f"{type(self).__name__}: too few recorded "
                             "steps to suggest a rate; run the sweep first.")
        rates = np.asarray(self.learning_rates)
        smoothed = np.asarray(self.smoothed_losses)
        lowest = int(np.argmin(smoothed))
        start = _half_window(len(smoothed))  # edge of the moving average
        if lowest - start < 3:
            return float(rates[lowest] / 10), "min/10"
        slopes = np.gradient(smoothed[start:lowest + 1],
                             np.log(rates[start:lowest + 1]))
        return float(rates[start + int(np.argmin(slopes))]), "steepest"

    def plot(self, path=None):
        """Loss against rate (log x), suggestion marked; PNG to ``path``."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6, 4))
        ax = figure.add_subplot()
        ax.plot(self.learning_rates, self.losses, alpha=0.3, label="loss")
        smoothed = np.asarray(self.smoothed_losses)
        ax.plot(self.learning_rates, smoothed, label="smoothed loss")
        suggestion, method = self._suggest()
        ax.axvline(suggestion, color="red", linestyle="--",
                   label=f"suggested {suggestion:.2g} ({method})")
        # Frame the descent; the blow-up at the end would flatten it.
        low = smoothed.min()
        high = max(smoothed[:int(np.argmin(smoothed)) + 1].max(), 2 * low)
        pad = 0.05 * max(high - low, 1e-8)
        ax.set_ylim(low - pad, high + pad)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend()
        figure.tight_layout()  # keeps the axis labels inside the PNG
        if path is not None:
            with atomic_path(path) as tmp:
                figure.savefig(tmp, format="png", dpi=80)
        return figure


def _half_window(steps):
    """Half-width of the moving average over ``steps`` losses."""
    return max(1, steps // 20)


def find_learning_rate(model, x, y=None, *, min_lr=1e-7, max_lr=10.0,
                       num_steps=200, batch_size=32, smoothing=0.9,
                       diverge_factor=4.0, plot_path=None):
    """Run an LR range test on ``model`` and leave it as it was.

    Trains one batch per rate with ``LRFinder``, then restores the weights,
    the optimizer state (slots, step counter, rate) and ``model.history``.

    Args:
        model: A compiled, built Keras model with a float learning rate (a
            model of ``keras.Input`` or built by ``model.build``; a model
            that is not built is built on ``x[:1]`` when ``x`` is an array).
        x, y: Training data as for ``model.fit``: arrays, or a batched
            ``tf.data.Dataset`` of ``(x, y)`` or ``(x, y, sample_weight)``
            with ``y=None``; a repeated (infinite) dataset is fine, the
            sweep stops after ``num_steps`` batches.
        min_lr, max_lr, num_steps, smoothing, diverge_factor: see
            ``LRFinder``.
        batch_size: Batch size for array data (a dataset keeps its own).
        plot_path: Where to save the PNG plot, or ``None``.

    Returns:
        The ``LRFinder``: ``suggestion``, ``learning_rates``, ``losses``,
        ``smoothed_losses``, ``stop_reason``, ``plot(path)``.

    Example:

    >>> import keras, numpy as np, callbacks
    >>> x, y = np.random.rand(64, 4), np.random.rand(64, 1)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.01), "mse")
    >>> finder = callbacks.find_learning_rate(model, x, y, min_lr=1e-4,
    ...                                       max_lr=1.0, num_steps=20, batch_size=16)
    >>> round(float(model.optimizer.learning_rate), 4)  # left as it was
    0.01
    >>> model.optimizer.learning_rate = finder.suggestion
    """
    finder = LRFinder(min_lr, max_lr, num_steps, smoothing, diverge_factor)
    if not isinstance(model, keras.Model):
        raise TypeError("find_learning_rate: `model` must be a keras.Model; "
                        f"got {type(model).__name__}.")
    check_float_learning_rate(getattr(model, "optimizer", None),
                              "find_learning_rate")
    if batch_size is not None:
        check_number("batch_size", batch_size, 1, integer=True,
                     owner="find_learning_rate")
    if is_dataset(x):
        check_dataset(x, "x", "find_learning_rate", y=y, finite=False)
        if not model.built:
            model(split_batch(next(iter(x)))[0])
        batch_size = None  # the dataset has its batches
    elif not model.built and hasattr(x, "shape"):
        model(x[:1])
    if not model.built:
        raise ValueError("find_learning_rate: build the model first "
                         "(start it with keras.Input or call model.build).")
    check_fit_data(model, x, y, owner="find_learning_rate")
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    weights = model.get_weights()
    slots = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
    history = model.__dict__.get("history")
    try:
        model.fit(x, y, batch_size=batch_size, epochs=num_steps,
                  callbacks=[finder], verbose=0,
                  shuffle=hasattr(x, "shape"))  # Keras warns for datasets
    finally:
        model.set_weights(weights)
        for variable, value in zip(optimizer.variables, slots):
            variable.assign(value)
        model.history = history
        model.stop_training = False
    if plot_path is not None:
        finder.plot(plot_path)
    return finder
