"""Time-series augmentation layers: `RandomShift`, `RandomScaling`, `RandomJitter`.

Keras has random image transformations (`RandomFlip`, `RandomRotation`, ...)
but none for sequences `(batch, T, F)`. These three are their counterparts:
active only in training (`training=True`, as in `fit`), the identity in
`predict` and `evaluate`, seeded through `keras.random.SeedGenerator`, written
with `keras.ops` only (TensorFlow and JAX alike) and saved with the model.

Padding: with `mask_value` set, the steps whose features all equal it come
out exactly as they went in (shifted along with the rest by `RandomShift`),
so a `Masking` layer after them still finds them.
"""

import keras
from keras import ops


class _SequenceAugmentation(keras.layers.Layer):
    """The shared part: `factor`, `mask_value`, the seed, training only."""

    def __init__(self, factor, mask_value=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        factor = float(factor)
        if not factor > 0:
            raise ValueError(f"{type(self).__name__}: `factor` must be a number > 0; "
                             f"got {factor!r}.")
        self.factor = factor
        self.mask_value = None if mask_value is None else float(mask_value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor, mask_value=self.mask_value, seed=self.seed)
        return config

    def call(self, inputs, training=None):
        if not training:
            return inputs
        outputs = self.augment(inputs)
        if self.mask_value is None:
            return outputs
        return ops.where(self.padding(inputs), inputs, outputs)

    def padding(self, inputs):
        """`(batch, T, 1)`: True where every feature equals `mask_value`."""
        return ops.all(ops.equal(inputs, self.mask_value), axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="zoo")
class RandomShift(_SequenceAugmentation):
    """Rolls each sequence along time by a random number of steps.

    Each sample moves by its own whole number of steps, drawn uniformly from
    `-round(factor * T)` to `+round(factor * T)`; what leaves one end comes
    back at the other, so the series keeps its length and every value (a
    circular shift). Padded steps move with the rest and stay padding.

    Args:
        factor: the largest shift as a fraction of the length `T`.
        mask_value: the padding value (see the module docstring), or None.
        seed: seed of the random shifts.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Example:

    >>> import keras, numpy as np
    >>> from zoo.models.layers import RandomShift
    >>> x = np.arange(10, dtype="float32").reshape(1, 10, 1)
    >>> layer = RandomShift(0.3, seed=1)
    >>> bool(np.all(keras.ops.convert_to_numpy(layer(x)) == x))  # inference
    True
    >>> shifted = keras.ops.convert_to_numpy(layer(x, training=True))
    >>> sorted(shifted.ravel().tolist()) == x.ravel().tolist()
    True
    """

    def call(self, inputs, training=None):
        # Padding is moved, not kept in place: no `where` after the roll.
        return self.augment(inputs) if training else inputs

    def augment(self, inputs):
        length = ops.shape(inputs)[1]
        most = ops.cast(ops.round(self.factor * ops.cast(length, "float32")), "int32")
        shifts = keras.random.randint((ops.shape(inputs)[0], 1), -most, most + 1,
                                      dtype="int32", seed=self.seed_generator)
        steps = ops.expand_dims(ops.arange(length, dtype="int32"), 0)
        index = ops.mod(steps - shifts, length)  # (batch, T)
        index = ops.broadcast_to(ops.expand_dims(index, -1), ops.shape(inputs))
        return ops.take_along_axis(inputs, index, axis=1)


@keras.saving.register_keras_serializable(package="zoo")
class RandomScaling(_SequenceAugmentation):
    """Multiplies each feature of each sequence by a random factor.

    The factor is drawn per sample and feature, uniformly in
    `[1 - factor, 1 + factor]`, and holds over the whole series
    (magnitude scaling, Um et al., 2017).

    Args:
        factor: the largest relative change, in (0, 1].
        mask_value: the padding value (see the module docstring), or None.
        seed: seed of the random factors.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Example:

    >>> import numpy as np
    >>> from zoo.models.layers import RandomScaling
    >>> x = np.ones((2, 5, 1), "float32")
    >>> y = np.asarray(RandomScaling(0.2, seed=0)(x, training=True))
    >>> bool(np.all((y >= 0.8) & (y <= 1.2)))
    True
    """

    def augment(self, inputs):
        shape = (ops.shape(inputs)[0], 1, ops.shape(inputs)[-1])
        scale = keras.random.uniform(shape, 1.0 - self.factor, 1.0 + self.factor,
                                     dtype=inputs.dtype, seed=self.seed_generator)
        return inputs * scale


@keras.saving.register_keras_serializable(package="zoo")
class RandomJitter(_SequenceAugmentation):
    """Adds Gaussian noise of standard deviation `factor` to every value.

    `keras.layers.GaussianNoise` does the same; this one leaves padded steps
    untouched (`mask_value`), so masking still works after it.

    Args:
        factor: standard deviation of the noise, in the data's units.
        mask_value: the padding value (see the module docstring), or None.
        seed: seed of the noise.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Example:

    >>> import numpy as np
    >>> from zoo.models.layers import RandomJitter
    >>> x = np.zeros((1, 4, 2), "float32")
    >>> x[0, 3] = -1.0  # a padded step
    >>> y = np.asarray(RandomJitter(0.1, mask_value=-1.0, seed=0)(x, training=True))
    >>> bool(np.all(y[0, 3] == -1.0)) and bool(np.any(y[0, :3] != 0.0))
    True
    """

    def augment(self, inputs):
        noise = keras.random.normal(ops.shape(inputs), stddev=self.factor,
                                    dtype=inputs.dtype, seed=self.seed_generator)
        return inputs + noise
