"""``ActivationStats``: per-layer activation health, on a fixed sample, every few epochs."""

import warnings

import keras
import numpy as np

from callbacks._chart_once import chart_once
from callbacks._detached_copy import detached_copy
from callbacks._summary import SummaryWriter
from zoo.core.checks import check_bool, check_float, check_int

RELU_LIKE = ("relu", "relu6")
SIGMOID_LIKE = ("sigmoid", "hard_sigmoid")
TANH_LIKE = ("tanh", "hard_tanh")
HISTOGRAM_PREFIX = "activations/"
_HISTOGRAM_VALUES = 100_000  # values per histogram, at most (a strided subsample)


class ActivationWarning(UserWarning):
    """A layer's ReLU units died, or its sigmoid/tanh outputs saturated."""


def activation_name(layer):
    """The name of the activation `layer` applies last, or None (linear, none).

    Example:

    >>> activation_name(keras.layers.Dense(3, activation="tanh"))
    'tanh'
    >>> activation_name(keras.layers.Dense(3)) is None
    True
    """
    if isinstance(layer, keras.layers.ReLU):
        plain = not float(layer.negative_slope) and not float(layer.threshold)
        return "relu" if plain else "leaky_relu"
    if isinstance(layer, keras.layers.LeakyReLU):
        return "leaky_relu"
    if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        return None  # the output is gated: not `activation(...)` itself
    function = getattr(layer, "activation", None)
    if function is None or not callable(function):
        return None
    name = getattr(function, "__name__", None) or type(function).__name__
    name = name.lower()
    return None if name == "linear" else name


class ActivationStats(keras.callbacks.Callback):
    """Per-layer activation statistics each epoch, with dead and saturated units flagged.

    At the end of every `every`-th epoch (and the last one) the model runs
    in inference mode on a fixed sample `x` (its first `max_samples` rows),
    through a sub-model returning the output of every layer that applies a
    non-linear activation (`Dense`/`Conv` with `activation=...`,
    `Activation`, `ReLU`, `SimpleRNN`...; gated LSTM/GRU outputs are left
    out). For each such layer it reports

    - `activation_mean/<layer>` and `activation_std/<layer>`: mean and
      spread of all its outputs;
    - ReLU layers: `zero_fraction/<layer>`, the share of outputs that are 0
      (the sparse activation ReLU is valued for), and
      `dead_fraction/<layer>`, the share of units (last axis; a conv
      channel counts as one unit) that are 0 on every sample and position:
      dead units, which get no gradient and stop learning;
    - sigmoid and tanh layers: `saturated_fraction/<layer>`, the share of
      outputs in saturation, where the slope is nearly 0: tanh beyond
      `+-saturation`, sigmoid below `1 - saturation` or above
      `saturation` (defaults 0.99 and 0.01).

    The values go to the epoch `logs` (so `History`, `CSVLogger` and
    keras-tuner see them; list this callback before those), and with
    `log_dir` to TensorBoard as scalars of the same names and histograms
    `activations/<layer>` of the outputs, in the `train` run (a
    `keras.callbacks.TensorBoard` on the same `log_dir` does not chart them
    again as `epoch_*`). A layer with
    at least `dead_warning` of its units dead, or `saturated_warning` of
    its outputs saturated, is named in an `ActivationWarning` when it
    becomes so; `flagged` holds the latest ones.

    fastai's `ActivationStats` records means, spreads and histograms of the
    activations of every batch, to plot; this adds the per-unit dead count,
    saturation, warnings naming the layers, the logs and TensorBoard, and
    a fixed sample, so that epochs compare on the same inputs.

    The model must be functional or `Sequential` (it may be built by `fit`
    itself); only its top-level layers are watched.

    Args:
        x: input samples (an array, or a list/dict of arrays for a model
            with several inputs), e.g. a slice of the training data.
        every: measure every this many epochs (and at the last epoch).
        max_samples: rows of `x` used (the first ones).
        layers: names of the layers to watch; `None` for every layer with
            a non-linear activation.
        log_dir: TensorBoard directory, or `None` for the logs only.
        histograms: also write TensorBoard histograms.
        dead_warning: share of dead units that flags a ReLU layer.
        saturated_warning: share of saturated outputs that flags a sigmoid
            or tanh layer.
        saturation: the saturation threshold described above, in (0.5, 1).
        batch_size: batch size of the forward pass.

    Example:

    >>> import numpy as np, keras, callbacks
    >>> x, y = np.random.rand(64, 4), np.random.randint(0, 2, 64)
    >>> model = keras.Sequential([
    ...     keras.layers.Dense(8, activation="relu", name="dead",
    ...                        bias_initializer=keras.initializers.Constant(-100.0)),
    ...     keras.layers.Dense(1, activation="sigmoid", name="out")])
    >>> model.compile("sgd", "binary_crossentropy")
    >>> stats = callbacks.ActivationStats(x)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     history = model.fit(x, y, epochs=1, verbose=0, callbacks=[stats])
    >>> history.history["dead_fraction/dead"], stats.flagged
    ([1.0], {'dead': ['dead']})
    """

    def __init__(self, x, every=1, max_samples=256, layers=None, log_dir=None,
                 histograms=True, dead_warning=0.5, saturated_warning=0.5, saturation=0.99,
                 batch_size=128):
        super().__init__()
        owner = "ActivationStats"
        self.every = check_int("every", every, owner=owner)
        self.max_samples = check_int("max_samples", max_samples, owner=owner)
        self.batch_size = check_int("batch_size", batch_size, owner=owner)
        self.histograms = check_bool("histograms", histograms, owner=owner)
        self.dead_warning = check_float("dead_warning", dead_warning, 0.0, 1.0,
                                        include_low=False, include_high=True, owner=owner)
        self.saturated_warning = check_float("saturated_warning", saturated_warning, 0.0,
                                             1.0, include_low=False, include_high=True,
                                             owner=owner)
        self.saturation = check_float("saturation", saturation, 0.5, 1.0, include_low=False,
                                      owner=owner)
        if layers is not None:
            layers = [layers] if isinstance(layers, str) else list(layers)
            if not layers or not all(isinstance(name, str) for name in layers):
                raise TypeError(f"{owner}: `layers` must be None or layer names; got {layers!r}.")
        self.layers = layers
        self.log_dir = log_dir
        self._x = self._sample(x)
        self._writer = SummaryWriter(log_dir, "train")
        self._probe = None  # (sub-model, [(layer name, activation name)])
        self.stats, self.flagged, self.history = {}, {}, {}

    def _sample(self, x):
        leaves = keras.tree.flatten(x)
        if not leaves or any(not hasattr(leaf, "shape") or not len(leaf) for leaf in leaves):
            raise TypeError(
                "ActivationStats: `x` must be a non-empty array (or a list/dict of arrays "
                f"for a model with several inputs); got {type(x).__name__}."
            )
        if len({len(leaf) for leaf in leaves}) > 1:
            raise ValueError("ActivationStats: the arrays of `x` hold different sample counts.")
        return keras.tree.map_structure(lambda a: np.asarray(a)[:self.max_samples], x)

    def get_config(self):
        """Constructor arguments except `x` (arrays)."""
        return {"every": self.every, "max_samples": self.max_samples, "layers": self.layers,
                "log_dir": self.log_dir, "histograms": self.histograms,
                "dead_warning": self.dead_warning, "saturated_warning": self.saturated_warning,
                "saturation": self.saturation, "batch_size": self.batch_size}

    def __deepcopy__(self, memo):
        # keras-tuner copies callbacks for every trial: share the read-only
        # sample, leave the model and the sub-model behind.
        for leaf in keras.tree.flatten(self._x):
            memo[id(leaf)] = leaf
        return detached_copy(self, memo, _probe=None)

    def on_train_begin(self, logs=None):
        if not isinstance(self.model, keras.Sequential):
            try:
                self.model.inputs
            except AttributeError:
                raise TypeError(
                    "ActivationStats needs a functional or Sequential model, whose layer "
                    f"outputs can be read; {type(self.model).__name__} is a subclassed "
                    "model."
                ) from None
        self._probe = None
        self.stats, self.flagged, self.history = {}, {}, {}
        # Charted here under the same names; not again as Keras's epoch_*.
        chart_once(self, self.log_dir, lambda: {
            f"{stat}/{layer}" for layer, stats in self.stats.items() for stat in stats})
        if self.model.built:  # else (a Sequential built by fit) at the first measure
            self._named_layers()

    def _named_layers(self):
        known = {layer.name: layer for layer in self.model.layers}
        unknown = [name for name in self.layers or () if name not in known]
        if unknown:
            raise ValueError(f"ActivationStats: no layer(s) {unknown} in the model; "
                             f"its layers: {sorted(known)}.")
        return [known[name] for name in self.layers or ()]

    def _make_probe(self):
        watched = [(layer, activation_name(layer)) for layer in self.model.layers]
        watched = [(layer, name) for layer, name in watched if name is not None]
        if self.layers is not None:
            watched = [(layer, activation_name(layer) or "linear")
                       for layer in self._named_layers()]
        if not watched:
            warnings.warn("ActivationStats: the model has no layer with a non-linear "
                          "activation; nothing to report.", ActivationWarning, stacklevel=2)
            return None, []
        outputs = [layer.output for layer, _ in watched]
        probe = keras.Model(self.model.inputs, outputs)
        return probe, [(layer.name, name) for layer, name in watched]

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == (self.params or {}).get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        if self._probe is None:
            self._probe = self._make_probe()
        probe, watched = self._probe
        if probe is None:
            return
        outputs = probe.predict(self._x, batch_size=self.batch_size, verbose=0)
        if len(watched) == 1:
            outputs = [outputs]
        values, images = {}, {}
        self.stats = {}
        for (layer, kind), output in zip(watched, outputs):
            output = np.asarray(output, dtype=np.float32)
            stats = self._layer_stats(kind, output)
            self.stats[layer] = stats
            values.update({f"{stat}/{layer}": value for stat, value in stats.items()})
            flat = output.reshape(-1)
            images[HISTOGRAM_PREFIX + layer] = flat[::max(1, len(flat) // _HISTOGRAM_VALUES)]
        self.history[epoch] = self.stats
        if logs is not None:
            logs.update(values)
        self._writer.scalars(values, step=epoch)
        if self.histograms:
            self._writer.histograms(images, step=epoch)
        self._writer.flush()
        self._flag(epoch)

    def _layer_stats(self, kind, output):
        stats = {"activation_mean": float(output.mean()), "activation_std": float(output.std())}
        if kind in RELU_LIKE:
            units = output.reshape(-1, output.shape[-1] if output.ndim > 1 else 1)
            stats["zero_fraction"] = float((units <= 0).mean())
            stats["dead_fraction"] = float((units <= 0).all(axis=0).mean())
        elif kind in SIGMOID_LIKE:
            low, high = 1.0 - self.saturation, self.saturation
            stats["saturated_fraction"] = float(((output < low) | (output > high)).mean())
        elif kind in TANH_LIKE:
            stats["saturated_fraction"] = float((np.abs(output) > self.saturation).mean())
        return stats

    def _flag(self, epoch):
        flagged = {}
        for layer, stats in self.stats.items():
            if stats.get("dead_fraction", 0.0) >= self.dead_warning:
                flagged.setdefault(layer, []).append("dead")
            if stats.get("saturated_fraction", 0.0) >= self.saturated_warning:
                flagged.setdefault(layer, []).append("saturated")
        new = {layer: [p for p in problems if p not in self.flagged.get(layer, [])]
               for layer, problems in flagged.items()}
        self.flagged = flagged
        lines = []
        for layer, problems in new.items():
            stats = self.stats[layer]
            if "dead" in problems:
                lines.append(f"layer {layer!r}: {stats['dead_fraction']:.0%} of its ReLU "
                             "units are dead (0 on every sample)")
            if "saturated" in problems:
                lines.append(f"layer {layer!r}: {stats['saturated_fraction']:.0%} of its "
                             "outputs are saturated")
        if lines:
            warnings.warn(f"ActivationStats, epoch {epoch + 1}: " + "; ".join(lines) + ".",
                          ActivationWarning, stacklevel=2)

    def on_train_end(self, logs=None):
        self._writer.close()
        self._probe = None
