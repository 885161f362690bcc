"""Activations with a parameter Keras's by-name activations cannot take."""

import keras


@keras.saving.register_keras_serializable(package="zoo")
class LeakyReLU:
    """`leaky_relu` with a chosen slope, as an activation Keras saves and reloads.

    `activation="leaky_relu"` in Keras always has slope 0.2, and
    `keras.layers.LeakyReLU` is a layer, which a `Dense` or a recurrent
    cell cannot take as its `activation`. This callable can: layers
    serialize it as a registered object, so a saved model reloads (also in
    safe mode) with the same slope. Zoo models get it from
    `activation="leaky_relu(negative_slope=0.01)"`.

    Args:
        negative_slope: slope for inputs below zero (Keras's default 0.2;
            the usual textbook value is about 0.01).

    Example:

    >>> layer = keras.layers.Dense(2, activation=LeakyReLU(0.01))
    >>> round(float(LeakyReLU(0.01)(keras.ops.convert_to_tensor(-3.0))), 6)
    -0.03
    """

    def __init__(self, negative_slope=0.01):
        self.negative_slope = float(negative_slope)

    def __call__(self, x):
        return keras.activations.leaky_relu(x, negative_slope=self.negative_slope)

    def get_config(self):
        return {"negative_slope": self.negative_slope}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"
